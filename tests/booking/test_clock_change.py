"""The nights the clocks change, for an office open through them (01:00–04:00 on both Sundays).

25 October 2026: at 03:00 CEST the clocks go back to 02:00 CET, so 02:00–02:59
happens twice. 28 March 2027: at 02:00 CET they jump to 03:00 CEST, so
02:00–02:59 does not exist. Slots are laid in UTC, each exactly one step long;
the citizen chooses between "02:30 (MESZ)" and "02:30 (MEZ)"; the calendar file
and the e-mails never leave the time open to two readings.
"""

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client
from icalendar import Calendar

from booking.forms import StartForm
from booking.grid import BERLIN, UTC, plan_slots
from booking.ics import appointment_ics
from booking.models import Appointment, Hold, Slot
from booking.needs import needs_from_param
from booking.services.appointments import Contact, appointment_book
from booking.services.slots import capacity_refresh
from notifications.services import messages_send_due
from offices.models import Office
from tests.support.factories import OfficeFactory, SpecialOpeningFactory, clerk_at, offer

pytestmark = pytest.mark.django_db

AUTUMN = datetime.date(2026, 10, 25)  # a Sunday
SPRING = datetime.date(2027, 3, 28)  # a Sunday
NOW = datetime.datetime(2026, 10, 20, 12, 0, tzinfo=BERLIN)
STEP = datetime.timedelta(minutes=5)


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


# The two 02:30 of the autumn night, and the times around them.
FIRST_0230 = utc("2026-10-25T00:30")  # 02:30 CEST
SECOND_0230 = utc("2026-10-25T01:30")  # 02:30 CET


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    """Open 01:00–04:00 (Berlin's clock) on both nights, one clerk on duty 00:00–05:00 every Sunday."""
    office = OfficeFactory(
        slug="nacht", slot_minutes=5, phone_share_percent=0, horizon_days=200, min_notice_minutes=0, name_en="Night"
    )
    for day in (AUTUMN, SPRING):
        SpecialOpeningFactory(office=office, date=day, opens=datetime.time(1), closes=datetime.time(4))
    clerk_at(office, (6, "00:00", "05:00"))
    offer(office, "abholung", 5, name_de="Abholung", name_en="Pickup")
    for day in (AUTUMN, SPRING):
        capacity_refresh(office=office, first=day, last=day, now=NOW)
    return office


def _local(moment: datetime.datetime) -> str:
    local = moment.astimezone(BERLIN)
    return f"{local:%H:%M} {local.tzname()}"


def _starts(office: Office, day: datetime.date) -> list[datetime.datetime]:
    return list(Slot.objects.filter(office=office, local_date=day).order_by("start").values_list("start", flat=True))


def test_the_autumn_night_has_slots_in_both_repeated_hours_each_exactly_five_minutes_long(office: Office) -> None:
    planned = plan_slots(office=office, first=AUTUMN, last=AUTUMN)
    starts = sorted(planned)
    # 01:00 CEST (23:00 UTC the day before) to 04:00 CET (03:00 UTC): four hours of the clock's three.
    assert starts == [utc("2026-10-24T23:00") + index * STEP for index in range(48)]
    assert all(slot.end - slot.start == STEP for slot in planned.values())
    assert all(slot.counters == 1 and slot.local_date == AUTUMN for slot in planned.values())
    shown = [_local(start) for start in starts]
    assert shown[:12] == [f"01:{minute:02} CEST" for minute in range(0, 60, 5)]
    assert shown[12:24] == [f"02:{minute:02} CEST" for minute in range(0, 60, 5)]
    assert shown[24:36] == [f"02:{minute:02} CET" for minute in range(0, 60, 5)]
    assert shown[36:] == [f"03:{minute:02} CET" for minute in range(0, 60, 5)]
    # What is stored is the plan: no 65-minute slot at 02:55 CEST, nothing left out.
    assert _starts(office, AUTUMN) == starts
    assert all(end - start == STEP for start, end in Slot.objects.filter(office=office).values_list("start", "end"))


