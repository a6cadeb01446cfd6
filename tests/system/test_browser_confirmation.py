"""E-mail confirmation in a real browser: booked, told that one step is left, confirmed from the link in the
mail by keyboard alone (issue 17, point 5)."""

import re

import pytest
from django.core import mail

from booking.models import Appointment
from tests.support.factories import next_weekday, office_from_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_citizen_books_then_confirms_from_the_mail_by_keyboard(page) -> None:  # type: ignore[no-untyped-def]
    office = office_from_today()
    office.confirm_email = True
    office.save()
    page.goto(f"/book/at/mitte/?services=personalausweis&date={next_weekday().isoformat()}")
    page.get_by_role("button", name="09:00").click()
    page.wait_for_url("**/book/hold/**")
    page.get_by_label("Ihr Name").fill("Erika Mustermann")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_label("E-Mail-Adresse").press("Enter")
    page.wait_for_url("**/check/")
    assert page.get_by_text("innerhalb von 60 Minuten").is_visible()  # said before booking
    page.get_by_role("button", name="Diesen Termin buchen").click()
    page.get_by_role("heading", name="Fast geschafft: Ihre Zeit ist für Sie reserviert").wait_for()
    assert page.get_by_role("heading", name="Ein Schritt fehlt noch: Bestätigen Sie Ihre E-Mail-Adresse").is_visible()
    appointment = Appointment.objects.get()
    assert appointment.awaiting_confirmation

    (email,) = [message for message in mail.outbox if message.to == ["erika@example.org"]]
    link = re.search(r"https?://\S+/book/confirm/\S+/", email.body).group(0)
    page.goto(link[link.index("/book/") :])
    button = page.get_by_role("button", name="Meinen Termin bestätigen")
    button.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Ihr Termin ist bestätigt. Er gehört Ihnen.").wait_for()
    appointment.refresh_from_db()
    assert appointment.confirmed_at is not None and not appointment.awaiting_confirmation
    assert not page.get_by_text("Ein Schritt fehlt noch").is_visible()
