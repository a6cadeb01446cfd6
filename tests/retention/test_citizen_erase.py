"""A citizen erases their appointment's personal data from the manage page once it is over (issue 20, point 5):
not before the end; after it the page (the same link) shows only what remains."""

import datetime

import pytest
import time_machine
from django.test import Client

from booking.models import Appointment
from booking.services.appointments import appointment_cancel
from tests.support.messages import MONDAY, NOW, at, book, leipzig_office

pytestmark = pytest.mark.django_db

AFTER = at(MONDAY, "12:00")  # the 09:00 appointment is over


def booked() -> Appointment:
    with time_machine.travel(NOW, tick=False):
        return book(leipzig_office(), at(MONDAY, "09:00"), phone="+49 341 1234567", interpreter_language="Arabisch")


def test_before_its_end_the_page_offers_no_erasing_and_a_post_is_refused(client: Client) -> None:
    appointment = booked()
    with time_machine.travel(at(MONDAY, "08:00"), tick=False):
        page = client.get(f"/en/appointment/{appointment.manage_token}/").content.decode()
        assert 'id="erase-link"' not in page and "Erase my personal data" not in page
        confirm = client.get(f"/en/appointment/{appointment.manage_token}/erase/").content.decode()
        assert 'id="erase-confirm"' not in confirm
        response = client.post(f"/en/appointment/{appointment.manage_token}/erase/", follow=True)
    assert "Your personal data can be erased once the appointment is over." in response.content.decode()
    stored = Appointment.objects.get(pk=appointment.pk)
    assert (stored.name, stored.email, stored.personal_data_erased_at) == (
        "Erika Mustermann",
        "erika@example.org",
        None,
    )


def test_once_over_the_page_asks_to_confirm_and_then_shows_only_what_remains(client: Client) -> None:
    appointment = booked()
    manage = f"/en/appointment/{appointment.manage_token}/"
    with time_machine.travel(AFTER, tick=False):
        page = client.get(manage).content.decode()
        assert f'href="/en/appointment/{appointment.manage_token}/erase/" id="erase-link"' in page
        assert "Interpreter for Arabisch" in page and 'id="erased-note"' not in page
        confirm = client.get(f"{manage}erase/").content.decode()
        assert 'id="erase-confirm"' in confirm and "Yes, erase my personal data" in confirm
        assert Appointment.objects.get(pk=appointment.pk).name == "Erika Mustermann"  # asking changed nothing
        response = client.post(f"{manage}erase/")
        assert response.status_code == 302 and response["Location"] == manage
        page = client.get(manage).content.decode()
    assert 'id="erased-note"' in page and "Your personal data for this appointment was erased on" in page
    assert "Interpreter for Arabisch" not in page and 'id="erase-link"' not in page
    assert "Citizen Office Centre" in page and appointment.booking_code[:4] in page
    stored = Appointment.objects.get(pk=appointment.pk)
    assert (stored.name, stored.email, stored.phone, stored.interpreter_language) == ("", "", "", "")
    assert stored.personal_data_erased_at == AFTER
    assert stored.manage_token == appointment.manage_token  # the link still shows the erased state
    assert (stored.status, stored.start, stored.lines.get().persons) == ("booked", appointment.start, 2)


def test_a_cancelled_appointment_can_be_erased_before_its_time(client: Client) -> None:
    appointment = booked()
    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        appointment_cancel(appointment=appointment, now=NOW)
        page = client.get(f"/en/appointment/{appointment.manage_token}/").content.decode()
        assert 'id="erase-link"' in page
        client.post(f"/en/appointment/{appointment.manage_token}/erase/")
    assert Appointment.objects.get(pk=appointment.pk).email == ""


def test_erasing_twice_keeps_the_first_date(client: Client) -> None:
    appointment = booked()
    with time_machine.travel(AFTER, tick=False):
        client.post(f"/en/appointment/{appointment.manage_token}/erase/")
    with time_machine.travel(AFTER + datetime.timedelta(days=1), tick=False):
        client.post(f"/en/appointment/{appointment.manage_token}/erase/")
    assert Appointment.objects.get(pk=appointment.pk).personal_data_erased_at == AFTER
