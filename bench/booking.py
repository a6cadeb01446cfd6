"""Benchmark of booking: free-time reads and concurrent bookings through the API, on a city 70% booked.

Run from the project root:

    .venv/bin/python bench/booking.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/buergerservice .venv/bin/python bench/booking.py

The city of bench/slots.py (50 offices, 5-minute grid, six clerks each, two of
them mornings only, walk-in counters 08:00-10:00), from today for 60 days,
with open-through-lunch Wednesdays and morning-only Fridays; six common
services. Appointments of one to six slots are inserted in bulk at random
free starts, the next days fuller than the later ones (95% falling to 45%,
70% overall), with the slot counts to match, checked by ``integrity_check``.
Then, through /api/v1/ with Django's test client: p50/p95 of an office's
month of free times, of one day's, and of "earliest anywhere" for two
services; on PostgreSQL, bookings per second by 16 clients in parallel.
Prints ``name: value`` lines (seconds and milliseconds with three decimals,
counts as integers). Everything happens in a throwaway test database.
"""

import datetime
import logging
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

# The project root before this folder: this file's name would otherwise hide the booking app.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.slots import DAYS, city_build, refresh_all, report, throwaway_database  # noqa: E402 - sets Django up
from booking.grid import BERLIN  # noqa: E402
from booking.integrity import integrity_check  # noqa: E402
from booking.models import Appointment, Slot, new_booking_code  # noqa: E402
from offices.models import Category, Office, OfficeService, OpeningHours, Service, WeeklyShift  # noqa: E402

WEDNESDAY, FRIDAY = 2, 4
SERVICES = {  # slug: minutes per person, the same at every office
    "personalausweis": 15,
    "reisepass": 20,
    "anmeldung": 10,
    "meldebescheinigung": 5,
    "fuehrungszeugnis": 10,
    "wohnsitz-abmeldung": 10,
}
# Appointment lengths in slots and how often each is booked.
LENGTHS, LENGTH_WEIGHTS = [1, 2, 3, 4, 5, 6], [15, 25, 25, 15, 10, 10]
FULL_FIRST, FULL_LAST = 0.95, 0.45  # share of each day's capacity booked, from the first day to the last
PHONE_SHARE = 0.15  # of the bulk appointments, booked by clerks for callers

WARM_UP = 20
ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "300"))
SAMPLE = 10  # the request whose queries and answer are counted: the 11th office, two weeks ahead for a day
CLIENTS = 16
POSTS_PER_CLIENT = 40
BOOKING_OFFICES = 8  # the clients share these, two each, so some of them lose a time to the other


def city_vary_hours() -> None:
    """Wednesdays open through lunch (the full-time clerks too), Fridays mornings only."""
    OpeningHours.objects.filter(weekday=WEDNESDAY, opens=datetime.time(13)).update(opens=datetime.time(12))
    WeeklyShift.objects.filter(weekday=WEDNESDAY, starts=datetime.time(13)).update(starts=datetime.time(12))
    OpeningHours.objects.filter(weekday=FRIDAY, opens=datetime.time(13)).delete()
    WeeklyShift.objects.filter(weekday=FRIDAY, starts=datetime.time(13)).delete()


def services_offer(offices: list[Office]) -> None:
    category = Category.objects.create(slug="dokumente", name_de="Dokumente", name_en="Documents")
    services = Service.objects.bulk_create(
        Service(
            slug=slug,
            name_de=slug.replace("-", " ").title(),
            name_en=slug.replace("-", " ").title(),
            category=category,
            default_duration_minutes=minutes,
            max_persons=5,
        )
        for slug, minutes in SERVICES.items()
    )
    OfficeService.objects.bulk_create(
        OfficeService(office=office, service=service, duration_minutes=service.default_duration_minutes)
        for office in offices
        for service in services
    )