def test_the_spring_night_has_no_slot_in_the_hour_that_does_not_exist(office: Office) -> None:
    planned = plan_slots(office=office, first=SPRING, last=SPRING)
    starts = sorted(planned)
    # 01:00 CET (00:00 UTC) to 04:00 CEST (02:00 UTC): two hours of the clock's three.
    assert starts == [utc("2027-03-28T00:00") + index * STEP for index in range(24)]
    assert all(slot.end - slot.start == STEP for slot in planned.values())
    shown = [_local(start) for start in starts]
    assert shown[:12] == [f"01:{minute:02} CET" for minute in range(0, 60, 5)]
    assert shown[12:] == [f"03:{minute:02} CEST" for minute in range(0, 60, 5)]
    assert _starts(office, SPRING) == starts


def test_the_day_page_lists_the_repeated_hour_twice_with_its_zone(client: Client, office: Office) -> None:
    html = client.get("/book/at/nacht/", {"services": "abholung", "date": AUTUMN.isoformat()}).content.decode()
    assert html.count('name="start"') == 48 + 1  # and the earliest free time, first
    assert 'value="2026-10-25T02:30+02:00">02:30 (MESZ)<' in html
    assert 'value="2026-10-25T02:30+01:00">02:30 (MEZ)<' in html
    # Outside the repeated hour the times are as on any other day.
    assert 'value="2026-10-25T01:30">01:30<' in html and 'value="2026-10-25T03:30">03:30<' in html
    english = client.get("/en/book/at/nacht/", {"services": "abholung", "date": AUTUMN.isoformat()}).content.decode()
    assert ">02:30 (CEST)<" in english and ">02:30 (CET)<" in english


def test_the_spring_day_page_offers_no_time_that_does_not_exist(client: Client, office: Office) -> None:
    html = client.get("/book/at/nacht/", {"services": "abholung", "date": SPRING.isoformat()}).content.decode()
    assert html.count('name="start"') == 24 + 1  # and the earliest free time, first
    assert 'value="2027-03-28T01:55">01:55<' in html and 'value="2027-03-28T03:00">03:00<' in html
    assert "T02:" not in html


@pytest.mark.parametrize(
    ("value", "instant"), [("2026-10-25T02:30+02:00", FIRST_0230), ("2026-10-25T02:30+01:00", SECOND_0230)]
)
def test_booking_either_02_30_books_its_own_instant(
    client: Client, office: Office, value: str, instant: datetime.datetime
) -> None:
    response = client.post("/book/at/nacht/hold/", {"services": "abholung", "start": value})
    assert response.status_code == 302, response.content.decode()
    hold = Hold.objects.get(token=response["Location"].rstrip("/").split("/")[-1])
    assert (hold.start, hold.end) == (instant, instant + STEP)
    contact = {"name": "Erika Mustermann", "email": "erika@example.org", "phone": "", "language": "de"}
    assert client.post(f"/book/hold/{hold.token}/", contact).status_code == 302
    client.post(f"/book/hold/{hold.token}/check/")
    appointment = Appointment.objects.get()
    assert (appointment.start, appointment.end) == (instant, instant + STEP)
    assert Slot.objects.get(office=office, start=instant).booked_online == 1
    assert Slot.objects.filter(office=office, booked_online=1).count() == 1


@pytest.mark.parametrize(
    "value",
    [
        "2026-10-25T02:30+03:00",  # no offset Berlin ever has
        "2026-11-23T08:00+02:00",  # summer time in November
        "2027-03-28T02:30+01:00",  # a time the spring night skips
        "9999-12-31T23:55-01:00",  # beyond the last representable instant in Berlin
    ],
)
def test_a_start_with_an_offset_berlin_does_not_have_then_is_refused(value: str) -> None:
    form = StartForm({"start": value})
    assert not form.is_valid()
    assert form.errors["start"] == ["Bitte wählen Sie eine der angebotenen Zeiten."]


def test_a_start_without_offset_is_berlin_s_clock_as_before() -> None:
    form = StartForm({"start": "2026-11-23T08:00"})
    assert form.is_valid()
    assert form.cleaned_data["start"] == datetime.datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def _book(office: Office, start: datetime.datetime) -> Appointment:
    return appointment_book(
        office=office,
        start=start,
        needs=needs_from_param("abholung"),
        contact=Contact(name="Erika Mustermann", email="erika@example.org"),
        now=NOW,
    )


