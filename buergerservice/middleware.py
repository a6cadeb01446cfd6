from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import page_not_found

# Every page may load only what this server serves: no CDN, no third-party host
# (PRODUCT.md invariant 6). Bootstrap's CSS uses data: URIs for its icons.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class HeadAsGetMiddleware:
    """``HEAD`` is answered as ``GET`` is, without the body (RFC 9110 9.3.2): monitors and link checkers use it.

    Views are written for GET and POST (``require_GET``, ``if request.method == "POST"``); a HEAD reaching them
    as itself would be refused with 405 or, worse, taken for a POST. So the request runs as a GET, and only
    the body is dropped; the headers, Content-Length among them, stay those of the GET.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        request.META["REQUEST_METHOD"] = "GET"
        response = self.get_response(request)
        if not response.streaming:
            length = len(response.content)
            response.content = b""
            response["Content-Length"] = str(length)
        return response


class FriendlyNotFoundMiddleware:
    """With DEBUG on (``make run``) a missing page shows the site's own 404 page, not Django's technical one.

    Django answers a 404 with its technical page whenever DEBUG is on, listing every URL pattern. A demo run
    is DEBUG, and people trying it should see what citizens see. Only Django's technical page is replaced
    (it says "DEBUG = True"); our own 404 answers (the kiosk's, the API's JSON) pass unchanged. The
    technical 500 page stays: it is what a developer needs.
    """

    TECHNICAL = b"<code>DEBUG = True</code>"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and self.TECHNICAL in response.content
        ):
            return page_not_found(request, Http404(), template_name="404.html")
        return response