def appointments_insert(offices: list[Office], first: datetime.date, seed: int = 20261123) -> tuple[int, float]:
    """Book about 70% of the grid with appointments at random free starts, in bulk; returns (count, share booked).

    Per office: read its slots, place appointments day by day in memory until
    the day's share is reached, insert the appointments; at the end write
    the slots' counts.
    """
    rng = random.Random(seed)  # noqa: S311 - repeatable data, not secrets
    codes: set[str] = set()
    counts: dict[tuple[int, int], list[int]] = {}  # (booked online, booked by phone): the slots with them
    booked_units = capacity_units = count = 0
    for office in offices:
        slots = list(Slot.objects.filter(office=office).order_by("start"))
        appointments: list[Appointment] = []
        for day_slots in _by_day(slots):
            day_index = (day_slots[0].local_date - first).days
            share = FULL_FIRST + (FULL_LAST - FULL_FIRST) * day_index / max(DAYS - 1, 1)
            capacity = sum(slot.capacity for slot in day_slots)
            capacity_units += capacity
            booked_units += _fill_day(day_slots, int(capacity * share), rng, office, appointments)
        for appointment in appointments:
            appointment.booking_code = _unique_code(codes)
            appointment.email = f"citizen-{len(codes)}@example.org"
        Appointment.objects.bulk_create(appointments, batch_size=2000)
        for slot in slots:
            if slot.booked:
                counts.setdefault((slot.booked_online, slot.booked_phone), []).append(slot.pk)
        count += len(appointments)
    # One UPDATE per pair of counts (a few dozen), not one row of a CASE per slot as bulk_update would.
    for (online, phone), pks in counts.items():
        for chunk in range(0, len(pks), 10_000):
            Slot.objects.filter(pk__in=pks[chunk : chunk + 10_000]).update(booked_online=online, booked_phone=phone)
    return count, booked_units / capacity_units


def _by_day(slots: list[Slot]) -> list[list[Slot]]:
    days: dict[datetime.date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(slot.local_date, []).append(slot)
    return list(days.values())


def _fill_day(slots: list[Slot], target: int, rng: random.Random, office: Office, into: list[Appointment]) -> int:
    """Appointments at random starts where every slot they need has a unit left, until ``target`` units are taken."""
    taken = attempts = 0
    while taken < target and attempts < 50 * max(target, 1):
        attempts += 1
        length = rng.choices(LENGTHS, LENGTH_WEIGHTS)[0]
        index = rng.randrange(len(slots))
        run = slots[index : index + length]
        if len(run) < length or any(b.start != a.end for a, b in zip(run, run[1:], strict=False)):
            continue  # over the day's end or a break
        if any(slot.booked >= slot.capacity for slot in run):
            continue
        phone = rng.random() < PHONE_SHARE
        for slot in run:
            if phone:
                slot.booked_phone += 1
            else:
                slot.booked_online += 1
        into.append(
            Appointment(
                office_id=office.pk,
                start=run[0].start,
                end=run[-1].end,
                channel=Appointment.Channel.PHONE if phone else Appointment.Channel.ONLINE,
                name="Erika Mustermann",
            )
        )
        taken += length
    return taken


def _unique_code(codes: set[str]) -> str:
    """A booking code no other inserted appointment has (random codes of 200,000 would collide now and then)."""
    while (code := new_booking_code()) in codes:
        pass
    codes.add(code)
    return code


def milliseconds(request: Callable[[], object], iterations: int) -> list[float]:
    for _ in range(WARM_UP):
        request()
    times = []
    for _ in range(iterations):
        started = time.perf_counter()
        request()
        times.append((time.perf_counter() - started) * 1000)
    return times


def report_latency(name: str, times: list[float]) -> None:
    report(f"{name}_p50_ms", statistics.median(times))
    report(f"{name}_p95_ms", statistics.quantiles(times, n=20)[-1])


def get_ok(client: Client, path: str) -> dict:
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code} {response.content[:500]!r}")
    return response.json()


def availability_reads(offices: list[Office], today: datetime.date) -> None:
    """p50/p95 of the three reads, each spread over the offices (and the days) in turn."""
    client = Client()
    month = f"date_from={today}&date_to={today + datetime.timedelta(days=29)}"
    working_days = [day for n in range(1, 30) if (day := today + datetime.timedelta(days=n)).weekday() < 5]
    reads: dict[str, Callable[[int], str]] = {
        "office_month": lambda n: f"services=personalausweis&office={offices[n % len(offices)].slug}&{month}",
        "office_day": lambda n: (
            f"services=personalausweis&office={offices[n % len(offices)].slug}"
            f"&date_from={(day := working_days[n % len(working_days)])}&date_to={day}"
        ),
        "earliest_anywhere": lambda n: "services=personalausweis,anmeldung",
    }
    for name, query in reads.items():
        counter = iter(range(10**9))
        times = milliseconds(
            lambda q=query, c=counter: get_ok(client, f"/api/v1/availability?{q(next(c))}"), ITERATIONS
        )
        report_latency(name, times)
        with CaptureQueriesContext(connection) as queries:
            answer = get_ok(client, f"/api/v1/availability?{query(SAMPLE)}")
        report(f"{name}_queries", len(queries))
        if name == "earliest_anywhere":
            found = [datetime.datetime.fromisoformat(o["earliest"]).date() for o in answer["offices"] if o["earliest"]]
            report(f"{name}_offices_with_a_time", len(found))
            report(f"{name}_days_ahead_median", int(statistics.median((day - today).days for day in found)))
        else:
            report(f"{name}_free_starts", sum(len(day["times"]) for day in answer["days"]))


