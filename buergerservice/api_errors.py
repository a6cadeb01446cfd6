"""Every error under /api/ is JSON, ``{"detail": msg}``, whoever answered it.

The API's own refusals are JSON already (booking.api.errors). What is not:
Django's 404 page for an address no route knows, ninja's "Method not allowed"
(text/html), Django's 500 page for an unexpected exception (ninja hands those
on), the 400 of a request too large. A client of the API must be able to read
every answer, so this middleware, first in MIDDLEWARE, rewrites any error
response under /api/ that is not JSON; it keeps status and headers (Allow of
a 405 included). The exception itself is still logged by Django.
"""

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy

from buergerservice.input_guard import API_PREFIX, JSON_TYPE

_MESSAGES = {
    400: gettext_lazy("Bad request."),
    403: gettext_lazy("Forbidden."),
    404: gettext_lazy("Not found."),
    405: gettext_lazy("Method not allowed."),
    500: gettext_lazy("Server error. Please try again in a few minutes."),
}
_BODY_HEADERS = {"content-type", "content-length", "content-language"}  # the new body has its own


def _is_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return content_type == JSON_TYPE or content_type.endswith("+json")


def error_message(status: int) -> str:
    """The status in words, in the active language where we have it."""
    if status in _MESSAGES:
        return str(_MESSAGES[status])
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ApiErrorsAsJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path_info.startswith(API_PREFIX) or _is_json(response):
            return response
        language = translation.get_language_from_request(request)
        with translation.override(language):
            replaced = JsonResponse({"detail": error_message(response.status_code)}, status=response.status_code)
        for header, value in response.headers.items():  # Allow, no-store, the security headers: all but the body's
            if header.lower() not in _BODY_HEADERS:
                replaced.headers[header] = value
        replaced.headers["Content-Language"] = language
        patch_vary_headers(replaced, ["Accept-Language"])
        return replaced
