"""One rule says whether an appointment may still be cancelled or moved: the manage page, the desk and the
services ask the same function (booking.services.appointments.appointment_changes_allowed)."""

import datetime

import pytest
import time_machine
from django.test import Client

from booking.errors import BookingError
from booking.grid import BERLIN
from booking.models import Appointment
from booking.needs import needs_from_param
from booking.services.appointments import (
    Change,
    Contact,
    appointment_book,
    appointment_cancel,
    appointment_changes_allowed,
    appointment_move,
)
from desk.services import visit_check_in
from tests.support.factories import UserFactory, bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NINE = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
EARLY = datetime.datetime(2026, 11, 23, 8, 40, tzinfo=BERLIN)  # the morning of the appointment, before it


@pytest.fixture
def appointment() -> Appointment:
    with time_machine.travel(EARLY - datetime.timedelta(days=7), tick=False):
        office = bookable_office(counters=1, first=MONDAY, last=MONDAY, slug="mitte")
        offer(office, "personalausweis", 15)
        return appointment_book(
            office=office,
            start=NINE,
            needs=needs_from_param("personalausweis"),
            contact=Contact(name="Erika Mustermann", email="erika@example.org"),
            now=EARLY - datetime.timedelta(days=7),
        )


def test_before_its_start_an_appointment_can_be_cancelled_and_moved(appointment: Appointment) -> None:
    assert appointment_changes_allowed(appointment=appointment, now=EARLY) == {Change.CANCEL, Change.MOVE}


def test_once_it_has_begun_or_is_cancelled_nothing_is_allowed(appointment: Appointment) -> None:
    assert appointment_changes_allowed(appointment=appointment, now=NINE) == frozenset()
    cancelled = appointment_cancel(appointment=appointment, now=EARLY)
    assert appointment_changes_allowed(appointment=cancelled, now=EARLY) == frozenset()


def test_after_check_in_the_manage_page_offers_neither_move_nor_cancel_and_the_move_page_refuses(
    client: Client, appointment: Appointment
) -> None:
    with time_machine.travel(EARLY, tick=False):
        arrived = visit_check_in(appointment=appointment, by=UserFactory(), now=EARLY)
        assert appointment_changes_allowed(appointment=arrived, now=EARLY) == frozenset()
        page = client.get(f"/appointment/{appointment.manage_token}/").content.decode()
        assert f"/appointment/{appointment.manage_token}/move/" not in page
        assert f"/appointment/{appointment.manage_token}/cancel/" not in page
        response = client.get(f"/appointment/{appointment.manage_token}/move/")
        assert response.status_code == 302 and response["Location"] == f"/appointment/{appointment.manage_token}/"
        with pytest.raises(BookingError):
            appointment_move(appointment=arrived, start=NINE + datetime.timedelta(hours=1), now=EARLY)
        with pytest.raises(BookingError):
            appointment_cancel(appointment=arrived, now=EARLY)


def test_before_check_in_the_manage_page_offers_both(client: Client, appointment: Appointment) -> None:
    with time_machine.travel(EARLY, tick=False):
        page = client.get(f"/appointment/{appointment.manage_token}/").content.decode()
    assert f"/appointment/{appointment.manage_token}/move/" in page
    assert f"/appointment/{appointment.manage_token}/cancel/" in page


def test_the_api_tells_what_may_still_be_changed_by_the_same_rule(client: Client, appointment: Appointment) -> None:
    url = f"/api/v1/appointments/{appointment.manage_token}"
    with time_machine.travel(EARLY, tick=False):
        assert client.get(url).json()["changes_allowed"] == ["cancel", "move"]
        visit_check_in(appointment=appointment, by=UserFactory(), now=EARLY)
        assert client.get(url).json()["changes_allowed"] == []
        refused = client.delete(url)
    assert refused.status_code == 409
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED
