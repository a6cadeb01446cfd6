"""Capacity is never exceeded under concurrency: real parallel connections against PostgreSQL."""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from booking.errors import SlotTaken
from booking.models import Slot
from booking.services.slots import capacity_refresh, slots_take
from tests.support.factories import OfficeFactory, OpeningHoursFactory, clerk_at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
PARALLEL = 20


def office_with_clerks(clerks: int):  # type: ignore[no-untyped-def]
    office = OfficeFactory(phone_share_percent=0)
    OpeningHoursFactory(office=office, weekday=0, opens=datetime.time(8), closes=datetime.time(12))
    for _ in range(clerks):
        clerk_at(office, (0, "08:00", "12:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    return office


def race(office, ranges: list[tuple[str, int]]) -> list[str]:  # type: ignore[no-untyped-def]
    """Each range (start "HH:MM", minutes) is booked from its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(ranges))

    def attempt(item: tuple[str, int]) -> str:
        start = datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(item[0]), tzinfo=BERLIN)
        try:
            barrier.wait()
            slots_take(
                office=office, start=start, end=start + datetime.timedelta(minutes=item[1]), channel="online", now=NOW
            )
            return "booked"
        except SlotTaken:
            return "taken"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        return list(pool.map(attempt, ranges))


def booked(office, hhmm: str) -> int:  # type: ignore[no-untyped-def]
    start = datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)
    return Slot.objects.get(office=office, start=start).booked_online


def test_twenty_bookers_of_the_last_free_unit_get_it_exactly_once() -> None:
    office = office_with_clerks(1)
    results = race(office, [("09:00", 5)] * PARALLEL)
    assert (results.count("booked"), results.count("taken")) == (1, PARALLEL - 1)
    assert booked(office, "09:00") == 1


def test_the_same_multi_slot_appointment_twenty_times_fits_exactly_the_capacity() -> None:
    office = office_with_clerks(2)
    results = race(office, [("10:00", 15)] * PARALLEL)
    assert (results.count("booked"), results.count("taken")) == (2, PARALLEL - 2)
    assert [booked(office, t) for t in ("10:00", "10:05", "10:10", "10:15")] == [2, 2, 2, 0]


def test_overlapping_bookings_in_both_directions_never_overfill_and_never_deadlock() -> None:
    office = office_with_clerks(3)
    ranges = [("08:00", 20), ("08:10", 20)] * (PARALLEL // 2)
    results = race(office, ranges)
    wins = [item for item, result in zip(ranges, results, strict=True) if result == "booked"]
    assert wins
    for hhmm in ("08:00", "08:05", "08:10", "08:15", "08:20", "08:25"):
        minute = int(hhmm[3:])
        covering = sum(1 for start, minutes in wins if int(start[3:]) <= minute < int(start[3:]) + minutes)
        assert booked(office, hhmm) == covering <= 3
