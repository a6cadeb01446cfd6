"""The staff layout in a real browser (issue 19, point 2): the manager's tabs on one line at 1280 pixels in both
languages, wrapping without sideways scrolling on a phone, no citizen navigation or footer, the office switcher
(by mouse, by keyboard and without JavaScript) and the visit's steps on the appointment's page."""

import re

import pytest
import time_machine

from booking.models import Appointment
from offices.models import Membership
from tests.support.desk_steps import at, desk_world
from tests.support.factories import TEST_PASSWORD, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    # tick=True: the clock runs on from 08:55, for the server thread and the test alike.
    with time_machine.travel(at("08:55"), tick=True):
        yield desk_world()


def signed_in_tab(browser, live_server, username: str, *, viewport=DESKTOP, javascript: bool = True):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport=viewport, java_script_enabled=javascript
    )
    tab = context.new_page()
    tab.goto("/en/staff/login/")
    tab.locator("#id_username").fill(username)
    tab.locator("#id_password").fill(TEST_PASSWORD)
    tab.locator("main button[type=submit]").click()
    tab.wait_for_url(re.compile(r"/staff/(desk/[\w-]+/)?$"))
    return context, tab


def tab_tops(tab) -> list[float]:  # type: ignore[no-untyped-def]
    return tab.evaluate(
        "[...document.querySelectorAll('.staff-tabs > li')].map(item => item.getBoundingClientRect().top)"
    )


def no_citizen_layout(tab) -> None:  # type: ignore[no-untyped-def]
    text = tab.locator("body").inner_text()
    assert "115" not in text
    for words in ("Waiting times", "Wartezeiten", "No internet at home", "Kein Internet"):
        assert words not in text
    assert tab.locator("footer").count() == 0
    assert tab.get_by_role("link", name=re.compile("Bürgerservice – (Desk|Sachbearbeitung)")).count() == 1


@pytest.mark.parametrize("language", ["", "/en"])
def test_a_manager_s_tabs_fit_one_line_at_1280_pixels(browser, live_server, world, language: str) -> None:  # type: ignore[no-untyped-def]
    context, tab = signed_in_tab(browser, live_server, "manager-a")
    for page in ("", "absences/", "blocks/", "audit/"):
        tab.goto(f"{language}/staff/desk/mitte/{page}")
        tops = tab_tops(tab)
        assert len(tops) == 7, page  # six tabs and "More"
        assert len(set(tops)) == 1, (page, tops)
        assert tab.evaluate("document.documentElement.scrollWidth") <= 1280
        no_citizen_layout(tab)
    # The page behind "More" names itself on it; the current one is marked for assistive technology.
    tab.goto(f"{language}/staff/capacity/mitte/")
    assert len(set(tab_tops(tab))) == 1
    current = tab.locator('.staff-tabs [aria-current="page"]')
    assert current.count() == 1
    assert current.text_content() in ("Capacity", "Kapazität")
    # "More: " is there for screen readers only
    assert re.fullmatch(r"\w+:\s+(Capacity|Kapazität)", tab.locator(".staff-more summary").inner_text().strip())
    assert tab.locator(".staff-more summary .visually-hidden").bounding_box()["width"] <= 1
    context.close()


def test_more_opens_by_keyboard_and_leads_to_a_manager_s_page(browser, live_server, world) -> None:  # type: ignore[no-untyped-def]
    MembershipFactory(user=world.manager_a, office=world.office_b, role=Membership.Role.CLERK)
    context, tab = signed_in_tab(browser, live_server, "manager-a")
    tab.goto("/en/staff/desk/mitte/")
    more = tab.locator(".staff-more summary")
    assert tab.get_by_role("link", name="Audit log").is_visible() is False
    more.focus()
    tab.keyboard.press("Enter")
    audit = tab.get_by_role("link", name="Audit log")
    assert audit.is_visible()
    # Enter again closes it; opening the office switcher closes it too (one dropdown open at a time).
    tab.keyboard.press("Enter")
    assert audit.is_visible() is False
    tab.keyboard.press("Enter")
    assert audit.is_visible()
    tab.locator(".staff-office-switch summary").click()
    assert tab.get_by_role("link", name="Citizen office Nord").is_visible()
    assert audit.is_visible() is False
    more.focus()
    tab.keyboard.press("Enter")
    assert tab.get_by_role("link", name="Citizen office Nord").is_visible() is False
    tab.keyboard.press("Tab")
    tab.keyboard.press("Tab")
    tab.keyboard.press("Tab")
    tab.keyboard.press("Enter")  # the third link: Audit log
    tab.wait_for_url(re.compile(r"/en/staff/desk/mitte/audit/$"))
    assert tab.locator("h1").first.inner_text().startswith("Audit log")
    context.close()


