"""A clerk's morning in a real browser (Playwright driving the machine's Chromium), and a clerk of another office
who cannot open any of it."""

import re

import pytest
import time_machine

from booking.models import Appointment
from notifications import sms
from tests.support.desk_steps import at, desk_world
from tests.support.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(tab, username: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto("/en/staff/login/")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(TEST_PASSWORD)
    tab.get_by_role("button", name="Sign in").click()


def row(tab, name: str):  # type: ignore[no-untyped-def]
    return tab.locator("#day-table tbody tr").filter(has=tab.get_by_role("link", name=name, exact=True))


def test_a_clerk_s_morning(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    sms.outbox.clear()
    # tick=True: the clock runs on from 08:55, for the server thread and the test alike.
    with time_machine.travel(at("08:55"), tick=True):
        world = desk_world()
        anna = world.book("09:00", name="Anna Albers", interpreter_language="Arabisch")
        bernd = world.book("08:00", name="Bernd Berg")
        world.book("10:00", name="Carla Clausen", day=at("10:00").date())
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        tab = context.new_page()
        failed: list[str] = []
        tab.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)

        # Sign in: a clerk of one office lands on its day.
        sign_in(tab, "clerk-a")
        tab.wait_for_url(re.compile(r"/en/staff/desk/mitte/"))
        for name in ("Bernd Berg", "Anna Albers", "Carla Clausen"):
            row(tab, name).wait_for()
        names = tab.locator("#day-table tbody tr th + td + td a").all_inner_texts()
        assert names == ["Bernd Berg", "Anna Albers", "Carla Clausen"]  # in time order
        assert "Interpreter: Arabisch" in row(tab, "Anna Albers").inner_text()

        # The counter for this morning.
        tab.get_by_label("Your counter").fill("4")
        tab.get_by_role("button", name="Save counter").click()
        row(tab, "Anna Albers").wait_for()

        # Anna arrives, is called to counter 4, served, done.
        for button, status in (
            ("Check in", "Arrived"),
            ("Call", "Called"),
            ("Start", "In service"),
            ("Finish", "Done"),
        ):
            row(tab, "Anna Albers").get_by_role("button", name=re.compile(f"^{button}")).click()
            row(tab, "Anna Albers").get_by_text(status, exact=True).wait_for()
        anna.refresh_from_db()
        assert (anna.visit, anna.counter) == (Appointment.Visit.DONE, 4)

        # Bernd's 08:00 never came: past the grace period, a no-show.
        row(tab, "Bernd Berg").get_by_role("button", name=re.compile("^No-show")).click()
        row(tab, "Bernd Berg").get_by_text("No-show", exact=True).wait_for()
        bernd.refresh_from_db()
        assert bernd.visit == Appointment.Visit.NO_SHOW

        # A caller without internet: services and persons, a time, a name and a mobile number.
        tab.get_by_role("link", name="Book for a caller").click()
        tab.get_by_label("Identity card").select_option("1")
        tab.get_by_role("button", name="Continue: choose a time").click()
        tab.locator("button.time-button").first.click()
        tab.get_by_label("Name of the citizen").fill("Karl Anrufer")
        tab.get_by_label("Phone number").fill("0151 23456789")
        tab.get_by_role("button", name="Book and show the booking code").click()
        tab.get_by_role("heading", name=re.compile("Your appointment")).wait_for()
        booked = Appointment.objects.get(name="Karl Anrufer")
        assert booked.channel == Appointment.Channel.PHONE and booked.office == world.office_a
        assert " ".join(booked.booking_code) in tab.locator(".slip-code").get_attribute("aria-label")
        assert [message.to for message in sms.outbox] == ["+4915123456789"]
        assert [address for address in failed if not address.endswith("/favicon.ico")] == []
        context.close()


def test_a_clerk_of_another_office_cannot_open_any_of_it(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:55"), tick=True):
        world = desk_world()
        anna = world.book("09:00", name="Anna Albers")
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        tab = context.new_page()
        sign_in(tab, "clerk-b")
        tab.wait_for_url(re.compile(r"/en/staff/desk/nord/"))
        assert tab.get_by_role("link", name="Anna Albers").count() == 0
        for address in (
            "/en/staff/desk/mitte/",
            "/en/staff/desk/mitte/print/",
            "/en/staff/desk/mitte/day.csv",
            "/en/staff/desk/mitte/book/",
            "/en/staff/desk/mitte/book/time/?services=personalausweis",
            "/en/staff/desk/mitte/rebook/",
            "/en/staff/desk/mitte/absences/",
            "/en/staff/desk/mitte/blocks/",
            "/en/staff/desk/mitte/audit/",
            f"/en/staff/appointments/{anna.pk}/",
            f"/en/staff/appointments/{anna.pk}/move/",
            f"/en/staff/appointments/{anna.pk}/slip/",
            "/api/v1/staff/offices/mitte/day",
        ):
            response = tab.goto(address)
            assert response.status == 404, address
            assert "Anna Albers" not in tab.content()
        # A button pressed anyway (a forged form) changes nothing either.
        status = tab.evaluate(
            """async (address) => {
                const token = document.cookie.split('; ').find(c => c.startsWith('csrftoken='));
                const body = new URLSearchParams({csrfmiddlewaretoken: token ? token.split('=')[1] : ''});
                return (await fetch(address, {method: 'POST', body})).status;
            }""",
            f"/en/staff/appointments/{anna.pk}/act/check_in/",
        )
        assert status in (403, 404)
        anna.refresh_from_db()
        assert anna.visit == Appointment.Visit.EXPECTED
        context.close()
