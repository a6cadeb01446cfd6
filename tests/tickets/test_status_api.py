"""The live status as JSON for city portals and apps (tickets/api.py): /api/v1/offices/status and .../{slug}/status."""

import json

import pytest
import time_machine
from django.core.cache import cache

from offices.models import Office
from tests.support.queue_steps import at, queue_world
from tickets.services import ticket_step

pytestmark = pytest.mark.django_db


def _world():  # type: ignore[no-untyped-def]
    world = queue_world()
    return world


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return _world()


@pytest.fixture
def cached_for_ten_seconds(settings):  # type: ignore[no-untyped-def]
    settings.QUEUE_STATUS_CACHE_SECONDS = 10
    cache.clear()
    yield
    cache.clear()


def _two_waiting_one_counter(qw) -> None:  # type: ignore[no-untyped-def]
    """At office A by 09:00: counter 1 served W001 (08:30–08:50); W002 and W003 (identity card, 15 min) wait."""
    first = qw.draw("08:01")
    qw.draw("08:02")
    qw.draw("08:03")
    ticket_step(ticket=first, step="call", by=qw.clerk_a, now=at("08:30"), counter=1)
    ticket_step(ticket=first, step="start", by=qw.clerk_a, now=at("08:31"))
    ticket_step(ticket=first, step="finish", by=qw.clerk_a, now=at("08:50"))


def _get(client, path: str, language: str = "en"):  # type: ignore[no-untyped-def]
    return client.get(path, HTTP_ACCEPT_LANGUAGE=language)


def test_a_small_known_queue_gives_exactly_this_answer(client, qw) -> None:  # type: ignore[no-untyped-def]
    _two_waiting_one_counter(qw)
    with time_machine.travel(at("09:00"), tick=False):
        response = _get(client, "/api/v1/offices/mitte/status")
    assert response.status_code == 200
    # Two identity cards of 15 minutes (¾·15 … 1½·15 each) ahead, one counter at work: 22.5 / 30 / 45 minutes.
    assert response.json() == {
        "slug": "mitte",
        "name": "Citizen office Mitte",
        "band": "short",
        "word": "up to 30 minutes",
        "walk_in": "open",
        "pickup_tickets": True,
        "waiting": 2,
        "counters_open": 2,  # both clerks on shift, though only counter 1 has called yet
        "opens": "2026-11-23T07:00:00Z",  # 08:00 and 16:00 in Berlin
        "closes": "2026-11-23T15:00:00Z",
        "wait_minutes": {"low": 23, "mid": 30, "high": 45},
        "next_free_appointment": "2026-11-23T08:05:00Z",  # 09:05 in Berlin, the first online start after now
        "links": {
            "status": "http://testserver/en/status/mitte/",
            "display": "http://testserver/en/offices/mitte/display/",
        },
    }


def test_the_list_has_every_active_office_in_the_order_of_the_office_list(client, qw) -> None:  # type: ignore[no-untyped-def]
    _two_waiting_one_counter(qw)
    Office.objects.create(slug="alt", name="Altes Amt", active=False)
    with time_machine.travel(at("09:00"), tick=False):
        response = _get(client, "/api/v1/offices/status")
    assert response.status_code == 200
    rows = response.json()
    assert [(row["slug"], row["band"], row["walk_in"], row["waiting"]) for row in rows] == [
        ("mitte", "short", "open", 2),
        # Office B has no walk-in hours at all: only pickups, and its two clerks on shift count as open counters.
        ("nord", "pickup_only", "none_today", 0),
    ]
    assert (rows[1]["word"], rows[1]["pickup_tickets"]) == ("only tickets for collecting a document", True)
    assert rows[1]["wait_minutes"] is None
    assert rows[1]["counters_open"] == 2