@pytest.mark.parametrize("start", [FIRST_0230, SECOND_0230, utc("2026-10-25T00:55"), utc("2026-10-25T01:55")])
def test_the_calendar_file_of_an_appointment_in_the_repeated_hour_gives_back_its_exact_utc_times(
    office: Office, start: datetime.datetime
) -> None:
    calendar = Calendar.from_ical(appointment_ics(_book(office, start)))
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == start and event.decoded("dtstart").utcoffset() == datetime.timedelta(0)
    assert event.decoded("dtend") == start + STEP and event.decoded("dtend").utcoffset() == datetime.timedelta(0)
    assert b"DTSTART:" + start.strftime("%Y%m%dT%H%M%SZ").encode() in calendar.to_ical()


def test_an_appointment_next_to_the_repeated_hour_keeps_berlin_s_zone_in_the_calendar_file(office: Office) -> None:
    start = utc("2026-10-25T02:00")  # 03:00 CET: Berlin's clock shows it once
    (event,) = Calendar.from_ical(appointment_ics(_book(office, start))).walk("VEVENT")
    assert str(event["dtstart"].params["TZID"]) == "Europe/Berlin"
    assert event.decoded("dtstart") == start


def test_the_e_mail_and_the_appointment_page_name_the_zone_of_a_time_in_the_repeated_hour(
    client: Client, office: Office
) -> None:
    first, second = _book(office, FIRST_0230), _book(office, SECOND_0230)
    messages_send_due(now=NOW)
    assert len(mail.outbox) == 2
    texts = sorted(f"{email.subject}\n{email.body}" for email in mail.outbox)
    assert sum("02:30 (MESZ)–02:35 (MESZ)" in text for text in texts) == 1
    assert sum("02:30 (MEZ)–02:35 (MEZ)" in text for text in texts) == 1
    assert all("um 02:30 (" in email.subject for email in mail.outbox)
    assert "02:30 (MESZ)" in client.get(f"/appointment/{first.manage_token}/").content.decode()
    assert "02:30 (MEZ)" in client.get(f"/appointment/{second.manage_token}/").content.decode()


def test_the_e_mail_of_an_ordinary_time_has_no_zone(office: Office) -> None:
    _book(office, utc("2026-10-24T23:30"))  # 01:30 CEST, before the clocks go back
    messages_send_due(now=NOW)
    (email,) = mail.outbox
    assert "01:30–01:35" in email.body and "MESZ" not in email.body and "MEZ" not in email.body


def test_the_clerk_s_move_page_and_day_list_tell_the_two_02_30_apart(client: Client, office: Office) -> None:
    clerk = clerk_at(office, username="nachtdienst")
    appointment = _book(office, utc("2026-10-24T23:00"))  # 01:00 CEST
    _book(office, SECOND_0230)
    client.force_login(clerk)
    html = client.get(f"/staff/appointments/{appointment.pk}/move/", {"date": AUTUMN.isoformat()}).content.decode()
    assert ">02:30 (MESZ)</label>" in html and ">02:30 (MEZ)</label>" not in html  # the CET one is booked
    assert f'value="{office.pk}-2026-10-25T02:30+0200"' in html
    response = client.post(
        f"/staff/appointments/{appointment.pk}/move/",
        {"date": AUTUMN.isoformat(), "choice": f"{office.pk}-2026-10-25T02:30+0200", "reason": "Wunsch"},
    )
    assert response.status_code == 302, response.content.decode()
    appointment.refresh_from_db()
    assert appointment.start == FIRST_0230
    day = client.get("/staff/desk/nacht/", {"date": AUTUMN.isoformat()}).content.decode()
    assert "02:30 (MESZ)" in day and "02:30 (MEZ)" in day


@pytest.mark.parametrize("fold", [0, 1])
def test_the_services_book_a_berlin_time_of_the_repeated_hour_for_its_elapsed_minutes(
    office: Office, fold: int
) -> None:
    """A start given on Berlin's clock (fold 1: the second 02:55) ends 5 real minutes later, not an hour early."""
    start = datetime.datetime(2026, 10, 25, 2, 55, tzinfo=BERLIN, fold=fold)
    appointment = appointment_book(
        office=office,
        start=start,
        needs=needs_from_param("abholung"),
        contact=Contact(name="Erika Mustermann", email="erika@example.org"),
        now=NOW,
    )
    assert appointment.start == start.astimezone(UTC)
    assert appointment.end - appointment.start == STEP
