"""A month of an office with more demand than capacity, with and without the waitlist (issue 18, point 7).

Run by hand from the project root (PostgreSQL needed; about five minutes with the defaults):

    .venv/bin/python bench/waitlist.py
    .venv/bin/python bench/waitlist.py --weeks 1 --demand 1.5

It creates its own database (``--database-url``, default ``bs_waitlist``, dropped first and at the end), runs
with ``buergerservice.settings`` (DEBUG, no Redis: the local-memory cache and eager tasks, mail into
``locmem``) and ``BOOKING_CANCEL_PAUSE_MINUTES=30``, and replays the same seeded month twice through the real
services, the time passed as ``now`` to every one of them:

- **without**: a citizen who finds no time keeps retrying, reading the free times at random moments
  (``--looks`` a day on average) until their last day has passed; they get a freed time only if they happen to
  look while it is free;
- **with**: they register on the waitlist (confirming the address at once), ``offers_sweep`` runs at every step,
  and an offered citizen answers after a random delay: ``--never`` of them never, ``--decline`` decline, the rest
  accept after an exponential delay of mean ``--answer`` minutes (too late once the window has closed).

The model:

- One office, ``--counters`` clerks (2), Mon-Fri 08:00-12:00 and 13:00-16:00, one 15-minute service: 56 times a
  day with 2 clerks. Days open ``--horizon`` days ahead (14) at 07:00; online bookings need 30 minutes' notice.
- The clock runs ``--weeks`` weeks (4) of weekdays, 07:00-18:00, in steps of ``--step`` minutes (10; the beat
  sweeps every minute, but a sweep costs a few queries per waiting registration and 5-minute steps take twice
  as long); nights and weekends are skipped (nothing but answers happens then). At each step: the answers to
  offers that fell due since the last step, each at its own moment (an offer's window runs on through the
  night), the hold expiry (the beat's ``holds_expire``), the waitlist sweep (with), then the cancellations, new
  citizens and retries of the step.
- At the start the calendar is full up to the horizon (as after weeks of lasting demand above capacity).
- ``--demand`` (1.3) times a day's times arrive each weekday, at random moments of the clock's hours. A citizen
  wants a time from today up to ``--horizon`` days ahead, ``--mornings`` of them (30 %) only before 12:00, and
  books the earliest free one. ``--urgent`` (5 %) are urgent cases with a deadline 2 to 5 days ahead: they want
  a time by then (and register with that deadline).
- ``--cancel`` (15 %) of those who book (urgent cases never) cancel at a random moment of the clock between
  booking and an hour before the time; ``--no-show`` (8 %) of the others do not come (their times are lost).

Both runs see the same citizens (arrivals, wishes, who cancels and when in their span, who does not come); what
differs is who gets which time. Printed per run: the times freed by cancellations that start within the
month, the share of them booked again and the median minutes from the cancellation to the new booking, the
times lost to no-shows and left unused in the month, the urgent cases seen by their deadline, and the citizens
who found no time at once (registrations, or retriers): how many got one, the median wait from the first try
to the booking, and how many never got one (still waiting at the end counted apart). ``cache_mismatches``
compares every free-time read (``office_free_starts``, versioned cache) with the uncached ``free_starts``
and must be 0. The cancellation pause is drawn by the booking service with ``secrets`` (30 to 40 minutes), so
two runs with one seed differ a little.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/http.py would hide the standard library's http package from everything imported below.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import defaultdict, deque  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_http", HERE / "http.py")
bench_http = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(bench_http)  # type: ignore[union-attr]

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bs_waitlist"
SERVICE = "personalausweis"
MINUTES = 15
CLOCK_FROM, CLOCK_UNTIL = datetime.time(7), datetime.time(18)
NOON = datetime.time(12)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=4, help="weeks of weekdays the clock runs")
    parser.add_argument("--counters", type=int, default=2)
    parser.add_argument("--horizon", type=int, default=14, help="days ahead open for booking")
    parser.add_argument("--demand", type=float, default=1.3, help="arrivals a weekday, times the day's times")
    parser.add_argument("--mornings", type=float, default=0.3, help="share who can come only before 12:00")
    parser.add_argument("--urgent", type=float, default=0.05, help="share of urgent cases (deadline 2-5 days)")
    parser.add_argument("--cancel", type=float, default=0.15, help="share of bookings cancelled later")
    parser.add_argument("--no-show", type=float, default=0.08, help="share of the others who do not come")
    parser.add_argument("--looks", type=float, default=4, help="without: reads of the free times a day a retrier")
    parser.add_argument("--never", type=float, default=0.15, help="with: share of offers never answered")
    parser.add_argument("--decline", type=float, default=0.10, help="with: share of offers declined")
    parser.add_argument("--answer", type=float, default=30, help="with: mean minutes until an offer is accepted")
    parser.add_argument("--step", type=int, default=10, help="simulated minutes a step")
    parser.add_argument("--start", type=datetime.date.fromisoformat, default=datetime.date(2027, 1, 4))
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args(argv)
    if not urlsplit(args.database_url).path.lstrip("/").startswith("bs_waitlist"):
        parser.error("the database would be dropped: its name must start with 'bs_waitlist'")
    if args.start.weekday() != 0:
        parser.error("--start must be a Monday")
    return args


def django_setup(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("REDIS_URL", None)  # local-memory cache, eager tasks
    os.environ["DJANGO_SETTINGS_MODULE"] = "buergerservice.settings"
    os.environ.setdefault("SECRET_KEY", "bench-waitlist-only")
    os.environ["DEBUG"] = "1"
    os.environ["EMAIL_BACKEND"] = "locmem"
    os.environ["BOOKING_CANCEL_PAUSE_MINUTES"] = "30"
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)  # celery's line per eager task, the outbox's per message
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# The citizens (drawn once, the same for both runs)


@dataclass
class Citizen:
    n: int
    arrival: datetime.datetime | None  # None: booked before the month (the full calendar at the start)
    mornings: bool
    deadline: datetime.date | None
    cancels: bool
    cancel_at: float  # where in the span from booking to an hour before the time the cancellation falls, 0-1
    no_show: bool
    # filled by a run
    first_try: datetime.datetime | None = None
    booked_at: datetime.datetime | None = None
    start: datetime.datetime | None = None

    @property
    def email(self) -> str:
        return f"citizen{self.n}@example.org"


def clock(args: argparse.Namespace) -> list[datetime.datetime]:
    """The steps (UTC) of the simulated clock: weekdays, 07:00-18:00 Berlin time."""
    steps = []
    for offset in range(args.weeks * 7):
        day = args.start + datetime.timedelta(days=offset)
        if day.weekday() >= 5:  # noqa: PLR2004 - Saturday
            continue
        moment = datetime.datetime.combine(day, CLOCK_FROM, tzinfo=BERLIN)
        while moment.time() < CLOCK_UNTIL:
            steps.append(moment.astimezone(datetime.UTC))
            moment += datetime.timedelta(minutes=args.step)
    return steps


def population(args: argparse.Namespace, steps: list[datetime.datetime], per_day: int) -> list[Citizen]:
    rng = random.Random(args.seed)  # noqa: S311 - a seeded simulation, not secrets
    by_day: dict[datetime.date, list[datetime.datetime]] = defaultdict(list)
    for step in steps:
        by_day[step.astimezone(BERLIN).date()].append(step)
    citizens = []

    def draw(arrival: datetime.datetime | None) -> Citizen:
        urgent = arrival is not None and rng.random() < args.urgent
        deadline = arrival.astimezone(BERLIN).date() + datetime.timedelta(days=rng.randint(2, 5)) if urgent else None
        cancels = not urgent and rng.random() < args.cancel
        return Citizen(
            n=len(citizens),
            arrival=arrival,
            mornings=arrival is not None and rng.random() < args.mornings,
            deadline=deadline,
            cancels=cancels,
            cancel_at=rng.random(),
            no_show=not urgent and not cancels and rng.random() < args.no_show,
        )

    for _n in range(per_day * (args.horizon + 1)):  # more than enough to fill the calendar at the start
        citizens.append(draw(None))
    arrivals_a_day = args.demand * per_day
    for _day, day_steps in sorted(by_day.items()):
        count = int(arrivals_a_day) + (rng.random() < arrivals_a_day % 1)
        span = (day_steps[-1] - day_steps[0]).total_seconds() + args.step * 60
        for moment in sorted(day_steps[0] + datetime.timedelta(seconds=rng.random() * span) for _n in range(count)):
            citizens.append(draw(moment))
    return citizens


# One run


@dataclass
class Run:
    mode: str
    office: object = None
    service: object = None
    rng: random.Random = None  # type: ignore[assignment]
    cancels: dict[int, list] = field(default_factory=lambda: defaultdict(list))  # step index -> [(citizen, appt)]
    freed: dict[datetime.datetime, deque] = field(default_factory=lambda: defaultdict(deque))  # start -> freed at
    freed_log: list[tuple[datetime.datetime, datetime.datetime]] = field(default_factory=list)  # (start, freed at)
    rebooked: list[tuple[datetime.datetime, float]] = field(default_factory=list)  # (start, minutes)
    waiting: list[Citizen] = field(default_factory=list)  # without: the retriers
    registrations: dict[int, Citizen] = field(default_factory=dict)  # with: registration pk -> citizen
    answers: list[tuple[datetime.datetime, int, str]] = field(default_factory=list)  # (when, offer pk, accept/...)
    offers_seen: int = 0
    offers: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    mismatches: int = 0
    reads: int = 0


def window(citizen: Citizen, now: datetime.datetime, horizon: int) -> tuple[datetime.date, datetime.date]:
    today = now.astimezone(BERLIN).date()
    arrived = citizen.arrival.astimezone(BERLIN).date() if citizen.arrival else today
    return today, citizen.deadline or arrived + datetime.timedelta(days=horizon)


def free_starts(run: Run, citizen: Citizen, now: datetime.datetime, horizon: int) -> list[datetime.datetime]:
    """What the citizen sees: the free starts of their days (and part of the day), earliest first."""
    from booking import selectors
    from booking.availability import office_free_starts

    first, last = window(citizen, now, horizon)
    if last < first:
        return []
    days = office_free_starts(office=run.office, minutes=MINUTES, now=now, first=first, last=last)
    run.reads += 1
    if days != selectors.free_starts(office=run.office, minutes=MINUTES, now=now, first=first, last=last):
        run.mismatches += 1
    starts = [start for day in sorted(days) for start in days[day]]
    if citizen.mornings:
        starts = [start for start in starts if start.astimezone(BERLIN).time() < NOON]
    return starts


def booked(run: Run, citizen: Citizen, appointment: object, now: datetime.datetime, steps: list) -> None:
    """Note a booking: a freed time booked again, and when (if ever) the citizen cancels."""
    import bisect

    citizen.booked_at, citizen.start = now, appointment.start
    if run.freed[appointment.start]:
        freed_at = run.freed[appointment.start].popleft()
        run.rebooked.append((appointment.start, (now - freed_at).total_seconds() / 60))
    if citizen.cancels:
        latest = appointment.start - datetime.timedelta(hours=1)
        if latest > now:
            moment = now + (latest - now) * citizen.cancel_at
            index = bisect.bisect_right(steps, moment)
            if index < len(steps) and steps[index] <= latest:
                run.cancels[index].append((citizen, appointment))


def try_book(run: Run, citizen: Citizen, now: datetime.datetime, steps: list, horizon: int) -> bool:
    from booking.errors import BookingError
    from booking.needs import Need
    from booking.services.appointments import Contact, appointment_book

    for start in free_starts(run, citizen, now, horizon)[:3]:
        try:
            appointment = appointment_book(
                office=run.office,
                start=start,
                needs=[Need(run.service, 1)],
                contact=Contact(name=f"Citizen {citizen.n}", email=citizen.email),
                now=now,
            )
        except BookingError:
            continue
        booked(run, citizen, appointment, now, steps)
        return True
    return False


def register(run: Run, citizen: Citizen, now: datetime.datetime, horizon: int) -> None:
    from booking.needs import Need
    from waitlist.models import Part
    from waitlist.services import Wish, registration_confirm, registration_create

    first, last = window(citizen, now, horizon)
    wish = Wish(
        needs=[Need(run.service, 1)],
        offices=[run.office],
        first_day=first,
        last_day=last,
        weekdays=[],
        parts=[Part.MORNING] if citizen.mornings else [],
    )
    registration = registration_create(
        wish=wish, name=f"Citizen {citizen.n}", email=citizen.email, language="de", now=now, deadline=citizen.deadline
    )
    registration_confirm(registration=registration, now=now)
    run.registrations[registration.pk] = citizen


def office_build(args: argparse.Namespace) -> tuple[object, object]:
    from django.core.management import call_command

    from tests.support.factories import bookable_office, offer

    call_command("flush", interactive=False, verbosity=0)
    last = args.start + datetime.timedelta(days=args.weeks * 7 + args.horizon + 1)
    office = bookable_office(
        counters=args.counters, first=args.start, last=last, slug="mitte", horizon_days=args.horizon
    )
    service = offer(office, SERVICE, MINUTES).service
    return office, service


def simulate(args: argparse.Namespace, mode: str, citizens: list[Citizen], steps: list) -> dict:
    from django.core import mail
    from django.core.cache import cache
    from django.db.models import F, Sum

    from booking.errors import BookingError
    from booking.models import Appointment, Slot
    from booking.services.appointments import appointment_cancel, holds_expire
    from waitlist.models import Offer, Registration
    from waitlist.services import offer_accept, offer_decline, offers_sweep

    for citizen in citizens:
        citizen.first_try = citizen.booked_at = citizen.start = None
    cache.clear()
    office, service = office_build(args)
    run = Run(mode=mode, office=office, service=service, rng=random.Random(args.seed + 1))  # noqa: S311
    earlier = iter(citizen for citizen in citizens if citizen.arrival is None)
    arrivals = deque(citizen for citizen in citizens if citizen.arrival is not None)

    # The calendar full up to the horizon at the start.
    filled = 0
    while True:
        citizen = next(earlier)
        if not try_book(run, citizen, steps[0], steps, args.horizon):
            break
        filled += 1
    run.freed.clear()

    for index, now in enumerate(steps):
        today = now.astimezone(BERLIN).date()
        if mode == "with":
            # Answers that fell between the steps, each at its own moment (also in the night the clock skips).
            due = sorted(answer for answer in run.answers if answer[0] <= now)
            run.answers = [answer for answer in run.answers if answer[0] > now]
            for when, pk, kind in due:
                offer = Offer.objects.select_related("registration").get(pk=pk)
                try:
                    if kind == "accept":
                        appointment = offer_accept(offer=offer, now=when)
                        booked(run, run.registrations[offer.registration_id], appointment, when, steps)
                        run.offers["accepted"] += 1
                    else:
                        offer_decline(offer=offer, now=when)
                        run.offers["declined"] += 1
                except BookingError:
                    run.offers["answered too late"] += 1
        holds_expire(now=now)
        if mode == "with":
            offers_sweep(now=now)
            for offer in Offer.objects.filter(pk__gt=run.offers_seen).order_by("pk"):
                run.offers_seen = offer.pk
                run.offers["made"] += 1
                draw = run.rng.random()
                if draw < args.never:
                    continue
                kind = "decline" if draw < args.never + args.decline else "accept"
                delay = run.rng.expovariate(1 / args.answer) if kind == "accept" else run.rng.uniform(5, 60)
                run.answers.append((now + datetime.timedelta(minutes=delay), offer.pk, kind))
        for citizen, appointment in run.cancels.pop(index, []):
            appointment.refresh_from_db()
            appointment_cancel(appointment=appointment, now=now)
            citizen.start = None
            run.freed[appointment.start].append(now)
            run.freed_log.append((appointment.start, now))
        while arrivals and arrivals[0].arrival <= now:
            citizen = arrivals.popleft()
            if try_book(run, citizen, now, steps, args.horizon):
                continue
            citizen.first_try = now
            if mode == "with":
                register(run, citizen, now, args.horizon)
            else:
                run.waiting.append(citizen)
        if mode == "without":
            chance = args.looks * args.step / ((CLOCK_UNTIL.hour - CLOCK_FROM.hour) * 60)
            still = []
            for citizen in run.waiting:
                if window(citizen, now, args.horizon)[1] < today:
                    continue  # gave up: their last day has passed
                if run.rng.random() < chance and try_book(run, citizen, now, steps, args.horizon):
                    continue
                still.append(citizen)
            run.waiting = still
        if index % 100 == 0:
            mail.outbox = []

    end = steps[-1] + datetime.timedelta(minutes=args.step)
    month_start = steps[0]
    freed = [(start, at) for start, at in run.freed_log if start < end]
    rebooked = [minutes for start, minutes in run.rebooked if start < end]
    came = Appointment.objects.filter(status=Appointment.Status.BOOKED, start__gte=month_start, start__lt=end)
    by_email = {citizen.email: citizen for citizen in citizens}
    no_shows = sum(by_email[email].no_show for email in came.values_list("email", flat=True))
    slots = Slot.objects.filter(office=office, start__gte=month_start, start__lt=end)
    unused = slots.aggregate(units=Sum(F("capacity") - F("booked_online") - F("booked_phone")))["units"] or 0
    capacity = slots.aggregate(units=Sum("capacity"))["units"] or 0
    per_time = MINUTES // office.slot_minutes
    urgent = [citizen for citizen in citizens if citizen.deadline]
    seen = [c for c in urgent if c.start and c.start.astimezone(BERLIN).date() <= c.deadline and c.start < end]
    tried = [citizen for citizen in citizens if citizen.first_try]
    served = [citizen for citizen in tried if citizen.booked_at]
    waits = [(citizen.booked_at - citizen.first_try).total_seconds() / 3600 for citizen in served]
    if mode == "with":
        statuses = dict(Registration.objects.values_list("pk", "status"))
        live = {Registration.Status.WAITING, Registration.Status.OFFERED}
        still_waiting = sum(
            1 for pk, status in statuses.items() if status in live and not run.registrations[pk].booked_at
        )
        paused = sum(1 for status in statuses.values() if status == Registration.Status.PAUSED)
    else:
        still_waiting, paused = len(run.waiting), 0
    arrived = [citizen for citizen in citizens if citizen.arrival]
    return {
        "calendar_filled_at_start": filled,
        "times_in_month": capacity // per_time,
        "arrivals": len(arrived),
        "booked_at_once": sum(1 for citizen in arrived if citizen.booked_at and not citizen.first_try),
        "freed_times": len(freed),
        "freed_booked_again": len(rebooked),
        "freed_booked_again_share": f"{len(rebooked) / len(freed):.0%}" if freed else "-",
        "freed_to_rebooked_median_minutes": round(statistics.median(rebooked)) if rebooked else "-",
        "freed_to_rebooked_p90_minutes": round(statistics.quantiles(rebooked, n=10)[-1]) if len(rebooked) > 1 else "-",
        "no_show_times_lost": no_shows,
        "unused_times_in_month": round(unused / per_time, 1),
        "urgent_cases": len(urgent),
        "urgent_seen_by_deadline": f"{len(seen)} ({len(seen) / len(urgent):.0%})" if urgent else "-",
        "no_time_at_once": len(tried),
        "got_a_time_later": len(served),
        "wait_median_hours": round(statistics.median(waits), 1) if waits else "-",
        "wait_p90_hours": round(statistics.quantiles(waits, n=10)[-1], 1) if len(waits) > 1 else "-",
        "never_served": len(tried) - len(served) - still_waiting,
        "never_served_paused": paused,
        "still_waiting_at_end": still_waiting,
        "offers": ", ".join(f"{key} {value}" for key, value in run.offers.items()) or "-",
        "cache_mismatches": f"{run.mismatches} of {run.reads} reads",
    }


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    bench_http.database_create(args.database_url)
    try:
        django_setup(args)
        steps = clock(args)
        per_day = args.counters * 7 * 60 // MINUTES
        citizens = population(args, steps, per_day)
        results = {}
        for mode in ("without", "with"):
            mode_began = time.monotonic()
            results[mode] = simulate(args, mode, citizens, steps)
            results[mode]["seconds"] = f"{time.monotonic() - mode_began:.1f}"
        width = max(len(key) for key in results["with"])
        print(f"{'figure':<{width}}  {'without':>24}  {'with':>24}")
        for key in results["with"]:
            print(f"{key:<{width}}  {results['without'][key]!s:>24}  {results['with'][key]!s:>24}")
    finally:
        from django.db import connections

        connections.close_all()
        bench_http.database_drop(args.database_url)
    print(f"elapsed_seconds: {time.monotonic() - began:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
