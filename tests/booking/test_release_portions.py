"""A new day released in portions: a share at the release time, the rest at set hours, so nobody must be first."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from booking.availability import office_free_starts
from booking.errors import SlotTaken
from booking.grid import BERLIN
from booking.models import Appointment
from booking.needs import needs_from_param
from booking.services.appointments import Contact, appointment_book
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
FRIDAY_BEFORE = MONDAY - datetime.timedelta(days=3)  # released the Friday before
RELEASE_DAY = MONDAY - datetime.timedelta(days=7)  # a Monday: with a horizon of 7 days, MONDAY opens then


def at(day: datetime.date, hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


@pytest.fixture
def office() -> Office:
    office = bookable_office(counters=4, first=RELEASE_DAY, last=MONDAY, slug="mitte")
    offer(office, "personalausweis", 15)
    Office.objects.filter(pk=office.pk).update(
        horizon_days=7, release_time=datetime.time(7), release_first_percent=50, release_more_at="12:00, 16:00"
    )
    office.refresh_from_db()
    return office


def book(office: Office, start: datetime.datetime, now: datetime.datetime, number: int) -> Appointment:
    return appointment_book(
        office=office,
        start=start,
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Erika Mustermann", email=f"erika{number}@example.org"),
        now=now,
    )


def bookings_until_refused(office: Office, start: datetime.datetime, now: datetime.datetime) -> int:
    booked = 0
    while booked < 10:  # noqa: PLR2004 - more than the counters
        try:
            book(office, start, now, booked + Appointment.objects.count() * 100)
        except SlotTaken:
            return booked
        booked += 1
    return booked


def offered(office: Office, day: datetime.date, hhmm: str, now: datetime.datetime) -> bool:
    days = office_free_starts(office=office, minutes=15, now=now, first=day, last=day)
    return at(day, hhmm) in days.get(day, [])


def test_the_steps_split_the_rest_evenly():
    office = Office(release_time=datetime.time(7), release_first_percent=40, release_more_at="16:00, 12:00")
    assert office.release_steps == [(datetime.time(7), 40), (datetime.time(12), 70), (datetime.time(16), 100)]
    assert Office(release_time=datetime.time(7)).release_steps == [(datetime.time(7), 100)]


def test_at_the_release_time_only_the_first_share_of_the_new_day_can_be_booked(office):
    now = at(RELEASE_DAY, "07:30")
    with time_machine.travel(now, tick=False):
        assert bookings_until_refused(office, at(MONDAY, "09:00"), now) == 2  # 50 % of 4 counters
        assert not offered(office, MONDAY, "09:00", now)
        assert offered(office, MONDAY, "10:00", now)


def test_the_rest_opens_at_its_hours(office):
    morning, noon, afternoon = at(RELEASE_DAY, "07:30"), at(RELEASE_DAY, "12:00"), at(RELEASE_DAY, "16:00")
    with time_machine.travel(morning, tick=False):
        bookings_until_refused(office, at(MONDAY, "09:00"), morning)
    with time_machine.travel(noon, tick=False):
        assert bookings_until_refused(office, at(MONDAY, "09:00"), noon) == 1  # 75 %: a third of 4
    with time_machine.travel(afternoon, tick=False):
        assert bookings_until_refused(office, at(MONDAY, "09:00"), afternoon) == 1  # all 4
    assert Appointment.objects.filter(start=at(MONDAY, "09:00")).count() == 4


def test_the_days_released_before_are_whole(office):
    now = at(RELEASE_DAY, "07:30")
    with time_machine.travel(now, tick=False):
        assert bookings_until_refused(office, at(FRIDAY_BEFORE, "09:00"), now) == 4


def test_a_kept_answer_ends_when_the_next_portion_opens(office):
    before_noon, noon = at(RELEASE_DAY, "11:59") + datetime.timedelta(seconds=50), at(RELEASE_DAY, "12:00")
    with time_machine.travel(at(RELEASE_DAY, "07:30"), tick=False):
        bookings_until_refused(office, at(MONDAY, "09:00"), at(RELEASE_DAY, "07:30"))
    client = Client()
    url = f"/api/v1/availability?services=personalausweis&office=mitte&date_from={MONDAY}&date_to={MONDAY}"

    def monday_times() -> list[str]:
        return next(day["times"] for day in client.get(url).json()["days"] if day["date"] == MONDAY.isoformat())

    with time_machine.travel(before_noon, tick=False):
        assert "09:00" not in monday_times()
    with time_machine.travel(noon, tick=False):  # no booking in between: time alone changes the answer
        assert "09:00" in monday_times()


def test_the_next_day_the_portioned_day_is_whole(office):
    next_morning = at(RELEASE_DAY + datetime.timedelta(days=1), "06:00")  # before the next release time
    with time_machine.travel(next_morning, tick=False):
        assert bookings_until_refused(office, at(MONDAY, "09:00"), next_morning) == 4


@pytest.mark.parametrize(
    ("first", "more", "field"),
    [
        (50, "", "release_more_at"),  # the rest must open some time
        (50, "06:00", "release_more_at"),  # before the release time
        (50, "12:00, 12:00", "release_more_at"),
        (50, "noon", "release_more_at"),
        (0, "12:00", "release_first_percent"),
    ],
)
def test_the_admin_refuses_portions_that_cannot_work(office, first, more, field):
    office.release_first_percent, office.release_more_at = first, more
    with pytest.raises(ValidationError) as refused:
        office.full_clean()
    assert field in refused.value.message_dict


def test_the_times_page_says_when_the_next_times_are_released(office):
    with time_machine.travel(at(RELEASE_DAY, "07:30"), tick=False):
        page = Client().get(f"/en/book/at/mitte/?services=personalausweis&date={MONDAY}").content.decode()
    assert "Every day at 07:00 the day 7 days ahead opens for booking." in page
    assert (
        "It opens in portions, so that nobody has to be first: 50 % from 07:00, 75 % from 12:00, 100 % from 16:00."
        in page
    )
