"""The nightly snapshots (stats.snapshots): lead time per office and service, capacity offered per channel.

Frozen on Monday 16 November 2026, 09:00 in Berlin. Office "mitte" has its grid (one counter, Mon–Fri 08–12 and
13–16, 5-minute slots) from Monday 23 November on, so its first free time lies 7 days ahead; "nord" offers the
passport but has no grid ahead, so none is free; "alt" is inactive and left out.
"""

import datetime
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command

from booking.grid import BERLIN
from booking.models import Slot
from offices.models import Office
from stats.models import CapacitySnapshot, LeadTimeSnapshot
from stats.snapshots import snapshot_take
from stats.tasks import snapshot_nightly
from tests.support.factories import OfficeFactory, bookable_office, offer

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 16)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
GRID_MONDAY = datetime.date(2026, 11, 23)


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def offices(frozen) -> dict[str, Office]:  # type: ignore[no-untyped-def]
    mitte = bookable_office(counters=1, first=GRID_MONDAY, last=GRID_MONDAY + datetime.timedelta(days=4), slug="mitte")
    offer(mitte, "passport", 15)
    offer(mitte, "licence", 30)
    nord = OfficeFactory(slug="nord")
    offer(nord, "passport", 15)
    alt = OfficeFactory(slug="alt", active=False)
    offer(alt, "passport", 15)
    return {"mitte": mitte, "nord": nord, "alt": alt}


def lead_times() -> dict[tuple[datetime.date, str, str], int | None]:
    rows = LeadTimeSnapshot.objects.values_list("date", "office__slug", "service__slug", "days")
    return {(date, office, service): days for date, office, service, days in rows}


def capacities() -> dict[tuple[datetime.date, str, str], int]:
    rows = CapacitySnapshot.objects.values_list("date", "office__slug", "channel", "units")
    return {(date, office, channel): units for date, office, channel, units in rows}


def past_slots(office: Office, day: datetime.date) -> None:
    """Two slots: 3 counters of which 1 for walk-ins and 1 unit kept for the phone; 4 counters, 1 kept.

    Online: (2 - 1) + (4 - 1) = 4; phone: 1 + 1 = 2; walk-in counters: 1 + 0 = 1.
    """
    for hour, counters, walkin, reserve in ((9, 3, 1, 1), (10, 4, 0, 1)):
        start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=BERLIN)
        Slot.objects.create(
            office=office,
            local_date=day,
            start=start,
            end=start + datetime.timedelta(minutes=30),
            counters=counters,
            walkin_capacity=walkin,
            capacity=counters - walkin,
            phone_reserve=reserve,
        )


def test_today_s_snapshot_holds_each_office_s_lead_time_per_service(offices: dict[str, Office]) -> None:
    written = snapshot_take(day=TODAY, now=NOW)

    assert lead_times() == {
        (TODAY, "mitte", "passport"): 7,  # first free: Monday 23 November, 08:00
        (TODAY, "mitte", "licence"): 7,
        (TODAY, "nord", "passport"): None,  # nothing free within the horizon
    }
    assert written == {"capacity": 0, "lead_time": 3}  # no office has slots today


def test_another_day_takes_capacity_from_its_slots_and_no_lead_time(offices: dict[str, Office]) -> None:
    written = snapshot_take(day=GRID_MONDAY, now=NOW)

    # mitte on 23 November: 7 opening hours × 12 five-minute slots × 1 counter = 84 units, all online.
    assert capacities() == {
        (GRID_MONDAY, "mitte", "online"): 84,
        (GRID_MONDAY, "mitte", "phone"): 0,
        (GRID_MONDAY, "mitte", "counter"): 0,
    }
    assert written == {"capacity": 3, "lead_time": 0}
    assert not LeadTimeSnapshot.objects.exists()  # a lead time can only be read on its own day


def test_taking_a_day_again_overwrites_its_rows_and_adds_none(offices: dict[str, Office], frozen) -> None:  # type: ignore[no-untyped-def]
    snapshot_nightly.delay()  # beat's task, eager in tests: today, as snapshot_take(day=TODAY)
    past_slots(offices["nord"], TODAY)
    frozen.move_to(NOW + datetime.timedelta(hours=14))  # 23:00 the same day
    snapshot_nightly.delay()
    snapshot_take(day=TODAY, now=NOW + datetime.timedelta(hours=14))

    assert LeadTimeSnapshot.objects.count() == 3
    assert set(LeadTimeSnapshot.objects.values_list("taken_at", flat=True)) == {NOW + datetime.timedelta(hours=14)}
    # nord's slots of today were added between the runs: their units replace nothing and are counted once.
    assert capacities() == {(TODAY, "nord", "online"): 4, (TODAY, "nord", "phone"): 2, (TODAY, "nord", "counter"): 1}

    Slot.objects.filter(office=offices["nord"], local_date=TODAY).update(phone_reserve=0)
    snapshot_take(day=TODAY, now=NOW + datetime.timedelta(hours=14))
    # Without the reserve: online (2 + 4) = 6, phone 0; still three rows.
    assert capacities() == {(TODAY, "nord", "online"): 6, (TODAY, "nord", "phone"): 0, (TODAY, "nord", "counter"): 1}


def test_backfill_takes_capacity_of_past_days_and_lead_time_of_today_only(offices: dict[str, Office]) -> None:
    friday, saturday = TODAY - datetime.timedelta(days=3), TODAY - datetime.timedelta(days=2)
    past_slots(offices["nord"], friday)
    past_slots(offices["nord"], saturday)
    past_slots(offices["nord"], TODAY - datetime.timedelta(days=4))  # Thursday: before the 4 days asked for

    out = io.StringIO()
    call_command("statistics_backfill", "--days", "4", stdout=out)
    call_command("statistics_backfill", "--days", "4", stdout=out)  # again: the same rows, none doubled

    # Friday to Monday: nord's slots on Friday and Saturday, 3 channels each = 6 rows; lead time today: 3 rows.
    assert out.getvalue().splitlines() == ["6 capacity rows and 3 lead-time rows written for 4 days."] * 2
    expected = {}
    for day in (friday, saturday):
        expected |= {(day, "nord", "online"): 4, (day, "nord", "phone"): 2, (day, "nord", "counter"): 1}
    assert capacities() == expected
    assert {date for date, _office, _service in lead_times()} == {TODAY}
    assert LeadTimeSnapshot.objects.count() == 3


def test_backfill_refuses_fewer_than_one_day(offices: dict[str, Office]) -> None:
    with pytest.raises(CommandError, match="--days must be at least 1"):
        call_command("statistics_backfill", "--days", "0")
