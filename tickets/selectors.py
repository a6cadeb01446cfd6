"""Reads of the queue: today's open tickets, whether walk-ins may still draw, and the public status."""

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db.models import Count, Min, QuerySet
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from booking.availability import offices_earliest
from booking.days import local_day
from booking.grid import local_datetime
from booking.needs import round_to_grid
from offices.models import Office
from offices.selectors import active_offers, offices_opening_days, public_offices
from offices.validators import minutes_of
from tickets.estimate import (
    Estimate,
    QueueState,
    TodaySlot,
    offices_service_times,
    offices_serving_counters,
    offices_slots_today,
)
from tickets.estimate import estimate as estimate_of
from tickets.live import Kept, kept
from tickets.models import Kiosk, Ticket

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")


def open_tickets(*, office: Office, day: datetime.date) -> list[Ticket]:
    """The day's tickets still waiting, called or in service, T tickets with their appointment, in order of issue."""
    return offices_open_tickets(offices=[office], day=day)[office.pk]


def offices_open_tickets(*, offices: Sequence[Office], day: datetime.date) -> dict[int, list[Ticket]]:
    """``open_tickets`` of each office, by office id, in one query."""
    tickets: dict[int, list[Ticket]] = {office.pk: [] for office in offices}
    rows = (
        Ticket.objects.filter(office_id__in=list(tickets), day=day, status__in=Ticket.OPEN)
        .select_related("appointment", "service")
        .order_by("issued_at", "pk")
    )
    for ticket in rows:
        tickets[ticket.office_id].append(ticket)
    return tickets


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
    return queue_states(offices=[office], now=now)[office.pk]


def queue_states(*, offices: Sequence[Office], now: datetime.datetime) -> dict[int, QueueState]:
    """``queue_state`` of each office, by office id: five queries whatever the number of offices."""
    tickets = offices_open_tickets(offices=offices, day=local_day(now))
    times = offices_service_times(offices=offices, now=now)
    counters = offices_serving_counters(offices=offices, tickets=tickets, now=now)
    slots = offices_slots_today(offices=offices, now=now)
    return {
        office.pk: QueueState(
            office=office,
            now=now,
            tickets=tickets[office.pk],
            times=times[office.pk],
            counters=counters[office.pk],
            slots=slots[office.pk],
        )
        for office in offices
    }


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
    return offices_open_today(offices=[office], now=now)[office.pk]


def offices_open_today(*, offices: Sequence[Office], now: datetime.datetime) -> dict[int, OpenToday]:
    """``open_today`` of each office, by office id, in four queries whatever their number."""
    today = local_day(now)
    hours = {}
    for office_id, [day] in offices_opening_days(offices=offices, first=today, last=today).items():
        hours[office_id] = (
            OpenToday(
                local_datetime(today, minutes_of(day.ranges[0][0])),
                local_datetime(today, minutes_of(day.ranges[-1][1])),
            )
            if day.is_open
            else OpenToday(None, None)
        )
    return hours


def walkin_minutes_left(*, slots: list[TodaySlot], now: datetime.datetime) -> tuple[float, float]:
    """Counter-minutes kept for walk-ins today: (all day, still to come after now), from today's slots."""
    total = left = 0.0
    for slot in slots:
        total += slot.walkin_capacity * (slot.end - slot.start).total_seconds() / 60
        if slot.end > now:
            left += slot.walkin_capacity * (slot.end - max(slot.start, now)).total_seconds() / 60
    return total, left


def walkin_state(
    *,
    office: Office,
    now: datetime.datetime,
    state: QueueState,
    minutes: float | None = None,
    hours: OpenToday | None = None,
) -> WalkIn:
    """Whether a walk-in ticket of ``minutes`` (the office's quickest walk-in matter if None) can be drawn now.

    No: when the office is not open now; in the last ``Office.walkin_cutoff_minutes``
    before closing; when today has no walk-in counters; or when the walk-ins
    already waiting or being served would take the walk-in counter-minutes
    left today together with this one. ``hours``: today's, if the caller has
    read them (four queries otherwise).
    """
    hours = hours or open_today(office=office, now=now)
    if not hours.is_open(now):
        return WalkIn.CLOSED
    if now >= hours.closes - datetime.timedelta(minutes=office.walkin_cutoff_minutes):
        return WalkIn.CUT_OFF
    total, left = walkin_minutes_left(slots=state.slots, now=now)
    if total == 0:
        return WalkIn.NONE_TODAY
    demand = minutes if minutes is not None else state.times.shortest_walk_in
    for ticket in state.tickets:
        if ticket.queue != Ticket.Queue.WALK_IN:
            continue
        demand += state.times.left(ticket, now).mid
    return WalkIn.OPEN if demand <= left else WalkIn.FULL


def pickup_state(*, office: Office, now: datetime.datetime, hours: OpenToday | None = None) -> WalkIn:
    """Whether a pickup (A) or urgent (N) ticket can be drawn now: whenever the office is open (OPEN or CLOSED).

    No cut-off before closing and no capacity: collecting a finished document
    takes minutes at the fast lane, so the kiosk (``tickets.services.ticket_issue``)
    issues these tickets until the office closes, after the walk-ins have
    stopped, and the public status says so from this same rule. ``hours``:
    today's, if the caller has read them (four queries otherwise).
    """
    hours = hours or open_today(office=office, now=now)
    return WalkIn.OPEN if hours.is_open(now) else WalkIn.CLOSED


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
    PICKUP_ONLY = "pickup_only"  # no walk-in tickets now, but tickets for collecting a document
    NO_TICKETS = "no_tickets"
    CLOSED = "closed"


