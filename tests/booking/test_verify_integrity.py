"""verify_integrity: every slot's counts recomputed from booked appointments and holds."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from booking.grid import BERLIN
from booking.integrity import SlotProblem, integrity_check
from booking.models import Appointment, Slot
from booking.needs import needs_from_param
from booking.services.appointments import Contact, appointment_book, appointment_cancel, hold_place
from offices.models import Closure
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
TUESDAY = MONDAY + datetime.timedelta(days=1)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)


def at(day: datetime.date, hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    office = bookable_office(
        counters=2, first=MONDAY, last=TUESDAY, slug="buergerbuero-mitte", name_de="Mitte", name_en="Mitte"
    )
    offer(office, "personalausweis", 15)
    return office


def book(office, start: datetime.datetime, email: str, **kwargs) -> Appointment:  # type: ignore[no-untyped-def]
    return appointment_book(
        office=office,
        start=start,
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Erika Mustermann", email=email),
        now=NOW,
        **kwargs,
    )


def verify(*args: str) -> tuple[int, str]:
    """Run the command as an operator would on NOW's day; returns (exit status, output)."""
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        try:
            call_command("verify_integrity", *args, stdout=out)
        except CommandError as error:
            return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_a_consistent_grid_exits_0_and_says_what_was_checked(office):
    book(office, at(MONDAY, "09:00"), "a@example.org")
    cancelled = book(office, at(MONDAY, "10:00"), "b@example.org")
    appointment_cancel(appointment=cancelled, now=NOW)
    status, output = verify()
    assert status == 0
    slots = Slot.objects.count()
    assert output.strip() == (
        f"Checked {slots} slots of 1 offices from 2026-11-16 to the last slot (2026-11-24) "
        "against 1 booked appointments and 0 holds: "
        "0 slots over capacity, 0 slots with wrong counts, 0 appointments or holds without slots."
    )


def test_a_tampered_count_exits_1_naming_the_slot(office):
    book(office, at(MONDAY, "09:00"), "a@example.org")
    Slot.objects.filter(office=office, start=at(MONDAY, "09:05")).update(booked_online=2)
    status, output = verify()
    assert status == 1
    assert "Mitte (buergerbuero-mitte) Mon 23.11.2026 09:05: online 2 (expected 1), phone 0 (expected 0)" in output
    assert "09:00:" not in output and "09:10:" not in output
    assert "1 slots with wrong counts" in output


def test_a_hold_counts_like_an_appointment_of_its_channel(office):
    hold_place(office=office, start=at(MONDAY, "09:00"), needs=needs_from_param("personalausweis"), now=NOW)
    assert verify()[0] == 0
    Slot.objects.filter(office=office, start=at(MONDAY, "09:10")).update(booked_online=0)
    status, output = verify()
    assert status == 1
    assert "09:10: online 0 (expected 1)" in output
    assert "against 0 booked appointments and 1 holds" in output


def test_a_phone_appointment_is_counted_in_booked_phone(office):
    book(office, at(MONDAY, "09:00"), "", channel=Appointment.Channel.PHONE)
    assert verify()[0] == 0
    slot = Slot.objects.get(office=office, start=at(MONDAY, "09:00"))
    assert (slot.booked_online, slot.booked_phone) == (0, 1)
    Slot.objects.filter(pk=slot.pk).update(booked_online=1, booked_phone=0)
    assert "09:00: online 1 (expected 0), phone 0 (expected 1)" in verify()[1]


def test_appointments_needing_more_units_than_the_slot_has_are_over_capacity(office):
    book(office, at(MONDAY, "09:00"), "a@example.org")
    book(office, at(MONDAY, "09:00"), "b@example.org")
    # A clerk fewer, written past the services (which would have flagged one of them).
    Slot.objects.filter(office=office, start=at(MONDAY, "09:05")).update(counters=1, capacity=1, booked_online=1)
    status, output = verify()
    assert status == 1
    assert "Over capacity:\n  Mitte (buergerbuero-mitte) Mon 23.11.2026 09:05: online 1 (expected 2)" in output
    assert "1 slots over capacity, 1 slots with wrong counts" in output


def test_stored_counts_above_capacity_are_over_capacity_even_where_they_match():
    # The CHECK constraint makes this impossible in the database; the rule itself is checked here.
    start = at(MONDAY, "09:00")
    full = SlotProblem(None, start, capacity=2, booked_online=2, booked_phone=0, expected_online=2, expected_phone=0)
    over = SlotProblem(None, start, capacity=2, booked_online=2, booked_phone=1, expected_online=2, expected_phone=1)
    assert not full.over_capacity and not full.counts_differ
    assert over.over_capacity and not over.counts_differ


def test_a_booked_appointment_whose_slots_were_removed_is_reported(office):
    appointment = book(office, at(TUESDAY, "11:30"), "a@example.org")
    Closure.objects.create(office=office, start_date=TUESDAY, end_date=TUESDAY, reason="Wasserschaden")
    Slot.objects.filter(office=office, local_date=TUESDAY, start__gte=at(TUESDAY, "11:35")).delete()
    status, output = verify()
    assert status == 1
    assert f"appointment {appointment.booking_code} at Mitte (buergerbuero-mitte) Tue 24.11.2026 11:30–11:45" in output
    assert "no slot from 11:35" in output


def test_office_and_dates_narrow_the_check(office):
    other = bookable_office(first=MONDAY, last=TUESDAY, slug="buergerbuero-nord")
    Slot.objects.filter(office=other, start=at(TUESDAY, "09:00")).update(booked_online=1)
    Slot.objects.filter(office=office, start=at(MONDAY, "09:00")).update(booked_online=1)
    assert verify("--office", "buergerbuero-mitte", "--from", "2026-11-24")[0] == 0
    assert verify("--office", "buergerbuero-nord", "--to", "2026-11-23")[0] == 0
    status, output = verify("--from", "2026-11-23", "--to", "2026-11-23")
    assert status == 1 and "buergerbuero-mitte" in output and "buergerbuero-nord" not in output
    assert "Checked 168 slots of 2 offices from 2026-11-23 to 2026-11-23" in output
    with pytest.raises(CommandError, match="No office with the slug: nirgendwo"):
        call_command("verify_integrity", "--office", "nirgendwo")


def test_an_appointment_across_the_first_day_checked_counts_only_from_there(office):
    # From 09:05 on: the 09:00 appointment still occupies 09:05 and 09:10, its 09:00 slot is not looked at.
    book(office, at(MONDAY, "09:00"), "a@example.org")
    report = integrity_check(offices=[office], first=MONDAY)
    assert report.ok and report.appointments == 1


def test_the_check_reads_a_few_queries_per_office_whatever_the_bookings(office, django_assert_num_queries):
    for hhmm in ["08:00", "09:00", "10:00", "11:00"]:
        book(office, at(MONDAY, hhmm), f"{hhmm[:2]}@example.org")
    with django_assert_num_queries(3):
        report = integrity_check(offices=[office], first=MONDAY)
    assert report.ok and report.appointments == 4
