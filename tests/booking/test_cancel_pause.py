"""Against trading: a cancelled time returns to the open calendar only after a pause; the name stays as booked."""

import datetime
import json

import pytest
import time_machine
from django.test import Client, override_settings

from booking.grid import BERLIN
from booking.integrity import integrity_check
from booking.models import Appointment, Hold, Slot
from booking.needs import needs_from_param
from booking.services.appointments import CancelledBy, Contact, appointment_book, appointment_cancel
from offices.models import Office
from tests.support.factories import UserFactory, bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller, override_settings(BOOKING_CANCEL_PAUSE_MINUTES=30):
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(counters=1, first=MONDAY, last=MONDAY, slug="mitte")
    offer(office, "personalausweis", 15)
    return office


def nine() -> datetime.datetime:
    return datetime.datetime.combine(MONDAY, datetime.time(9), tzinfo=BERLIN)


def booked(office: Office, email: str = "erika@example.org") -> Appointment:
    return appointment_book(
        office=office,
        start=nine(),
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Erika Mustermann", email=email),
        now=NOW,
    )


def monday_times(client: Client) -> list[str]:
    body = client.get(f"/api/v1/availability?services=personalausweis&office=mitte&date_from={MONDAY}").json()
    return next((day["times"] for day in body["days"] if day["date"] == MONDAY.isoformat()), [])


def test_a_citizen_s_cancelled_time_comes_back_only_after_the_pause(client, office, frozen):
    appointment = booked(office)
    assert client.delete(f"/api/v1/appointments/{appointment.manage_token}").status_code == 200
    assert "09:00" not in monday_times(client)  # nobody waiting for the seller's signal gets it
    pause = Hold.objects.get()
    assert (pause.start, pause.holder, pause.session) == (nine(), "freed", "")
    report = integrity_check(offices=[office], first=MONDAY)
    assert report.ok and (report.appointments, report.holds) == (0, 1)  # the hold keeps the appointment's units
    assert datetime.timedelta(minutes=30) <= pause.expires_at - NOW <= datetime.timedelta(minutes=40)  # at random
    frozen.shift(datetime.timedelta(minutes=29, seconds=59))
    assert "09:00" not in monday_times(client)
    frozen.move_to(pause.expires_at)
    assert "09:00" in monday_times(client)
    assert not Hold.objects.exists()
    assert Slot.objects.get(office=office, start=nine()).booked == 0


def test_the_cancelled_time_cannot_be_booked_directly_during_the_pause(client, office):
    appointment = booked(office)
    appointment_cancel(appointment=appointment, now=NOW)
    payload = {
        "office": "mitte",
        "start": nine().isoformat(),
        "services": [{"service": "personalausweis"}],
        "name": "Buyer",
        "email": "buyer@example.org",
    }
    response = client.post("/api/v1/appointments", json.dumps(payload), content_type="application/json")
    assert response.status_code == 409


def test_the_office_s_cancellation_frees_the_time_at_once(client, office):
    appointment = booked(office)
    appointment_cancel(appointment=appointment, now=NOW, by=CancelledBy.OFFICE, reason="Closed")
    assert not Hold.objects.exists()
    assert "09:00" in monday_times(client)


def test_a_cancellation_shortly_before_the_start_is_paused_until_the_start_at_most(office):
    appointment = booked(office)
    late = nine() - datetime.timedelta(minutes=10)
    with time_machine.travel(late, tick=False):
        appointment_cancel(appointment=appointment, now=late)
    assert Hold.objects.get().expires_at == nine()  # never beyond the start


def test_without_a_pause_the_time_is_free_at_once(client, office):
    appointment = booked(office)
    with override_settings(BOOKING_CANCEL_PAUSE_MINUTES=0):
        appointment_cancel(appointment=appointment, now=NOW)
    assert "09:00" in monday_times(client)


# The name stays as booked


def test_no_way_of_the_api_changes_the_name_after_booking(client, office):
    appointment = booked(office)
    address = f"/api/v1/appointments/{appointment.manage_token}"
    for method in ("put", "patch"):
        response = getattr(client, method)(address, json.dumps({"name": "Buyer"}), content_type="application/json")
        assert response.status_code == 405
    moved = {"start": (nine() + datetime.timedelta(hours=1)).isoformat(), "name": "Buyer", "email": "buyer@example.org"}
    assert client.post(f"{address}/move", json.dumps(moved), content_type="application/json").status_code == 200
    appointment.refresh_from_db()
    assert (appointment.name, appointment.email) == ("Erika Mustermann", "erika@example.org")


def test_the_manage_page_offers_no_way_to_change_the_name(client, office):
    appointment = booked(office)
    page = client.get(f"/en/appointment/{appointment.manage_token}/").content.decode()
    assert appointment.booking_code[4:] in page
    assert 'name="name"' not in page
    response = client.post(f"/en/appointment/{appointment.manage_token}/", {"name": "Buyer"})
    assert response.status_code == 405
    appointment.refresh_from_db()
    assert appointment.name == "Erika Mustermann"


# Moving away is no way round it


def move(client: Client, appointment: Appointment, hhmm: str) -> int:
    start = datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN).isoformat()
    address = f"/api/v1/appointments/{appointment.manage_token}/move"
    return client.post(address, json.dumps({"start": start}), content_type="application/json").status_code


def test_a_citizen_s_move_keeps_the_old_time_for_the_pause_too(client, office, frozen):
    appointment = booked(office)
    assert move(client, appointment, "11:00") == 200
    times = monday_times(client)
    assert "09:00" not in times and "11:00" not in times
    pause = Hold.objects.get()
    assert (pause.start, pause.end) == (nine(), nine() + datetime.timedelta(minutes=15))
    report = integrity_check(offices=[office], first=MONDAY)
    assert report.ok and (report.appointments, report.holds) == (1, 1)
    frozen.move_to(pause.expires_at)
    assert "09:00" in monday_times(client)


def test_a_move_by_a_few_minutes_pauses_only_what_it_leaves(client, office):
    appointment = booked(office)
    assert move(client, appointment, "09:05") == 200
    pause = Hold.objects.get()
    assert (pause.start, pause.end) == (nine(), nine() + datetime.timedelta(minutes=5))
    assert integrity_check(offices=[office], first=MONDAY).ok
    assert Slot.objects.get(office=office, start=nine()).booked == 1  # the pause's
    assert (
        Slot.objects.get(office=office, start=nine() + datetime.timedelta(minutes=5)).booked == 1
    )  # the appointment's


def test_the_office_s_move_gives_the_old_time_back_at_once(client, office):
    from desk.services import desk_move

    appointment = booked(office)
    later = datetime.datetime.combine(MONDAY, datetime.time(11), tzinfo=BERLIN)
    desk_move(appointment=appointment, start=later, by=UserFactory(), reason="Krank", now=NOW)
    assert not Hold.objects.exists()
    assert "09:00" in monday_times(client)
