from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
