"""Simulation of a walk-in day: how far off the waiting-time estimate (tickets.estimate) is.

Run from the project root:

    .venv/bin/python bench/queue_sim.py
    .venv/bin/python bench/queue_sim.py --seed 7 --history-days 10 --arrivals-per-hour 12
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/buergerservice .venv/bin/python bench/queue_sim.py

One office, open Monday to Friday 08:00-18:00, every counter a walk-in counter
all day; four clerks, one of whom works mornings only and leaves at 12:00, so
the slot grid shows four counters before noon and three after. Four matters
with a configured duration and a true one that differs (lognormal, the mean
a fifth to a quarter longer, the pickup's shorter): registration 10 → 12, identity card 15 → 18, passport 20 → 25, and
the pickup of a finished document 5 → 4 (queue A). Citizens arrive as a
Poisson process, busier in the morning, seeded so runs repeat.

The day goes through the real code, with time passed as ``now``: citizens
draw tickets with ``tickets.services.ticket_issue`` (the walk-in cut-off and
capacity may refuse them); a free counter calls ``queue_call_next`` at once,
the citizen walks up (0.5-1 minute) and the clerk starts and later finishes
the ticket with ``queue_step``; a called citizen who is gone (3%) is marked
a no-show after two minutes; an idle counter calls again when the next
citizen arrives. The clerk who leaves makes no call from 12:00 on. After
18:00 nobody draws a ticket and the counters serve whoever still waits.

At each ticket's issue the estimate is taken as the phone page would take it
(``queue_state`` then ``estimate``) and compared with the ticket's actual
wait (``called_at - issued_at``). The measured day is replayed twice with the
same citizens: at an office with ``--history-days`` earlier weekdays replayed
before it (seeds ``--seed`` + 1000, + 2000, ...), whose finished tickets the
estimate learns service times from, and at an office without history
(configured durations only), whose figures are prefixed ``no_history_``. The
clerks do not look at the estimate, so both see the same waits unless the
walk-in capacity, which uses the learned times, refuses different citizens.
A naive baseline is printed for comparison: the configured durations of the
tickets waiting ahead, divided by four counters.

Prints ``name: value`` lines (minutes and seconds with three decimals, shares
from 0 to 1, counts as integers); progress goes to stderr. Everything happens
in a throwaway test database, as in the other benchmarks.
"""

import argparse
import datetime
import heapq
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

# The project root before this folder: bench/booking.py would otherwise hide the booking app.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402

from bench.slots import report, throwaway_database  # noqa: E402 - sets Django up
from booking.errors import BookingError  # noqa: E402
from booking.grid import BERLIN  # noqa: E402
from booking.models import Slot  # noqa: E402
from booking.services.slots import capacity_refresh  # noqa: E402
from desk.queue import queue_call_next, queue_step  # noqa: E402
from offices.models import (  # noqa: E402
    Category,
    Membership,
    Office,
    OfficeService,
    OpeningHours,
    Service,
    WalkInWindow,
    WeeklyShift,
)
from tickets.estimate import QueueState, estimate  # noqa: E402
from tickets.models import Ticket  # noqa: E402
from tickets.policy import lane_of, rank  # noqa: E402
from tickets.selectors import queue_state  # noqa: E402
from tickets.services import ticket_issue  # noqa: E402

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

DATE = datetime.date(2026, 11, 24)  # a Tuesday, no public holiday
SEED = 20261124
HISTORY_DAYS = 5  # earlier weekdays replayed before the measured day
ARRIVALS_PER_HOUR = 13.0  # the day's mean, near what four then three counters serve; the profile shapes it

OPENS, CLOSES, NOON = 8 * 60, 18 * 60, 12 * 60  # minutes after midnight, Berlin
WEEKDAYS = range(5)
CLERKS = 4
LEAVES_AT_NOON = 4  # the counter of the clerk who works mornings only
# Relative arrival rate of each opening hour, 08:00 to 17:00: busier in the morning.
HOURLY_PROFILE = [1.6, 1.4, 1.2, 1.0, 0.8, 0.9, 1.0, 1.0, 0.8, 0.5]


@dataclass(frozen=True)
class Matter:
    slug: str
    configured: int  # minutes, the office's duration
    true_mean: float  # minutes, what it really takes on average
    share: float  # of the arrivals
    pickup: bool = False


