"""Reads of the queue: today's open tickets, whether walk-ins may still draw, and the public status."""

import datetime
import re
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, QuerySet
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from booking.availability import offices_earliest
from booking.days import local_day
from booking.grid import local_datetime
from booking.models import Slot
from booking.needs import round_to_grid
from offices.models import Office
from offices.selectors import active_offers, opening_days, public_offices
from offices.validators import minutes_of
from tickets.estimate import Estimate, QueueState, service_times, serving_counters, shifts_today
from tickets.estimate import estimate as estimate_of
from tickets.models import Kiosk, Ticket

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")


def open_tickets(*, office: Office, day: datetime.date) -> list[Ticket]:
    """The day's tickets still waiting, called or in service, T tickets with their appointment, in order of issue."""
    return list(
        Ticket.objects.filter(office=office, day=day, status__in=Ticket.OPEN)
        .select_related("appointment", "service")
        .order_by("issued_at", "pk")
    )


def closed_counts(*, office: Office, day: datetime.date) -> dict[str, int]:
    """How many of the day's tickets are done and how many did not come (one grouped query)."""
    rows = (
        Ticket.objects.filter(office=office, day=day, status__in=[Ticket.Status.DONE, Ticket.Status.NO_SHOW])
        .values("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys([Ticket.Status.DONE, Ticket.Status.NO_SHOW], 0)
    for row in rows:
        counts[row["status"]] = row["count"]
    return counts


def queue_state(*, office: Office, now: datetime.datetime) -> QueueState:
    """Everything the estimate needs of the office's queue now (five queries)."""
    tickets = open_tickets(office=office, day=local_day(now))
    return QueueState(
        office=office,
        now=now,
        tickets=tickets,
        times=service_times(office=office, now=now),
        counters=serving_counters(office=office, tickets=tickets, now=now),
        shifts=shifts_today(office=office, now=now),
    )


# Walk-ins: may a ticket still be drawn? ----------------------------------------------------------


class WalkIn(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # the office is not open now
    NONE_TODAY = "none_today"  # no walk-in counters at all today
    CUT_OFF = "cut_off"  # too close to closing
    FULL = "full"  # the day's remaining walk-in capacity is taken


WALK_IN_WORDS: dict[WalkIn, Promise] = {
    WalkIn.OPEN: _("Walk-in tickets available"),
    WalkIn.CLOSED: _("Closed"),
    WalkIn.NONE_TODAY: _("No walk-in tickets today"),
    WalkIn.CUT_OFF: _("No more walk-in tickets today"),
    WalkIn.FULL: _("No more walk-in tickets today"),
}


@dataclass(frozen=True)
class OpenToday:
    opens: datetime.datetime | None  # UTC; None: closed all day
    closes: datetime.datetime | None

    def is_open(self, now: datetime.datetime) -> bool:
        return self.opens is not None and self.closes is not None and self.opens <= now < self.closes


def open_today(*, office: Office, now: datetime.datetime) -> OpenToday:
    """When the office opens first and closes last today (breaks in between count as open for the queue)."""
    today = local_day(now)
    day = opening_days(office=office, first=today, last=today)[0]
    if not day.is_open:
        return OpenToday(None, None)
    return OpenToday(
        local_datetime(today, minutes_of(day.ranges[0][0])), local_datetime(today, minutes_of(day.ranges[-1][1]))
    )


def walkin_minutes_left(*, office: Office, now: datetime.datetime) -> tuple[float, float]:
    """Counter-minutes kept for walk-ins today: (all day, still to come after now), from the slot grid."""
    total = left = 0.0
    for start, end, counters in Slot.objects.filter(office=office, local_date=local_day(now)).values_list(
        "start", "end", "walkin_capacity"
    ):
        total += counters * (end - start).total_seconds() / 60
        if end > now:
            left += counters * (end - max(start, now)).total_seconds() / 60
    return total, left


def walkin_state(*, office: Office, now: datetime.datetime, state: QueueState, minutes: float | None = None) -> WalkIn:
    """Whether a walk-in ticket of ``minutes`` (the office's quickest walk-in matter if None) can be drawn now.

    No: when the office is not open now; in the last ``Office.walkin_cutoff_minutes``
    before closing; when today has no walk-in counters; or when the walk-ins
    already waiting or being served would take the walk-in counter-minutes
    left today together with this one.
    """
    hours = open_today(office=office, now=now)
    if not hours.is_open(now):
        return WalkIn.CLOSED
    if now >= hours.closes - datetime.timedelta(minutes=office.walkin_cutoff_minutes):
        return WalkIn.CUT_OFF
    total, left = walkin_minutes_left(office=office, now=now)
    if total == 0:
        return WalkIn.NONE_TODAY
    demand = minutes if minutes is not None else state.times.shortest_walk_in
    for ticket in state.tickets:
        if ticket.queue != Ticket.Queue.WALK_IN:
            continue
        demand += state.times.left(ticket, now).mid
    return WalkIn.OPEN if demand <= left else WalkIn.FULL


def new_walkin_estimate(state: QueueState) -> Estimate:
    """The wait of a walk-in drawing a ticket now."""
    return estimate_of(state, Ticket(office=state.office, queue=Ticket.Queue.WALK_IN, issued_at=state.now))


# Pages without login ----------------------------------------------------------------------------


KIOSK_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what secrets.token_urlsafe makes


def kiosk_by_key(key: str) -> Kiosk:
    """The active kiosk of an address; 404 otherwise. What cannot be a key asks nothing (PostgreSQL refuses NUL)."""
    kiosk = (
        Kiosk.objects.select_related("office").filter(key=key, active=True, office__active=True).first()
        if KIOSK_KEY.fullmatch(key)
        else None
    )
    if kiosk is None:
        raise Http404("No such kiosk.")
    return kiosk


def ticket_by_token(token: str) -> Ticket:
    """The ticket of a token as typed: any case, grouped with dashes or spaces or not; 404 for anything else.

    What cannot be a token never reaches the database (PostgreSQL refuses a NUL character with an error).
    """
    plain = token.replace("-", "").replace(" ", "").upper()
    ticket = (
        Ticket.objects.select_related("office", "service", "appointment").filter(token=plain).first()
        if plain.isascii() and plain.isalnum()
        else None
    )
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def last_calls(*, office: Office, day: datetime.date, limit: int = 8) -> QuerySet[Ticket]:
    """The most recent calls of the day, newest first: the call display and "now serving"."""
    return (
        Ticket.objects.filter(office=office, day=day, called_at__isnull=False)
        .filter(status__in=[Ticket.Status.CALLED, Ticket.Status.IN_SERVICE, Ticket.Status.DONE])
        .order_by("-called_at", "-pk")
        .only("queue", "number", "counter", "called_at", "status")[:limit]
    )


# The public status ("traffic light") ------------------------------------------------------------


class Band(StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"
    VERY_LONG = "very_long"
    NO_TICKETS = "no_tickets"
    CLOSED = "closed"


# (upper bound of the expected wait in minutes, band); above the last: very long
BAND_LIMITS = ((30, Band.SHORT), (90, Band.MEDIUM), (120, Band.LONG))
BAND_WORDS: dict[Band, Promise] = {
    Band.SHORT: _("up to 30 minutes"),
    Band.MEDIUM: _("up to 90 minutes"),
    Band.LONG: _("up to 2 hours"),
    Band.VERY_LONG: _("over 2 hours"),
    Band.NO_TICKETS: _("no more walk-in tickets today"),
    Band.CLOSED: _("closed"),
}


def band_of(*, walkin: WalkIn, minutes: float) -> Band:
    if walkin == WalkIn.CLOSED:
        return Band.CLOSED
    if walkin != WalkIn.OPEN:
        return Band.NO_TICKETS
    for limit, band in BAND_LIMITS:
        if minutes <= limit:
            return band
    return Band.VERY_LONG


@dataclass(frozen=True)
class OfficeStatus:
    office: Office
    band: Band
    walkin: WalkIn
    waiting: int  # tickets waiting (all queues)
    counters_open: int
    wait: Estimate | None  # for a walk-in drawing now; None when none can
    next_free: datetime.datetime | None  # the earliest appointment bookable online, for the shortest matter

    @property
    def word(self) -> Promise:
        return BAND_WORDS[self.band]


def _status(office: Office, now: datetime.datetime, next_free: datetime.datetime | None) -> OfficeStatus:
    state = queue_state(office=office, now=now)
    walkin = walkin_state(office=office, now=now, state=state)
    wait = new_walkin_estimate(state) if walkin == WalkIn.OPEN else None
    is_open = walkin != WalkIn.CLOSED
    return OfficeStatus(
        office=office,
        band=band_of(walkin=walkin, minutes=wait.minutes.mid if wait else 0),
        walkin=walkin,
        waiting=sum(1 for ticket in state.tickets if ticket.status == Ticket.Status.WAITING),
        counters_open=(len(state.counters) or state.planned) if is_open else 0,
        wait=wait,
        next_free=next_free,
    )


def _shortest_minutes(offices: list[Office]) -> dict[Office, int]:
    """Per office, the length of its shortest matter on its grid: what "next free appointment" looks for."""
    shortest = dict(
        active_offers().filter(office__in=offices).values_list("office_id").annotate(Min("duration_minutes"))
    )
    return {
        office: round_to_grid(shortest[office.pk], office.slot_minutes) for office in offices if office.pk in shortest
    }


def offices_status(*, now: datetime.datetime, slug: str | None = None) -> list[OfficeStatus]:
    """The live status of every active office (or the one of ``slug``; 404 if none), each cached briefly."""
    if slug is not None and not SLUG.fullmatch(slug):
        raise Http404("No such office.")  # what cannot be a slug (a NUL byte: PostgreSQL refuses it) asks nothing
    offices = list(public_offices().filter(slug=slug) if slug else public_offices())
    if slug and not offices:
        raise Http404("No such office.")
    seconds = settings.QUEUE_STATUS_CACHE_SECONDS
    keys = {office.pk: f"tickets:status:{office.pk}" for office in offices}
    cached = cache.get_many(list(keys.values())) if seconds else {}
    missing = [office for office in offices if keys[office.pk] not in cached]
    if missing:
        next_free = offices_earliest(minutes_by_office=_shortest_minutes(missing), now=now)
        fresh = {keys[office.pk]: _status(office, now, next_free.get(office.pk)) for office in missing}
        if seconds:
            cache.set_many(fresh, seconds)
        cached.update(fresh)
    return [cached[keys[office.pk]] for office in offices]
