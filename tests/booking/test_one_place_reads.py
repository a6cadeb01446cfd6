"""The reads each rule has one place for: Berlin's day, a hold by its token, the needs of a hold or an
appointment, the offices offering all needs, and runs of free units by channel."""

import datetime

import pytest

from booking.days import local_day
from booking.grid import BERLIN
from booking.models import Appointment, Slot
from booking.needs import appointment_needs, hold_needs, needs_from_param, offer_durations
from booking.selectors import ChannelRules, free_runs, hold_by_token
from booking.services.appointments import Contact, appointment_book, hold_place
from offices.models import Service
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)  # a week before


def at(hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    office = bookable_office(counters=1, first=MONDAY, last=MONDAY)
    offer(office, "personalausweis", 15, max_persons=4)
    offer(office, "anmeldung", 10)
    return office


def test_berlins_day_of_an_instant_is_the_day_on_berlins_calendar() -> None:
    late = datetime.datetime(2026, 11, 22, 23, 30, tzinfo=datetime.UTC)  # 00:30 on Monday in Berlin
    assert local_day(late) == MONDAY
    assert local_day(datetime.datetime(2026, 7, 1, 21, 59, tzinfo=datetime.UTC)) == datetime.date(2026, 7, 1)


def test_a_hold_is_found_by_its_token_live_or_expired_and_of_a_channel(office) -> None:  # type: ignore[no-untyped-def]
    hold = hold_place(office=office, start=at("09:00"), needs=needs_from_param("personalausweis:2"), now=NOW)
    assert hold_by_token(hold.token) == hold
    assert hold_by_token(hold.token, live_at=NOW) == hold
    assert hold_by_token(hold.token, live_at=hold.expires_at) is None  # expired then, though not released yet
    assert hold_by_token(hold.token, channel=Appointment.Channel.ONLINE) == hold
    assert hold_by_token(hold.token, channel=Appointment.Channel.PHONE) is None
    assert hold_by_token("") is None and hold_by_token(None) is None and hold_by_token("unknown") is None


def test_a_holds_needs_are_read_back_in_the_order_asked(office) -> None:  # type: ignore[no-untyped-def]
    asked = needs_from_param("anmeldung,personalausweis:2")
    hold = hold_place(office=office, start=at("09:00"), needs=asked, now=NOW)
    assert hold_needs(hold) == asked
    hold.needs = [*hold.needs, [Service.objects.order_by("-pk").first().pk + 1, 1]]  # a service deleted since
    assert hold_needs(hold) is None


def test_an_appointments_needs_come_from_its_lines_prefetched_or_not(office, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    asked = needs_from_param("personalausweis:2,anmeldung")
    booked = appointment_book(office=office, start=at("09:00"), needs=asked, contact=Contact(name="Erika"), now=NOW)
    read = Appointment.objects.get(pk=booked.pk)
    with django_assert_num_queries(1):  # the lines with their services
        assert appointment_needs(read) == asked
    prefetched = Appointment.objects.prefetch_related("lines__service").get(pk=booked.pk)
    with django_assert_num_queries(0):
        assert appointment_needs(prefetched) == asked


def test_only_offices_offering_every_need_are_offered(office) -> None:  # type: ignore[no-untyped-def]
    other = bookable_office(counters=1, first=MONDAY, last=MONDAY, slug="nord")
    offer(other, "anmeldung", 20)
    assert set(offer_durations(needs=needs_from_param("anmeldung"))) == {office.pk, other.pk}
    assert set(offer_durations(needs=needs_from_param("personalausweis,anmeldung"))) == {office.pk}


def test_a_run_is_free_online_and_by_phone_with_its_share_of_the_phone_contingent(office) -> None:  # type: ignore[no-untyped-def]
    slots = Slot.objects.filter(office=office, local_date=MONDAY)
    slots.update(phone_reserve=1)  # the one counter is kept for the phone ...
    slots.filter(start=at("09:05")).update(booked_phone=1)  # ... and taken by phone here
    slots.filter(start=at("09:15")).update(phone_reserve=0)  # ... but not here

    def runs(channel: str, length: int = 3) -> dict[datetime.datetime, int | None]:
        rules = ChannelRules.of(office=office, now=NOW, channel=channel)
        found = free_runs(office_ids=[office.pk], rules=rules, length=length, first=MONDAY, last=MONDAY)
        return {slot.start: getattr(slot, "contingent", None) for slot in found}

    assert runs(Appointment.Channel.ONLINE) == {}  # online, the reserve is held back: 09:15 alone is too short
    assert runs(Appointment.Channel.ONLINE, length=1) == {at("09:15"): None}
    phone = runs(Appointment.Channel.PHONE)
    assert not {at("08:55"), at("09:00"), at("09:05")} & set(phone)  # each would need the taken 09:05
    assert (phone[at("08:50")], phone[at("09:10")], phone[at("09:20")]) == (3, 2, 3)
    assert runs(Appointment.Channel.PHONE, length=0) == {}
