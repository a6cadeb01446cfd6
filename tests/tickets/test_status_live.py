"""The live status kept for QUEUE_STATUS_CACHE_SECONDS and computed by one process at a time (tickets/live.py)."""

import datetime
import json

import pytest
import time_machine
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory

from tests.support.factories import bookable_office, offer
from tests.support.queue_steps import LAST, TODAY, at, queue_world
from tickets import live
from tickets.selectors import STATUS_KEY, offices_status_computed

pytestmark = pytest.mark.django_db

# The status of all offices computed together, whatever their number (as in test_public_status.py).
STATUS = 14
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


@pytest.fixture
def kept_ten_seconds(settings):  # type: ignore[no-untyped-def]
    settings.QUEUE_STATUS_CACHE_SECONDS = 10


def _get(client, path: str = "/api/v1/offices/status", **headers):  # type: ignore[no-untyped-def]
    return client.get(path, HTTP_ACCEPT_LANGUAGE="en", **headers)


def _more_offices() -> None:
    """Three more offices with the same online booking rules and shortest matter as A and B (one earliest query)."""
    for slug in ("ost", "west", "sued"):
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


def test_all_offices_cost_the_same_queries_however_many_and_a_kept_answer_none(  # type: ignore[no-untyped-def]
    client, qw, kept_ten_seconds, django_assert_num_queries
) -> None:
    with time_machine.travel(at("09:00"), tick=False):
        with django_assert_num_queries(STATUS):
            assert len(_get(client).json()) == 2
        with django_assert_num_queries(0):
            assert len(_get(client).json()) == 2
        with django_assert_num_queries(0):
            assert _get(client, "/api/v1/offices/mitte/status").json()["slug"] == "mitte"
    _more_offices()
    with time_machine.travel(at("09:05"), tick=False), django_assert_num_queries(STATUS):
        assert len(_get(client).json()) == 5


def test_the_kept_answer_is_the_one_computed_afresh(client, qw, settings) -> None:  # type: ignore[no-untyped-def]
    _more_offices()
    qw.draw("08:01")
    qw.draw("08:02")
    settings.QUEUE_STATUS_CACHE_SECONDS = 10
    with time_machine.travel(at("09:00"), tick=False):
        _get(client)
        kept = _get(client)
        one = _get(client, "/api/v1/offices/ost/status")
        settings.QUEUE_STATUS_CACHE_SECONDS = 0  # computed for this request, nothing kept
        fresh = _get(client)
        fresh_one = _get(client, "/api/v1/offices/ost/status")
    assert kept.content == fresh.content
    assert one.content == fresh_one.content
    assert [row["slug"] for row in json.loads(kept.content)] == ["mitte", "nord", "ost", "sued", "west"]
    assert json.loads(kept.content)[0]["waiting"] == 2


def test_the_answer_is_kept_its_period_and_clients_may_keep_what_is_left_of_it(  # type: ignore[no-untyped-def]
    client, qw, kept_ten_seconds
) -> None:
    start = at("09:00")
    with time_machine.travel(start, tick=False):
        first = _get(client)
    qw.draw("09:00")
    with time_machine.travel(start + 4 * SECOND, tick=False):
        later = _get(client)
    with time_machine.travel(start + 10 * SECOND, tick=False):
        after = _get(client)
    assert first["Cache-Control"] == "public, max-age=10"
    assert later["Cache-Control"] == "public, max-age=6"  # the same answer, six seconds left
    assert later.content == first.content
    assert first.json()[0]["waiting"] == 0 and after.json()[0]["waiting"] == 1
    assert after["Cache-Control"] == "public, max-age=10"


