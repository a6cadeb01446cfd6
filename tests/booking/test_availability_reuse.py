"""Free times reused between requests (booking.availability, buergerservice.versions), and never stale.

Every change to an office's slots (a booking, a hold, a cancellation, a move, an
expiry, a capacity change) or to its settings is seen by the next read from any
web worker; time alone (the notice, the daily release, a phone reserve released,
a hold running out) ends a reused answer too; the reused answer is what a fresh
computation gives; and a reused read asks the database nothing.
"""

import datetime
import json
import threading

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking.availability import office_free_starts, offices_earliest
from booking.grid import BERLIN
from booking.models import Hold
from booking.selectors import earliest_starts, free_starts
from booking.services.appointments import Contact, appointment_book
from desk.capacity import capacity_changed
from offices.models import Office
from tests.support.factories import AbsenceFactory, bookable_office, offer

pytestmark = pytest.mark.django_db(transaction=True)  # the other worker reads what was committed

MONDAY = datetime.date(2026, 11, 23)
FRIDAY = MONDAY + datetime.timedelta(days=4)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
DAY_URL = f"/api/v1/availability?services=personalausweis&office=mitte&date_from={MONDAY}&date_to={MONDAY}"


def at(day: datetime.date, hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def _kept_long(settings) -> None:  # type: ignore[no-untyped-def]
    """Answers outlive every jump in time here: what ends them must be the change or the moment, not the TTL."""
    settings.VERSIONED_CACHE_SECONDS = 30 * 24 * 3600


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office(frozen) -> Office:  # type: ignore[no-untyped-def]
    office = bookable_office(counters=1, first=MONDAY, last=FRIDAY, slug="mitte")
    offer(office, "personalausweis", 15, max_persons=4)
    return office


def monday(client: Client) -> list[str]:
    response = client.get(DAY_URL)
    assert response.status_code == 200, response.content
    days = response.json()["days"]
    return days[0]["times"] if days else []


def monday_elsewhere() -> list[str]:
    """The same read from another web worker: its own thread, database connection and cache connection."""
    found: dict[str, object] = {}

    def read() -> None:
        try:
            found["times"] = monday(Client())
        except BaseException as error:  # noqa: BLE001 - handed to the test
            found["error"] = error
        finally:
            connections.close_all()

    worker = threading.Thread(target=read)
    worker.start()
    worker.join(30)
    if "error" in found:
        raise found["error"]  # type: ignore[misc]
    return found["times"]  # type: ignore[return-value]


def send(client: Client, method: str, url: str, data: object = None) -> tuple[int, dict]:
    response = getattr(client, method)(
        url, data=json.dumps(data) if data is not None else "", content_type="application/json"
    )
    return response.status_code, response.json() if response.content else {}


def booking(hhmm: str, **fields: object) -> dict:
    return {
        "office": "mitte",
        "start": at(MONDAY, hhmm).isoformat(),
        "services": [{"service": "personalausweis", "persons": 1}],
        "name": "Erika Mustermann",
        "email": f"erika-{hhmm.replace(':', '')}@example.org",
    } | fields


def warm(client: Client) -> list[str]:
    """Read twice: the second answer is the reused one, and it must equal the first."""
    first = monday(client)
    assert monday(client) == first
    return first


# Every kind of change is seen by the next read from another worker


def test_a_booking_is_seen_by_the_next_read_elsewhere(client, office):
    assert "09:00" in warm(client)
    assert send(client, "post", "/api/v1/appointments", booking("09:00"))[0] == 201
    assert "09:00" not in monday_elsewhere()
    assert "09:00" not in monday(client)


def test_a_hold_and_its_release_are_seen_by_the_next_read_elsewhere(client, office):
    assert "10:00" in warm(client)
    status, hold = send(
        client,
        "post",
        "/api/v1/holds",
        {"office": "mitte", "start": at(MONDAY, "10:00").isoformat(), "services": [{"service": "personalausweis"}]},
    )
    assert status == 201
    assert "10:00" not in monday_elsewhere()
    assert send(client, "delete", f"/api/v1/holds/{hold['token']}")[0] == 204
    assert "10:00" in monday_elsewhere()


def test_a_cancellation_is_seen_by_the_next_read_elsewhere(client, office):
    status, appointment = send(client, "post", "/api/v1/appointments", booking("11:00"))
    assert status == 201
    assert "11:00" not in warm(client)
    assert send(client, "delete", f"/api/v1/appointments/{appointment['manage_token']}")[0] == 200
    assert "11:00" in monday_elsewhere()


def test_a_move_is_seen_by_the_next_read_elsewhere(client, office):
    status, appointment = send(client, "post", "/api/v1/appointments", booking("08:00"))
    assert status == 201
    before = warm(client)
    assert "08:00" not in before and "14:00" in before
    moved = send(
        client,
        "post",
        f"/api/v1/appointments/{appointment['manage_token']}/move",
        {"start": at(MONDAY, "14:00").isoformat()},
    )
    assert moved[0] == 200, moved
    after = monday_elsewhere()
    assert "08:00" in after and "14:00" not in after


def test_an_expired_hold_is_free_for_the_next_read_without_any_sweep(client, office, frozen):
    status, _hold = send(
        client,
        "post",
        "/api/v1/holds",
        {"office": "mitte", "start": at(MONDAY, "13:00").isoformat(), "services": [{"service": "personalausweis"}]},
    )
    assert status == 201
    assert "13:00" not in warm(client)
    frozen.move_to(NOW + datetime.timedelta(minutes=11))  # past its ten minutes; no beat task runs here
    assert "13:00" in monday_elsewhere()
    assert not Hold.objects.exists()


def test_a_capacity_change_is_seen_by_the_next_read_elsewhere(client, office):
    assert warm(client)
    clerk = office.memberships.get().user  # the one clerk falls ill for Monday
    AbsenceFactory(user=clerk, start_date=MONDAY, end_date=MONDAY)
    capacity_changed(offices=[office], first=MONDAY, last=MONDAY, by=None, reason="sick", now=NOW)
    assert monday_elsewhere() == []


def test_a_changed_office_setting_is_seen_by_the_next_read_elsewhere(client, office, frozen):
    frozen.move_to(at(MONDAY, "07:00"))
    assert "08:00" in warm(client)
    office.min_notice_minutes = 120  # from now on two hours' notice
    office.save()
    times = monday_elsewhere()
    assert "08:00" not in times and "09:00" in times


# Time alone ends a reused answer


def test_the_notice_passing_the_earliest_time_ends_the_answer(client, office, frozen):
    frozen.move_to(at(MONDAY, "07:00"))
    assert warm(client)[0] == "08:00"
    frozen.move_to(at(MONDAY, "08:01") - datetime.timedelta(minutes=office.min_notice_minutes))
    assert monday(client)[0] == "08:05"  # 08:00 now lies within the notice


def test_the_daily_release_shows_the_new_day_at_once(client, frozen):
    office = bookable_office(
        counters=1, first=MONDAY, last=FRIDAY, slug="mitte", horizon_days=7, release_time=datetime.time(7)
    )
    offer(office, "personalausweis", 15)
    frozen.move_to(at(MONDAY - datetime.timedelta(days=7), "06:59"))  # Monday is released at 07:00 a week before
    assert warm(client) == []
    frozen.move_to(at(MONDAY - datetime.timedelta(days=7), "07:00"))
    assert monday(client)[0] == "08:00"


def test_a_phone_reserve_released_to_online_shows_at_once(client, frozen):
    office = bookable_office(
        counters=1, first=MONDAY, last=FRIDAY, slug="mitte", phone_share_percent=100, phone_release_hours=24
    )
    offer(office, "personalausweis", 15)
    frozen.move_to(at(MONDAY - datetime.timedelta(days=2), "09:00"))
    assert warm(client) == []  # all of Monday is kept for callers until a day before
    frozen.move_to(at(MONDAY - datetime.timedelta(days=1), "08:10"))  # 08:00 to 08:15 are released now
    assert monday(client)[:1] == ["08:00"]


# The reused answer is the fresh one, and costs no query


def test_reused_answers_equal_fresh_ones_for_offices_and_ranges(office, frozen):
    other = bookable_office(counters=2, first=MONDAY, last=FRIDAY, slug="nord", phone_share_percent=50)
    offer(other, "personalausweis", 20)
    contact = Contact(name="Erika", email="erika@example.org", phone="", language="de", reminders_consent=False)
    from booking.needs import needs_load

    needs = needs_load([("personalausweis", 1)])
    appointment_book(office=office, start=at(MONDAY, "09:00"), needs=needs, contact=contact, now=NOW)
    ranges = [(MONDAY, MONDAY), (MONDAY, FRIDAY), (NOW.date(), FRIDAY), (FRIDAY, FRIDAY + datetime.timedelta(days=30))]
    for moment in (NOW, at(MONDAY, "08:40"), at(MONDAY, "12:00")):
        frozen.move_to(moment)
        for each in (office, other):
            each.refresh_from_db()
            for minutes in (15, 30, 60):
                for first, last in ranges:
                    fresh = free_starts(office=each, minutes=minutes, now=moment, first=first, last=last)
                    assert office_free_starts(office=each, minutes=minutes, now=moment, first=first, last=last) == fresh
                    assert office_free_starts(office=each, minutes=minutes, now=moment, first=first, last=last) == fresh
        minutes_by_office = {office: 15, other: 20}
        fresh_earliest = earliest_starts(minutes_by_office=minutes_by_office, now=moment)
        assert offices_earliest(minutes_by_office=minutes_by_office, now=moment) == fresh_earliest
        assert offices_earliest(minutes_by_office=minutes_by_office, now=moment) == fresh_earliest


def test_a_reused_read_asks_the_database_nothing(client, office):
    month = f"/api/v1/availability?services=personalausweis&office=mitte&date_from={MONDAY}&date_to={FRIDAY}"
    anywhere = "/api/v1/availability?services=personalausweis"
    for url in (DAY_URL, month, anywhere):
        with CaptureQueriesContext(connection) as computed:
            first = client.get(url)
        with CaptureQueriesContext(connection) as reused:
            second = client.get(url)
        assert first.status_code == second.status_code == 200
        assert second.content == first.content
        assert len(computed) >= 3, url  # it did read the data the first time
        assert len(reused) == 0, [query["sql"] for query in reused]


def test_the_answer_has_an_etag_and_an_unchanged_one_is_answered_304(client, office):
    first = client.get(DAY_URL)
    etag = first["ETag"]
    assert first["Cache-Control"] == "public, no-cache"
    unchanged = client.get(DAY_URL, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged["ETag"] == etag and not unchanged.content
    assert send(client, "post", "/api/v1/appointments", booking("09:00"))[0] == 201
    changed = client.get(DAY_URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "09:00" not in changed.json()["days"][0]["times"]


def test_the_kept_answer_is_per_language_and_invalid_requests_are_never_answered_from_it(client, office):
    office.name_de, office.name_en = "Bürgerbüro Mitte", "Citizens' Office Centre"
    office.save()
    anywhere = "/api/v1/availability?services=personalausweis"
    for _twice in range(2):
        german = client.get(anywhere, headers={"Accept-Language": "de"})
        english = client.get(anywhere, headers={"Accept-Language": "en"})
        assert german.json()["offices"][0]["name"] == "Bürgerbüro Mitte"
        assert english.json()["offices"][0]["name"] == "Citizens' Office Centre"
        assert english["Content-Language"] == "en"
    backwards = f"{DAY_URL}&date_to={MONDAY - datetime.timedelta(days=1)}"  # date_to given twice, the last wins
    assert client.get(DAY_URL).status_code == 200
    assert client.get(backwards).status_code == 422
    twice = "/api/v1/availability?services=personalausweis&office=mitte&office=nirgends"
    assert client.get(twice).status_code == 422
    assert client.get(twice).status_code == 422


def test_after_a_booking_the_next_read_recomputes_only_the_grid(client, office):
    """The office and its durations come from the catalogue's kept answers: a booking costs the readers three queries
    (the holds' expiries, the free runs, the next phone reserve to be released), not the lookups again."""
    assert monday(client)
    assert send(client, "post", "/api/v1/appointments", booking("09:00"))[0] == 201
    with CaptureQueriesContext(connection) as recomputed:
        assert "09:00" not in monday(client)
    assert len(recomputed) == 3, [query["sql"][:80] for query in recomputed]


def test_a_booking_moves_the_earliest_time_anywhere_for_the_next_read_elsewhere(client, office, frozen):
    """Earliest anywhere is kept under the city-wide grid version: a booking at any office ends it."""
    frozen.move_to(at(MONDAY, "07:00"))
    anywhere = "/api/v1/availability?services=personalausweis"
    assert client.get(anywhere).json()["earliest"]["start"] == at(MONDAY, "08:00").isoformat()
    assert client.get(anywhere).json()["earliest"]["start"] == at(MONDAY, "08:00").isoformat()  # reused
    assert send(client, "post", "/api/v1/appointments", booking("08:00"))[0] == 201
    found: dict[str, str] = {}
    worker = threading.Thread(
        target=lambda: (found.update(Client().get(anywhere).json()["earliest"]), connections.close_all())
    )
    worker.start()
    worker.join(30)
    assert found["start"] == at(MONDAY, "08:15").isoformat()
