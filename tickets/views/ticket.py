"""The ticket on the phone: its number, the people ahead, when it is expected to be called; no login.

The address carries the ticket's token (``tickets.models.new_ticket_token``):
whoever has the printed ticket or scanned its QR code may see it, nobody else
can guess it. The page is a plain page that a reload brings up to date; htmx
polls the same address for the status part only (``_ticket_status.html``)
while the ticket is still open today, and static/js/ticket.js lets the
citizen pause that.
"""

import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from booking.days import local_day
from tickets.estimate import estimate
from tickets.models import Ticket
from tickets.selectors import last_calls, queue_state, ticket_by_token

NOW_SERVING = 3  # the latest calls shown as "now serving"
TOKEN_GROUP = 4


def grouped_token(token: str) -> str:
    """``"ACDEFGHJKMNP"`` → ``"ACDE-FGHJ-KMNP"``: easier to read off paper and type; the page accepts both."""
    return "-".join(token[index : index + TOKEN_GROUP] for index in range(0, len(token), TOKEN_GROUP))


def phone_links(request: HttpRequest, ticket: Ticket) -> tuple[str, str]:
    """The absolute address of the ticket's phone page in its language (for the QR code) and a readable one.

    The readable one groups the token and leaves out the scheme, for the kiosk's screen and the printed ticket.
    """
    with translation.override(ticket.language):
        url = request.build_absolute_uri(reverse("tickets:ticket", args=[ticket.token]))
        readable = request.build_absolute_uri(reverse("tickets:ticket", args=[grouped_token(ticket.token)]))
    return url, readable.split("://", 1)[-1]


def ticket_status(ticket: Ticket, now: datetime.datetime) -> dict[str, object]:
    """What the status part shows: the wait while waiting, the latest calls while the ticket is open today.

    A constant number of queries whatever the length of the queue (``queue_state`` reads it at once).
    """
    today = ticket.day == local_day(now)
    live = today and ticket.is_open
    wait = between = None
    if today and ticket.status == Ticket.Status.WAITING:
        wait = estimate(queue_state(office=ticket.office, now=now), ticket)
        between = wait.call_between(now)
    return {
        "ticket": ticket,
        "office": ticket.office,
        "today": today,
        "live": live,
        "wait": wait,
        "between": between,
        "calls": list(last_calls(office=ticket.office, day=ticket.day, limit=NOW_SERVING)) if live else [],
        "now": now,
        "refresh_seconds": settings.QUEUE_PHONE_REFRESH_SECONDS,
        "poll_url": reverse("tickets:ticket", args=[ticket.token]),
    }


@require_GET
@never_cache
def ticket(request: HttpRequest, token: str) -> HttpResponse:
    """The phone page (or, for htmx's polling, its status part only); 404 for an unknown token.

    The token may come in lower case or in the grouped form printed on the ticket (ABCD-EFGH-JKLM).
    """
    found = ticket_by_token(token)
    context = ticket_status(found, timezone.now())
    template = "tickets/_ticket_status.html" if request.htmx else "tickets/ticket.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
