"""The live status tells the truth at every hour (tickets.selectors.offices_status, the pages and the JSON).

What it says about tickets is what the kiosk does at the same moment (one rule, ``tickets.selectors.pickup_state``,
for both): tickets for collecting a document are issued while the office is open, also after the walk-ins stopped.
"Counters open" are the clerks on shift (or more counters where more are serving), not the counters that happened
to call lately.
"""

import datetime
import re

import pytest
import time_machine

from booking.errors import BookingError
from booking.services.slots import capacity_refresh
from offices.models import Absence, OfficeService
from tests.support.queue_steps import LAST, TODAY, at, queue_world
from tests.tickets.test_kiosk import buttons, kiosk_url
from tickets.models import Ticket
from tickets.services import ticket_issue, ticket_step

pytestmark = pytest.mark.django_db

SUNDAY = TODAY + datetime.timedelta(days=6)  # the offices are open Monday to Friday, 08:00–12:00 and 13:00–16:00
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


def _card(client, slug: str) -> str:  # type: ignore[no-untyped-def]
    """The words of one office's live figures, as its status page refreshes them."""
    html = client.get(f"/en/status/{slug}/", **HTMX).content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _json(client, slug: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/offices/{slug}/status", HTTP_ACCEPT_LANGUAGE="en").json()


def _kiosk_draws_a_pickup(qw, moment: datetime.datetime) -> bool:  # type: ignore[no-untyped-def]
    try:
        ticket_issue(office=qw.office_a, queue=Ticket.Queue.PICKUP, service=qw.pickup(), now=moment)
    except BookingError:
        return False
    return True


# (moment, band, walk_in, what the card says after "As of …", counters open)
HOURS = {
    "midnight": (
        at("00:00"),
        "closed",
        "closed",
        "closed Opens today at 08:00 People waiting 0 Counters open 0",
        0,
    ),
    "before opening": (
        at("07:59"),
        "closed",
        "closed",
        "closed Opens today at 08:00 People waiting 0 Counters open 0",
        0,
    ),
    "opening": (
        at("08:00"),
        "short",
        "open",
        "up to 30 minutes Wait with a walk-in ticket drawn now hardly any "
        "Tickets for collecting a document until 16:00 People waiting 0 Counters open 2",
        2,
    ),
    # The walk-in counter works 08:00–12:00; in the lunch break the queue stays open for what it already holds.
    "lunch break": (
        at("12:30"),
        "pickup_only",
        "full",
        "only tickets for collecting a document Tickets for collecting a document until 16:00 "
        "People waiting 0 Counters open 0",
        0,
    ),
    "after the walk-in cut-off": (
        at("15:40"),
        "pickup_only",
        "cut_off",
        "only tickets for collecting a document Tickets for collecting a document until 16:00 "
        "People waiting 0 Counters open 2",
        2,
    ),
    "the last minute": (
        at("15:59"),
        "pickup_only",
        "cut_off",
        "only tickets for collecting a document Tickets for collecting a document until 16:00 "
        "People waiting 0 Counters open 2",
        2,
    ),
    "closing": (at("16:00"), "closed", "closed", "closed People waiting 0 Counters open 0", 0),
    "late evening": (at("23:59"), "closed", "closed", "closed People waiting 0 Counters open 0", 0),
    "a closed day": (at("10:00", SUNDAY), "closed", "closed", "closed People waiting 0 Counters open 0", 0),
}


@pytest.mark.parametrize("hour", list(HOURS))
def test_the_status_says_what_the_kiosk_does_at_every_hour(client, qw, hour: str) -> None:  # type: ignore[no-untyped-def]
    moment, band, walk_in, words, counters = HOURS[hour]
    with time_machine.travel(moment, tick=False):
        card = _card(client, "mitte")
        answer = _json(client, "mitte")
        kiosk = client.get(kiosk_url(qw.kiosk, "en")).content.decode()
    offers_pickup = str(qw.pickup().pk) in buttons(kiosk)
    draws_pickup = _kiosk_draws_a_pickup(qw, moment)
    assert card.startswith(f"As of {moment:%H:%M} · Update now {words} Next free appointment ")
    assert (answer["band"], answer["walk_in"], answer["counters_open"]) == (band, walk_in, counters)
    # What the status says about tickets for collecting a document is what the kiosk does at that moment.
    assert answer["pickup_tickets"] is offers_pickup is draws_pickup is (band != "closed")
    assert ("Tickets for collecting a document until 16:00" in card) is draws_pickup
    if draws_pickup:
        assert "no more" not in card.lower() and "closed" not in card


def test_the_json_gives_today_s_hours_and_none_on_a_closed_day(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("00:00"), tick=False):
        midnight = _json(client, "mitte")
    with time_machine.travel(at("10:00", SUNDAY), tick=False):
        sunday = _json(client, "mitte")
    # At midnight the new day's hours: 08:00 to 16:00 in Berlin.
    assert (midnight["opens"], midnight["closes"]) == ("2026-11-23T07:00:00Z", "2026-11-23T15:00:00Z")
    assert (sunday["opens"], sunday["closes"], sunday["pickup_tickets"]) == (None, None, False)


def test_an_office_without_pickups_says_no_more_tickets_after_the_cut_off(client, qw) -> None:  # type: ignore[no-untyped-def]
    OfficeService.objects.filter(office=qw.office_a, service=qw.pickup()).delete()
    with time_machine.travel(at("15:40"), tick=False):
        card = _card(client, "mitte")
        answer = _json(client, "mitte")
        kiosk = client.get(kiosk_url(qw.kiosk, "en")).content.decode()
    assert card.startswith("As of 15:40 · Update now no more walk-in tickets today People waiting 0 Counters open 2")
    assert (answer["band"], answer["word"], answer["pickup_tickets"]) == (
        "no_tickets",
        "no more walk-in tickets today",
        False,
    )
    assert buttons(kiosk) == []


def test_an_office_without_walk_in_hours_still_issues_pickups_and_says_so(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        card = _card(client, "nord")
        answer = _json(client, "nord")
    ticket = ticket_issue(office=qw.office_b, queue=Ticket.Queue.PICKUP, service=qw.pickup(), now=at("09:00"))
    assert ticket.label == "A001"
    assert card.startswith(
        "As of 09:00 · Update now only tickets for collecting a document "
        "Tickets for collecting a document until 16:00 People waiting 0 Counters open 2"
    )
    assert (answer["band"], answer["walk_in"], answer["pickup_tickets"]) == ("pickup_only", "none_today", True)


def test_the_legend_explains_the_pickup_only_band(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("15:40"), tick=False):
        html = client.get("/en/status/").content.decode()
        german = client.get("/status/").content.decode()
    pill = r'<span class="band-pill band-([a-z_]+)"><span class="band-swatch" aria-hidden="true"></span>([^<]+)</span>'
    assert ("pickup_only", "only tickets for collecting a document") in re.findall(pill, html)
    assert 'class="status-office band-pickup_only" data-band="pickup_only"' in html
    assert 'data-band="pickup_only"' in german


# Counters open ----------------------------------------------------------------------------------


def test_counters_open_do_not_drop_to_one_after_the_first_call(client, qw) -> None:  # type: ignore[no-untyped-def]
    first = qw.draw("08:01")
    qw.draw("08:02")
    with time_machine.travel(at("08:03"), tick=False):
        before = _json(client, "mitte")["counters_open"]
    ticket_step(ticket=first, step="call", by=qw.clerk_a, now=at("08:05"), counter=1)
    with time_machine.travel(at("08:06"), tick=False):
        after_one_call = _json(client, "mitte")["counters_open"]
        card = _card(client, "mitte")
    with time_machine.travel(at("09:30"), tick=False):  # long after that call, both clerks are still on shift
        later = _json(client, "mitte")["counters_open"]
    assert (before, after_one_call, later) == (2, 2, 2)
    assert "Counters open 2" in card


def test_a_counter_serving_beyond_the_shift_plan_counts_too(client, qw) -> None:  # type: ignore[no-untyped-def]
    tickets = [qw.draw(f"08:0{minute}") for minute in range(1, 4)]
    for counter, ticket in enumerate(tickets, start=1):  # the manager helps out at counter 3
        ticket_step(ticket=ticket, step="call", by=qw.manager_a, now=at("08:10"), counter=counter)
    with time_machine.travel(at("08:15"), tick=False):
        assert _json(client, "mitte")["counters_open"] == 3


def test_a_clerk_off_sick_is_not_an_open_counter(client, qw) -> None:  # type: ignore[no-untyped-def]
    Absence.objects.create(user=qw.sick, start_date=TODAY, end_date=TODAY)
    capacity_refresh(office=qw.office_a, first=TODAY, last=LAST)
    with time_machine.travel(at("09:00"), tick=False):
        assert _json(client, "mitte")["counters_open"] == 1
