"""Steps 1 and 3 of the booking on a phone (390×844) and by keyboard: the demo city's 24 services on a page
of little more than one screen, a summary bar that follows the choice, a filter, and a day's times by part."""

import datetime
import os
import re

import pytest
import time_machine

from booking.grid import BERLIN
from demo.seed import seed_services
from tests.support.factories import OfficeServiceFactory, bookable_office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("SCREENSHOTS_DIR")  # set it to look at the pages


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=True):
        office = bookable_office(first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte", counters=2)
        for service in seed_services().values():
            OfficeServiceFactory(office=office, service=service, duration_minutes=service.default_duration_minutes)
        yield office


@pytest.fixture
def phone(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, locale="en-GB")
    yield context.new_page()
    context.close()


def shot(tab, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        tab.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def in_view(tab, selector: str) -> bool:  # type: ignore[no-untyped-def]
    return tab.evaluate(
        """(selector) => { const r = document.querySelector(selector).getBoundingClientRect();
             return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""",
        selector,
    )


def test_the_needs_page_fits_a_phone_and_its_summary_follows_the_choice(phone, office) -> None:  # type: ignore[no-untyped-def]
    phone.goto("/en/book/")
    shot(phone, "needs-phone")
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height < 1.5 * PHONE["height"], f"the page is {height} px tall"
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.locator("[data-need]:visible").count() == 6  # the common ones; the other 18 are folded away
    assert phone.get_by_text("More services").is_visible()
    # With JavaScript, no persons control until a service is ticked.
    assert phone.locator(".need-persons:visible").count() == 0

    phone.get_by_label("Apply for an identity card", exact=True).check()
    persons = phone.get_by_label("Apply for an identity card: Persons", exact=True)
    assert persons.is_visible()
    persons.select_option("3")
    estimate = phone.locator("[data-summary-estimate]")
    assert "about 45 minutes" in estimate.inner_text()
    assert in_view(phone, "[data-summary-estimate]") and in_view(phone, "#needs-continue")
    shot(phone, "needs-phone-ticked")
    phone.locator(".needs-bring-short summary").click()
    assert phone.locator(".needs-bring-short").get_by_text("Your current identity card or passport").is_visible()

    phone.locator("#needs-continue").click()
    phone.wait_for_url(re.compile(r".*/en/book/where/\?services=personalausweis%3A3$"))


def test_the_filter_narrows_the_list_and_opens_the_other_services(phone, office) -> None:  # type: ignore[no-untyped-def]
    phone.goto("/en/book/")
    search = phone.get_by_label("Find a service")
    search.fill("settlement")
    status = phone.locator("#needs-filter-status")
    status.get_by_text("Services found: 1").wait_for()
    assert phone.locator("[data-need]:visible").count() == 1
    assert phone.locator("[data-need]:visible").inner_text().strip() == "Apply for a settlement permit"
    phone.get_by_label("Apply for a settlement permit", exact=True).check()
    search.fill("raumschiff")
    status.get_by_text("No service matches").wait_for()
    assert phone.get_by_label("Apply for a settlement permit", exact=True).is_visible()  # what is ticked stays in sight
    search.fill("")
    phone.locator("#needs-filter-status:empty").wait_for(state="attached")
    # The whole list again, the other services left open: the ticked one is among them.
    assert phone.locator("[data-need]:visible").count() == 24
    assert phone.locator("[data-needs-more]").get_attribute("open") == ""
    assert phone.get_by_label("Apply for a settlement permit", exact=True).is_checked()


def test_without_javascript_every_persons_control_shows_and_the_server_adds_up(browser, live_server, office) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, locale="en-GB", java_script_enabled=False
    )
    tab = context.new_page()
    tab.goto("/en/book/")
    shot(tab, "needs-phone-nojs-start")
    assert tab.locator("#needs-filter").is_hidden()
    assert tab.get_by_label("Apply for an identity card: Persons, if chosen", exact=True).is_visible()
    assert tab.evaluate("document.documentElement.scrollHeight") < 1.5 * PHONE["height"]
    tab.get_by_label("Apply for an identity card", exact=True).check()
    tab.get_by_label("Apply for an identity card: Persons, if chosen", exact=True).select_option("2")
    tab.get_by_role("button", name="Show time and what to bring").click()
    assert "about 30 minutes" in tab.locator("[data-summary-estimate]").inner_text()
    shot(tab, "needs-phone-nojs")
    tab.get_by_role("button", name="Continue: choose an office").click()
    tab.wait_for_url(re.compile(r".*/en/book/where/\?services=personalausweis%3A2$"))
    context.close()


def test_the_needs_can_be_chosen_by_keyboard_alone(page, office) -> None:  # type: ignore[no-untyped-def]
    page.goto("/en/book/")
    page.get_by_label("Apply for an identity card", exact=True).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "persons-personalausweis"
    page.keyboard.press("ArrowDown")  # a closed select takes the next option from the keyboard
    assert page.evaluate("document.activeElement.value") == "2"
    page.locator("#needs-continue").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/en/book/where/\?services=personalausweis%3A2$"))


def test_a_day_shows_its_earliest_time_first_and_the_rest_by_part_of_the_day(phone, office) -> None:  # type: ignore[no-untyped-def]
    phone.goto("/en/book/at/mitte/?services=personalausweis&date=2026-11-23")
    shot(phone, "times-phone")
    earliest = phone.locator("#times-earliest button")
    assert re.fullmatch(r"Earliest free time this day\s+08:00", earliest.inner_text())
    parts = phone.locator("[data-times-part]")
    assert parts.count() == 3
    assert [parts.nth(n).locator("summary .fw-semibold").inner_text() for n in range(3)] == [
        "Morning",
        "Midday",
        "Afternoon",
    ]
    assert phone.locator(".time-button:visible").count() <= 40  # only the morning is open
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # By keyboard: open the afternoon and take its first time.
    afternoon = parts.nth(2).locator("summary")
    afternoon.focus()
    phone.keyboard.press("Enter")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.textContent") == "14:00"
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/book/hold/**")


def test_tabbing_through_the_list_on_a_phone_never_hides_the_focus_under_the_bar(phone, office) -> None:  # type: ignore[no-untyped-def]
    phone.goto("/en/book/")
    phone.get_by_label("Find a service").focus()
    bar_top = phone.evaluate("document.querySelector('.needs-aside-inner').getBoundingClientRect().top")
    for _step in range(7):  # the six common services and the "More services" toggle
        phone.keyboard.press("Tab")
        bottom = phone.evaluate("document.activeElement.getBoundingClientRect().bottom")
        bar_top = phone.evaluate("document.querySelector('.needs-aside-inner').getBoundingClientRect().top")
        assert bottom <= bar_top, phone.evaluate("document.activeElement.outerHTML")
    assert phone.evaluate("document.activeElement.textContent").startswith("More services")
