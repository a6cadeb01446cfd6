"""How long a ticket waits: the one place the estimate is made (README, "How the waiting time is estimated").

The estimate replays the queue ahead of a ticket on the counters serving its
lane, the way the counters will work through it:

* **The counters**: those that called, started or finished a ticket in the
  last ``QUEUE_ACTIVE_COUNTER_MINUTES`` minutes or are serving one now (so a
  clerk who leaves stops counting after that time), but never more than the
  slot grid has on shift now; before the first call of the day, those on shift.
  Counters of the pickup fast lane (``Office.pickup_counters``) serve pickups,
  the others the rest. At least one.
* **When each counter is free**: now, or when what is left of the ticket it is
  serving is done (its expected time less the minutes since it was called).
* **The tickets ahead**: the waiting tickets the queue order
  (``tickets.policy``) puts first, one after the other to the counter free
  first, each for its expected time. When the slot grid has fewer counters on
  shift at the moment a counter would take the next ticket (a clerk's shift
  ends), that counter takes no more. The ticket is called when the next counter
  is free after them.
* **Expected time** of a matter: from the last ``QUEUE_HISTORY_DAYS`` days of
  this office's finished walk-in, pickup and urgent tickets of that service
  (at most the last 200), the
  lower quartile (optimistic), the mean (the estimate) and the upper quartile
  (pessimistic) of the minutes from the call to the end of service (the walk
  to the counter included). With fewer than five such tickets the office's
  configured duration ``d`` stands in: ¾d, d and 1½d. An appointment holder's
  ticket expects the appointment's booked length so.

The replay runs three times, with the optimistic, the mean and the pessimistic
times: the call is expected between the first and the last, the mean being the
estimate. What it does not know: appointment holders who have not arrived
yet, pickups and urgent cases still to come (they go first), breaks, and
no-shows (counted as served); ``bench/queue_sim.py`` measures how far off the
estimate is on a synthetic day.
"""

import datetime
import heapq
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber

from booking.days import local_day
from booking.models import Slot
from offices.models import Office
from offices.selectors import active_offers
from tickets.models import Ticket
from tickets.policy import Lane, lane_of, rank

MIN_SAMPLES = 5
MAX_SAMPLES = 200


@dataclass(frozen=True)
class Minutes:
    """Optimistic, expected and pessimistic minutes."""

    low: float
    mid: float
    high: float

    def __add__(self, other: "Minutes") -> "Minutes":
        return Minutes(self.low + other.low, self.mid + other.mid, self.high + other.high)

    def less(self, elapsed: float) -> "Minutes":
        """What is left after ``elapsed`` minutes (never below zero; a start after now, a clock ahead, is now)."""
        elapsed = max(0.0, elapsed)
        return Minutes(max(0.0, self.low - elapsed), max(0.0, self.mid - elapsed), max(0.0, self.high - elapsed))

    @classmethod
    def configured(cls, minutes: float) -> "Minutes":
        return cls(0.75 * minutes, float(minutes), 1.5 * minutes)


