"""The JSON API under /api/v1/, composed here from the apps' routers: the public booking API
(booking.api), the live status of the offices (tickets.api) and the staff API (desk.api).

The composition lives in the project package, above the apps, so no app imports
from one above it. The public part: the catalogue, free times, holds and appointments.

Thin like the views: the schemas parse, booking.services writes,
booking.selectors reads. No cookies and no login, so no CSRF: a hold's token
and an appointment's manage token are the only keys. Every request spends a
budget of its address (429 with Retry-After beyond it) or, with
``Authorization: Bearer <key>``, of an integrator's API key (access.limits);
placing a hold, or booking without one, needs a proof of work (header
``Altcha``, a solved ``GET /challenge``; 403 without) unless a key is sent
(access.proof). The exception is the
staff API under /api/v1/staff/ (desk/api.py): it takes the signed-in staff
session and, on unsafe methods, its CSRF token.

Refusals have two shapes (booking.api.errors), with messages in the language
of Accept-Language:
- 422 ``{"detail": [{"type", "loc", "msg"}]}`` for input that is malformed or
  that the booking rules refuse; ``loc`` is ``[source, field, ...]`` (source
  "body" or "query"), for ninja's own validation errors too;
- 409 ``{"detail": msg}`` for a conflict with what is there now: the time was
  just taken (then with ``nearest``, the free starts closest to it), the
  appointment is already cancelled or has begun, the hold ran out.
Unknown tokens are 404 ``{"detail": msg}``. Every error is JSON, also an unknown
address, a wrong method or a server error (buergerservice.api_errors). A body
must be ``application/json`` (415 otherwise: a cross-site form cannot post
one without CORS), and parse (400); a NUL character anywhere is refused
before an endpoint runs (buergerservice.input_guard).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from ninja import NinjaAPI, Swagger
from ninja.operation import Operation

from access.api import router as proof_router
from booking.api.endpoints import router
from booking.api.errors import install_error_handlers
from buergerservice.openapi import declare_common_answers
from desk.api import router as staff_router
from tickets.api import router as status_router
from waitlist.api import router as waitlist_router


class BookingAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """The endpoint's function name (create_appointment), not its module path: for generated clients."""
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        """Ninja's schema plus the answers given before an endpoint runs (buergerservice.openapi)."""
        return declare_common_answers(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


api = BookingAPI(
    title="Bürgerservice API",
    version="1",
    description=(
        "Book appointments at the citizen offices: list services and offices, read free times, "
        "hold a time while the citizen types, book, look up, move and cancel. Times are ISO 8601 "
        "with their offset; answers give them in Europe/Berlin. Error messages follow Accept-Language "
        "(de, en, tr, ar, uk, ru)."
    ),
    urls_namespace="api-v1",
    # Swagger UI from ninja's own static files (ninja is in INSTALLED_APPS), never from a CDN; no
    # calls to swagger.io's validator either: every page loads only what this server serves.
    docs=Swagger(settings={"validatorUrl": None}),
)


def _in_request_language(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer in the language of Accept-Language (or the language cookie), validation errors included.

    LocaleMiddleware gives every address outside i18n_patterns the default
    language (German pages have no prefix), so the API picks its own.
    """

    @wraps(run)
    def in_language(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = translation.get_language_from_request(request)
        with translation.override(language):
            response = run(request, *args, **kwargs)
        response.headers["Content-Language"] = language
        return response

    return in_language


api.add_decorator(_in_request_language, mode="view")
install_error_handlers(api)
api.add_router("", router)
api.add_router("", proof_router)  # /challenge
api.add_router("/staff/", staff_router)
api.add_router("", status_router)  # /offices/status, /offices/{slug}/status
api.add_router("", waitlist_router)  # /waitlist
