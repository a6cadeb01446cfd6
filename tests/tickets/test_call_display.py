"""The call display in the waiting room (tickets/views/public.py, display): /offices/<slug>/display/."""

import datetime
import re
from pathlib import Path

import pytest
import time_machine
from django.contrib.staticfiles import finders

from desk.queue import queue_call_next, queue_step
from offices.models import Office
from tests.support.queue_steps import TODAY, at, queue_world
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


def _call(qw, hhmm: str, counter: int) -> Ticket:  # type: ignore[no-untyped-def]
    ticket = queue_call_next(office=qw.office_a, counter=counter, by=qw.clerk_a, now=at(hhmm))
    assert ticket is not None
    return ticket


def _calls(html: str) -> list[tuple[str, str]]:
    """(number, counter) of each call shown, top first."""
    items = re.findall(r'<li class="call[^"]*">(.*?)</li>', html, re.S)
    result = []
    for item in items:
        number = re.search(r'<span class="call-number">([^<]+)</span>', item).group(1)
        counter = re.search(r'<span class="call-counter">([^<]+)</span>', item).group(1)
        result.append((number, counter))
    return result


def _state(html: str) -> dict[str, str]:
    """The hidden values htmx sends back with the next poll."""
    return dict(re.findall(r'<input type="hidden" name="(shown|newest)" value="([^"]*)">', html))


