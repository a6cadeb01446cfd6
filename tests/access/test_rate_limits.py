"""Budgets per address and per API key: 429 with Retry-After at the limit, in the citizen's language; fail open."""

import datetime
import json
import logging
import secrets
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client, override_settings

from access import limits
from access.keys import api_key_create
from access.models import ApiKey
from booking.grid import BERLIN
from booking.models import Appointment
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, 10, tzinfo=BERLIN)
BUDGETS = {"read": "5/minute", "hold": "3/minute", "book": "2/minute", "move": "2/hour", "cancel": "2/hour"}


@pytest.fixture(autouse=True)
def budgets() -> Iterator[None]:
    limits._down.clear()
    with override_settings(RATE_LIMITS=BUDGETS):
        yield
    limits._down.clear()


@pytest.fixture
def frozen() -> Iterator[object]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office(frozen: object) -> Office:
    office = bookable_office(counters=4, first=MONDAY, last=MONDAY, slug="mitte")
    offer(office, "personalausweis", 15)
    return office


def fresh_address() -> str:
    """An address no other test counted (the counters may live in a Redis shared by the whole run)."""
    return f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}::1"


def citizen(address: str | None = None, **headers: str) -> Client:
    return Client(REMOTE_ADDR=address or fresh_address(), headers=headers)


def book(client: Client, minute: int, **headers: str) -> tuple[int, dict, object]:
    start = datetime.datetime.combine(MONDAY, datetime.time(9, minute), tzinfo=BERLIN).isoformat()
    payload = {
        "office": "mitte",
        "start": start,
        "services": [{"service": "personalausweis", "persons": 1}],
        "name": "Erika Mustermann",
        "email": f"erika{minute}@example.org",
    }
    response = client.post(
        "/api/v1/appointments", json.dumps(payload), content_type="application/json", headers=headers
    )
    return response.status_code, response.json(), response.get("Retry-After")


def test_a_booking_over_the_budget_is_answered_429_with_retry_after_and_never_runs(office):
    client = citizen(**{"Accept-Language": "en"})
    assert [book(client, minute)[0] for minute in (0, 15)] == [201, 201]
    status, body, retry_after = book(client, 30)
    assert status == 429
    assert 1 <= int(retry_after) <= 60  # "2/minute": the window ends within the minute
    assert body["retry_after"] == int(retry_after)
    assert "Too many requests" in body["detail"]
    assert Appointment.objects.count() == 2  # the third never reached the booking


def test_the_429_speaks_the_citizens_language(office):
    client = citizen()
    for minute in (0, 15):
        book(client, minute)
    status, body, _retry = book(client, 30, **{"Accept-Language": "de"})
    assert status == 429
    assert "Zu viele Anfragen" in body["detail"]


def test_the_page_of_the_booking_flow_answers_429_as_a_page_in_german(office):
    client = citizen(**{"Accept-Language": "de"})
    for _ in range(5):
        assert client.get("/book/at/mitte/").status_code != 429
    response = client.get("/book/at/mitte/")
    assert response.status_code == 429
    assert response["Retry-After"].isdigit()
    assert response["Content-Type"].startswith("text/html")
    assert "Zu viele Anfragen" in response.content.decode()


def test_each_kind_of_request_has_its_own_budget(office):
    client = citizen()
    for minute in (0, 15):
        book(client, minute)
    assert book(client, 30)[0] == 429
    assert client.get("/api/v1/availability?services=personalausweis&office=mitte").status_code == 200
    assert client.get("/api/v1/services").status_code == 200


