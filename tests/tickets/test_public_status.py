"""The public live status, the "traffic light" (tickets/views/public.py): /status/ and /status/<slug>/."""

import re

import pytest
import time_machine

from booking.models import Slot
from offices.models import Office
from tests.support.factories import bookable_office, offer
from tests.support.queue_steps import LAST, TODAY, at, queue_world
from tickets.services import ticket_step

pytestmark = pytest.mark.django_db

# The status of all offices, computed together whatever their number (tickets.selectors.offices_status_computed): the
# offices, five for the queues (open tickets, finished tickets, offers, counters at work, today's slots), four for
# today's hours, their shortest matters, and the earliest free appointments (booking.availability).
STATUS = 14


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    world = queue_world()
    return world


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _two_waiting_one_counter(qw) -> None:  # type: ignore[no-untyped-def]
    """At office A by 09:00: counter 1 served W001 (08:30–08:50); W002 and W003 (identity card, 15 min) wait."""
    first = qw.draw("08:01")
    qw.draw("08:02")
    qw.draw("08:03")
    ticket_step(ticket=first, step="call", by=qw.clerk_a, now=at("08:30"), counter=1)
    ticket_step(ticket=first, step="start", by=qw.clerk_a, now=at("08:31"))
    ticket_step(ticket=first, step="finish", by=qw.clerk_a, now=at("08:50"))


def _office_card(html: str, slug: str) -> str:
    match = re.search(rf'<li class="status-office[^"]*"[^>]*>\s*<h2[^>]*><a id="status-{slug}".*?</li>', html, re.S)
    assert match, f"no card for {slug}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def test_every_office_shows_its_band_as_a_word_its_wait_and_its_figures(client, qw) -> None:  # type: ignore[no-untyped-def]
    _two_waiting_one_counter(qw)
    with time_machine.travel(at("09:00"), tick=False):
        response = client.get("/en/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _office_card(html, "mitte") == (
        "Citizen office Mitte up to 30 minutes "
        "Wait with a walk-in ticket drawn now about 30 min (20–45) "
        "Tickets for collecting a document until 16:00 "
        "People waiting 2 Counters open 2 "  # both clerks on shift, though only counter 1 has called yet
        "Next free appointment Mon 23.11. 09:05 – book an appointment at Citizen office Mitte"
    )
    # Office B has no walk-in hours, but its kiosk would issue tickets for collecting a document.
    assert _office_card(html, "nord") == (
        "Citizen office Nord only tickets for collecting a document "
        "Tickets for collecting a document until 16:00 "
        "People waiting 0 Counters open 2 "
        "Next free appointment Mon 23.11. 09:05 – book an appointment at Citizen office Nord"
    )
    assert 'class="status-office band-short" data-band="short"' in html
    assert 'class="status-office band-pickup_only" data-band="pickup_only"' in html
    assert 'href="/en/offices/mitte/#offers-heading"' in html  # where its services are booked
    assert 'href="/en/status/mitte/"' in html


