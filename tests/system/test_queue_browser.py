"""The walk-in queue in a real browser (Playwright driving the machine's Chromium): a ticket drawn at the kiosk,
followed on the phone, called by a clerk, shown on the call display and on the phone."""

import re
import time

import pytest
import time_machine

from tests.support.desk_steps import TODAY
from tests.support.factories import TEST_PASSWORD
from tests.support.queue_steps import at, queue_world
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_failures(tab, failed: list[str]) -> None:  # type: ignore[no-untyped-def]
    def check(response) -> None:  # type: ignore[no-untyped-def]
        if response.status >= 400 and not response.url.endswith("favicon.ico"):
            failed.append(f"{response.status} {response.url}")

    tab.on("response", check)


def test_a_ticket_from_the_kiosk_is_called_and_shown_on_the_display_and_the_phone(
    browser, live_server, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.QUEUE_PHONE_REFRESH_SECONDS = 5
    # tick=True: the clock runs on from 09:00, for the server thread and the test alike.
    with time_machine.travel(at("09:00"), tick=True):
        qw = queue_world()
        failed: list[str] = []
        kiosk_context = browser.new_context(base_url=live_server.url, locale="en-GB")
        kiosk = kiosk_context.new_page()
        watch_failures(kiosk, failed)

        # At the kiosk: in English, choose the matter, get the number, the QR code and the short link.
        kiosk.goto(f"/en/kiosk/{qw.kiosk.key}/")
        kiosk.get_by_role("button", name="Identity card", exact=True).click()
        kiosk.wait_for_url(re.compile(r"/en/kiosk/.+/ticket/"))
        assert kiosk.locator(".kiosk-number").inner_text() == "W001"
        assert kiosk.locator(".kiosk-qr svg").count() == 1
        short_link = kiosk.locator(".kiosk-link").inner_text()
        ticket = Ticket.objects.get()
        assert (ticket.label, ticket.day, ticket.language, ticket.kiosk) == ("W001", TODAY, "en", qw.kiosk)

        # The phone opens the short link (grouped as printed): waiting, nobody ahead.
        phone_context = browser.new_context(
            base_url=live_server.url, locale="en-GB", viewport={"width": 390, "height": 800}
        )
        phone = phone_context.new_page()
        watch_failures(phone, failed)
        phone.goto(f"{live_server.url}/{short_link.split('/', 1)[1]}")
        phone.get_by_text("Nobody is ahead of you.").wait_for()
        assert phone.locator("[role=status]").count() >= 1
        assert phone.get_by_role("button", name="Pause updates").is_visible()

        # The waiting room's screen.
        display = browser.new_context(base_url=live_server.url, locale="en-GB").new_page()
        watch_failures(display, failed)
        display.goto("/en/offices/mitte/display/")
        display.get_by_text("No numbers have been called yet today.").wait_for()

        # The clerk at counter 3 calls the next one.
        clerk = browser.new_context(base_url=live_server.url, locale="en-GB").new_page()
        watch_failures(clerk, failed)
        clerk.goto("/en/staff/login/")
        clerk.get_by_label("Username").fill("clerk-a")
        clerk.get_by_label("Password").fill(TEST_PASSWORD)
        clerk.get_by_role("button", name="Sign in").click()
        clerk.wait_for_url(re.compile(r"/en/staff/desk/mitte/"))
        clerk.goto("/en/staff/desk/mitte/queue/")
        clerk.get_by_label("Your counter").fill("3")
        clerk.get_by_role("button", name="Save counter").click()
        clerk.get_by_role("button", name="Call next to counter 3").click()
        called_at = time.monotonic()
        clerk.get_by_text("W001 called to counter 3.").wait_for()

        # The display shows the call within two seconds, the phone at its next update.
        newest = display.locator(".call-newest")
        newest.get_by_text("W001").wait_for(timeout=2500)
        assert time.monotonic() - called_at < 2.5
        assert newest.locator(".call-counter").inner_text() == "Counter 3"
        phone.locator("#ticket-status").get_by_text("Please go to counter 3 now.").wait_for(timeout=12000)
        assert "W001" in phone.locator("main").inner_text()
        # ...and says it to a screen reader once, politely.
        assert phone.locator("#ticket-announce[role=status]").inner_text() == "Please go to counter 3 now."

        ticket.refresh_from_db()
        assert (ticket.status, ticket.counter) == (Ticket.Status.CALLED, 3)
        assert failed == []
        kiosk_context.close()
        phone_context.close()
