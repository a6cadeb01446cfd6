"""How long a ticket waits: the one place the estimate is made (README, "How the waiting time is estimated").

The estimate for a ticket is the work ahead of it divided by the counters
serving its lane:

* **Work ahead**: for each waiting ticket the queue order (``tickets.policy``)
  puts before it, its expected service time; plus, for each ticket in service
  or called in the same lane, what is left of its expected time.
* **Expected service time** of a matter: from the last ``QUEUE_HISTORY_DAYS``
  days of this office's finished tickets of that service (at most the last
  200), the lower quartile (optimistic), the mean (the estimate) and the upper
  quartile (pessimistic) of the minutes from the start of service to its end.
  With fewer than five such tickets, the office's configured duration ``d``
  stands in: ¾d, d and 1½d. An appointment holder's ticket expects the
  appointment's booked length.
* **Counters serving the lane**: those that called, started or finished a
  ticket in the last ``QUEUE_ACTIVE_COUNTER_MINUTES`` minutes or are serving
  one now, so a clerk who leaves stops counting after that time; before the
  first call of the day, the counters on shift in the current slot. Counters
  of the pickup fast lane serve pickups; the others serve the rest. At least 1.

The call is expected between now + optimistic work / counters and now +
pessimistic work / counters, the estimate being now + mean work / counters.
What it does not know: appointment holders who have not arrived yet, urgent
cases still to come, and breaks; ``bench/queue_sim.py`` measures how far off
the estimate is on a synthetic day.
"""

import datetime
import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from booking.models import Slot
from offices.models import Office, OfficeService
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
        """What is left after ``elapsed`` minutes (never below zero)."""
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


def service_times(*, office: Office, now: datetime.datetime) -> ServiceTimes:
    """Expected minutes per service from the office's recent finished tickets, or its configured durations."""
    since = now - datetime.timedelta(days=settings.QUEUE_HISTORY_DAYS)
    samples: dict[int, list[float]] = defaultdict(list)
    finished = (
        Ticket.objects.filter(office=office, finished_at__gte=since, finished_at__lte=now)
        .exclude(service_started_at=None)
        .exclude(service=None)
        .order_by("-finished_at")
        .values_list("service_id", "service_started_at", "finished_at")
    )
    for service_id, started, ended in finished[: MAX_SAMPLES * 10]:
        if len(samples[service_id]) < MAX_SAMPLES:
            samples[service_id].append(max(0.0, (ended - started).total_seconds() / 60))
    offers = OfficeService.objects.filter(office=office, service__active=True).values_list(
        "service_id", "duration_minutes", "service__pickup"
    )
    configured = {service_id: minutes for service_id, minutes, _pickup in offers}
    walk_in = [service_id for service_id, _minutes, pickup in offers if not pickup]
    by_service = {service_id: Minutes.configured(minutes) for service_id, minutes in configured.items()}
    for service_id, values in samples.items():
        if len(values) >= MIN_SAMPLES:
            by_service[service_id] = _quartiles(values)
    typical = statistics.median(configured.values()) if configured else office.slot_minutes
    shortest = min((by_service[service_id].mid for service_id in walk_in), default=float(typical))
    return ServiceTimes(by_service, Minutes.configured(typical), shortest)


def serving_counters(*, office: Office, tickets: list[Ticket], now: datetime.datetime) -> set[int]:
    """The counters at work now: a ticket called, started or finished recently, or one being served."""
    since = now - datetime.timedelta(minutes=settings.QUEUE_ACTIVE_COUNTER_MINUTES)
    counters = {
        ticket.counter
        for ticket in tickets
        if ticket.counter and ticket.status in (Ticket.Status.CALLED, Ticket.Status.IN_SERVICE)
    }
    recent = Ticket.objects.filter(office=office, counter__isnull=False).filter(
        Q(called_at__range=(since, now))
        | Q(service_started_at__range=(since, now))
        | Q(finished_at__range=(since, now))
    )
    counters.update(recent.order_by().values_list("counter", flat=True).distinct())
    return counters


def planned_counters(*, office: Office, now: datetime.datetime) -> int:
    """The clerks on shift in the slot running now (0 outside the opening hours)."""
    slot = Slot.objects.filter(office=office, start__lte=now, end__gt=now).only("counters").first()
    return slot.counters if slot is not None else 0


@dataclass(frozen=True)
class QueueState:
    """What the estimate needs of one office's queue now, read once and shared by every ticket's estimate."""

    office: Office
    now: datetime.datetime
    tickets: list[Ticket]  # today's open tickets, T tickets with their appointment
    times: ServiceTimes
    counters: set[int]  # serving now
    planned: int  # on shift now, for before the first call

    def lane_counters(self, lane: Lane) -> int:
        pickup = self.office.pickup_counter_numbers
        if not pickup:
            return max(1, len(self.counters) or self.planned)
        if lane.pickup:
            return max(1, len(self.counters & pickup) or len(pickup))
        return max(1, len(self.counters - pickup) or self.planned - len(pickup))


@dataclass(frozen=True)
class Estimate:
    ahead: int  # waiting tickets the order puts first
    minutes: Minutes  # until the call
    counters: int  # serving the ticket's lane

    def call_between(self, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
        """The range of the expected call, on whole five minutes (earlier end down, later end up)."""
        return (
            _to_five(now + datetime.timedelta(minutes=self.minutes.low), math.floor),
            _to_five(now + datetime.timedelta(minutes=self.minutes.high), math.ceil),
        )


def _to_five(moment: datetime.datetime, rounding: Callable[[float], int]) -> datetime.datetime:
    minutes = moment.timestamp() / 60
    return datetime.datetime.fromtimestamp(rounding(minutes / 5) * 5 * 60, tz=datetime.UTC)


def estimate(state: QueueState, ticket: Ticket) -> Estimate:
    """The wait of ``ticket`` (waiting, or a new one not yet saved) as the queue stands in ``state``."""
    pickup = state.office.pickup_counter_numbers
    lane = lane_of(ticket, pickup_counters=pickup)
    own = rank(ticket, lane=lane, now=state.now)
    work = ZERO
    ahead = 0
    for other in state.tickets:
        if other.pk == ticket.pk and ticket.pk is not None:
            continue
        if other.status == Ticket.Status.WAITING:
            if rank(other, lane=lane, now=state.now) < own:
                ahead += 1
                work += state.times.of(other)
        elif lane_of(other, pickup_counters=pickup) == lane or not pickup:
            started = other.service_started_at or other.called_at or state.now
            work += state.times.of(other).less((state.now - started).total_seconds() / 60)
    counters = state.lane_counters(lane)
    minutes = Minutes(work.low / counters, work.mid / counters, work.high / counters)
    return Estimate(ahead, minutes, counters)
