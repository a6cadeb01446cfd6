"""What a booking or hold POST costs and answers: its queries, its answer without a read back, and the rare paths
that used to cost every POST a query or a savepoint (an expired hold in the way, a booking code drawn twice)."""

import datetime
import json
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test import Client

from booking.grid import BERLIN
from booking.models import Appointment, Hold, Slot
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)

# A booking's transaction, in the lock order: the per-address advisory lock (PostgreSQL only), the address's count,
# the slots locked and taken (slots_take: the lock and the update, no savepoint of its own), the appointment, its
# line and its confirmation; and the transaction around it (a savepoint here, as tests run inside one: BEGIN and
# COMMIT in production). The office, the services and their durations come from the shared cache; expired holds
# are looked for only when the units are taken; the answer is the appointment as written, not read back.
BOOKING_QUERIES = 9 if connection.vendor == "postgresql" else 8
# A hold: its transaction, the holder's advisory lock (PostgreSQL only) and the count of its live holds (the caps
# against hoarding; its cool-down is in the cache), the slots locked and taken (as above), the hold.
HOLD_QUERIES = 7 if connection.vendor == "postgresql" else 6
# A booking that lost the race: its transaction up to the refused update (as above, rolled back), the look for
# expired holds in the way, and the nearest free times of the lost day (the office's holds, its free runs, its phone
# reserve): no second look for expired holds, and no week unless the day has too few.
LOST_QUERIES = 11 if connection.vendor == "postgresql" else 10


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(counters=1, first=MONDAY, last=MONDAY, slug="mitte")
    offer(office, "personalausweis", 15, max_persons=4)
    offer(office, "anmeldung", 10)
    return office


def at(hhmm: str) -> str:
    return datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN).isoformat()


def post(client: Client, path: str, body: dict) -> tuple[int, dict]:
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def booking(hhmm: str, email: str, services: list[dict] | None = None) -> dict:
    services = services or [{"service": "personalausweis", "persons": 1}]
    return {"office": "mitte", "start": at(hhmm), "services": services, "name": "Erika Mustermann", "email": email}


def hold(hhmm: str) -> dict:
    return {"office": "mitte", "start": at(hhmm), "services": [{"service": "personalausweis", "persons": 1}]}


def test_a_booking_post_costs_its_transaction_and_nothing_more(
    client: Client, office: Office, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    assert post(client, "/api/v1/appointments", booking("08:00", "first@example.org"))[0] == 201
    with django_assert_num_queries(BOOKING_QUERIES):
        status, _body = post(client, "/api/v1/appointments", booking("09:00", "second@example.org"))
    assert status == 201


def test_a_hold_post_costs_its_transaction_and_nothing_more(
    client: Client, office: Office, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    assert post(client, "/api/v1/holds", hold("08:00"))[0] == 201
    with django_assert_num_queries(HOLD_QUERIES):
        status, _body = post(client, "/api/v1/holds", hold("09:00"))
    assert status == 201


def test_a_booking_that_lost_the_race_costs_its_refused_transaction_and_one_day_s_free_times(
    client: Client, office: Office, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    assert post(client, "/api/v1/appointments", booking("09:00", "first@example.org"))[0] == 201
    assert post(client, "/api/v1/appointments", booking("10:00", "changes-the-grid@example.org"))[0] == 201
    with django_assert_num_queries(LOST_QUERIES):
        status, body = post(client, "/api/v1/appointments", booking("09:00", "second@example.org"))
    assert status == 409
    assert body["nearest"] == [at("08:40"), at("08:45"), at("09:15")]


def test_the_booking_answer_is_what_reading_the_appointment_answers(client: Client, office: Office) -> None:
    services = [{"service": "anmeldung", "persons": 1}, {"service": "personalausweis", "persons": 2}]
    status, created = post(client, "/api/v1/appointments", booking("10:00", "erika@example.org", services))
    assert status == 201
    read = client.get(f"/api/v1/appointments/{created['manage_token']}").json()
    assert created == read
    assert [line["service"] for line in created["services"]] == ["anmeldung", "personalausweis"]


def test_a_time_kept_by_a_hold_that_ran_out_is_booked_after_releasing_it(
    client: Client, office: Office, frozen: time_machine.Traveller
) -> None:
    assert post(client, "/api/v1/holds", hold("09:00"))[0] == 201
    assert post(client, "/api/v1/appointments", booking("09:00", "early@example.org"))[0] == 409  # still kept
    frozen.shift(datetime.timedelta(minutes=11))
    status, body = post(client, "/api/v1/appointments", booking("09:00", "erika@example.org"))
    assert status == 201, body
    assert not Hold.objects.exists()
    nine = datetime.datetime.combine(MONDAY, datetime.time(9), tzinfo=BERLIN)
    assert Slot.objects.get(office=office, start=nine).booked_online == 1  # the hold's unit given back, then taken


def test_a_hold_that_ran_out_gives_way_to_a_new_hold_too(
    client: Client, office: Office, frozen: time_machine.Traveller
) -> None:
    assert post(client, "/api/v1/holds", hold("09:00"))[0] == 201
    frozen.shift(datetime.timedelta(minutes=11))
    someone_else = Client(REMOTE_ADDR="203.0.113.9")  # the first holder waits out its cool-down (test_hold_caps.py)
    assert post(someone_else, "/api/v1/holds", hold("09:00"))[0] == 201
    assert Hold.objects.count() == 1


def test_a_booking_code_drawn_twice_books_once_with_another_code(
    client: Client, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert post(client, "/api/v1/appointments", booking("08:00", "first@example.org"))[0] == 201
    taken = Appointment.objects.get().booking_code
    codes = iter([taken, "ZZZZ2345"])
    monkeypatch.setattr(Appointment._meta.get_field("booking_code"), "_get_default", lambda: next(codes))
    status, body = post(client, "/api/v1/appointments", booking("09:00", "second@example.org"))
    assert status == 201, body
    assert body["booking_code"] == "ZZZZ2345"
    nine = datetime.datetime.combine(MONDAY, datetime.time(9), tzinfo=BERLIN)
    # The first attempt's transaction was rolled back whole: its unit is not counted twice.
    assert Slot.objects.get(office=office, start=nine).booked_online == 1
    assert Appointment.objects.count() == 2