def test_after_the_cut_off_no_tickets_are_drawn_and_after_closing_it_is_closed(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("15:40"), tick=False):  # closes 16:00, walk-ins stop 30 minutes before
        cut_off = _get(client, "/api/v1/offices/mitte/status").json()
    with time_machine.travel(at("16:30"), tick=False):
        closed = _get(client, "/api/v1/offices/mitte/status").json()
    # The kiosk still issues tickets for collecting a document until closing.
    assert (cut_off["band"], cut_off["walk_in"], cut_off["word"], cut_off["wait_minutes"]) == (
        "pickup_only",
        "cut_off",
        "only tickets for collecting a document",
        None,
    )
    assert cut_off["pickup_tickets"] is True and closed["pickup_tickets"] is False
    assert (closed["band"], closed["walk_in"], closed["word"], closed["counters_open"]) == (
        "closed",
        "closed",
        "closed",
        0,
    )
    # The next free appointment is the next working day's first, 08:00 in Berlin.
    assert closed["next_free_appointment"] == "2026-11-24T07:00:00Z"


def test_the_word_follows_accept_language_and_the_keys_do_not(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("16:30"), tick=False):
        german = _get(client, "/api/v1/offices/mitte/status", "de")
        english = _get(client, "/api/v1/offices/mitte/status", "en")
    assert (german["Content-Language"], german.json()["word"], german.json()["band"]) == ("de", "geschlossen", "closed")
    assert (english["Content-Language"], english.json()["word"], english.json()["band"]) == ("en", "closed", "closed")
    assert german.json()["links"]["status"] == "http://testserver/status/mitte/"


@pytest.mark.parametrize("slug", ["nowhere", "alt"])
def test_an_unknown_or_inactive_office_is_a_json_404(client, qw, slug: str) -> None:  # type: ignore[no-untyped-def]
    Office.objects.create(slug="alt", name="Altes Amt", active=False)
    response = _get(client, f"/api/v1/offices/{slug}/status")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": f"There is no office “{slug}”."}


def test_without_a_server_cache_clients_must_not_cache_either(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        response = _get(client, "/api/v1/offices/status")
    assert response["Cache-Control"] == "no-cache"
    assert "Accept-Language" in response["Vary"]


def test_with_a_server_cache_clients_may_cache_as_long(client, qw, cached_for_ten_seconds) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        first = _get(client, "/api/v1/offices/mitte/status")
        qw.draw("09:00")  # within the ten seconds the figures stay as they were
        again = _get(client, "/api/v1/offices/mitte/status")
    assert first["Cache-Control"] == "public, max-age=10"
    assert "Accept-Language" in first["Vary"]
    assert first.json()["waiting"] == again.json()["waiting"] == 0


def test_the_openapi_schema_describes_both_paths(client) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    every = schema["paths"]["/api/v1/offices/status"]["get"]
    one = schema["paths"]["/api/v1/offices/{slug}/status"]["get"]
    assert (every["operationId"], one["operationId"]) == ("list_office_statuses", "read_office_status")
    assert every["tags"] == one["tags"] == ["live status"]
    assert set(one["responses"]) == {"200", "400", "404", "422"}  # 400, 422: refused before the endpoint
    fields = schema["components"]["schemas"]["OfficeStatusOut"]["properties"]
    assert set(fields) == {
        "slug",
        "name",
        "band",
        "word",
        "walk_in",
        "pickup_tickets",
        "waiting",
        "counters_open",
        "opens",
        "closes",
        "wait_minutes",
        "next_free_appointment",
        "links",
    }
    assert "very_long" in fields["band"]["description"]


def test_the_list_path_is_not_taken_for_an_office_called_status(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        response = _get(client, "/api/v1/offices/status")
    assert isinstance(response.json(), list)


def test_a_one_slot_matter_does_not_break_the_status(client) -> None:  # type: ignore[no-untyped-def]
    queue_world()  # offers the 5-minute pickup on a 5-minute grid
    with time_machine.travel(at("09:00"), tick=False):
        response = _get(client, "/api/v1/offices/status")
    assert response.status_code == 200


def test_what_cannot_be_a_slug_is_404_without_asking_the_database(client, qw, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for slug in ("%00", "mit%00te", "%C3%A4", "x" * 61):
        with django_assert_num_queries(0):
            response = _get(client, f"/api/v1/offices/{slug}/status")
        assert response.status_code == 404
