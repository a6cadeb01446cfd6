"""The hold in a real browser (issue 19, point 1): "I need more time" keeps the focus on its button and says the
new end in a live region without reloading the page; after the time ran out, "Hold this time again" takes the
same time again with the name typed still there."""

import datetime
import re

import pytest
import time_machine

from booking.grid import BERLIN
from booking.models import Hold
from tests.support.factories import bookable_office, offer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=True):
        office = bookable_office(first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte")
        offer(office, "personalausweis", 15, name_en="Identity card")
        yield office


def test_more_time_keeps_the_focus_and_says_the_new_end(page, office) -> None:  # type: ignore[no-untyped-def]
    page.goto("/en/book/at/mitte/?services=personalausweis&date=2026-11-23")
    page.get_by_role("button", name="09:00").click()
    page.wait_for_url("**/book/hold/**")
    page.get_by_label("Your name").fill("Erika Mustermann")
    hold = Hold.objects.get()
    Hold.objects.filter(pk=hold.pk).update(
        expires_at=datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=3)
    )
    page.evaluate("window.notReloaded = true")

    button = page.get_by_role("button", name="I need more time")
    button.focus()
    page.keyboard.press("Enter")
    news = page.get_by_role("status").filter(has_text="Your time is held until")
    news.wait_for()
    hold.refresh_from_db()
    assert hold.extensions == 1
    until = hold.expires_at.astimezone(BERLIN).strftime("%H:%M")
    assert news.inner_text() == f"Your time is held until {until}."
    assert news.get_attribute("aria-live") == "polite"
    assert page.evaluate("document.activeElement.id") == "hold-extend"  # the focus stayed on the button
    assert page.evaluate("window.notReloaded") is True  # no new page: what was typed is still in its field
    assert page.get_by_label("Your name").input_value() == "Erika Mustermann"
    assert page.locator("#hold-heading").inner_text() == f"We keep this time for you until {until}."
    assert re.fullmatch(r"(10:00|9:\d\d) minutes left\.", page.locator("[data-hold-remaining]").inner_text())


def test_after_the_time_ran_out_it_is_held_again_with_the_name_typed(page, office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_HOLD_COOLDOWN_MINUTES = 0  # the cool-down after a time given back has tests of its own
    page.goto("/en/book/at/mitte/?services=personalausweis&date=2026-11-23")
    page.get_by_role("button", name="09:00").click()
    page.wait_for_url("**/book/hold/**")
    first = Hold.objects.get()
    page.get_by_label("Your name").fill("Erika Mustermann")
    Hold.objects.filter(pk=first.pk).update(
        expires_at=datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(seconds=1)
    )

    page.get_by_role("button", name="Continue: check your answers").click()  # sent after the time ran out
    page.get_by_role("heading", name="This reserved time is no longer available").wait_for()
    assert "Monday, 23 November 2026, 09:00–09:15" in page.locator("#held-before").inner_text()
    page.get_by_role("button", name="Hold this time again").click()

    page.get_by_role("heading", name="Your details").wait_for()
    again = Hold.objects.get()
    assert again.token != first.token and again.start == first.start
    assert page.url.endswith(f"/en/book/hold/{again.token}/")
    assert page.get_by_label("Your name").input_value() == "Erika Mustermann"
    page.get_by_label("E-mail address").fill("erika@example.org")
    page.get_by_role("button", name="Continue: check your answers").click()
    page.get_by_role("heading", name="Check your answers").wait_for()
    assert "Erika Mustermann" in page.content()