def test_an_etag_still_current_is_a_304_without_a_query(  # type: ignore[no-untyped-def]
    client, qw, kept_ten_seconds, django_assert_num_queries
) -> None:
    start = at("09:00")
    with time_machine.travel(start, tick=False):
        etag = _get(client)["ETag"]
        with django_assert_num_queries(0):
            not_modified = _get(client, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["Cache-Control"] == "public, max-age=10"
    qw.draw("09:00")
    with time_machine.travel(start + 10 * SECOND, tick=False):
        changed = _get(client, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_each_language_and_address_has_its_own_bytes(client, qw, kept_ten_seconds) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("16:30"), tick=False):
        english = _get(client, "/api/v1/offices/mitte/status")
        german = client.get("/api/v1/offices/mitte/status", HTTP_ACCEPT_LANGUAGE="de")
        other_host = _get(client, "/api/v1/offices/mitte/status", HTTP_HOST="localhost")
    assert (english.json()["word"], german.json()["word"]) == ("closed", "geschlossen")
    assert english.json()["links"]["status"] == "http://testserver/en/status/mitte/"
    assert other_host.json()["links"]["status"] == "http://localhost/en/status/mitte/"


def test_while_another_process_computes_the_previous_answer_is_served(  # type: ignore[no-untyped-def]
    client, qw, kept_ten_seconds, django_assert_num_queries
) -> None:
    start = at("09:00")
    with time_machine.travel(start, tick=False):
        _get(client)
    qw.draw("09:00")
    # Due again at 09:00:10; another process holds the lock of the figures and of the bytes: nobody else computes.
    cache.add(f"{STATUS_KEY}:computing", 1, timeout=live.LOCK_SECONDS)
    cache.add("tickets:status-json:every:en:http://testserver:computing", 1, timeout=live.LOCK_SECONDS)
    with time_machine.travel(start + 11 * SECOND, tick=False), django_assert_num_queries(0):
        meanwhile = _get(client)
    assert meanwhile.json()[0]["waiting"] == 0
    assert meanwhile["Cache-Control"] == "public, max-age=0"
    cache.clear()  # that process is done (here: gone, with its answer)
    with time_machine.travel(start + 11 * SECOND, tick=False):
        assert _get(client).json()[0]["waiting"] == 1


def test_an_answer_is_never_served_older_than_its_period_and_the_lock(qw, settings) -> None:  # type: ignore[no-untyped-def]
    settings.QUEUE_STATUS_CACHE_SECONDS = 10
    start = at("09:00")
    with time_machine.travel(start, tick=False):
        first = live.kept("test:answer", lambda: live.Kept("first", start), now=start, seconds=10)
    cache.add("test:answer:computing", 1, timeout=60)  # a process died while computing
    late = start + (10 + live.LOCK_SECONDS) * SECOND
    with time_machine.travel(late - SECOND, tick=False):
        assert live.kept("test:answer", pytest.fail, now=late - SECOND, seconds=10).value == "first"
    with time_machine.travel(late, tick=False):
        again = live.kept("test:answer", lambda: live.Kept("second", late), now=late, seconds=10)
    assert (first.value, again.value) == ("first", "second")


def test_cold_the_others_wait_for_the_first_computation(qw, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    now = at("09:00")
    cache.add("test:cold:computing", 1, timeout=5)  # another request is computing it
    polls = []

    def stored_meanwhile(seconds: float) -> None:
        polls.append(seconds)
        cache.set("test:cold", live.Kept("theirs", now), 15)

    monkeypatch.setattr(live.time, "sleep", stored_meanwhile)
    assert live.kept("test:cold", pytest.fail, now=now, seconds=10).value == "theirs"
    assert polls == [live.POLL_SECONDS]


def test_without_the_cache_every_request_computes(qw, settings, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    settings.QUEUE_STATUS_CACHE_SECONDS = 0
    now = at("09:00")
    with time_machine.travel(now, tick=False), django_assert_num_queries(STATUS):
        statuses = offices_status_computed(now=now)
    assert [status.office.slug for status in statuses] == ["mitte", "nord"]
    assert cache.get(STATUS_KEY) is None


def test_the_status_pages_are_kept_with_their_figures_and_say_when_they_were_computed(  # type: ignore[no-untyped-def]
    client, qw, kept_ten_seconds, django_assert_num_queries
) -> None:
    computed = at("09:00") + 55 * SECOND
    with time_machine.travel(computed, tick=False):
        page = client.get("/en/status/")
        rows = client.get("/en/status/", HTTP_HX_REQUEST="true")
        office = client.get("/en/status/mitte/")
    qw.draw("09:01")
    with time_machine.travel(computed + 8 * SECOND, tick=False), django_assert_num_queries(0):
        page_again = client.get("/en/status/")
        rows_again = client.get("/en/status/", HTTP_HX_REQUEST="true")
        office_again = client.get("/en/status/mitte/")
    assert (page_again.content, rows_again.content, office_again.content) == (
        page.content,
        rows.content,
        office.content,
    )
    assert "<html" in page.content.decode() and "<html" not in rows.content.decode()
    assert "As of 09:00" in rows_again.content.decode()  # read at 09:01:03, computed at 09:00:55
    assert page_again["Cache-Control"] == "public, max-age=2"
    assert "HX-Request" in page_again["Vary"]
    with time_machine.travel(computed + 10 * SECOND, tick=False):
        later = client.get("/en/status/", HTTP_HX_REQUEST="true").content.decode()
    assert "As of 09:01" in later
    assert "<div><dt>People waiting</dt><dd>1</dd></div>" in later


def test_a_status_page_from_the_previous_figures_is_not_kept(  # type: ignore[no-untyped-def]
    client, qw, kept_ten_seconds
) -> None:
    start = at("09:00")
    with time_machine.travel(start, tick=False):
        client.get("/en/status/")
    cache.add(f"{STATUS_KEY}:computing", 1, timeout=live.LOCK_SECONDS)  # another process computes
    with time_machine.travel(start + 11 * SECOND, tick=False):
        meanwhile = client.get("/en/status/")
    assert "As of 09:00" in meanwhile.content.decode()
    assert "no-cache" in meanwhile["Cache-Control"] and not meanwhile.has_header("ETag")


def test_a_process_asks_the_cache_for_a_fresh_answer_once(qw, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.QUEUE_STATUS_CACHE_SECONDS = 10
    now = at("09:00")
    live.kept("test:local", lambda: live.Kept("answer", now), now=now, seconds=10)
    asked: list[str] = []
    monkeypatch.setattr(live.cache, "get", lambda key, default=None: asked.append(key))
    assert live.kept("test:local", pytest.fail, now=now + 9 * SECOND, seconds=10).value == "answer"
    assert asked == []
    # Due: the cache is asked again (here it has nothing, so this request computes).
    assert live.kept("test:local", lambda: live.Kept("new", now), now=now + 10 * SECOND, seconds=10).value == "new"
    assert asked == ["test:local"]


def test_a_status_page_rendered_for_one_visitor_is_not_cached_by_anyone(  # type: ignore[no-untyped-def]
    client, qw, kept_ten_seconds
) -> None:
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(messages.INFO, "Only for you.")
    cookie = HttpResponse()
    storage.update(cookie)
    client.cookies[storage.cookie_name] = cookie.cookies[storage.cookie_name].value
    with time_machine.travel(at("09:00"), tick=False):
        mine = client.get("/en/status/")
        theirs = Client().get("/en/status/")
    assert "Only for you." in mine.content.decode() and "no-cache" in mine["Cache-Control"]
    assert "Only for you." not in theirs.content.decode() and "public" in theirs["Cache-Control"]
