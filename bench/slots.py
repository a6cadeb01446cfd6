"""Benchmark of the slot grid: a city of 50 offices over 60 days, from scratch and incrementally.

Run from the project root:

    .venv/bin/python bench/slots.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/buergerservice .venv/bin/python bench/slots.py

Everything happens in a throwaway test database (in memory for SQLite,
``test_<name>_bench`` for PostgreSQL) that is dropped at the end; the real data
is never touched. Prints ``name: value`` lines: seconds with three decimals,
counts as integers.
"""

import datetime
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buergerservice.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from booking.models import Slot  # noqa: E402
from booking.services.slots import GenerationResult, capacity_refresh  # noqa: E402
from offices.models import (  # noqa: E402
    Absence,
    Membership,
    Office,
    OpeningHours,
    PublicHoliday,
    WalkInWindow,
    WeeklyShift,
)
from offices.services import public_holidays_import  # noqa: E402

OFFICES = 50
DAYS = 60
CLERKS_PER_OFFICE = 6
MORNING_ONLY_CLERKS = 2  # of each office's clerks, the last ones work mornings only
WEEKDAYS = range(5)  # Monday to Friday
THURSDAY = 3

Range = tuple[datetime.time, datetime.time]
MORNING: Range = (datetime.time(8), datetime.time(12))
AFTERNOON: Range = (datetime.time(13), datetime.time(16))
LATE_AFTERNOON: Range = (datetime.time(13), datetime.time(18))  # Thursday
WALK_IN: Range = (datetime.time(8), datetime.time(10))
WALK_IN_COUNTERS = 2


def day_ranges(weekday: int, *, mornings_only: bool = False) -> list[Range]:
    """The opening hours of a weekday, which full-time clerks work as well."""
    if mornings_only:
        return [MORNING]
    return [MORNING, LATE_AFTERNOON if weekday == THURSDAY else AFTERNOON]


@contextmanager
def throwaway_database() -> Iterator[None]:
    """A fresh, migrated test database for the duration of the block, dropped afterwards."""
    setup_test_environment()  # among others DEBUG off, so queries are not recorded
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        # Not the test suite's test_<name>: a concurrent test run keeps its database.
        connection.settings_dict["TEST"]["NAME"] = f"test_{old_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def city_build(first: datetime.date, last: datetime.date) -> list[Office]:
    """Offices with hours, walk-in windows and clerks with weekly shifts, in bulk; holidays of the years covered."""
    public_holidays_import(years=sorted({first.year, last.year}))
    offices = Office.objects.bulk_create(
        Office(
            slug=f"buergerbuero-{number}",
            name_de=f"Bürgerbüro {number}",
            name_en=f"Citizen office {number}",
            kind=Office.Kind.CITIZEN_OFFICE,
            street=f"Marktplatz {number}",
            postal_code=f"{1000 + number:05d}",
            city="Musterstadt",
            slot_minutes=5,
        )
        for number in range(1, OFFICES + 1)
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(office=office, weekday=weekday, opens=opens, closes=closes)
        for office in offices
        for weekday in WEEKDAYS
        for opens, closes in day_ranges(weekday)
    )
    WalkInWindow.objects.bulk_create(
        WalkInWindow(office=office, weekday=weekday, starts=WALK_IN[0], ends=WALK_IN[1], counters=WALK_IN_COUNTERS)
        for office in offices
        for weekday in WEEKDAYS
    )
    unusable = make_password(None)  # no hashing per user
    users = get_user_model().objects.bulk_create(
        get_user_model()(
            username=f"clerk-{office.pk}-{n}", email=f"clerk-{office.pk}-{n}@example.org", password=unusable
        )
        for office in offices
        for n in range(CLERKS_PER_OFFICE)
    )
    staff = [
        (office, user, n >= CLERKS_PER_OFFICE - MORNING_ONLY_CLERKS)
        for index, office in enumerate(offices)
        for n, user in enumerate(users[index * CLERKS_PER_OFFICE : (index + 1) * CLERKS_PER_OFFICE])
    ]
    Membership.objects.bulk_create(Membership(user=user, office=office) for office, user, _mornings in staff)
    WeeklyShift.objects.bulk_create(
        WeeklyShift(user=user, office=office, weekday=weekday, starts=starts, ends=ends)
        for office, user, mornings_only in staff
        for weekday in WEEKDAYS
        for starts, ends in day_ranges(weekday, mornings_only=mornings_only)
    )
    return list(Office.objects.order_by("pk"))


