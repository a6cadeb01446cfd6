"""Clerks on duty become bookable capacity: shifts, absences, the slot grid, contingents, the horizon."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import F

from booking.errors import BookingError, SlotTaken
from booking.grid import BERLIN
from booking.models import Appointment, Slot
from booking.selectors import online_bookable_slots, released_until
from booking.services.slots import capacity_refresh, slots_take
from offices.models import Shift
from offices.services import shifts_derive
from tests.support.factories import (
    AbsenceFactory,
    ClosureFactory,
    OfficeFactory,
    OpeningHoursFactory,
    PublicHolidayFactory,
    WalkInWindowFactory,
    clerk_at,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
MONDAY = datetime.date(2026, 11, 23)
FRIDAY = MONDAY + datetime.timedelta(days=4)
# A week earlier, so MONDAY is in the future and inside every horizon.
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)


def at(day: datetime.date, hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


def monday_office(**kwargs):  # type: ignore[no-untyped-def]
    """Open Monday 08:00–12:00 and 13:00–16:00."""
    office = OfficeFactory(**kwargs)
    OpeningHoursFactory(office=office, weekday=0, opens=datetime.time(8), closes=datetime.time(12))
    OpeningHoursFactory(office=office, weekday=0, opens=datetime.time(13), closes=datetime.time(16))
    return office


def slot(office, day: datetime.date, hhmm: str) -> Slot:  # type: ignore[no-untyped-def]
    return Slot.objects.get(office=office, start=at(day, hhmm))


def book(office, day: datetime.date, hhmm: str, minutes: int, channel: str = "online") -> Appointment:  # type: ignore[no-untyped-def]
    """Take the units and write the appointment in one transaction, as the booking services do (slots_take has no
    savepoint of its own: a refusal rolls back the caller's whole transaction)."""
    start = at(day, hhmm)
    end = start + datetime.timedelta(minutes=minutes)
    with transaction.atomic():
        slots_take(office=office, start=start, end=end, channel=channel, now=NOW)
        return Appointment.objects.create(office=office, start=start, end=end, channel=channel)


def recount_matches(office) -> bool:  # type: ignore[no-untyped-def]
    """Every slot's counts equal the booked appointments that cover it."""
    for s in Slot.objects.filter(office=office):
        covering = Appointment.objects.filter(
            office=office, status=Appointment.Status.BOOKED, start__lte=s.start, end__gt=s.start
        )
        if (s.booked_online, s.booked_phone) != (
            covering.filter(channel="online").count(),
            covering.filter(channel="phone").count(),
        ):
            return False
    return True


def test_dated_shifts_follow_the_weekly_pattern_and_deriving_again_changes_nothing() -> None:
    office = monday_office()
    clerk = clerk_at(office, (0, "07:30", "12:00"), (0, "12:30", "16:00"))
    shifts_derive(office=office, first=MONDAY, last=MONDAY + datetime.timedelta(days=13))
    shifts = Shift.objects.filter(user=clerk).order_by("date", "starts")
    assert [(s.date, s.starts.isoformat("minutes"), s.ends.isoformat("minutes")) for s in shifts] == [
        (MONDAY, "07:30", "12:00"),
        (MONDAY, "12:30", "16:00"),
        (MONDAY + datetime.timedelta(days=7), "07:30", "12:00"),
        (MONDAY + datetime.timedelta(days=7), "12:30", "16:00"),
    ]
    assert shifts_derive(office=office, first=MONDAY, last=MONDAY + datetime.timedelta(days=13)) == 0


def test_a_shift_changed_by_hand_survives_a_change_of_the_pattern() -> None:
    office = monday_office()
    clerk = clerk_at(office, (0, "08:00", "12:00"))
    shifts_derive(office=office, first=MONDAY, last=MONDAY)
    Shift.objects.filter(user=clerk).update(ends=datetime.time(10), from_pattern=False)
    clerk.weekly_shifts.update(ends=datetime.time(16))
    shifts_derive(office=office, first=MONDAY, last=MONDAY + datetime.timedelta(days=7))
    assert Shift.objects.get(user=clerk, date=MONDAY).ends == datetime.time(10)
    assert Shift.objects.get(user=clerk, date=MONDAY + datetime.timedelta(days=7)).ends == datetime.time(16)


def test_capacity_is_the_number_of_clerks_on_shift_in_each_slot() -> None:
    office = monday_office()
    clerk_at(office, (0, "08:00", "12:00"), (0, "13:00", "16:00"))
    clerk_at(office, (0, "08:00", "12:00"), (0, "13:00", "16:00"))
    clerk_at(office, (0, "08:00", "10:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    assert [slot(office, MONDAY, t).capacity for t in ("08:00", "09:55", "10:00", "11:55", "13:00", "15:55")] == [
        3,
        3,
        2,
        2,
        2,
        2,
    ]
    # 08:00–12:00 and 13:00–16:00 on a 5-minute grid, nothing in the lunch break or after closing.
    assert Slot.objects.filter(office=office).count() == 48 + 36
    assert not Slot.objects.filter(
        office=office, start__gte=at(MONDAY, "12:00"), start__lt=at(MONDAY, "13:00")
    ).exists()


def test_generating_again_writes_nothing() -> None:
    office = monday_office()
    clerk_at(office, (0, "08:00", "16:00"))
    first = capacity_refresh(office=office, first=MONDAY, last=FRIDAY)
    before = list(Slot.objects.order_by("pk").values())
    again = capacity_refresh(office=office, first=MONDAY, last=FRIDAY)
    assert first.created == 84
    assert (again.created, again.updated, again.deleted, again.flagged) == (0, 0, 0, [])
    assert list(Slot.objects.order_by("pk").values()) == before


def test_a_holiday_and_a_closure_give_no_slots() -> None:
    office = monday_office()
    clerk_at(office, (0, "08:00", "16:00"))
    PublicHolidayFactory(date=MONDAY)
    ClosureFactory(
        office=office, start_date=MONDAY + datetime.timedelta(days=7), end_date=MONDAY + datetime.timedelta(days=7)
    )
    capacity_refresh(office=office, first=MONDAY, last=MONDAY + datetime.timedelta(days=14))
    days = set(Slot.objects.filter(office=office).values_list("local_date", flat=True))
    assert days == {MONDAY + datetime.timedelta(days=14)}


@pytest.mark.parametrize(
    ("before", "after", "utc_before", "utc_after"),
    [
        # Spring forward: Sunday 28 March 2027. 08:00 Berlin is 07:00 UTC before, 06:00 UTC after.
        (datetime.date(2027, 3, 22), datetime.date(2027, 3, 29), "07:00", "06:00"),
        # Fall back: Sunday 25 October 2026. 08:00 Berlin is 06:00 UTC before, 07:00 UTC after.
        (datetime.date(2026, 10, 19), datetime.date(2026, 10, 26), "06:00", "07:00"),
    ],
)
def test_slots_keep_their_local_times_on_the_mondays_around_a_clock_change(
    before, after, utc_before, utc_after
) -> None:  # type: ignore[no-untyped-def]
    office = monday_office(horizon_days=366)
    clerk_at(office, (0, "08:00", "16:00"))
    capacity_refresh(office=office, first=before, last=after)
    for day, utc in ((before, utc_before), (after, utc_after)):
        first = Slot.objects.filter(office=office, local_date=day).order_by("start").first()
        last = Slot.objects.filter(office=office, local_date=day).order_by("start").last()
        assert first.start.astimezone(UTC).strftime("%H:%M") == utc
        assert first.start.astimezone(BERLIN).strftime("%H:%M") == "08:00"
        assert last.end.astimezone(BERLIN).strftime("%H:%M") == "16:00"
        assert Slot.objects.filter(office=office, local_date=day).count() == 84


def test_an_absence_reduces_capacity_and_flags_exactly_the_appointments_that_no_longer_fit() -> None:
    office = monday_office()
    clerk_at(office, (0, "08:00", "16:00"))
    sick = clerk_at(office, (0, "08:00", "16:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    first = book(office, MONDAY, "08:00", 15)
    second = book(office, MONDAY, "08:05", 10, channel="phone")  # booked later, shares 08:05 and 08:10
    third = book(office, MONDAY, "09:00", 20)  # alone in its slots: still fits
    fourth = book(office, MONDAY, "13:00", 5)
    fifth = book(office, MONDAY, "13:00", 5)  # two at 13:00: the later one goes

    AbsenceFactory(user=sick, start_date=MONDAY, end_date=MONDAY)
    result = capacity_refresh(office=office, first=MONDAY, last=MONDAY)

    assert sorted(result.flagged) == sorted([second.pk, fifth.pk])
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {
        first.pk: "booked",
        second.pk: "needs_rebooking",
        third.pk: "booked",
        fourth.pk: "booked",
        fifth.pk: "needs_rebooking",
    }
    assert slot(office, MONDAY, "08:05").capacity == 1
    assert (slot(office, MONDAY, "08:05").booked_online, slot(office, MONDAY, "08:05").booked_phone) == (1, 0)
    assert recount_matches(office)
    assert not Slot.objects.filter(booked_online__gt=F("capacity")).exists()


def test_a_closure_added_over_booked_slots_flags_their_appointments_and_removes_the_slots() -> None:
    office = monday_office()
    clerk_at(office, (0, "08:00", "16:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    appointment = book(office, MONDAY, "10:00", 15)
    ClosureFactory(office=office, start_date=MONDAY, end_date=MONDAY, reason_de="Wasserschaden")
    result = capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    assert result.flagged == [appointment.pk]
    assert not Slot.objects.filter(office=office, local_date=MONDAY).exists()


def test_walk_in_windows_are_never_offered_online() -> None:
    office = monday_office()
    for _ in range(3):
        clerk_at(office, (0, "08:00", "16:00"))
    WalkInWindowFactory(office=office, weekday=0, starts=datetime.time(8), ends=datetime.time(10), counters=None)
    WalkInWindowFactory(office=office, weekday=0, starts=datetime.time(13), ends=datetime.time(14), counters=1)
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    morning = slot(office, MONDAY, "08:00")
    assert (morning.counters, morning.walkin_capacity, morning.capacity) == (3, 3, 0)
    assert (slot(office, MONDAY, "13:00").walkin_capacity, slot(office, MONDAY, "13:00").capacity) == (1, 2)
    offered = online_bookable_slots(office=office, now=NOW, first=MONDAY, last=MONDAY)
    assert offered.filter(start__lt=at(MONDAY, "10:00")).count() == 0
    assert offered.first().start == at(MONDAY, "10:00")
    with pytest.raises(SlotTaken):
        book(office, MONDAY, "09:55", 10)


def test_the_phone_share_opens_to_online_booking_at_its_lead_time() -> None:
    office = monday_office(phone_share_percent=50, phone_release_hours=48)
    clerk_at(office, (0, "08:00", "16:00"))
    clerk_at(office, (0, "08:00", "16:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    nine = at(MONDAY, "09:00")
    assert (slot(office, MONDAY, "09:00").capacity, slot(office, MONDAY, "09:00").phone_reserve) == (2, 1)
    three_days_before = nine - datetime.timedelta(days=3)
    slots_take(
        office=office, start=nine, end=nine + datetime.timedelta(minutes=5), channel="online", now=three_days_before
    )
    assert (
        not online_bookable_slots(office=office, now=three_days_before, first=MONDAY, last=MONDAY)
        .filter(start=nine)
        .exists()
    )
    with pytest.raises(SlotTaken), transaction.atomic():  # as its callers do: a refusal ends their transaction
        slots_take(
            office=office, start=nine, end=nine + datetime.timedelta(minutes=5), channel="online", now=three_days_before
        )
    with time_machine.travel(nine - datetime.timedelta(hours=47, minutes=59), tick=False):
        now = datetime.datetime.now(tz=UTC)
        assert online_bookable_slots(office=office, now=now, first=MONDAY, last=MONDAY).filter(start=nine).exists()
        slots_take(office=office, start=nine, end=nine + datetime.timedelta(minutes=5), channel="online", now=now)
    assert slot(office, MONDAY, "09:00").booked_online == 2


def test_clerks_may_book_the_phone_share_that_online_citizens_cannot() -> None:
    office = monday_office(phone_share_percent=100)
    clerk_at(office, (0, "08:00", "16:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    with pytest.raises(SlotTaken):
        book(office, MONDAY, "08:00", 5, channel="online")
    book(office, MONDAY, "08:00", 5, channel="phone")
    assert slot(office, MONDAY, "08:00").booked_phone == 1


def test_days_beyond_the_released_horizon_are_not_bookable() -> None:
    office = monday_office(horizon_days=7, release_time=datetime.time(7))
    clerk_at(office, (0, "08:00", "16:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    before_release = datetime.datetime(2026, 11, 16, 6, 59, tzinfo=BERLIN)
    after_release = datetime.datetime(2026, 11, 16, 7, 0, tzinfo=BERLIN)
    assert released_until(office=office, now=before_release) == MONDAY - datetime.timedelta(days=1)
    assert released_until(office=office, now=after_release) == MONDAY
    assert not online_bookable_slots(office=office, now=before_release, first=MONDAY, last=MONDAY).exists()
    assert online_bookable_slots(office=office, now=after_release, first=MONDAY, last=MONDAY).count() == 84


def test_a_booking_over_several_slots_is_all_or_nothing() -> None:
    office = monday_office()
    clerk_at(office, (0, "08:00", "16:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    book(office, MONDAY, "08:10", 5)
    with pytest.raises(SlotTaken):
        book(office, MONDAY, "08:00", 15)
    assert [slot(office, MONDAY, t).booked_online for t in ("08:00", "08:05", "08:10")] == [0, 0, 1]
    with pytest.raises(BookingError) as refused:
        book(office, MONDAY, "11:55", 10)  # across the lunch break: not "taken", simply not offered
    assert not isinstance(refused.value, SlotTaken)
    assert slot(office, MONDAY, "11:55").booked_online == 0


def test_the_database_refuses_more_bookings_than_capacity_even_without_the_service() -> None:
    office = monday_office()
    clerk_at(office, (0, "08:00", "16:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(office=office, start=at(MONDAY, "08:00")).update(booked_online=F("capacity") + 1)


def test_an_absence_elsewhere_applies_to_the_clerk_at_every_office() -> None:
    office, other = monday_office(), monday_office()
    clerk = clerk_at(office, (0, "08:00", "16:00"))
    AbsenceFactory(user=clerk, kind="vacation", start_date=MONDAY - datetime.timedelta(days=3), end_date=MONDAY)
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    capacity_refresh(office=other, first=MONDAY, last=MONDAY)
    assert set(Slot.objects.filter(office=office).values_list("capacity", flat=True)) == {0}


@time_machine.travel(datetime.datetime(2026, 11, 16, 3, 0, tzinfo=ZoneInfo("Europe/Berlin")), tick=False)
def test_the_command_builds_every_offices_horizon_and_is_idempotent() -> None:
    office = monday_office(horizon_days=14)
    clerk_at(office, (0, "08:00", "16:00"))
    out = io.StringIO()
    call_command("generate_slots", stdout=out)
    assert out.getvalue().strip() == "Slots: 252 created, 0 updated, 0 deleted; 0 appointments need rebooking."
    assert sorted(set(Slot.objects.values_list("local_date", flat=True))) == [
        datetime.date(2026, 11, 16),
        datetime.date(2026, 11, 23),
        datetime.date(2026, 11, 30),
    ]
    out = io.StringIO()
    call_command("generate_slots", "--office", office.slug, stdout=out)
    assert out.getvalue().strip() == "Slots: 0 created, 0 updated, 0 deleted; 0 appointments need rebooking."


def test_an_online_booking_beyond_the_released_horizon_is_refused_even_where_slots_exist() -> None:
    office = monday_office(horizon_days=7, release_time=datetime.time(7))
    clerk_at(office, (0, "08:00", "16:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    start = at(MONDAY, "09:00")
    before_release = datetime.datetime(2026, 11, 16, 6, 59, tzinfo=BERLIN)
    with pytest.raises(SlotTaken), transaction.atomic():  # as its callers do: a refusal ends their transaction
        slots_take(
            office=office, start=start, end=start + datetime.timedelta(minutes=5), channel="online", now=before_release
        )
    assert slot(office, MONDAY, "09:00").booked_online == 0
    slots_take(
        office=office,
        start=start,
        end=start + datetime.timedelta(minutes=5),
        channel="online",
        now=before_release + datetime.timedelta(minutes=1),
    )
    assert slot(office, MONDAY, "09:00").booked_online == 1
