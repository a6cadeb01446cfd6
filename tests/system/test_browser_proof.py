"""The proof of work in a real browser: the ALTCHA widget from our own files, under our CSP, by keyboard alone."""

import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings

from access.models import UsedProof
from booking.models import Appointment, Hold
from tests.support.factories import next_weekday, office_from_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def proof_on() -> Iterator[None]:
    cache.clear()
    # About a second of work in this browser: long enough that a time is chosen before the check is done.
    with override_settings(PROOF_OF_WORK=True, PROOF_OF_WORK_COST=1000, PROOF_OF_WORK_COUNTER=2000):
        yield
    cache.clear()


def test_a_citizen_books_with_the_widget_by_keyboard_alone(page) -> None:  # type: ignore[no-untyped-def]
    office_from_today()
    problems: list[str] = []
    # Script errors and CSP refusals are console errors; a failed load is named by its response (the site has
    # no favicon, which browsers ask for by themselves).
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and problems.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and "favicon" not in response.url
            and problems.append(f"{response.status} {response.url}")  # noqa: PLR2004
        ),
    )
    day = next_weekday()
    page.goto(f"/book/at/mitte/?services=personalausweis&date={day.isoformat()}")

    # Chosen by keyboard at once, before the check is done: the form waits for it, then goes on by itself.
    first_time = page.get_by_role("button", name="09:00")
    first_time.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/hold/**", timeout=60_000)
    assert Hold.objects.count() == 1
    assert UsedProof.objects.filter(signature__startswith="pow:").count() == 1

    page.keyboard.press("Tab")  # from the top of the new page, by keyboard
    page.get_by_label("Ihr Name").fill("Erika Mustermann")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_label("E-Mail-Adresse").press("Enter")
    page.wait_for_url("**/check/")
    booking = page.get_by_role("button", name="Diesen Termin buchen")
    booking.focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Ihr Termin ist gebucht").wait_for()
    assert Appointment.objects.count() == 1
    assert problems == [], problems  # no CSP refusal, no script error


def test_the_widget_checks_only_when_asked_by_keyboard_and_says_so_in_german(page) -> None:  # type: ignore[no-untyped-def]
    office_from_today()
    challenges: list[str] = []
    page.on("request", lambda request: "/api/v1/challenge" in request.url and challenges.append(request.url))
    page.goto(f"/book/at/mitte/?services=personalausweis&date={next_weekday().isoformat()}")
    widget = page.locator("altcha-widget")
    widget.get_by_text("Prüfen, dass ich kein Programm bin").wait_for()
    assert challenges == []  # looking at the times costs nothing
    checkbox = widget.locator("input[type=checkbox]")
    checkbox.focus()
    page.keyboard.press("Space")
    widget.get_by_text("Geprüft.").wait_for(timeout=60_000)
    assert len(challenges) == 1
    assert page.locator("form[data-proof] input[name=altcha]").first.input_value() != ""


def test_without_javascript_the_question_takes_its_place(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    office_from_today()
    context = browser.new_context(base_url=live_server.url, locale="de-DE", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"/book/at/mitte/?services=personalausweis&date={next_weekday().isoformat()}")
    page.get_by_role("button", name="09:00").click()
    page.get_by_role("heading", name="Noch ein Schritt").wait_for()
    question = page.get_by_label(re.compile(r"Wie viel ist \d+ plus \d+\?"))
    first, second = map(int, re.search(r"(\d+) plus (\d+)", question.evaluate("e => e.labels[0].textContent")).groups())
    question.fill(str(first + second))
    page.get_by_role("button", name="Diese Zeit für mich freihalten").click()
    page.wait_for_url("**/book/hold/**")
    assert Hold.objects.count() == 1
    context.close()
