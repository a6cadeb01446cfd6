"""The booking rules: duration, free times, notice, the per-address limit, holds, cancelling and moving."""

import datetime
import random

import pytest
import time_machine
from django.db.models import Sum
from django.test import override_settings
from django.utils import translation

from booking import availability
from booking.availability import nearest_free_starts
from booking.errors import BookingError, SlotTaken
from booking.grid import BERLIN
from booking.models import Appointment, Hold, Slot
from booking.needs import Need, needs_from_param, needs_parse, office_needs_minutes
from booking.selectors import earliest_starts, free_starts
from booking.services.appointments import (
    Contact,
    appointment_book,
    appointment_cancel,
    appointment_move,
    hold_extend,
    hold_place,
    hold_release,
    holds_expire,
)
from booking.services.slots import capacity_refresh
from offices.models import Absence
from tests.support.factories import AbsenceFactory, bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
TUESDAY = MONDAY + datetime.timedelta(days=1)
WEDNESDAY = MONDAY + datetime.timedelta(days=2)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)  # a week before


def at(day: datetime.date, hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


def hhmm(starts: list[datetime.datetime]) -> list[str]:
    return [start.astimezone(BERLIN).strftime("%H:%M") for start in starts]


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    office = bookable_office(counters=1, first=MONDAY, last=MONDAY + datetime.timedelta(days=4))
    offer(office, "personalausweis", 15, max_persons=4)
    offer(office, "anmeldung", 10)
    return office


def needs(value: str = "personalausweis") -> list[Need]:
    return needs_from_param(value)


def contact(email: str = "erika@example.org", **kwargs: object) -> Contact:
    return Contact(name="Erika Mustermann", email=email, **kwargs)


def book(office, start: datetime.datetime, value: str = "personalausweis", **kwargs) -> Appointment:  # type: ignore[no-untyped-def]
    kwargs.setdefault("contact", contact(f"{start:%H%M}-{value[:5]}@example.org"))
    return appointment_book(office=office, start=start, needs=needs(value), now=NOW, **kwargs)


def booked(office, day: datetime.date, time: str) -> int:  # type: ignore[no-untyped-def]
    return Slot.objects.get(office=office, start=at(day, time)).booked


def units_in_use(office) -> int:  # type: ignore[no-untyped-def]
    result = Slot.objects.filter(office=office).aggregate(online=Sum("booked_online"), phone=Sum("booked_phone"))
    return result["online"] + result["phone"]


# Duration


def test_the_time_needed_is_the_sum_of_duration_times_persons_rounded_up_to_the_grid(office):
    office.slot_minutes = 10
    office.save()
    offer(office, "meldebescheinigung", 7)
    # 15 × 2 + 7 × 1 = 37 minutes → 40 on a 10-minute grid
    assert office_needs_minutes(office=office, needs=needs("personalausweis:2,meldebescheinigung")) == 40
    office.slot_minutes = 5
    office.save()
    assert office_needs_minutes(office=office, needs=needs("personalausweis:2,meldebescheinigung")) == 40 - 0
    assert office_needs_minutes(office=office, needs=needs("personalausweis:3,anmeldung:2")) == 65


def test_a_family_of_four_is_one_appointment_across_consecutive_slots(office):
    appointment = book(office, at(MONDAY, "09:00"), "personalausweis:4")
    assert (appointment.end - appointment.start) == datetime.timedelta(minutes=60)
    assert [line.persons for line in appointment.lines.all()] == [4]
    assert booked(office, MONDAY, "09:00") == 1 and booked(office, MONDAY, "09:55") == 1
    assert booked(office, MONDAY, "10:00") == 0
    assert units_in_use(office) == 12


def test_the_services_param_is_read_strictly():
    assert needs_parse("personalausweis:2, anmeldung") == [("personalausweis", 2), ("anmeldung", 1)]
    for bad in ["", ",", "pass port", "a:0", "a:x", "a:1,a:2", "a:1:2", ",".join(f"s{n}" for n in range(7))]:
        with pytest.raises(BookingError):
            needs_parse(bad)


def test_unknown_services_and_too_many_persons_are_refused_in_the_citizens_language(office):
    for language, expected in [
        ("en", "There is no service “raumschiff”."),
        ("de", "Die Dienstleistung „raumschiff“ gibt es nicht."),
    ]:
        with pytest.raises(BookingError) as unknown, translation.override(language):
            needs_from_param("raumschiff")
        assert str(unknown.value.message) == expected
    with pytest.raises(BookingError) as too_many, translation.override("en"):
        needs_from_param("personalausweis:5")
    assert "at most 4 persons" in str(too_many.value.message)


def test_an_office_that_lacks_a_service_cannot_book_it(office):
    other = bookable_office(first=MONDAY, last=MONDAY)
    offer(other, "personalausweis", 15)
    with pytest.raises(BookingError) as refused:
        appointment_book(
            office=other,
            start=at(MONDAY, "09:00"),
            needs=needs("personalausweis,anmeldung"),
            contact=contact(),
            now=NOW,
        )
    assert refused.value.field == "office"
    assert units_in_use(other) == 0


# Free times


def test_free_starts_never_cross_a_break_or_closing_time(office):
    days = free_starts(office=office, minutes=30, now=NOW, first=MONDAY, last=MONDAY)
    starts = hhmm(days[MONDAY])
    assert "11:30" in starts and "11:35" not in starts and "11:55" not in starts
    assert "13:00" in starts and "15:30" in starts and "15:35" not in starts
    assert starts[0] == "08:00"


def test_a_matter_of_one_slot_is_offered_at_every_free_slot(office):
    from desk.phone_times import earliest_phone_start

    assert office.slot_minutes == 5
    book(office, at(MONDAY, "08:05"), "anmeldung")  # 08:05–08:15 taken
    starts = hhmm(free_starts(office=office, minutes=5, now=NOW, first=MONDAY, last=MONDAY)[MONDAY])
    assert starts[:3] == ["08:00", "08:15", "08:20"]
    assert len(starts) == 7 * 12 - 2
    assert earliest_starts(minutes_by_office={office: 5}, now=NOW) == {office.pk: at(MONDAY, "08:00")}
    assert earliest_phone_start(office=office, minutes=5, now=NOW, contingent_only=False) == at(MONDAY, "08:00")


def test_a_start_is_offered_only_where_every_slot_it_needs_is_free(office):
    book(office, at(MONDAY, "09:15"))  # 09:15–09:30 is taken
    starts = hhmm(free_starts(office=office, minutes=30, now=NOW, first=MONDAY, last=MONDAY)[MONDAY])
    assert "08:45" in starts
    assert not {"08:50", "08:55", "09:00", "09:10", "09:15", "09:25"} & set(starts)
    assert "09:30" in starts


def test_minimum_notice_applies_to_what_is_offered_and_what_is_booked(office):
    now = at(MONDAY, "08:02")
    starts = hhmm(free_starts(office=office, minutes=15, now=now, first=MONDAY, last=MONDAY)[MONDAY])
    assert starts[0] == "08:35"  # 30 minutes' notice, on the grid
    with pytest.raises(BookingError) as too_soon, translation.override("en"):
        appointment_book(office=office, start=at(MONDAY, "08:30"), needs=needs(), contact=contact(), now=now)
    assert "up to 30 minutes before" in str(too_soon.value.message)
    appointment_book(office=office, start=at(MONDAY, "08:35"), needs=needs(), contact=contact(), now=now)


@pytest.mark.parametrize(
    ("start", "field"),
    [
        (at(MONDAY, "09:03"), "start"),  # not on the grid
        (at(MONDAY, "07:00"), "start"),  # before opening: no slots
        (at(MONDAY, "11:55"), "start"),  # runs into the lunch break
        (at(datetime.date(2026, 11, 9), "09:00"), "start"),  # in the past
        (at(datetime.date(2027, 3, 1), "09:00"), "start"),  # not released
    ],
)
def test_a_time_off_the_grid_in_the_past_or_beyond_the_horizon_changes_nothing(office, start, field):
    with pytest.raises(BookingError) as refused:
        appointment_book(office=office, start=start, needs=needs(), contact=contact(), now=NOW)
    assert refused.value.field == field
    assert Appointment.objects.count() == 0
    assert units_in_use(office) == 0


def test_earliest_anywhere_gives_each_office_its_first_fitting_time(office):
    full = bookable_office(first=MONDAY, last=TUESDAY)
    offer(full, "personalausweis", 15)
    offer(full, "anmeldung", 10)
    Slot.objects.filter(office=full, local_date=MONDAY).update(booked_online=1)
    Slot.objects.filter(office=full, start__lt=at(TUESDAY, "10:00"), local_date=TUESDAY).update(booked_online=1)
    earliest = earliest_starts(minutes_by_office={office: 25, full: 25}, now=NOW)
    assert earliest[office.pk] == at(MONDAY, "08:00")
    assert earliest[full.pk] == at(TUESDAY, "10:00")


def test_the_nearest_free_times_surround_the_lost_one(office):
    for time in ["10:00", "10:15", "10:30"]:
        book(office, at(MONDAY, time))
    nearest = nearest_free_starts(office=office, minutes=15, around=at(MONDAY, "10:15"), now=NOW, count=3)
    # 09:45 and 10:45 are 30 minutes away; of 09:40 and 10:50 (35), the earlier wins.
    assert hhmm(nearest) == ["09:40", "09:45", "10:45"]


def test_a_day_with_too_few_free_times_left_looks_at_the_days_around_it(office, monkeypatch):
    Slot.objects.filter(office=office, local_date=MONDAY, start__lt=at(MONDAY, "15:40")).update(booked_online=1)
    read = []
    real = availability.office_free_starts
    monkeypatch.setattr(availability, "office_free_starts", lambda **kw: read.append(kw["first"]) or real(**kw))
    nearest = nearest_free_starts(office=office, minutes=15, around=at(MONDAY, "15:00"), now=NOW, count=3)
    assert nearest == [at(MONDAY, "15:40"), at(MONDAY, "15:45"), at(TUESDAY, "08:00")]
    assert read == [MONDAY, MONDAY - datetime.timedelta(days=7)]  # the day, then the week around it


def test_a_day_with_enough_free_times_is_all_a_lost_time_reads(office, monkeypatch):
    read = []
    real = availability.office_free_starts
    monkeypatch.setattr(
        availability, "office_free_starts", lambda **kw: read.append((kw["first"], kw["last"])) or real(**kw)
    )
    nearest = nearest_free_starts(office=office, minutes=15, around=at(TUESDAY, "12:00"), now=NOW, count=3)
    assert hhmm(nearest) == ["11:35", "11:40", "11:45"]  # 11:45 ends at 12:00; the lunch break has none
    assert read == [(TUESDAY, TUESDAY)]


def test_a_late_lost_time_gets_the_next_morning_when_it_is_closer_than_its_own_day(office):
    Slot.objects.filter(office=office, local_date=TUESDAY, start__gte=at(TUESDAY, "09:00")).update(booked_online=1)
    nearest = nearest_free_starts(office=office, minutes=15, around=at(TUESDAY, "23:00"), now=NOW, count=3)
    # Tuesday still has 08:00-08:45 (14 hours back); Wednesday 08:00 is 9 hours ahead.
    assert nearest == [at(WEDNESDAY, "08:00"), at(WEDNESDAY, "08:05"), at(WEDNESDAY, "08:10")]


def test_the_nearest_free_times_are_the_week_s_closest_whatever_is_booked(office):
    rng = random.Random(20261207)
    slots = list(Slot.objects.filter(office=office).order_by("start"))
    for slot in rng.sample(slots, k=len(slots) * 9 // 10):
        slot.booked_online = 1
    Slot.objects.bulk_update(slots, ["booked_online"])
    for _ in range(40):
        day = rng.choice([MONDAY, TUESDAY, WEDNESDAY])
        around = at(day, "00:00") + datetime.timedelta(minutes=rng.randrange(24 * 60))  # also at night
        week = free_starts(
            office=office,
            minutes=15,
            now=NOW,
            first=day - datetime.timedelta(days=7),
            last=day + datetime.timedelta(days=7),
        )
        everything = sorted(start for starts in week.values() for start in starts)
        expected = sorted(sorted(everything, key=lambda start: abs(start - around))[:3])
        assert nearest_free_starts(office=office, minutes=15, around=around, now=NOW, count=3) == expected


# The per-address limit


def test_one_address_has_at_most_two_upcoming_appointments(office):
    first = book(office, at(MONDAY, "09:00"), contact=contact("Erika@Example.org"))
    book(office, at(MONDAY, "10:00"), contact=contact("erika@example.org"))
    with pytest.raises(BookingError) as refused:
        book(office, at(MONDAY, "11:00"), contact=contact("ERIKA@example.org "))
    assert refused.value.field == "email"
    assert Appointment.objects.count() == 2 and units_in_use(office) == 6
    appointment_cancel(appointment=first, now=NOW)
    book(office, at(MONDAY, "11:00"), contact=contact("erika@example.org"))
    assert first.email == "erika@example.org"


def test_plus_tags_and_gmail_dots_do_not_make_a_new_person(office):
    book(office, at(MONDAY, "09:00"), contact=contact("erika.mustermann+termin1@gmail.com"))
    book(office, at(MONDAY, "10:00"), contact=contact(" ErikaMustermann+2@GoogleMail.com"))
    for variant in ("e.rika.muster.mann@gmail.com", "erikamustermann+3@gmail.com", "ERIKAMUSTERMANN@GMAIL.COM"):
        with pytest.raises(BookingError) as refused:
            book(office, at(MONDAY, "11:00"), contact=contact(variant))
        assert refused.value.field == "email"
    # Elsewhere a dot is a different mailbox; the address is stored as typed (lower-case).
    other = book(office, at(MONDAY, "11:00"), contact=contact("erika.mustermann+x@example.org"))
    assert (other.email, other.email_key) == ("erika.mustermann+x@example.org", "erika.mustermann@example.org")


@override_settings(BOOKING_LIMIT_BY_PHONE=True)
def test_with_the_phone_limit_one_number_is_one_person_whatever_the_address(office):
    book(office, at(MONDAY, "09:00"), contact=contact("a@example.org", phone="0151 1234567"))
    book(office, at(MONDAY, "10:00"), contact=contact("b@example.org", phone="+49 151 1234567"))
    with pytest.raises(BookingError) as refused:
        book(office, at(MONDAY, "11:00"), contact=contact("c@example.org", phone="0049-151-1234567"))
    assert refused.value.field == "phone"
    book(office, at(MONDAY, "11:00"), contact=contact("c@example.org", phone="0151 7654321"))


def test_without_the_phone_limit_a_number_may_book_for_several_addresses(office):
    for hhmm, address in (("09:00", "a@example.org"), ("10:00", "b@example.org"), ("11:00", "c@example.org")):
        book(office, at(MONDAY, hhmm), contact=contact(address, phone="0151 1234567"))
    assert Appointment.objects.filter(phone_key="+491511234567").count() == 3


@override_settings(BOOKING_MAX_ACTIVE_PER_EMAIL=1)
def test_the_limit_is_configurable_and_past_appointments_do_not_count(office):
    book(office, at(MONDAY, "09:00"), contact=contact())
    with pytest.raises(BookingError):
        book(office, at(MONDAY, "10:00"), contact=contact())
    later = NOW.replace(day=23, hour=10)  # Monday 10:00: the 09:00 appointment is over
    appointment_book(office=office, start=at(TUESDAY, "09:00"), needs=needs(), contact=contact(), now=later)


# Holds


def test_a_hold_takes_the_units_and_the_booking_keeps_them(office):
    hold = hold_place(office=office, start=at(MONDAY, "09:00"), needs=needs(), now=NOW)
    assert hold.expires_at == NOW + datetime.timedelta(minutes=10)
    assert units_in_use(office) == 3
    assert "09:00" not in hhmm(free_starts(office=office, minutes=15, now=NOW, first=MONDAY, last=MONDAY)[MONDAY])
    appointment = appointment_book(
        office=office, start=at(MONDAY, "09:00"), needs=needs(), contact=contact(), now=NOW, hold_token=hold.token
    )
    assert not Hold.objects.exists()
    assert units_in_use(office) == 3
    assert appointment.status == Appointment.Status.BOOKED


def test_an_expired_hold_frees_its_units_by_itself(office):
    with time_machine.travel(NOW, tick=False):
        hold = hold_place(office=office, start=at(MONDAY, "09:00"), needs=needs(), now=NOW)
    assert holds_expire(now=NOW + datetime.timedelta(minutes=9, seconds=59)) == 0
    assert units_in_use(office) == 3
    assert holds_expire(now=NOW + datetime.timedelta(minutes=10)) == 1
    assert units_in_use(office) == 0
    with pytest.raises(BookingError):
        hold_extend(hold=hold, now=NOW + datetime.timedelta(minutes=11))
    # Confirming later still works if the time is free: the units are taken anew.
    appointment_book(
        office=office,
        start=at(MONDAY, "09:00"),
        needs=needs(),
        contact=contact(),
        now=NOW + datetime.timedelta(minutes=12),
        hold_token=hold.token,
    )
    assert units_in_use(office) == 3


def test_a_lost_hold_whose_time_was_taken_meanwhile_gets_the_just_taken_answer(office):
    hold = hold_place(office=office, start=at(MONDAY, "09:00"), needs=needs(), now=NOW)
    later = NOW + datetime.timedelta(minutes=11)
    holds_expire(now=later)
    book(office, at(MONDAY, "09:00"))
    with pytest.raises(SlotTaken):
        appointment_book(
            office=office, start=at(MONDAY, "09:00"), needs=needs(), contact=contact(), now=later, hold_token=hold.token
        )
    assert Appointment.objects.count() == 1 and units_in_use(office) == 3


@override_settings(BOOKING_HOLD_MINUTES=5, BOOKING_HOLD_EXTENSIONS=2)
def test_a_hold_can_be_extended_a_limited_number_of_times(office):
    hold = hold_place(office=office, start=at(MONDAY, "09:00"), needs=needs(), now=NOW)
    hold_extend(hold=hold, now=NOW + datetime.timedelta(minutes=4))
    assert Hold.objects.get().expires_at == NOW + datetime.timedelta(minutes=9)
    hold_extend(hold=hold, now=NOW + datetime.timedelta(minutes=8))
    with pytest.raises(BookingError):
        hold_extend(hold=hold, now=NOW + datetime.timedelta(minutes=12))
    assert Hold.objects.get().extensions == 2


def test_a_tampered_hold_is_refused_and_changes_nothing(office):
    hold = hold_place(office=office, start=at(MONDAY, "09:00"), needs=needs(), now=NOW)
    with pytest.raises(BookingError) as refused:
        appointment_book(
            office=office,
            start=at(MONDAY, "09:00"),
            needs=needs("personalausweis:2"),  # more than the hold was taken for
            contact=contact(),
            now=NOW,
            hold_token=hold.token,
        )
    assert refused.value.field == "hold"
    assert Hold.objects.count() == 1 and Appointment.objects.count() == 0 and units_in_use(office) == 3


def test_the_order_in_which_services_are_named_does_not_matter_for_a_hold(office):
    hold = hold_place(office=office, start=at(MONDAY, "09:00"), needs=needs("personalausweis,anmeldung"), now=NOW)
    appointment_book(
        office=office,
        start=at(MONDAY, "09:00"),
        needs=needs("anmeldung,personalausweis"),
        contact=contact(),
        now=NOW,
        hold_token=hold.token,
    )
    assert not Hold.objects.exists() and units_in_use(office) == 5


def test_choosing_another_time_releases_the_previous_hold(office):
    first = hold_place(office=office, start=at(MONDAY, "09:00"), needs=needs(), now=NOW)
    hold_place(office=office, start=at(MONDAY, "10:00"), needs=needs(), now=NOW, replacing=first)
    assert list(Hold.objects.values_list("start", flat=True)) == [at(MONDAY, "10:00")]
    assert booked(office, MONDAY, "09:00") == 0 and booked(office, MONDAY, "10:00") == 1
    assert hold_release(hold=first) is False


def test_a_capacity_drop_removes_holds_before_it_flags_appointments(office):
    appointment = book(office, at(MONDAY, "09:00"))
    hold_place(office=office, start=at(MONDAY, "10:00"), needs=needs(), now=NOW)
    clerk = office.memberships.get().user
    AbsenceFactory(user=clerk, kind=Absence.Kind.SICK, start_date=MONDAY, end_date=MONDAY)
    result = capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    assert result.flagged == [appointment.pk]
    assert not Hold.objects.exists()
    assert units_in_use(office) == 0


# Cancelling and moving


def test_cancelling_frees_the_units_at_once_and_only_once(office):
    appointment = book(office, at(MONDAY, "09:00"), "personalausweis:2")
    appointment = appointment_cancel(appointment=appointment, now=NOW)
    assert appointment.status == Appointment.Status.CANCELLED and appointment.cancelled_at == NOW
    assert units_in_use(office) == 0
    assert "09:00" in hhmm(free_starts(office=office, minutes=30, now=NOW, first=MONDAY, last=MONDAY)[MONDAY])
    with pytest.raises(BookingError):
        appointment_cancel(appointment=appointment, now=NOW)
    assert units_in_use(office) == 0


def test_an_appointment_that_has_begun_cannot_be_cancelled_or_moved(office):
    appointment = book(office, at(MONDAY, "09:00"))
    during = at(MONDAY, "09:05")
    with pytest.raises(BookingError):
        appointment_cancel(appointment=appointment, now=during)
    with pytest.raises(BookingError):
        appointment_move(appointment=appointment, start=at(MONDAY, "11:00"), now=during)
    assert units_in_use(office) == 3


def test_a_move_takes_the_new_time_and_releases_the_old(office):
    appointment = book(office, at(MONDAY, "09:00"))
    moved = appointment_move(appointment=appointment, start=at(TUESDAY, "10:00"), now=NOW)
    assert moved.start == at(TUESDAY, "10:00") and moved.end == at(TUESDAY, "10:15")
    assert moved.sequence == 1 and moved.booking_code == appointment.booking_code
    assert booked(office, MONDAY, "09:00") == 0 and booked(office, TUESDAY, "10:00") == 1
    assert units_in_use(office) == 3


def test_a_move_into_its_own_slots_works_when_the_day_is_otherwise_full(office):
    appointment = book(office, at(MONDAY, "09:00"))  # 09:00–09:15
    Slot.objects.filter(office=office).exclude(start__range=(at(MONDAY, "09:00"), at(MONDAY, "09:20"))).update(
        booked_online=1
    )
    moved = appointment_move(appointment=appointment, start=at(MONDAY, "09:05"), now=NOW)
    assert moved.start == at(MONDAY, "09:05")
    assert booked(office, MONDAY, "09:00") == 0
    assert [booked(office, MONDAY, t) for t in ["09:05", "09:10", "09:15"]] == [1, 1, 1]


def test_a_move_to_a_taken_time_keeps_the_old_one(office):
    appointment = book(office, at(MONDAY, "09:00"))
    book(office, at(MONDAY, "10:00"))
    with pytest.raises(SlotTaken):
        appointment_move(appointment=appointment, start=at(MONDAY, "10:00"), now=NOW)
    appointment.refresh_from_db()
    assert appointment.start == at(MONDAY, "09:00") and appointment.sequence == 0
    assert booked(office, MONDAY, "09:00") == 1 and units_in_use(office) == 6


def test_a_move_can_use_a_hold_on_the_new_time(office):
    appointment = book(office, at(MONDAY, "09:00"))
    hold = hold_place(office=office, start=at(MONDAY, "14:00"), needs=needs(), now=NOW)
    appointment_move(appointment=appointment, start=at(MONDAY, "14:00"), now=NOW, hold_token=hold.token)
    assert not Hold.objects.exists()
    assert booked(office, MONDAY, "09:00") == 0 and booked(office, MONDAY, "14:00") == 1
    assert units_in_use(office) == 3


def test_a_stale_copy_of_a_moved_appointment_cannot_be_moved_again(office):
    appointment = book(office, at(MONDAY, "09:00"))
    stale = Appointment.objects.get(pk=appointment.pk)
    appointment_move(appointment=appointment, start=at(MONDAY, "10:00"), now=NOW)
    with pytest.raises(BookingError):
        appointment_move(appointment=stale, start=at(MONDAY, "11:00"), now=NOW)
    assert units_in_use(office) == 3 and booked(office, MONDAY, "10:00") == 1


def test_cancelling_a_stale_copy_twice_changes_nothing_and_logs_no_drift(office, caplog):
    appointment = book(office, at(MONDAY, "09:00"))
    stale = Appointment.objects.get(pk=appointment.pk)
    appointment_cancel(appointment=appointment, now=NOW)
    with pytest.raises(BookingError):
        appointment_cancel(appointment=stale, now=NOW)
    assert units_in_use(office) == 0
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


def test_booking_codes_are_short_unambiguous_and_tokens_long():
    from booking.models import BOOKING_CODE_ALPHABET, new_booking_code, new_token

    assert not set("0O1IL2Z5S8B") & set(BOOKING_CODE_ALPHABET)
    codes = {new_booking_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(len(code) == 8 and set(code) <= set(BOOKING_CODE_ALPHABET) for code in codes)
    assert len(new_token()) >= 32  # 24 random bytes: 192 bits
