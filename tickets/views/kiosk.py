"""The kiosk: a touch screen in the office that issues walk-in (W) and pickup (A) tickets; its address is its key.

Plain forms, no JavaScript needed: one button per matter the office offers,
then (post/redirect/get) the drawn ticket with its number, the expected call,
and the QR code and short link of its phone page, ready to print on a ticket
printer. The drawn ticket's page returns to the start on its own after a minute.
"""

import datetime

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from booking.days import local_day
from booking.errors import BookingError
from offices.models import OfficeService
from offices.selectors import active_offers
from tickets.estimate import estimate
from tickets.models import Kiosk, Ticket
from tickets.qr import qr_svg
from tickets.selectors import (
    WALK_IN_WORDS,
    WalkIn,
    kiosk_by_key,
    open_today,
    pickup_state,
    queue_state,
    ticket_by_token,
    walkin_state,
)
from tickets.services import ticket_draw_at_kiosk
from tickets.views.ticket import phone_links

RETURN_SECONDS = 60  # the drawn ticket's page goes back to the start for the next person
IDLE_SECONDS = 120  # the start page reloads (in German): a current walk-in state, German for the next person


def _restart_url(kiosk: Kiosk) -> str:
    """The kiosk's start in German, where it returns to for the next person."""
    with translation.override(settings.LANGUAGE_CODE):
        return reverse("tickets:kiosk", args=[kiosk.key])


def _offers(kiosk: Kiosk) -> list[OfficeService]:
    return list(active_offers().filter(office=kiosk.office))


def _start_page(
    request: HttpRequest,
    kiosk: Kiosk,
    offers: list[OfficeService],
    now: datetime.datetime,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The matters to choose from: pickups while the office is open, the others while walk-ins can draw."""
    hours = open_today(office=kiosk.office, now=now)
    walkin = walkin_state(office=kiosk.office, now=now, state=queue_state(office=kiosk.office, now=now), hours=hours)
    is_open = pickup_state(office=kiosk.office, now=now, hours=hours) == WalkIn.OPEN  # the status page's rule too
    context = {
        "kiosk": kiosk,
        "office": kiosk.office,
        "is_open": is_open,
        "walkin_open": walkin == WalkIn.OPEN,
        "walkin_word": WALK_IN_WORDS[walkin],
        "pickups": [offer.service for offer in offers if offer.service.pickup] if is_open else [],
        "matters": [offer.service for offer in offers if not offer.service.pickup] if walkin == WalkIn.OPEN else [],
        "error": error,
        "restart_url": _restart_url(kiosk),
        "return_seconds": IDLE_SECONDS,
    }
    return render(request, "tickets/kiosk.html", context, status=status)


@require_http_methods(["GET", "POST"])
@never_cache
def kiosk(request: HttpRequest, key: str) -> HttpResponse:
    """Choose the matter (GET), draw its ticket (POST, then on to the drawn ticket); 404 for an unknown key."""
    kiosk = kiosk_by_key(key)
    now = timezone.now()
    offers = _offers(kiosk)
    if request.method == "GET":
        return _start_page(request, kiosk, offers, now)
    chosen = request.POST.get("service", "")
    service = next((offer.service for offer in offers if str(offer.service_id) == chosen), None)
    if service is None:
        error = _("This matter is not offered here. Please choose one of the buttons.")
        return _start_page(request, kiosk, offers, now, error=error, status=400)
    try:
        ticket = ticket_draw_at_kiosk(kiosk=kiosk, service=service, now=now, language=request.LANGUAGE_CODE)
    except BookingError as refused:
        return _start_page(request, kiosk, offers, now, error=str(refused.message), status=409)
    return redirect("tickets:kiosk-ticket", key=kiosk.key, token=ticket.token)


@require_GET
@never_cache
def drawn(request: HttpRequest, key: str, token: str) -> HttpResponse:
    """The ticket just drawn: 404 unless it was drawn at this kiosk today."""
    kiosk = kiosk_by_key(key)
    now = timezone.now()
    ticket = ticket_by_token(token)
    if ticket.kiosk_id != kiosk.pk or ticket.day != local_day(now):
        raise Http404("No such ticket at this kiosk today.")
    wait = None
    if ticket.status == Ticket.Status.WAITING:
        wait = estimate(queue_state(office=kiosk.office, now=now), ticket)
    url, readable = phone_links(request, ticket)
    context = {
        "kiosk": kiosk,
        "office": kiosk.office,
        "ticket": ticket,
        "wait": wait,
        "between": wait.call_between(now) if wait else None,
        "qr": qr_svg(url),
        "short_link": readable,
        "start_url": reverse("tickets:kiosk", args=[kiosk.key]),
        "restart_url": _restart_url(kiosk),
        "return_seconds": RETURN_SECONDS,
    }
    return render(request, "tickets/kiosk_ticket.html", context)