MATTERS = [
    Matter("anmeldung", 10, 12.0, 0.35),
    Matter("personalausweis", 15, 18.0, 0.30),
    Matter("reisepass", 20, 25.0, 0.20),
    Matter("abholung-ausweis", 5, 4.0, 0.15, pickup=True),
]
SPREAD = 0.4  # sigma of the lognormal true service times
WALK_UP = (0.5, 1.0)  # minutes from the call to the start of service
NO_SHOW_SHARE = 0.03
NO_SHOW_WAIT = 2.0  # minutes a clerk waits for a called citizen before marking a no-show


@dataclass(frozen=True)
class Arrival:
    minute: float  # after midnight, Berlin
    matter: Matter
    service_minutes: float  # true
    walk_up: float
    no_show: bool


def arrivals_of(rng: random.Random, per_hour: float) -> list[Arrival]:
    """A day's citizens: a Poisson process with a constant rate within each hour, and what each of them needs."""
    scale = per_hour / statistics.fmean(HOURLY_PROFILE)
    arrivals = []
    for hour, weight in enumerate(HOURLY_PROFILE):
        minute, end = OPENS + 60 * hour, OPENS + 60 * (hour + 1)
        while True:
            minute += rng.expovariate(scale * weight / 60)
            if minute >= end:
                break
            matter = rng.choices(MATTERS, weights=[m.share for m in MATTERS])[0]
            mu = math.log(matter.true_mean) - SPREAD**2 / 2  # so that the mean is true_mean
            arrivals.append(
                Arrival(
                    minute=minute,
                    matter=matter,
                    service_minutes=rng.lognormvariate(mu, SPREAD),
                    walk_up=rng.uniform(*WALK_UP),
                    no_show=rng.random() < NO_SHOW_SHARE,
                )
            )
    return arrivals


def moment(day: datetime.date, minute: float) -> datetime.datetime:
    """A wall-clock minute in Berlin on ``day``, in UTC."""
    midnight = datetime.datetime.combine(day, datetime.time(0), tzinfo=BERLIN)
    return (midnight + datetime.timedelta(minutes=minute)).astimezone(datetime.UTC)


def weekdays_before(day: datetime.date, count: int) -> list[datetime.date]:
    """The ``count`` weekdays before ``day``, oldest first."""
    days: list[datetime.date] = []
    while len(days) < count:
        day -= datetime.timedelta(days=1)
        if day.weekday() in WEEKDAYS:
            days.append(day)
    return days[::-1]


# The office ------------------------------------------------------------------------------------


def services_create() -> dict[str, Service]:
    category = Category.objects.create(slug="dokumente", name_de="Dokumente", name_en="Documents")
    return {
        matter.slug: Service.objects.create(
            slug=matter.slug,
            name_de=matter.slug,
            name_en=matter.slug,
            category=category,
            default_duration_minutes=matter.configured,
            pickup=matter.pickup,
        )
        for matter in MATTERS
    }