def test_the_display_shows_the_last_calls_with_their_counters_newest_first(client, qw) -> None:  # type: ignore[no-untyped-def]
    for hhmm in ("08:01", "08:02", "08:03"):
        qw.draw(hhmm)
    _call(qw, "08:10", 1)
    _call(qw, "08:12", 2)
    with time_machine.travel(at("08:15"), tick=False):
        response = client.get("/en/offices/mitte/display/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _calls(html) == [("W002", "Counter 2"), ("W001", "Counter 1")]  # W003 still waits
    assert '<li class="call call-newest">\n        <span class="call-number">W002</span>' in html
    assert '<h1 class="display-office">Citizen office Mitte</h1>' in html
    assert '<time datetime="2026-11-23T08:15:00+01:00">08:15</time>' in html  # the clock, in Berlin


def test_the_display_shows_at_most_seven_calls_of_today_and_no_no_shows(client, qw) -> None:  # type: ignore[no-untyped-def]
    yesterday = TODAY - datetime.timedelta(days=1)
    called_yesterday = {"queue": "W", "number": 99, "status": "done", "counter": 1, "called_at": at("09:05", yesterday)}
    Ticket.objects.create(office=qw.office_a, day=yesterday, issued_at=at("09:00", yesterday), **called_yesterday)
    for minute in range(9):
        qw.draw(f"08:{minute:02d}")
    tickets = [_call(qw, f"08:{10 + n:02d}", 1 + n % 2) for n in range(9)]
    queue_step(ticket=tickets[-1], step="no_show", by=qw.clerk_a, now=at("08:30"))
    with time_machine.travel(at("08:31"), tick=False):
        html = client.get("/en/offices/mitte/display/").content.decode()
    assert [number for number, _counter in _calls(html)] == [
        "W008",
        "W007",
        "W006",
        "W005",
        "W004",
        "W003",
        "W002",
    ]


def test_before_the_first_call_the_display_says_so(client, qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:01")
    with time_machine.travel(at("08:05"), tick=False):
        html = client.get("/en/offices/mitte/display/").content.decode()
    assert "No numbers have been called yet today." in html
    assert _calls(html) == []


def test_the_display_is_a_page_of_its_own_that_polls_every_second(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:05"), tick=False):
        response = client.get("/offices/mitte/display/")
    html = response.content.decode()
    assert '<html lang="de" dir="ltr">' in html
    assert "Hauptnavigation" not in html and "site-header" not in html  # no site navigation on the screen
    assert 'href="/static/css/display.css"' in html
    assert (
        '<main id="display-calls" class="display-calls" hx-get="/offices/mitte/display/" hx-trigger="every 1s"\n'
        '        hx-include="#display-calls" hx-swap="innerHTML">'
    ) in html
    assert '<p id="display-announce" class="visually-hidden" aria-live="polite" aria-atomic="true"></p>' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html  # without JavaScript
    # CSP: scripts only from files of this server, no handlers in attributes.
    assert re.findall(r"<script\b[^>]*>", html) == [
        '<script src="/static/vendor/htmx/htmx.min.js" defer>',
        '<script src="/static/js/display.js" defer>',
    ]
    assert not re.search(r"\son[a-z]+=", html)
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_the_chime_button_is_hidden_without_javascript_and_may_be_preselected(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:05"), tick=False):
        plain = client.get("/en/offices/mitte/display/").content.decode()
        preselected = client.get("/en/offices/mitte/display/?chime=1").content.decode()
    assert '<button type="button" class="display-sound" data-display-sound hidden aria-pressed="false">' in plain
    assert 'data-display-sound hidden aria-pressed="true">' in preselected
    script = Path(finders.find("js/display.js")).read_text(encoding="utf-8")
    assert "htmx:afterSwap" in script and "createOscillator" in script  # a generated tone, no audio file


def test_a_poll_costs_two_queries_and_returns_only_the_list(client, qw, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:01")
    _call(qw, "08:10", 1)
    with time_machine.travel(at("08:15"), tick=False), django_assert_num_queries(2):  # the office, the calls
        response = client.get("/en/offices/mitte/display/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<main" not in html
    assert _calls(html) == [("W001", "Counter 1")]
    assert "HX-Request" in response["Vary"]


def test_a_poll_gets_nothing_while_nothing_changes_and_a_new_call_at_once(client, qw) -> None:  # type: ignore[no-untyped-def]
    for hhmm in ("08:01", "08:02"):
        qw.draw(hhmm)
    _call(qw, "08:10", 1)
    with time_machine.travel(at("08:15:00"), tick=False):
        state = _state(client.get("/en/offices/mitte/display/").content.decode())
    with time_machine.travel(at("08:15:30"), tick=False):
        unchanged = client.get("/en/offices/mitte/display/", state, **HTMX)
    assert unchanged.status_code == 204 and unchanged.content == b""

    _call(qw, "08:15:31", 2)
    with time_machine.travel(at("08:15:32"), tick=False):
        changed = client.get("/en/offices/mitte/display/", state, **HTMX)
    html = changed.content.decode()
    assert changed.status_code == 200
    assert _calls(html)[0] == ("W002", "Counter 2")
    # The live region hears of the new call, once.
    assert '<p id="display-announce" hx-swap-oob="innerHTML">Number W002, please go to counter 2.</p>' in html
    assert int(_state(html)["newest"]) > int(state["newest"])
    assert f'data-latest="{_state(html)["newest"]}"' in html
    with time_machine.travel(at("08:15:40"), tick=False):
        assert client.get("/en/offices/mitte/display/", _state(html), **HTMX).status_code == 204


def test_the_clock_changing_updates_the_display_without_announcing_a_call(client, qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:01")
    _call(qw, "08:10", 1)
    with time_machine.travel(at("08:15:50"), tick=False):
        state = _state(client.get("/en/offices/mitte/display/").content.decode())
    with time_machine.travel(at("08:16:01"), tick=False):
        response = client.get("/en/offices/mitte/display/", state, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert ">08:16</time>" in html
    assert "display-announce" not in html


def test_a_no_show_of_the_newest_call_is_not_announced_as_a_new_call(client, qw) -> None:  # type: ignore[no-untyped-def]
    for hhmm in ("08:01", "08:02"):
        qw.draw(hhmm)
    _call(qw, "08:10", 1)
    second = _call(qw, "08:11", 2)
    with time_machine.travel(at("08:12"), tick=False):
        state = _state(client.get("/en/offices/mitte/display/").content.decode())
    queue_step(ticket=second, step="no_show", by=qw.clerk_a, now=at("08:12:10"))
    with time_machine.travel(at("08:12:20"), tick=False):
        html = client.get("/en/offices/mitte/display/", state, **HTMX).content.decode()
    assert _calls(html) == [("W001", "Counter 1")]
    assert "display-announce" not in html


def test_a_recall_is_announced_again(client, qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:01")
    ticket = _call(qw, "08:10", 1)
    with time_machine.travel(at("08:11"), tick=False):
        state = _state(client.get("/en/offices/mitte/display/").content.decode())
    queue_step(ticket=ticket, step="call", by=qw.clerk_a, now=at("08:11:05"), counter=1)
    with time_machine.travel(at("08:11:06"), tick=False):
        html = client.get("/en/offices/mitte/display/", state, **HTMX).content.decode()
    assert "Number W001, please go to counter 1." in html


@pytest.mark.parametrize("path", ["/offices/nowhere/display/", "/en/offices/alt/display/"])
def test_an_unknown_or_inactive_office_has_no_display(client, qw, path: str) -> None:  # type: ignore[no-untyped-def]
    Office.objects.create(slug="alt", name="Altes Amt", active=False)
    assert client.get(path).status_code == 404
    assert client.get(path, **HTMX).status_code == 404


@pytest.mark.parametrize("newest", ["", "abc", "-5", "9" * 40])
def test_garbage_in_the_poll_is_no_error(client, qw, newest: str) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:01")
    _call(qw, "08:10", 1)
    with time_machine.travel(at("08:15"), tick=False):
        response = client.get("/en/offices/mitte/display/", {"shown": "x" * 500, "newest": newest}, **HTMX)
    assert response.status_code == 200
    assert _calls(response.content.decode()) == [("W001", "Counter 1")]


def test_odd_digits_in_a_poll_are_not_a_server_error(client, qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:59")
    _call(qw, "09:00", counter=1)
    with time_machine.travel(at("09:01"), tick=False):
        for newest in ("²", "١٢٣", "9" * 5000, "-1"):
            response = client.get("/en/offices/mitte/display/", {"newest": newest, "shown": "x"}, **HTMX)
            assert response.status_code == 200
            assert "W001" in response.content.decode()
