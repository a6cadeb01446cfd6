"""A booking by keyboard alone (issue 19, point 5): from the home page to the confirmation with Tab, Enter, Space
and typing. No click and no address typed after the first page: every control is reached by Tab, found by its
accessible role and name (as a screen reader announces it), so the test survives changes of layout."""

import datetime
import re

import pytest
import time_machine

from booking.grid import BERLIN
from booking.models import Appointment
from tests.support.factories import bookable_office, offer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A Monday morning one week before the office's first bookable day; the live server sees the frozen clock.
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
FIRST = datetime.date(2026, 11, 23)
MOST_TABS = 150  # more than any page here has controls: a control never reached fails the test


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=True):
        office = bookable_office(first=FIRST, last=FIRST + datetime.timedelta(days=4), slug="mitte")
        offer(office, "personalausweis", 15, max_persons=4, name_de="Personalausweis", name_en="Identity card")
        yield office


def tab_to(page, target) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the focus is on one of ``target``'s elements (a Playwright locator by role and name)."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if target.evaluate_all("(elements) => elements.includes(document.activeElement)"):
            return
    focused = page.evaluate("document.activeElement && document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"Tab never reached {target} on {page.url}; the focus is on {focused}")


def test_a_citizen_books_from_the_home_page_to_the_confirmation_by_keyboard_alone(page, office) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")

    tab_to(page, page.get_by_role("link", name="Termin buchen", exact=True))
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/")

    tab_to(page, page.get_by_role("checkbox", name="Personalausweis"))
    page.keyboard.press("Space")
    assert page.get_by_role("checkbox", name="Personalausweis").is_checked()
    tab_to(page, page.get_by_role("button", name="Weiter: Standort wählen"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/where/**")

    tab_to(page, page.get_by_role("link", name="Frühesten Termin nehmen"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/book/at/mitte/.*date=2026-11-23"))

    # The first button that names a clock time (the earliest one comes first).
    tab_to(page, page.get_by_role("button", name=re.compile(r"\b8:00\b|\b08:00\b")))
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/hold/**")

    tab_to(page, page.get_by_role("textbox", name="Ihr Name"))
    page.keyboard.type("Erika Mustermann")
    tab_to(page, page.get_by_role("textbox", name="E-Mail-Adresse"))
    page.keyboard.type("erika@example.org")
    page.keyboard.press("Enter")  # the form's first button: on to the check
    page.wait_for_url("**/check/")
    assert "Erika Mustermann" in page.locator("main").inner_text()

    # Back one control and forth again: Shift+Tab works as well as Tab.
    booking_button = page.get_by_role("button", name="Diesen Termin buchen")
    tab_to(page, booking_button)
    page.keyboard.press("Shift+Tab")
    assert not booking_button.evaluate("(button) => button === document.activeElement")
    page.keyboard.press("Tab")
    assert booking_button.evaluate("(button) => button === document.activeElement")
    page.keyboard.press("Enter")

    page.get_by_role("heading", name="Ihr Termin ist gebucht").wait_for()
    appointment = Appointment.objects.get()
    assert (appointment.name, appointment.email) == ("Erika Mustermann", "erika@example.org")
    assert appointment.start == datetime.datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    main = page.locator("main").inner_text()
    assert appointment.booking_code[:4] in main
    assert "Montag, 23. November 2026" in main and "08:00" in main