def test_the_colour_of_a_band_always_comes_with_its_word(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get("/en/status/").content.decode()
    pill = r'<span class="band-pill band-([a-z_]+)"><span class="band-swatch" aria-hidden="true"></span>([^<]+)</span>'
    words = dict(re.findall(pill, html))
    # The legend names every band, and each office's pill carries its word.
    assert words == {
        "short": "up to 30 minutes",
        "medium": "up to 90 minutes",
        "long": "up to 2 hours",
        "very_long": "over 2 hours",
        "pickup_only": "only tickets for collecting a document",
        "no_tickets": "no more walk-in tickets today",
        "closed": "closed",
    }
    assert "What the colours mean" in html
    # Office A (open) and B (no walk-ins, but pickups) show theirs with the word.
    assert re.search(r'data-band="short">.*?band-pill band-short"><span[^>]*></span>up to 30 minutes<', html, re.S)
    assert re.search(r'data-band="pickup_only">.*?band-pickup_only"><span[^>]*></span>only tickets for', html, re.S)


def test_after_the_cut_off_and_after_closing_the_page_says_so(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("15:40"), tick=False):
        cut_off = client.get("/en/status/").content.decode()
    with time_machine.travel(at("16:30"), tick=False):
        closed = client.get("/en/status/").content.decode()
    assert _office_card(cut_off, "mitte").startswith(
        "Citizen office Mitte only tickets for collecting a document Tickets for collecting a document until 16:00 "
    )
    assert _office_card(closed, "mitte").startswith("Citizen office Mitte closed People waiting 0 Counters open 0")
    assert "Tue 24.11. 08:00" in _office_card(closed, "mitte")


def test_an_office_without_free_appointments_says_none_in_the_next_weeks(client, qw) -> None:  # type: ignore[no-untyped-def]
    Slot.objects.filter(office=qw.office_b).delete()
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get("/en/status/").content.decode()
    assert _office_card(html, "nord").endswith("Next free appointment none in the next weeks")


def test_the_page_refreshes_its_figures_every_minute_and_works_without_javascript(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        page = client.get("/en/status/")
        partial = client.get("/en/status/", HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert '<div id="status-live" hx-get="/en/status/" hx-trigger="every 60s" hx-swap="innerHTML">' in html
    assert '<a id="status-reload" href="/en/status/">Update now</a>' in html  # without JavaScript
    assert "As of 09:00" in text_of(page)
    assert partial.status_code == 200
    body = partial.content.decode()
    assert "<html" not in body and "status-live" not in body and "What the colours mean" not in body
    assert 'id="status-mitte"' in body and 'id="status-nord"' in body
    assert "HX-Request" in page["Vary"]


def test_the_pages_run_no_inline_script(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        for path in ("/status/", "/en/status/mitte/"):
            html = client.get(path).content.decode()
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
            assert not re.search(r"\son[a-z]+=", html), path


def test_the_status_of_all_offices_costs_the_same_queries_however_many_offices(  # type: ignore[no-untyped-def]
    client, qw, django_assert_num_queries
) -> None:
    _two_waiting_one_counter(qw)
    with time_machine.travel(at("09:00"), tick=False), django_assert_num_queries(STATUS):
        assert client.get("/en/status/").status_code == 200
    for slug in ("ost", "west"):
        # The same online booking rules and shortest matter as A and B: earliest_starts asks once per such group.
        office = bookable_office(
            counters=1,
            first=TODAY,
            last=LAST,
            slug=slug,
            name_en=f"Office {slug}",
            phone_share_percent=50,
            horizon_days=30,
            min_notice_minutes=0,
        )
        offer(office, "anmeldung", 10)
        offer(office, "abholung-ausweis", 5)
    with time_machine.travel(at("09:00"), tick=False), django_assert_num_queries(STATUS):
        html = client.get("/en/status/", HTTP_HX_REQUEST="true").content.decode()
    assert html.count('<li class="status-office') == 4


def test_the_nav_leads_to_the_waiting_times(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get("/en/status/").content.decode()
        office_page = client.get("/en/offices/mitte/").content.decode()
    assert '<a class="nav-link" href="/en/status/" aria-current="page">Waiting times</a>' in html
    assert '<a href="/en/status/mitte/">' in office_page


# One office ---------------------------------------------------------------------------------------


def test_an_office_page_shows_its_figures_and_its_usual_busy_hours(client, qw) -> None:  # type: ignore[no-untyped-def]
    _two_waiting_one_counter(qw)
    with time_machine.travel(at("09:00"), tick=False):
        response = client.get("/en/status/mitte/")
    assert response.status_code == 200
    text = text_of(response)
    assert "Waiting time at Citizen office Mitte" in text
    assert (
        "Right now As of 09:00 · Update now up to 30 minutes Wait with a walk-in ticket drawn now "
        "about 30 min (20–45) Tickets for collecting a document until 16:00 People waiting 2 Counters open 2 "
        "Next free appointment Mon 23.11. 09:05"
    ) in text
    assert "Usually busy" in text
    assert "Citizen office Nord" not in text
    html = response.content.decode()
    assert 'hx-get="/en/status/mitte/" hx-trigger="every 60s"' in html
    assert 'href="/en/offices/mitte/display/"' in html


def test_an_office_page_polls_only_its_figures(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        partial = client.get("/en/status/mitte/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Usually busy" not in partial
    assert "up to 30 minutes" in partial and 'id="status-mitte"' not in partial  # the page's heading names it


@pytest.mark.parametrize("path", ["/status/nowhere/", "/en/status/alt/"])
def test_an_unknown_or_inactive_office_has_no_status_page(client, qw, path: str) -> None:  # type: ignore[no-untyped-def]
    Office.objects.create(slug="alt", name="Altes Amt", active=False)
    with time_machine.travel(at("09:00"), tick=False):
        assert client.get(path).status_code == 404


def test_an_office_page_costs_its_status_and_five_queries_for_the_chart(  # type: ignore[no-untyped-def]
    client, qw, django_assert_num_queries
) -> None:
    _two_waiting_one_counter(qw)
    # One office's status is its line of all offices' (as above), 5 for the chart: its hours (4), the tickets counted.
    with time_machine.travel(at("09:00"), tick=False), django_assert_num_queries(STATUS + 5):
        assert client.get("/en/status/mitte/").status_code == 200
