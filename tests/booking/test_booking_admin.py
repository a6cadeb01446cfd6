"""Administrators can look appointments up in the admin but change them only through the booking services."""

import datetime

import pytest
import time_machine
from django.test import Client

from booking.grid import BERLIN
from booking.needs import needs_from_param
from booking.services.appointments import Contact, appointment_book
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)


@time_machine.travel(NOW, tick=False)
def test_appointments_are_found_by_code_and_shown_with_their_services_read_only(admin_client: Client) -> None:
    office = bookable_office(first=MONDAY, last=MONDAY)
    offer(office, "personalausweis", 15, max_persons=3, name_de="Personalausweis")
    appointment = appointment_book(
        office=office,
        start=datetime.datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN),
        needs=needs_from_param("personalausweis:3"),
        contact=Contact(name="Erika Mustermann", email="erika@example.org"),
        now=NOW,
    )
    listing = admin_client.get("/admin/booking/appointment/", {"q": appointment.booking_code}).content.decode()
    assert appointment.booking_code in listing and "1 Termin" in listing
    detail = admin_client.get(f"/admin/booking/appointment/{appointment.pk}/change/").content.decode()
    assert "Erika Mustermann" in detail and "Personalausweis" in detail and ">3<" in detail
    assert 'name="_save"' not in detail
    assert admin_client.post(f"/admin/booking/appointment/{appointment.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/booking/appointment/add/").status_code == 403