def office_build(slug: str, services: dict[str, Service], first: datetime.date, last: datetime.date) -> Office:
    """Open 08:00-18:00 on weekdays, walk-ins at every counter all day, four clerks of whom one leaves at noon."""
    office = Office.objects.create(
        slug=slug,
        name_de=slug,
        name_en=slug,
        street="Marktplatz 1",
        postal_code="04109",
        city="Musterstadt",
        slot_minutes=5,
        phone_share_percent=0,
    )
    for weekday in WEEKDAYS:
        OpeningHours.objects.create(
            office=office, weekday=weekday, opens=datetime.time(OPENS // 60), closes=datetime.time(CLOSES // 60)
        )
        WalkInWindow.objects.create(
            office=office, weekday=weekday, starts=datetime.time(OPENS // 60), ends=datetime.time(CLOSES // 60)
        )
    for matter in MATTERS:
        OfficeService.objects.create(office=office, service=services[matter.slug], duration_minutes=matter.configured)
    for number in range(1, CLERKS + 1):
        user = get_user_model().objects.create(username=f"{slug}-clerk-{number}", password=make_password(None))
        Membership.objects.create(user=user, office=office)
        ends = NOON if number == LEAVES_AT_NOON else CLOSES
        for weekday in WEEKDAYS:
            WeeklyShift.objects.create(
                user=user,
                office=office,
                weekday=weekday,
                starts=datetime.time(OPENS // 60),
                ends=datetime.time(ends // 60),
            )
    capacity_refresh(office=office, first=first, last=last)
    return office


def counters_at(office: Office, day: datetime.date, minute: int) -> int:
    slot = Slot.objects.filter(office=office, start__lte=moment(day, minute), end__gt=moment(day, minute)).first()
    return slot.counters if slot is not None else 0


# The day ---------------------------------------------------------------------------------------


@dataclass
class Counter:
    number: int
    clerk: "AbstractBaseUser"  # calls to this counter
    leaves: float | None  # makes no call from this minute on
    busy: bool = False


@dataclass
class Observation:
    """One issued ticket: its estimate at issue and, once called, its actual wait (minutes)."""

    ticket_id: int
    queue: str
    minute: float
    low: float
    mid: float
    high: float
    shown: tuple[datetime.datetime, datetime.datetime]  # call_between: what the phone page shows
    naive: float
    wait: float | None = None
    called_at: datetime.datetime | None = None


@dataclass
class DayResult:
    arrivals: int = 0
    refused_cut_off: int = 0
    refused_full: int = 0
    no_shows: int = 0
    last_call_minute: float = 0.0
    observations: list[Observation] = field(default_factory=list)


def naive_minutes(state: QueueState, ticket: Ticket, configured: dict[int, int]) -> float:
    """The baseline: the configured durations of the waiting tickets ahead, over four counters."""
    pickup = state.office.pickup_counter_numbers
    lane = lane_of(ticket, pickup_counters=pickup)
    own = rank(ticket, lane=lane, now=state.now)
    work = sum(
        configured[other.service_id]
        for other in state.tickets
        if other.pk != ticket.pk
        and other.status == Ticket.Status.WAITING
        and rank(other, lane=lane, now=state.now) < own
    )
    return work / CLERKS


def day_replay(
    office: Office,
    day: datetime.date,
    arrivals: list[Arrival],
    services: dict[str, Service],
    *,
    measure: bool,
) -> DayResult:
    """Run one day through the services; with ``measure``, take each issued ticket's estimate."""
    clerks = list(Membership.objects.filter(office=office).order_by("user__username").select_related("user"))
    counters = [
        Counter(number, membership.user, NOON if number == LEAVES_AT_NOON else None)
        for number, membership in enumerate(clerks, start=1)
    ]
    configured = {services[matter.slug].pk: matter.configured for matter in MATTERS}
    cut_off = CLOSES - office.walkin_cutoff_minutes
    result = DayResult(arrivals=len(arrivals))
    observed: dict[int, Observation] = {}
    ticket_arrival: dict[int, Arrival] = {}
    # (minute, tie-breaker, action): actions run in time order, each may schedule more.
    events: list[tuple[float, int, Callable[[float], None]]] = []
    sequence = iter(range(10**9))

    def at(minute: float, action: Callable[[float], None]) -> None:
        heapq.heappush(events, (minute, next(sequence), action))

    def call(counter: Counter, minute: float) -> None:
        if counter.busy or (counter.leaves is not None and minute >= counter.leaves):
            return
        now = moment(day, minute)
        ticket = queue_call_next(office=office, counter=counter.number, by=counter.clerk, now=now)
        if ticket is None:
            return
        counter.busy = True
        result.last_call_minute = minute
        if ticket.pk in observed:
            observation = observed[ticket.pk]
            observation.called_at = ticket.called_at
            observation.wait = (ticket.called_at - ticket.issued_at).total_seconds() / 60
        arrival = ticket_arrival[ticket.pk]
        if arrival.no_show:
            at(minute + NO_SHOW_WAIT, lambda m: gone(counter, ticket, m))
        else:
            at(minute + arrival.walk_up, lambda m: start(counter, ticket, arrival, m))

    def gone(counter: Counter, ticket: Ticket, minute: float) -> None:
        queue_step(ticket=ticket, step="no_show", by=counter.clerk, now=moment(day, minute))
        result.no_shows += 1
        counter.busy = False
        call(counter, minute)

    def start(counter: Counter, ticket: Ticket, arrival: Arrival, minute: float) -> None:
        queue_step(ticket=ticket, step="start", by=counter.clerk, now=moment(day, minute))
        at(minute + arrival.service_minutes, lambda m: finish(counter, ticket, m))

    def finish(counter: Counter, ticket: Ticket, minute: float) -> None:
        queue_step(ticket=ticket, step="finish", by=counter.clerk, now=moment(day, minute))
        counter.busy = False
        call(counter, minute)

    def arrive(arrival: Arrival, minute: float) -> None:
        now = moment(day, minute)
        try:
            ticket = ticket_issue(
                office=office,
                queue=Ticket.Queue.PICKUP if arrival.matter.pickup else Ticket.Queue.WALK_IN,
                service=services[arrival.matter.slug],
                now=now,
            )
        except BookingError:
            if minute >= cut_off:
                result.refused_cut_off += 1
            else:
                result.refused_full += 1
            return
        ticket_arrival[ticket.pk] = arrival
        if measure:
            state = queue_state(office=office, now=now)
            guess = estimate(state, ticket)
            observed[ticket.pk] = Observation(
                ticket_id=ticket.pk,
                queue=ticket.queue,
                minute=minute,
                low=guess.minutes.low,
                mid=guess.minutes.mid,
                high=guess.minutes.high,
                shown=guess.call_between(now),
                naive=naive_minutes(state, ticket, configured),
            )
        for counter in counters:
            call(counter, minute)

    for arrival in arrivals:
        at(arrival.minute, lambda m, a=arrival: arrive(a, m))
    while events:
        minute, _order, action = heapq.heappop(events)
        action(minute)
    left = Ticket.objects.filter(office=office, day=day, status__in=Ticket.OPEN).count()
    if left:
        raise SystemExit(f"{left} tickets of {day} were never served: the simulation is wrong")
    result.observations = list(observed.values())
    return result


# The figures -----------------------------------------------------------------------------------


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.fmean(values) if values else float("nan")


def mae(observations: Iterable[Observation]) -> float:
    return mean(abs(o.mid - o.wait) for o in observations)


def bias(observations: Iterable[Observation]) -> float:
    return mean(o.mid - o.wait for o in observations)


def figures(result: DayResult, prefix: str = "", *, by_hour: bool = False) -> None:
    """The day's figures; those of the citizens and counters only once (without prefix)."""
    observations = result.observations
    morning = [o for o in observations if o.minute < NOON]
    afternoon = [o for o in observations if o.minute >= NOON]
    waits = [o.wait for o in observations]
    report(f"{prefix}tickets_issued", len(observations))
    report(f"{prefix}refused_tickets", result.refused_cut_off + result.refused_full)
    if not prefix:
        report("arrivals", result.arrivals)
        report("refused_cut_off", result.refused_cut_off)
        report("refused_full", result.refused_full)
        report("no_shows", result.no_shows)
        report("last_call", f"{int(result.last_call_minute) // 60:02d}:{int(result.last_call_minute) % 60:02d}")
    report(f"{prefix}mean_wait_minutes", mean(waits))
    report(f"{prefix}max_wait_minutes", max(waits))
    report(f"{prefix}estimate_mae_minutes", mae(observations))
    report(f"{prefix}estimate_mae_minutes_before_noon", mae(morning))
    report(f"{prefix}estimate_mae_minutes_after_noon", mae(afternoon))
    report(f"{prefix}estimate_mae_minutes_12_to_13", mae(o for o in afternoon if o.minute < NOON + 60))
    report(f"{prefix}estimate_mae_minutes_walkin", mae(o for o in observations if o.queue == Ticket.Queue.WALK_IN))
    report(f"{prefix}estimate_mae_minutes_pickup", mae(o for o in observations if o.queue == Ticket.Queue.PICKUP))
    report(f"{prefix}estimate_bias_minutes", bias(observations))
    report(f"{prefix}estimate_bias_minutes_before_noon", bias(morning))
    report(f"{prefix}estimate_bias_minutes_after_noon", bias(afternoon))
    report(f"{prefix}estimate_relative_mae", mae(observations) * len(observations) / max(sum(waits), 1e-9))
    report(f"{prefix}within_range_share", mean(float(o.low <= o.wait <= o.high) for o in observations))
    report(f"{prefix}called_before_low_share", mean(float(o.wait < o.low) for o in observations))
    report(f"{prefix}called_after_high_share", mean(float(o.wait > o.high) for o in observations))
    report(
        f"{prefix}within_shown_range_share",
        mean(float(o.shown[0] <= o.called_at <= o.shown[1]) for o in observations),
    )
    report(f"{prefix}range_width_minutes", mean(o.high - o.low for o in observations))
    if not prefix:
        report("naive_mae_minutes", mean(abs(o.naive - o.wait) for o in observations))
        report("naive_bias_minutes", mean(o.naive - o.wait for o in observations))
    if by_hour:
        for hour in range(OPENS // 60, CLOSES // 60):
            hourly = [o for o in observations if hour * 60 <= o.minute < (hour + 1) * 60]
            report(f"{prefix}mean_wait_minutes_{hour:02d}", mean(o.wait for o in hourly))
            report(f"{prefix}estimate_mae_minutes_{hour:02d}", mae(hourly))
            report(f"{prefix}estimate_bias_minutes_{hour:02d}", bias(hourly))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=SEED, help=f"of the measured day (default {SEED})")
    parser.add_argument(
        "--history-days", type=int, default=HISTORY_DAYS, help=f"weekdays replayed before (default {HISTORY_DAYS})"
    )
    parser.add_argument(
        "--arrivals-per-hour",
        type=float,
        default=ARRIVALS_PER_HOUR,
        help=f"mean over the opening hours (default {ARRIVALS_PER_HOUR})",
    )
    parser.add_argument("--date", type=datetime.date.fromisoformat, default=DATE, help=f"a weekday (default {DATE})")
    parser.add_argument("--by-hour", action="store_true", help="also the error and the wait per hour of issue")
    args = parser.parse_args()
    if args.date.weekday() not in WEEKDAYS:
        parser.error("--date must be a weekday")
    if args.arrivals_per_hour <= 0:
        parser.error("--arrivals-per-hour must be positive")
    if args.history_days < 0:
        parser.error("--history-days must not be negative")
    if args.history_days and (args.date - weekdays_before(args.date, args.history_days)[0]).days > (
        settings.QUEUE_HISTORY_DAYS
    ):
        parser.error(f"--history-days reaches back beyond QUEUE_HISTORY_DAYS ({settings.QUEUE_HISTORY_DAYS} days)")
    return args


def main() -> None:
    args = arguments()
    started = time.perf_counter()
    history = weekdays_before(args.date, args.history_days)
    with throwaway_database():
        services = services_create()
        first = history[0] if history else args.date
        learned = office_build("mit-historie", services, first, args.date)
        fresh = office_build("ohne-historie", services, args.date, args.date)
        for index, day in enumerate(history, start=1):
            print(f"history day {index}/{len(history)}: {day}", file=sys.stderr, flush=True)
            arrivals = arrivals_of(random.Random(args.seed + 1000 * index), args.arrivals_per_hour)  # noqa: S311
            day_replay(learned, day, arrivals, services, measure=False)
        arrivals = arrivals_of(random.Random(args.seed), args.arrivals_per_hour)  # noqa: S311 - repeatable, not secret
        print(f"measured day {args.date} with history", file=sys.stderr, flush=True)
        with_history = day_replay(learned, args.date, arrivals, services, measure=True)
        print(f"measured day {args.date} without history", file=sys.stderr, flush=True)
        without_history = day_replay(fresh, args.date, arrivals, services, measure=True)

        report("database", connection.vendor)
        report("date", args.date.isoformat())
        report("seed", args.seed)
        report("arrivals_per_hour", args.arrivals_per_hour)
        report("history_days", args.history_days)
        report("counters_before_noon", counters_at(learned, args.date, NOON - 60))
        report("counters_after_noon", counters_at(learned, args.date, NOON + 60))
        figures(with_history, by_hour=args.by_hour)
        figures(without_history, "no_history_", by_hour=args.by_hour)
    report("runtime_seconds", time.perf_counter() - started)


if __name__ == "__main__":
    main()