def refresh_all(offices: list[Office], first: datetime.date, last: datetime.date) -> GenerationResult:
    total = GenerationResult()
    for office in offices:
        total += capacity_refresh(office=office, first=first, last=last)
    return total


def timed(action: Callable[[], GenerationResult]) -> tuple[GenerationResult, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def writes(result: GenerationResult) -> int:
    return result.created + result.updated + result.deleted


def two_working_days_in_the_middle(first: datetime.date, last: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first two consecutive weekdays, neither a public holiday, from the middle of the range on."""
    holidays = set(PublicHoliday.objects.filter(date__range=(first, last)).values_list("date", flat=True))
    day = first + datetime.timedelta(days=(last - first).days // 2)
    while day < last:
        following = day + datetime.timedelta(days=1)
        if all(d.weekday() in WEEKDAYS and d not in holidays for d in (day, following)):
            return day, following
        day = following
    raise SystemExit("no two consecutive working days in the second half of the range")


def grid_fingerprint(*, office: Office, days: tuple[datetime.date, datetime.date]) -> tuple[int, str]:
    """How many slots there are outside the office's days, and a hash over all their stored values."""
    rows = (
        Slot.objects.exclude(office=office, local_date__range=days)
        .order_by("pk")
        .values_list(
            "pk",
            "office_id",
            "local_date",
            "start",
            "end",
            "counters",
            "walkin_capacity",
            "capacity",
            "phone_reserve",
            "booked_online",
            "booked_phone",
        )
    )
    digest = hashlib.sha256()
    count = 0
    for row in rows.iterator(chunk_size=10_000):
        digest.update(repr(row).encode())
        count += 1
    return count, digest.hexdigest()


def report(name: str, value: object) -> None:
    if isinstance(value, float):
        value = f"{value:.3f}"
    print(f"{name}: {value}", flush=True)


def main() -> None:
    today = timezone.localdate()
    first = today + datetime.timedelta(days=7 - today.weekday())  # the next Monday
    last = first + datetime.timedelta(days=DAYS - 1)
    with throwaway_database():
        report("database", connection.vendor)
        offices = city_build(first, last)
        report("offices", len(offices))
        report("days", DAYS)

        full, seconds = timed(lambda: refresh_all(offices, first, last))
        report("slots", Slot.objects.count())
        report("full_generation_seconds", seconds)
        if full.created != Slot.objects.count() or full.updated or full.deleted:
            raise SystemExit(f"the first generation should only create slots, not {full}")

        again, seconds = timed(lambda: refresh_all(offices, first, last))
        report("regeneration_unchanged_seconds", seconds)
        report("regeneration_unchanged_writes", writes(again))

        office = offices[len(offices) // 2]
        clerk = Membership.objects.filter(office=office).order_by("pk").first().user
        days = two_working_days_in_the_middle(first, last)
        before = grid_fingerprint(office=office, days=days)
        Absence.objects.create(user=clerk, kind=Absence.Kind.SICK, start_date=days[0], end_date=days[1])
        incremental, seconds = timed(lambda: capacity_refresh(office=office, first=days[0], last=days[1]))
        after = grid_fingerprint(office=office, days=days)
        report("incremental_absence_seconds", seconds)
        report("incremental_absence_slots_updated", incremental.updated)
        report("incremental_absence_other_days_untouched", "yes" if before == after else "no")
        if not incremental.updated or writes(incremental) != incremental.updated:
            raise SystemExit(f"the absence should update the slots of its days and nothing else, not {incremental}")


if __name__ == "__main__":
    main()