def test_reads_count_against_the_read_budget_also_when_the_answer_is_reused(office):
    client = citizen()
    statuses = [client.get("/api/v1/availability?services=personalausweis&office=mitte").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_another_address_has_its_own_budget(office):
    first = citizen()
    for minute in (0, 15):
        book(first, minute)
    assert book(first, 30)[0] == 429
    assert book(citizen(), 30)[0] == 201


def test_an_ipv6_network_of_one_household_is_one_address(office):
    network = fresh_address().removesuffix("::1")
    assert book(citizen(f"{network}::1"), 0)[0] == 201
    assert book(citizen(f"{network}:1:2:3:4"), 15)[0] == 201
    assert book(citizen(f"{network}::beef"), 30)[0] == 429


def test_behind_the_trusted_proxy_the_forwarded_address_is_counted(office):
    proxy, one, other = fresh_address(), fresh_address(), fresh_address()
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for minute in (0, 15):
            book(citizen(proxy, **{"X-Forwarded-For": one}), minute)
        assert book(citizen(proxy, **{"X-Forwarded-For": one}), 30)[0] == 429
        assert book(citizen(proxy, **{"X-Forwarded-For": f"{one}, {other}"}), 30)[0] == 201  # the proxy's entry


def test_an_api_key_counts_against_its_own_larger_budget_not_the_address(office):
    _api_key, key = api_key_create(name="115", budget_scale=3)
    address = fresh_address()
    integrator = citizen(address, Authorization=f"Bearer {key}")
    statuses = [book(integrator, minute)[0] for minute in (0, 5, 10, 15, 20, 25, 30)]
    assert statuses == [201] * 6 + [429]  # "2/minute" times 3
    assert book(citizen(address), 35)[0] == 201  # the address's own budget is untouched


def test_a_wrong_or_revoked_api_key_is_refused_and_not_counted_as_a_citizen(office):
    api_key, key = api_key_create(name="Stadtportal")
    response = citizen(Authorization="Bearer bsk_not-a-key").get("/api/v1/services")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    ApiKey.objects.filter(pk=api_key.pk).update(active=False)
    assert citizen(Authorization=f"Bearer {key}").get("/api/v1/services").status_code == 401
    assert book(citizen(Authorization=f"Bearer {key}"), 0)[0] == 401
    assert not Appointment.objects.exists()


def test_the_key_is_stored_only_as_its_hash():
    api_key, key = api_key_create(name="115")
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert key.startswith(stored.prefix)
    assert key not in (stored.digest, stored.prefix)
    assert len(stored.digest) == 64


def test_a_key_records_when_it_was_last_used(office):
    api_key, key = api_key_create(name="115")
    citizen(Authorization=f"Bearer {key}").get("/api/v1/services")
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None


def test_with_the_counter_unreachable_requests_pass_and_it_is_logged_once(office, caplog):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"), caplog.at_level(logging.WARNING, "access.limits"):
        client = citizen()
        statuses = [book(client, minute)[0] for minute in (0, 15, 30, 45)]
        limits._limiter = None  # the next test gets its own storage back
    assert statuses == [201] * 4
    assert [record.message for record in caplog.records].count(caplog.records[0].message) == 1
    assert "rate limits unreachable" in caplog.records[0].message


@pytest.mark.redis
def test_the_counts_are_shared_by_every_web_instance_through_redis(office, settings):
    import os

    settings.REDIS_URL = os.environ["REDIS_URL"]
    client = citizen()
    assert book(client, 0)[0] == 201
    limits._limiter = None  # another process: its own connection, the same Redis
    assert book(client, 15)[0] == 201
    limits._limiter = None
    assert book(client, 30)[0] == 429


def test_a_malformed_budget_stops_the_settings(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from buergerservice.env import env_rate

    monkeypatch.setenv("RATE_LIMIT_BOOK", "lots")
    with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_BOOK"):
        env_rate("RATE_LIMIT_BOOK", "10/10 minutes")
    monkeypatch.setenv("RATE_LIMIT_BOOK", "20 per 10 minutes")
    assert env_rate("RATE_LIMIT_BOOK", "10/10 minutes") == "20 per 10 minutes"


def test_addresses_are_counted_ipv4_as_they_are_and_ipv6_by_network():
    assert limits.address_counted("203.0.113.7") == "203.0.113.7"
    assert limits.address_counted("::ffff:203.0.113.7") == "203.0.113.7"
    assert limits.address_counted("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert limits.address_counted("not an address") is None
    assert limits.address_counted("203.0.113.7:5678") is None


def test_a_forwarded_entry_that_is_no_address_counts_as_the_connection_s(office):
    proxy = fresh_address()
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for minute, made_up in ((0, "x" * 300), (15, "evil")):
            assert book(citizen(proxy, **{"X-Forwarded-For": made_up}), minute)[0] == 201
        assert book(citizen(proxy, **{"X-Forwarded-For": "again-another"}), 30)[0] == 429


def test_guessing_api_keys_spends_the_address_s_budget(office):
    address = fresh_address()
    statuses = [book(citizen(address, Authorization=f"Bearer bsk_guess{n}"), n)[0] for n in range(3)]
    assert statuses == [401, 401, 429]


def test_the_admin_shows_a_new_key_once_and_keeps_only_its_hash(admin_client):
    response = admin_client.post(
        "/admin/access/apikey/add/", {"name": "Stadtportal", "budget_scale": 50, "active": "on"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    assert key.startswith("bsk_") and key in response.content.decode()
    stored = ApiKey.objects.get(name="Stadtportal")
    assert (stored.budget_scale, stored.active) == (50, True)
    assert key.startswith(stored.prefix) and key != stored.digest
    page = admin_client.get(f"/admin/access/apikey/{stored.pk}/change/").content.decode()
    assert stored.prefix in page and key not in page