def test_on_a_phone_the_tabs_wrap_without_sideways_scrolling(browser, live_server, world) -> None:  # type: ignore[no-untyped-def]
    context, tab = signed_in_tab(browser, live_server, "manager-a", viewport=PHONE)
    for language in ("", "/en"):
        tab.goto(f"{language}/staff/desk/mitte/")
        tops = tab_tops(tab)
        assert len(set(tops)) > 1  # wrapped onto several lines
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        rights = tab.evaluate(
            "[...document.querySelectorAll('.staff-tabs > li')].map(item => item.getBoundingClientRect().right)"
        )
        assert max(rights) <= PHONE["width"]
        no_citizen_layout(tab)
    context.close()


def test_the_switcher_changes_the_office_and_keeps_the_page(browser, live_server, world) -> None:  # type: ignore[no-untyped-def]
    context, tab = signed_in_tab(browser, live_server, "administrator")
    tab.goto("/en/staff/desk/mitte/queue/")
    switcher = tab.locator(".staff-office-switch summary")
    assert switcher.inner_text().strip() == "Office: Citizen office Mitte"
    switcher.click()
    tab.get_by_role("link", name="Citizen office Nord").click()
    tab.wait_for_url(re.compile(r"/en/staff/desk/nord/queue/$"))
    assert tab.locator(".staff-office-switch summary").inner_text().strip() == "Office: Citizen office Nord"
    assert tab.locator('.staff-tabs [aria-current="page"]').inner_text() == "Queue"
    # By keyboard: the summary, Enter, the first office.
    tab.locator(".staff-office-switch summary").focus()
    tab.keyboard.press("Enter")
    tab.keyboard.press("Tab")
    tab.keyboard.press("Enter")
    tab.wait_for_url(re.compile(r"/en/staff/desk/mitte/queue/$"))
    no_citizen_layout(tab)
    context.close()


def test_the_switcher_works_without_javascript(browser, live_server, world) -> None:  # type: ignore[no-untyped-def]
    context, tab = signed_in_tab(browser, live_server, "administrator", javascript=False)
    tab.goto("/en/staff/desk/mitte/?date=2026-11-24")
    tab.locator(".staff-office-switch summary").click()
    tab.get_by_role("link", name="Citizen office Nord").click()
    tab.wait_for_url(re.compile(r"/en/staff/desk/nord/\?date=2026-11-24$"))
    assert "Tuesday, 24 November 2026" in tab.locator("h1").inner_text()
    context.close()


def test_the_appointment_s_page_checks_in_and_calls_and_stays_there(browser, live_server, world) -> None:  # type: ignore[no-untyped-def]
    anna = world.book("09:00", name="Anna Albers")
    context, tab = signed_in_tab(browser, live_server, "clerk-a")
    page_url = f"/en/staff/appointments/{anna.pk}/"
    tab.goto(page_url)
    tab.get_by_role("button", name=re.compile("^Check in")).click()
    tab.get_by_text(f"Anna Albers ({anna.booking_code}): Checked in.").wait_for()
    assert tab.url.endswith(page_url)
    tab.get_by_label("Your counter").fill("3")
    tab.get_by_role("button", name=re.compile("^Call")).click()
    tab.get_by_text(f"Anna Albers ({anna.booking_code}): Called to a counter.").wait_for()
    assert tab.url.endswith(page_url)
    assert tab.get_by_role("button", name=re.compile("^Call to counter 3")).count() == 1
    anna.refresh_from_db()
    assert (anna.visit, anna.counter) == (Appointment.Visit.CALLED, 3)
    no_citizen_layout(tab)
    context.close()