ZERO = Minutes(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class ServiceTimes:
    """The expected service minutes of each matter at one office."""

    by_service: dict[int, Minutes]
    default: Minutes  # a matter without history or configured duration
    shortest_walk_in: float  # expected minutes of the quickest matter a walk-in can draw (not a pickup)

    def left(self, ticket: Ticket, now: datetime.datetime) -> Minutes:
        """What is left of the ticket's service at ``now``: all of it until called, less the minutes since."""
        begun = ticket.called_at or ticket.service_started_at
        expected = self.of(ticket)
        return expected.less((now - begun).total_seconds() / 60) if begun else expected

    def of(self, ticket: Ticket) -> Minutes:
        if ticket.queue == Ticket.Queue.APPOINTMENT and ticket.appointment_id is not None:
            booked = (ticket.appointment.end - ticket.appointment.start).total_seconds() / 60
            return Minutes.configured(booked)
        if ticket.service_id is None:
            return self.default
        return self.by_service.get(ticket.service_id, self.default)


def _quartiles(values: list[float]) -> Minutes:
    low, _median, high = statistics.quantiles(values, n=4, method="inclusive")
    return Minutes(low, statistics.fmean(values), high)


def offices_service_times(*, offices: Sequence[Office], now: datetime.datetime) -> dict[int, ServiceTimes]:
    """Per office id, the expected minutes per service from its recent finished tickets or configured durations.

    Two queries whatever the number of offices: the last ``MAX_SAMPLES`` begun
    and finished tickets of each office and service (numbered in the database),
    and the offers.
    """
    ids = [office.pk for office in offices]
    since = now - datetime.timedelta(days=settings.QUEUE_HISTORY_DAYS)
    samples: dict[tuple[int, int], list[float]] = defaultdict(list)
    finished = (
        Ticket.objects.filter(office_id__in=ids, finished_at__gte=since, finished_at__lte=now)
        .exclude(service=None)
        .exclude(queue=Ticket.Queue.APPOINTMENT)  # an appointment may hold several matters and persons
        .filter(Q(called_at__isnull=False) | Q(service_started_at__isnull=False))
        .annotate(
            newest=Window(RowNumber(), partition_by=[F("office_id"), F("service_id")], order_by=F("finished_at").desc())
        )
        .filter(newest__lte=MAX_SAMPLES)
        .values_list("office_id", "service_id", "called_at", "service_started_at", "finished_at")
    )
    for office_id, service_id, called, started, ended in finished:
        begun = called or started  # a ticket started without a call has no walk to the counter
        samples[office_id, service_id].append(max(0.0, (ended - begun).total_seconds() / 60))
    offers: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    for office_id, *offer in (
        active_offers()
        .filter(office_id__in=ids)
        .values_list("office_id", "service_id", "duration_minutes", "service__pickup")
    ):
        offers[office_id].append(tuple(offer))
    times = {}
    for office in offices:
        configured = {service_id: minutes for service_id, minutes, _pickup in offers[office.pk]}
        walk_in = [service_id for service_id, _minutes, pickup in offers[office.pk] if not pickup]
        by_service = {service_id: Minutes.configured(minutes) for service_id, minutes in configured.items()}
        for (office_id, service_id), values in samples.items():
            if office_id == office.pk and len(values) >= MIN_SAMPLES:
                by_service[service_id] = _quartiles(values)
        typical = statistics.median(configured.values()) if configured else office.slot_minutes
        shortest = min((by_service[service_id].mid for service_id in walk_in), default=float(typical))
        times[office.pk] = ServiceTimes(by_service, Minutes.configured(typical), shortest)
    return times


def offices_serving_counters(
    *, offices: Sequence[Office], tickets: dict[int, list[Ticket]], now: datetime.datetime
) -> dict[int, set[int]]:
    """Per office id, the counters at work now: a ticket called, started or finished recently, or one being served.

    ``tickets``: each office's open tickets of today. One query.
    """
    since = now - datetime.timedelta(minutes=settings.QUEUE_ACTIVE_COUNTER_MINUTES)
    counters = {
        office.pk: {
            ticket.counter
            for ticket in tickets.get(office.pk, [])
            if ticket.counter and ticket.status in (Ticket.Status.CALLED, Ticket.Status.IN_SERVICE)
        }
        for office in offices
    }
    recent = Ticket.objects.filter(office_id__in=list(counters), counter__isnull=False).filter(
        Q(called_at__range=(since, now))
        | Q(service_started_at__range=(since, now))
        | Q(finished_at__range=(since, now))
    )
    for office_id, counter in recent.order_by().values_list("office_id", "counter").distinct():
        counters[office_id].add(counter)
    return counters


@dataclass(frozen=True)
class TodaySlot:
    start: datetime.datetime
    end: datetime.datetime
    counters: int  # clerks on shift
    walkin_capacity: int  # counters kept for walk-ins


def offices_slots_today(*, offices: Sequence[Office], now: datetime.datetime) -> dict[int, list[TodaySlot]]:
    """Per office id, its slots of today in order: the clerks on shift and the walk-in counters. One query."""
    slots: dict[int, list[TodaySlot]] = {office.pk: [] for office in offices}
    rows = (
        Slot.objects.filter(office_id__in=list(slots), local_date=local_day(now))
        .order_by("office_id", "start")
        .values_list("office_id", "start", "end", "counters", "walkin_capacity")
    )
    for office_id, *values in rows:
        slots[office_id].append(TodaySlot(*values))
    return slots


@dataclass(frozen=True)
class QueueState:
    """What the estimate needs of one office's queue now, read once and shared by every ticket's estimate."""

    office: Office
    now: datetime.datetime
    tickets: list[Ticket]  # today's open tickets, T tickets with their appointment
    times: ServiceTimes
    counters: set[int]  # serving now
    slots: list[TodaySlot]  # today's slots, in order

    @cached_property
    def shifts(self) -> list[tuple[datetime.datetime, int]]:
        """Today's slots from the one running now: (end, counters on shift)."""
        return [(slot.end, slot.counters) for slot in self.slots if slot.end > self.now]

    @property
    def planned(self) -> int:
        """The clerks on shift now (0 outside the opening hours)."""
        return self.on_shift(self.now)

    def on_shift(self, moment: datetime.datetime) -> int:
        for end, counters in self.shifts:
            if moment < end:
                return counters if moment >= end - self._slot else 0
        return 0

    @property
    def _slot(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.office.slot_minutes)

    def lane_counters(self, lane: Lane, planned: int | None = None) -> int:
        """The counters serving ``lane``: those at work, at most those on shift (``planned``, now by default)."""
        planned = self.planned if planned is None else planned
        pickup = self.office.pickup_counter_numbers
        if pickup and lane.pickup:
            return max(1, len(self.counters & pickup) or len(pickup))
        if pickup:
            at_work, on_shift = len(self.counters - pickup), planned - len(pickup)
        else:
            at_work, on_shift = len(self.counters), planned
        if at_work and on_shift > 0:
            return max(1, min(at_work, on_shift))
        return max(1, at_work or on_shift)


@dataclass(frozen=True)
class Estimate:
    ahead: int  # waiting tickets the order puts first
    minutes: Minutes  # until the call
    counters: int  # serving the ticket's lane now

    def call_between(self, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
        """The range of the expected call, on whole five minutes (earlier end down, later end up)."""
        return (
            _to_five(now + datetime.timedelta(minutes=self.minutes.low), math.floor),
            _to_five(now + datetime.timedelta(minutes=self.minutes.high), math.ceil),
        )


def _to_five(moment: datetime.datetime, rounding: Callable[[float], int]) -> datetime.datetime:
    minutes = moment.timestamp() / 60
    return datetime.datetime.fromtimestamp(rounding(minutes / 5) * 5 * 60, tz=datetime.UTC)


def _replay(state: QueueState, lane: Lane, busy: list[float], ahead: list[float]) -> float:
    """Minutes until the counters of ``lane``, busy for ``busy`` minutes, have served ``ahead`` and one is free."""
    counters = state.lane_counters(lane)
    free = sorted(busy)[:counters]
    free += [0.0] * (counters - len(free))
    heapq.heapify(free)
    for minutes in ahead:
        while True:
            first = heapq.heappop(free)
            moment = state.now + datetime.timedelta(minutes=first)
            on_shift = state.on_shift(moment)
            # A clerk whose shift has ended takes no more (never the last counter; 0: after hours, all go on).
            if free and on_shift and len(free) + 1 > state.lane_counters(lane, planned=on_shift):
                continue
            break
        heapq.heappush(free, first + minutes)
    return free[0]


def estimate(state: QueueState, ticket: Ticket) -> Estimate:
    """The wait of ``ticket`` (waiting, or a new one not yet saved) as the queue stands in ``state``."""
    pickup = state.office.pickup_counter_numbers
    lane = lane_of(ticket, pickup_counters=pickup)
    own = rank(ticket, lane=lane, now=state.now)
    ahead: list[tuple[tuple[int, datetime.datetime, float], Minutes]] = []
    busy: list[Minutes] = []
    for other in state.tickets:
        if other.pk == ticket.pk and ticket.pk is not None:
            continue
        if other.status == Ticket.Status.WAITING:
            if (place := rank(other, lane=lane, now=state.now)) < own:
                ahead.append((place, state.times.of(other)))
        elif lane_of(other, pickup_counters=pickup) == lane:
            busy.append(state.times.left(other, state.now))
    ahead.sort(key=lambda item: item[0])  # served in the queue's order
    minutes = Minutes(
        *(
            _replay(state, lane, [getattr(m, bound) for m in busy], [getattr(m, bound) for _place, m in ahead])
            for bound in ("low", "mid", "high")
        )
    )
    return Estimate(len(ahead), minutes, state.lane_counters(lane))
