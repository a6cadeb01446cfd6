"""The ticket's phone page (tickets.views.ticket): how many are ahead, when the call is expected, and the call."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from desk.queue import queue_call_next, queue_step
from tests.support.queue_steps import TODAY, at, queue_world
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


def page_url(token: str, language: str = "en") -> str:
    with translation.override(language):
        return reverse("tickets:ticket", args=[token])


def show(client, token: str, hhmm: str = "09:10", day: datetime.date = TODAY, htmx: bool = False):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(hhmm, day), tick=False):
        return client.get(page_url(token), headers={"HX-Request": "true"} if htmx else {})


def four_walk_ins_the_first_in_service_at_counter_1(qw) -> list[Ticket]:  # type: ignore[no-untyped-def]
    tickets = [qw.draw("09:00") for _n in range(4)]
    called = queue_call_next(office=qw.office_a, counter=1, by=qw.clerk_a, now=at("09:05"))
    queue_step(ticket=called, step="start", by=qw.clerk_a, now=at("09:05"))
    return tickets


def test_the_page_says_how_many_are_ahead_and_between_which_times_the_call_is_expected(client, qw) -> None:  # type: ignore[no-untyped-def]
    fourth = four_walk_ins_the_first_in_service_at_counter_1(qw)[3]

    response = show(client, fourth.token, "09:10")

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r">W004</p>", html)
    assert "Citizen office Mitte" in html and "Identity card" in html
    # Ahead: W002 and W003, 15 minutes each as configured (¾: 11.25, 1½: 22.5); W001 in service since 09:05 has
    # 6.25 to 17.5 minutes left. One counter serves (counter 1 worked in the last 20 minutes):
    # 09:10 + 28.75 min = 09:38:45, down to 09:35; 09:10 + 62.5 min = 10:12:30, up to 10:15.
    assert "2 people are ahead of you." in html
    assert "Expected call between 09:35 and 10:15." in html
    assert "Status: <strong>waiting</strong>" in html


def test_now_serving_shows_the_latest_call_of_the_office(client, qw) -> None:  # type: ignore[no-untyped-def]
    fourth = four_walk_ins_the_first_in_service_at_counter_1(qw)[3]
    html = show(client, fourth.token, "09:10").content.decode()
    serving = html[html.index("Now serving") :]
    assert re.search(r"<strong class=\"font-monospace\">W001</strong> – counter 1", serving)


def test_a_called_ticket_is_sent_to_its_counter(client, qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("09:00")
    queue_call_next(office=qw.office_a, counter=2, by=qw.clerk_a, now=at("09:04"))

    html = show(client, ticket.token, "09:05").content.decode()

    assert "Please go to counter 2 now." in html
    assert "ahead of you" not in html
    assert 'hx-trigger="every 15s, resume"' in html


def test_htmx_polling_gets_the_status_part_only(client, qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("09:00")

    response = show(client, ticket.token, "09:05", htmx=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<header" not in html
    assert re.search(rf'<div id="ticket-status" [^>]*hx-get="{page_url(ticket.token)}"', html)
    assert 'hx-trigger="every 15s, resume"' in html and 'hx-swap="outerHTML"' in html
    assert "Last updated: <time" in html and ">09:05:00</time>" in html
    assert "HX-Request" in response["Vary"]


def test_the_full_page_polls_has_a_live_region_and_a_pause_button_for_javascript(client, qw) -> None:  # type: ignore[no-untyped-def]
    html = show(client, qw.draw("09:00").token, "09:05").content.decode()
    assert '<div id="ticket-announce" class="visually-hidden" role="status" aria-live="polite">' in html
    assert re.search(r'<button [^>]*data-ticket-pause aria-pressed="false"[^>]*hidden>Pause updates</button>', html)
    assert 'src="/static/js/ticket.js" defer' in html
    assert "<noscript>" in html


@pytest.mark.parametrize(
    ("steps", "text"),
    [
        (["call", "start", "finish"], "Your visit is done. Thank you for coming."),
        (["call", "no_show"], "You were called but did not come to the counter."),
    ],
)
def test_a_finished_ticket_stops_polling(client, qw, steps: list[str], text: str) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("09:00")
    for step in steps:
        ticket = queue_step(ticket=ticket, step=step, by=qw.clerk_a, now=at("09:05"), counter=1)

    for htmx in (False, True):
        html = show(client, ticket.token, "09:20", htmx=htmx).content.decode()
        assert text in html
        assert "hx-trigger" not in html and "hx-get" not in html
        assert "data-ticket-pause" not in html and "Now serving" not in html


def test_a_ticket_of_another_day_says_it_is_no_longer_valid(client, qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("09:00")
    html = show(client, ticket.token, "09:00", day=TODAY + datetime.timedelta(days=1)).content.decode()
    assert "This ticket was for 23 November 2026. It is no longer valid." in html
    assert "ahead of you" not in html and "Expected call" not in html
    assert "hx-trigger" not in html


def test_the_token_works_in_lower_case_and_grouped_and_an_unknown_one_is_not_found(client, qw) -> None:  # type: ignore[no-untyped-def]
    token = qw.draw("09:00").token
    grouped = f"{token[:4]}-{token[4:8]}-{token[8:]}"
    for written in (token.lower(), grouped, grouped.lower()):
        response = show(client, written, "09:05")
        assert response.status_code == 200 and "W001" in response.content.decode()
    assert show(client, "ACDEFGHJKMNP", "09:05").status_code == 404
    for garbage in ("x" * 300, "W001\x00", "ÄÖÜ", "%"):
        assert show(client, garbage, "09:05").status_code == 404


def test_the_page_is_not_cached_and_not_indexed(client, qw) -> None:  # type: ignore[no-untyped-def]
    response = show(client, qw.draw("09:00").token, "09:05")
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


def test_the_page_needs_the_same_few_queries_however_long_the_queue(client, qw) -> None:  # type: ignore[no-untyped-def]
    first = four_walk_ins_the_first_in_service_at_counter_1(qw)[1]
    with CaptureQueriesContext(connection) as short:
        assert show(client, first.token, "09:10").status_code == 200
    for _n in range(4):
        qw.draw("09:06", queue=Ticket.Queue.PICKUP, service="abholung-ausweis")
        qw.draw("09:06")
    last = qw.draw("09:07")
    with CaptureQueriesContext(connection) as long:
        html = show(client, last.token, "09:10").content.decode()
    assert "11 people are ahead of you." in html  # W002–W004, the four new walk-ins, the four pickups first
    # The ticket, the five reads of queue_state (open tickets, service history, durations, counters, shift), the calls.
    assert len(short) == len(long) == 7
