"""Headers that keep personal data out of caches and powerful browser features off every page.

- ``Cache-Control: no-store`` (Django's never-cache set) on every page and
  answer that shows or changes one person's data: the appointment pages
  reached by a manage token, the booking flow from the held time on, the
  ticket and kiosk pages, every staff page and the appointment, hold and staff
  API. A shared computer's browser cache, a proxy or the back button must not
  keep them. Chosen by URL name here, in one place, so a view cannot forget it.
- ``Permissions-Policy`` on every response: no page needs the camera, the
  microphone, the location, payments or USB, so a script that got in cannot
  ask for them either. Chromium warns in the console about a feature it does
  not know; these it knows (tests/project/test_security_headers.py checks).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# URL names (namespace:name) of pages with one person's data.
PRIVATE_VIEWS = frozenset(
    {
        # the citizen's held time, details, check and the confirmation (the manage page)
        "booking:hold",
        "booking:details",
        "booking:extend",
        "booking:check",
        "booking:manage",
        "booking:ics",
        "booking:cancel",
        "booking:move",
        "booking:short",
        # the feedback form shows a typed name and e-mail address again when it has errors
        "offices:feedback",
        # the ticket's phone page and the kiosk's drawn ticket
        "tickets:ticket",
        "tickets:kiosk",
        "tickets:kiosk-ticket",
    }
)
# Every page of these apps is a staff page (the desk's day, appointments, CSV, bookings; failed messages).
PRIVATE_NAMESPACES = frozenset({"desk"})
# The JSON API has no language prefix; these answers carry an appointment, a hold or a staff view.
PRIVATE_API_PREFIXES = ("/api/v1/appointments", "/api/v1/holds", "/api/v1/staff/")


def is_private(request: HttpRequest) -> bool:
    if request.path_info.startswith(PRIVATE_API_PREFIXES):
        return True
    match = request.resolver_match
    if match is None:
        return False
    return match.view_name in PRIVATE_VIEWS or bool(PRIVATE_NAMESPACES.intersection(match.namespaces))


class PrivacyHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if is_private(request) and "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response
