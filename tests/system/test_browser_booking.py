"""Booking in a real browser with JavaScript on: the live summary, the calendar by keyboard, the hold timer."""

import datetime
import re

import pytest
import time_machine

from booking.grid import BERLIN
from booking.models import Appointment, Hold
from tests.support.factories import bookable_office, offer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=True):
        office = bookable_office(first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte")
        offer(
            office,
            "personalausweis",
            15,
            max_persons=4,
            name_de="Personalausweis",
            what_to_bring_de="Biometrisches Foto",
        )
        yield office


def test_a_citizen_books_with_the_keyboard_and_sees_the_time_left(page, office) -> None:  # type: ignore[no-untyped-def]
    page.goto("/book/")
    page.get_by_label("Personalausweis", exact=True).check()
    page.get_by_label("Personalausweis: Personen", exact=True).select_option("2")
    # The summary follows the choice in place: same address, new estimate.
    summary = page.locator("#needs-summary")
    summary.get_by_text("etwa 30 Minuten").wait_for()
    assert page.url.endswith("/book/")
    assert "Biometrisches Foto" in summary.inner_text()

    page.get_by_role("button", name="Weiter: Standort wählen").click()
    page.get_by_role("link", name="Frühesten Termin nehmen").click()
    page.wait_for_url(re.compile(r".*date=2026-11-23.*"))

    monday = page.get_by_role("link", name=re.compile(r"^Montag, 23\. November 2026"))
    monday.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Dienstag, 24. November 2026")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Montag, 23. November 2026")

    page.get_by_role("button", name="08:00", exact=True).click()
    page.wait_for_url("**/book/hold/**")
    remaining = page.locator("[data-hold-remaining]")
    assert re.fullmatch(r"Noch (10:00|9:\d\d) Minuten reserviert\.", remaining.inner_text())

    page.get_by_label("Ihr Name").fill("Erika Mustermann")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_role("button", name="Weiter: Angaben prüfen").click()
    page.get_by_role("button", name="Diesen Termin buchen").click()
    page.get_by_role("heading", name="Ihr Termin ist gebucht").wait_for()
    appointment = Appointment.objects.get()
    assert appointment.booking_code[:4] in page.content()


def test_the_page_warns_before_the_hold_runs_out_and_extends_it_in_place(page, office) -> None:  # type: ignore[no-untyped-def]
    page.goto("/book/at/mitte/?services=personalausweis&date=2026-11-23")
    page.get_by_role("button", name="09:00").click()
    page.wait_for_url("**/book/hold/**")
    hold = Hold.objects.get()
    Hold.objects.filter(pk=hold.pk).update(
        expires_at=datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=90)
    )
    page.reload()
    alert = page.get_by_role("alert")
    alert.get_by_text("läuft in 2 Minuten ab").wait_for()
    page.get_by_role("button", name="Ich brauche mehr Zeit").click()
    page.locator("[data-hold-remaining]").get_by_text(re.compile(r"Noch (10:00|9:\d\d) Minuten")).wait_for()
    assert page.url.endswith(f"/book/hold/{hold.token}/")
    hold.refresh_from_db()
    assert hold.extensions == 1


def test_the_time_picker_fits_a_phone(browser, live_server, office) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740}, is_mobile=True)
    tab = context.new_page()
    tab.goto("/book/at/mitte/?services=personalausweis&date=2026-11-23")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