# (upper bound of the expected wait in minutes, band); above the last: very long
BAND_LIMITS = ((30, Band.SHORT), (90, Band.MEDIUM), (120, Band.LONG))
BAND_WORDS: dict[Band, Promise] = {
    Band.SHORT: _("up to 30 minutes"),
    Band.MEDIUM: _("up to 90 minutes"),
    Band.LONG: _("up to 2 hours"),
    Band.VERY_LONG: _("over 2 hours"),
    Band.PICKUP_ONLY: _("only tickets for collecting a document"),
    Band.NO_TICKETS: _("no more walk-in tickets today"),
    Band.CLOSED: _("closed"),
}


def band_of(*, walkin: WalkIn, minutes: float, pickup: bool = False) -> Band:
    """The band of an office: ``pickup`` when a ticket for collecting a document can be drawn now."""
    if walkin == WalkIn.CLOSED:
        return Band.CLOSED
    if walkin != WalkIn.OPEN:
        return Band.PICKUP_ONLY if pickup else Band.NO_TICKETS
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
    counters_open: int  # clerks on shift now, or more when more counters are serving; 0 while the office is closed
    wait: Estimate | None  # for a walk-in drawing now; None when none can
    next_free: datetime.datetime | None  # the earliest appointment bookable online, for the shortest matter
    pickup: bool = False  # a ticket for collecting a document can be drawn now (``pickup_state``, and one offered)
    hours: OpenToday = OpenToday(None, None)  # today's first opening and last closing
    now: datetime.datetime | None = None  # when these figures were computed

    @property
    def opens_later(self) -> datetime.datetime | None:
        """Today's opening while it is still to come (before opening, and from midnight on)."""
        opens = self.hours.opens
        return opens if opens is not None and self.now is not None and self.now < opens else None

    @property
    def word(self) -> Promise:
        return BAND_WORDS[self.band]


def counters_open(state: QueueState, hours: OpenToday) -> int:
    """The counters open now: the clerks on shift (the slot grid: shifts less absences and blocks), or the counters
    serving now (a call, start or finish in the last ``QUEUE_ACTIVE_COUNTER_MINUTES``) when more are; 0 while closed.

    Not the counters that happened to call lately alone: after the day's first call that would say one while the
    others on shift are about to call too.
    """
    return max(state.planned, len(state.counters)) if hours.is_open(state.now) else 0


def _status(
    state: QueueState, hours: OpenToday, next_free: datetime.datetime | None, offers_pickup: bool
) -> OfficeStatus:
    walkin = walkin_state(office=state.office, now=state.now, state=state, hours=hours)
    pickup = offers_pickup and pickup_state(office=state.office, now=state.now, hours=hours) == WalkIn.OPEN
    wait = new_walkin_estimate(state) if walkin == WalkIn.OPEN else None
    return OfficeStatus(
        office=state.office,
        band=band_of(walkin=walkin, minutes=wait.minutes.mid if wait else 0, pickup=pickup),
        walkin=walkin,
        waiting=sum(1 for ticket in state.tickets if ticket.status == Ticket.Status.WAITING),
        counters_open=counters_open(state, hours),
        wait=wait,
        next_free=next_free,
        pickup=pickup,
        hours=hours,
        now=state.now,
    )


def _shortest_minutes(offices: list[Office]) -> tuple[dict[Office, int], set[int]]:
    """Per office, the length of its shortest matter on its grid (what "next free appointment" looks for), and the
    ids of the offices offering a pickup of a finished document. One query."""
    shortest: dict[int, int] = {}
    pickup: set[int] = set()
    rows = (
        active_offers()
        .filter(office__in=offices)
        .values_list("office_id", "service__pickup")
        .annotate(Min("duration_minutes"))
        .order_by()
    )
    for office_id, is_pickup, minutes in rows:
        shortest[office_id] = min(minutes, shortest.get(office_id, minutes))
        if is_pickup:
            pickup.add(office_id)
    by_office = {
        office: round_to_grid(shortest[office.pk], office.slot_minutes) for office in offices if office.pk in shortest
    }
    return by_office, pickup


def offices_status_computed(*, now: datetime.datetime) -> list[OfficeStatus]:
    """The live status of every active office, computed now: the same dozen queries whatever their number."""
    offices = list(public_offices())
    states = queue_states(offices=offices, now=now)
    hours = offices_open_today(offices=offices, now=now)
    shortest, pickup = _shortest_minutes(offices)
    next_free = offices_earliest(minutes_by_office=shortest, now=now) if offices else {}
    return [
        _status(states[office.pk], hours[office.pk], next_free.get(office.pk), office.pk in pickup)
        for office in offices
    ]


STATUS_KEY = "tickets:status"


def offices_status_kept(*, now: datetime.datetime) -> Kept[list[OfficeStatus]]:
    """The live status of every active office as kept for ``QUEUE_STATUS_CACHE_SECONDS`` (``tickets.live``)."""
    return kept(
        STATUS_KEY,
        lambda: Kept(offices_status_computed(now=now), now),
        now=now,
        seconds=settings.QUEUE_STATUS_CACHE_SECONDS,
    )


def offices_status(*, now: datetime.datetime, slug: str | None = None) -> Kept[list[OfficeStatus]]:
    """The live status of every active office (or the one of ``slug``; 404 if none) as kept briefly.

    One office's status is its line of all offices' (an office just opened or
    closed shows up or goes with the next computation).
    """
    if slug is not None and not SLUG.fullmatch(slug):
        raise Http404("No such office.")  # what cannot be a slug (a NUL byte: PostgreSQL refuses it) asks nothing
    statuses = offices_status_kept(now=now)
    if slug is None:
        return statuses
    found = [status for status in statuses.value if status.office.slug == slug]
    if not found:
        raise Http404("No such office.")
    return Kept(found, statuses.computed_at)
