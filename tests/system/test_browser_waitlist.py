"""The waitlist in a real browser (issue 18): from the times page to the waitlist, confirmed from the mail, and an
offered time booked with one click, by keyboard."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from booking.models import Appointment
from tests.support.factories import next_weekday, office_from_today
from waitlist.models import Registration
from waitlist.services import offers_sweep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def link(pattern: str) -> str:
    """The path of the newest e-mail's link matching ``pattern``."""
    for email in reversed(mail.outbox):
        found = re.search(rf"https?://[^/\s]+(\S*{pattern}\S*/)", email.body)
        if found:
            return found.group(1)
    raise AssertionError(f"no e-mail with a link to {pattern}")


def test_a_citizen_waits_and_books_an_offered_time_with_one_click(page) -> None:  # type: ignore[no-untyped-def]
    office_from_today()
    page.goto(f"/book/at/mitte/?services=personalausweis&date={next_weekday().isoformat()}")
    page.get_by_role("link", name="Keine passende Zeit? Wir schreiben Ihnen, wenn eine frei wird.").click()
    page.get_by_role("heading", name="Benachrichtigen, wenn ein Termin frei wird").wait_for()
    page.get_by_label("Vormittags (vor 12:00 Uhr)").check()
    page.get_by_label("Ihr Name").fill("Erika Mustermann")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_role("button", name="Auf die Warteliste setzen").click()
    page.get_by_text("Fast geschafft").wait_for()
    registration = Registration.objects.get()
    assert [office.slug for office in registration.offices.all()] == ["mitte"]  # ticked from its times page

    page.goto(link("/waitlist/confirm/"))
    button = page.get_by_role("button", name="Meine Anmeldung bestätigen")
    button.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Sie warten.").wait_for()

    assert offers_sweep(now=timezone.now()).offered == 1  # the beat task, a minute later
    page.goto(link("/waitlist/offer/"))
    book = page.get_by_role("button", name="Diesen Termin buchen")
    book.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Gebucht: Dieser Termin gehört Ihnen.").wait_for()
    appointment = Appointment.objects.get(email="erika@example.org")
    assert appointment.status == Appointment.Status.BOOKED
    assert timezone.localtime(appointment.start).hour < 12  # a morning, as asked
    registration.refresh_from_db()
    assert registration.status == Registration.Status.BOOKED
