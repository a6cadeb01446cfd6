"""The queue's public pages: the call display in the waiting room and the live status ("traffic light").

The call display is a screen in the waiting room (no login, no site
navigation). htmx asks for its list of calls every
``QUEUE_DISPLAY_REFRESH_SECONDS`` with what it shows now (``shown``, ``newest``):
when nothing changed the answer is an empty 204, so the page stays still and a
screen reader hears a new call once, in the live region that only a newer call
fills. Without JavaScript the page reloads itself every few seconds.

The status pages (all offices, and one office with its "usually busy" chart)
refresh their figures every minute with htmx and are complete pages without it.
They show the figures as kept for ``QUEUE_STATUS_CACHE_SECONDS``
(``tickets.live``), "as of" when those were computed, and are themselves kept
whole with them (``buergerservice.shared_pages``: never with a visitor's
messages), public for what is left of that period.
"""

import datetime
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from booking.days import local_day
from booking.grid import BERLIN
from buergerservice.shared_pages import shared_page
from offices.models import Office
from offices.selectors import public_offices
from tickets.busy import busy_chart
from tickets.estimate import Estimate
from tickets.live import Kept
from tickets.models import Ticket
from tickets.selectors import BAND_WORDS, Band, OfficeStatus, last_calls, offices_status

DISPLAY_CALLS = 7  # the newest and six before it: what a screen shows readably from across the room
NO_SCRIPT_REFRESH_SECONDS = 5  # the display without JavaScript reloads the whole page
STATUS_REFRESH_SECONDS = 60
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


# The call display -------------------------------------------------------------------------------


def _display_office(slug: str) -> Office:
    office = public_offices().filter(slug=slug).first()
    if office is None:
        raise Http404("No such office.")
    return office


def _stamp(call: Ticket) -> int:
    """When the call was made, in microseconds: a recall of the same ticket is a newer call."""
    return (call.called_at - EPOCH) // datetime.timedelta(microseconds=1)


def _shown(calls: list[Ticket], clock: str) -> str:
    """A short fingerprint of everything the display shows: unchanged means nothing to swap."""
    text = "|".join(f"{call.pk}.{call.counter}.{_stamp(call)}" for call in calls) + "|" + clock
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _number(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 20 else 0


@require_GET
@never_cache
@vary_on_headers("HX-Request")
def display(request: HttpRequest, slug: str) -> HttpResponse:
    office = _display_office(slug)
    now = timezone.now()
    calls = list(last_calls(office=office, day=local_day(now), limit=DISPLAY_CALLS))
    clock = now.astimezone(BERLIN).strftime("%H:%M")
    newest = _stamp(calls[0]) if calls else 0
    context = {
        "office": office,
        "calls": calls,
        "now": now,
        "shown": _shown(calls, clock),
        "newest": newest,
        "refresh_seconds": settings.QUEUE_DISPLAY_REFRESH_SECONDS,
        "no_script_refresh_seconds": NO_SCRIPT_REFRESH_SECONDS,
        "chime": request.GET.get("chime") == "1",
    }
    if not request.htmx:
        return render(request, "tickets/display.html", context)
    if request.GET.get("shown") == context["shown"]:
        return HttpResponse(status=204)
    context["announce"] = bool(calls) and newest > _number(request.GET.get("newest", ""))
    return render(request, "tickets/_display_calls.html", context)


# The live status --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitRange:
    """The expected wait as the pages say it: on whole five minutes, the range widened outwards."""

    low: int
    mid: int
    high: int

    @classmethod
    def of(cls, estimate: Estimate) -> "WaitRange":
        minutes = estimate.minutes
        high = 5 * math.ceil(minutes.high / 5)
        mid = min(high, max(5 * math.floor(minutes.mid / 5 + 0.5), 5 if minutes.mid > 0 else 0))
        return cls(low=min(mid, 5 * math.floor(minutes.low / 5)), mid=mid, high=high)


@dataclass(frozen=True)
class StatusLine:
    status: OfficeStatus
    wait: WaitRange | None


def _lines(statuses: list[OfficeStatus]) -> list[StatusLine]:
    return [StatusLine(status, WaitRange.of(status.wait) if status.wait else None) for status in statuses]


def _status_context(statuses: list[OfficeStatus], now: datetime.datetime) -> dict[str, object]:
    return {
        "lines": _lines(statuses),
        "now": now,
        "refresh_seconds": STATUS_REFRESH_SECONDS,
        "bands": [(band.value, BAND_WORDS[band]) for band in Band],
    }


def _live_page(request: HttpRequest, name: str, kept: Kept, render_page: Callable[[], HttpResponse]) -> HttpResponse:
    """A status page as kept with the figures it shows: the same for everybody while they are (tickets.live)."""
    now = timezone.now()
    seconds = settings.QUEUE_STATUS_CACHE_SECONDS
    fresh_for = kept.fresh_for(now, seconds)
    if seconds <= 0 or fresh_for <= 0:  # not kept, or the previous figures while another process computes
        response = render_page()
        add_never_cache_headers(response)
        return response
    until = kept.computed_at + datetime.timedelta(seconds=seconds)
    response = shared_page(request, name, render_page, versions_of=(), valid_until=until, max_age=math.floor(fresh_for))
    if "public" not in response.get("Cache-Control", ""):  # rendered for this visitor only (a message, a query)
        add_never_cache_headers(response)
    return response


@require_GET
@vary_on_headers("HX-Request")
def status(request: HttpRequest) -> HttpResponse:
    statuses = offices_status(now=timezone.now())
    # "As of" the instant the figures were computed, which may be a few seconds ago.
    context = _status_context(statuses.value, statuses.computed_at)
    template = "tickets/_status_rows.html" if request.htmx else "tickets/status.html"
    return _live_page(
        request,
        f"status:{statuses.computed_at.isoformat()}:{template}",
        statuses,
        lambda: render(request, template, context),
    )


@require_GET
@vary_on_headers("HX-Request")
def office_status(request: HttpRequest, slug: str) -> HttpResponse:
    statuses = offices_status(now=timezone.now(), slug=slug)  # 404 for an unknown or inactive office
    computed_at = statuses.computed_at
    context = {**_status_context(statuses.value, computed_at), "single": True}

    def page() -> HttpResponse:
        if request.htmx:
            return render(request, "tickets/_status_rows.html", context)
        office = statuses.value[0].office
        context.update(office=office, chart=busy_chart(office=office, now=computed_at))
        return render(request, "tickets/office_status.html", context)

    name = f"office-status:{computed_at.isoformat()}:{'rows' if request.htmx else 'page'}"
    return _live_page(request, name, statuses, page)