def bookings_per_second(offices: list[Office], today: datetime.date) -> None:
    """16 clients, each its own connection, POST at free starts they read beforehand; 201s and 409s counted."""
    logging.getLogger("django.request").setLevel(logging.ERROR)  # else every 409 is logged as a warning
    barrier = threading.Barrier(CLIENTS + 1, timeout=300)
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    post_times: list[float] = []
    failures: list[BaseException] = []

    def client_run(number: int) -> None:
        try:
            client = Client()
            office = offices[number % BOOKING_OFFICES]
            month = get_ok(
                client,
                f"/api/v1/availability?services=personalausweis&office={office.slug}"
                f"&date_from={today}&date_to={today + datetime.timedelta(days=29)}",
            )
            starts = [
                datetime.datetime.combine(datetime.date.fromisoformat(day["date"]), datetime.time.fromisoformat(t))
                .replace(tzinfo=BERLIN)
                .isoformat()
                for day in month["days"]
                for t in day["times"]
            ]
            # Citizens want the next times: each client tries the earliest ones in its own order, so the two
            # clients of an office sometimes want the same or overlapping times.
            starts = starts[: 3 * POSTS_PER_CLIENT]
            random.Random(number).shuffle(starts)  # noqa: S311 - a repeatable order, not a secret
            mine: dict[int, int] = {}
            times = []
            barrier.wait()
            for n, start in enumerate(starts[:POSTS_PER_CLIENT]):
                payload = {
                    "office": office.slug,
                    "start": start,
                    "services": [{"service": "personalausweis", "persons": 1}],
                    "name": "Erika Mustermann",
                    "email": f"bench-{number}-{n}@example.org",
                }
                started = time.perf_counter()
                response = client.post("/api/v1/appointments", payload, content_type="application/json")
                times.append((time.perf_counter() - started) * 1000)
                mine[response.status_code] = mine.get(response.status_code, 0) + 1
            with lock:
                for status, count in mine.items():
                    statuses[status] = statuses.get(status, 0) + count
                post_times.extend(times)
        except BaseException as error:  # noqa: BLE001 - reported below; the others must not wait for this one
            failures.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=client_run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} clients failed, the first with: {failures[0]!r}")
    report("booking_clients", CLIENTS)
    report("booking_seconds", seconds)
    report("booking_created", statuses.get(201, 0))
    report("booking_taken", statuses.get(409, 0))
    report("booking_other_answers", sum(count for status, count in statuses.items() if status not in (201, 409)))
    report("bookings_per_second", statuses.get(201, 0) / seconds)
    report("booking_posts_per_second", sum(statuses.values()) / seconds)
    report_latency("booking_post", post_times)


def main() -> None:
    today = timezone.localdate()
    last = today + datetime.timedelta(days=DAYS - 1)
    with throwaway_database():
        report("database", connection.vendor)
        started = time.perf_counter()
        offices = city_build(today, last)
        city_vary_hours()
        refresh_all(offices, today, last)
        services_offer(offices)
        appointments, share = appointments_insert(offices, today)
        report("offices", len(offices))
        report("days", DAYS)
        report("slots", Slot.objects.count())
        report("appointments", appointments)
        report("capacity_booked_percent", round(100 * share))
        report("setup_seconds", time.perf_counter() - started)

        started = time.perf_counter()
        integrity = integrity_check(offices=offices, first=today)
        report("integrity_check_seconds", time.perf_counter() - started)
        report("integrity_ok", "yes" if integrity.ok else "no")
        if not integrity.ok:
            raise SystemExit(integrity.summary())

        availability_reads(offices, today)
        if connection.vendor == "postgresql":
            bookings_per_second(offices, today)
            after = integrity_check(offices=offices, first=today)
            report("integrity_ok_after_bookings", "yes" if after.ok else "no")
        else:
            report("bookings_per_second", "skipped (needs PostgreSQL: SQLite writes one at a time, in memory here)")


if __name__ == "__main__":
    main()
