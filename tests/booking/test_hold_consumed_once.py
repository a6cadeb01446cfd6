"""A hold becomes at most one appointment: a repeated confirmation, Back or a reload leads to the one it became."""

import datetime
import json

import pytest
import time_machine
from django.db import IntegrityError
from django.test import Client

from booking.errors import HoldAlreadyBooked
from booking.grid import BERLIN
from booking.messages import Kind as MessageKind
from booking.models import Appointment, Hold, Slot
from booking.needs import needs_from_param
from booking.services.appointments import Contact, appointment_book, hold_place
from notifications.models import Message
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
NINE = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
CONTACT = {"name": "Erika Mustermann", "email": "erika@example.org", "phone": "", "language": "de"}


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(counters=2, first=MONDAY, last=MONDAY, slug="mitte")
    offer(office, "personalausweis", 15)
    return office


def confirmations() -> int:
    return Message.objects.filter(kind=MessageKind.CONFIRMATION).count()


def units_at_nine(office: Office) -> int:
    return Slot.objects.get(office=office, start=NINE).booked_online


def test_confirming_a_hold_twice_books_once_and_the_second_gets_the_first_appointment(office: Office) -> None:
    hold = hold_place(office=office, start=NINE, needs=needs_from_param("personalausweis"), now=NOW)
    contact = Contact(name="Erika Mustermann", email="erika@example.org")
    first = appointment_book(
        office=office,
        start=NINE,
        needs=needs_from_param("personalausweis"),
        contact=contact,
        now=NOW,
        hold_token=hold.token,
    )
    with pytest.raises(HoldAlreadyBooked) as repeated:
        appointment_book(
            office=office,
            start=NINE,
            needs=needs_from_param("personalausweis"),
            contact=contact,
            now=NOW,
            hold_token=hold.token,
        )
    assert repeated.value.appointment == first
    assert Appointment.objects.count() == 1 and first.hold_token == hold.token
    assert units_at_nine(office) == 1  # not a second unit, though one was free
    assert confirmations() == 1


def test_a_repeated_confirmation_is_answered_with_its_appointment_even_at_the_address_limit(
    office: Office, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_MAX_ACTIVE_PER_EMAIL = 1
    hold = hold_place(office=office, start=NINE, needs=needs_from_param("personalausweis"), now=NOW)
    contact = Contact(name="Erika Mustermann", email="erika@example.org")
    book = dict(office=office, start=NINE, needs=needs_from_param("personalausweis"), contact=contact, now=NOW)
    first = appointment_book(**book, hold_token=hold.token)
    with pytest.raises(HoldAlreadyBooked) as repeated:
        appointment_book(**book, hold_token=hold.token)
    assert repeated.value.appointment == first


def test_the_database_refuses_a_second_appointment_for_one_hold(office: Office) -> None:
    hold = hold_place(office=office, start=NINE, needs=needs_from_param("personalausweis"), now=NOW)
    first = appointment_book(
        office=office,
        start=NINE,
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Erika Mustermann", email="erika@example.org"),
        now=NOW,
        hold_token=hold.token,
    )
    second = Appointment(office=office, start=first.start, end=first.end, hold_token=hold.token)
    with pytest.raises(IntegrityError):
        second.save()


def test_the_api_answers_a_repeated_booking_of_one_hold_with_200_and_the_same_appointment(
    client: Client, office: Office
) -> None:
    response = client.post(
        "/api/v1/holds",
        json.dumps({"office": "mitte", "start": NINE.isoformat(), "services": [{"service": "personalausweis"}]}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    booking = {
        "office": "mitte",
        "start": NINE.isoformat(),
        "services": [{"service": "personalausweis", "persons": 1}],
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "hold": token,
    }
    first = client.post("/api/v1/appointments", json.dumps(booking), content_type="application/json")
    again = client.post("/api/v1/appointments", json.dumps(booking), content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["booking_code"] == first.json()["booking_code"]
    assert again.json()["manage_token"] == first.json()["manage_token"]
    assert Appointment.objects.count() == 1 and units_at_nine(office) == 1
    assert confirmations() == 1


def hold_via_web(client: Client) -> Hold:
    response = client.post("/book/at/mitte/hold/", {"services": "personalausweis", "start": "2026-11-23T09:00"})
    assert response.status_code == 302
    hold = Hold.objects.get()
    assert client.post(f"/book/hold/{hold.token}/", CONTACT).status_code == 302
    return hold


def test_the_check_page_sent_twice_books_once_and_both_lead_to_the_appointment(client: Client, office: Office) -> None:
    hold = hold_via_web(client)
    first = client.post(f"/book/hold/{hold.token}/check/")
    again = client.post(f"/book/hold/{hold.token}/check/")
    appointment = Appointment.objects.get()
    assert first["Location"] == again["Location"] == f"/appointment/{appointment.manage_token}/"
    assert units_at_nine(office) == 1 and confirmations() == 1


@pytest.mark.parametrize("step", ["", "check/"])
def test_back_or_a_reload_after_booking_leads_to_the_appointment_not_to_time_gone(
    client: Client, office: Office, step: str
) -> None:
    hold = hold_via_web(client)
    booked = client.post(f"/book/hold/{hold.token}/check/")
    response = client.get(f"/book/hold/{hold.token}/{step}")
    assert response.status_code == 302 and response["Location"] == booked["Location"]
    text = client.get(response["Location"]).content.decode()
    assert "Diese reservierte Zeit ist nicht mehr verfügbar" not in text
    code = Appointment.objects.get().booking_code
    assert f"{code[:4]}&#8239;{code[4:]}" in text


def test_a_hold_that_ran_out_without_a_booking_still_says_it_is_gone(client: Client, office: Office, frozen) -> None:  # type: ignore[no-untyped-def]
    hold = hold_via_web(client)
    frozen.shift(datetime.timedelta(hours=1))
    response = client.get(f"/book/hold/{hold.token}/check/")
    assert (
        response.status_code == 410 and "Diese reservierte Zeit ist nicht mehr verfügbar" in response.content.decode()
    )
