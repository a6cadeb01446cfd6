"""Proof of work before a hold (ALTCHA): required, used once, rising in cost; a question without JavaScript."""

import base64
import datetime
import json
import re
import secrets
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import time_machine
from altcha import Challenge, Payload, solve_challenge
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from access import limits, proof
from access.keys import api_key_create
from access.models import UsedProof
from access.proof import proofs_forget
from booking.grid import BERLIN
from booking.models import Appointment, Hold
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
COUNTER = 16  # small, so the tests solve at once; the shape of the cost is what is tested


@pytest.fixture(autouse=True)
def proof_on() -> Iterator[None]:
    limits._down.clear()
    cache.clear()  # the times page is kept per language: rendered again with the widget
    with override_settings(
        PROOF_OF_WORK=True,
        PROOF_OF_WORK_COST=10,
        PROOF_OF_WORK_COUNTER=COUNTER,
        PROOF_OF_WORK_FREE=3,
        PROOF_OF_WORK_MAX_LEVEL=2,
        PROOF_QUESTIONS_PER_HOUR=2,
    ):
        yield
    cache.clear()


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office(frozen) -> Office:  # type: ignore[no-untyped-def]
    office = bookable_office(counters=3, first=MONDAY, last=MONDAY, slug="mitte")
    offer(office, "personalausweis", 15)
    return office


def fresh_address() -> str:
    return f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}::1"


def citizen() -> Client:
    return Client(REMOTE_ADDR=fresh_address(), headers={"Accept-Language": "en"})


def solved(client: Client) -> tuple[str, int]:
    """A fresh challenge solved as a script would: the payload and the counter it took."""
    response = client.get("/api/v1/challenge")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    solution = solve_challenge(Challenge.from_dict(response.json()))
    assert solution is not None
    return Payload(Challenge.from_dict(response.json()), solution).to_base64(), solution.counter


def iso(hhmm: str) -> str:
    return datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN).isoformat()


def api_hold(client: Client, hhmm: str, proof: str | None = None, **headers: str) -> tuple[int, dict]:
    payload = {"office": "mitte", "start": iso(hhmm), "services": [{"service": "personalausweis"}]}
    if proof is not None:
        headers["Altcha"] = proof
    response = client.post("/api/v1/holds", json.dumps(payload), content_type="application/json", headers=headers)
    return response.status_code, response.json()


def api_book(client: Client, hhmm: str, proof: str | None = None, **fields: object) -> tuple[int, dict]:
    payload = {
        "office": "mitte",
        "start": iso(hhmm),
        "services": [{"service": "personalausweis"}],
        "name": "Erika Mustermann",
        "email": f"erika{hhmm.replace(':', '')}@example.org",
    } | fields
    headers = {"Altcha": proof} if proof is not None else {}
    response = client.post(
        "/api/v1/appointments", json.dumps(payload), content_type="application/json", headers=headers
    )
    return response.status_code, response.json()


# The API


def test_a_hold_without_a_proof_of_work_is_refused_and_says_where_to_get_one(office):
    status, body = api_hold(citizen(), "09:00")
    assert status == 403
    assert "/api/v1/challenge" in body["detail"]
    assert not Hold.objects.exists()


def test_a_solved_challenge_places_a_hold_once(office):
    client = citizen()
    proof, _counter = solved(client)
    assert api_hold(client, "09:00", proof)[0] == 201
    assert api_hold(client, "09:15", proof)[0] == 403  # the same solution again: a replay
    assert Hold.objects.count() == 1


@pytest.mark.parametrize(
    "proof", ["", "garbage", "e30=", "x" * 5000, base64.b64encode(b"[" * 2900).decode(), "\u00b2\u00b3"]
)
def test_what_is_not_a_solution_is_refused(office, proof):
    assert api_hold(citizen(), "09:00", proof)[0] == 403


def test_a_solution_with_another_key_or_signature_is_refused(office):
    client = citizen()
    proof, _counter = solved(client)
    data = Payload.from_base64(proof).to_dict()
    key = data["solution"]["derivedKey"]
    guessed = key[:-1] + ("0" if key[-1] != "0" else "1")  # a key that was not derived: no work done
    forged = dict(data, solution=dict(data["solution"], derivedKey=guessed))
    assert api_hold(client, "09:00", Payload.from_dict(forged).to_base64())[0] == 403
    unsigned = dict(data, challenge=dict(data["challenge"], signature="0" * 64))
    assert api_hold(client, "09:00", Payload.from_dict(unsigned).to_base64())[0] == 403
    assert api_hold(client, "09:00", proof)[0] == 201  # the untouched one still works


def test_an_expired_solution_is_refused(office, frozen):
    client = citizen()
    proof, _counter = solved(client)
    frozen.shift(datetime.timedelta(minutes=10, seconds=1))
    assert api_hold(client, "09:00", proof)[0] == 403


def test_the_work_doubles_with_every_challenge_beyond_the_free_ones_up_to_the_cap(office, monkeypatch):
    costliest = SimpleNamespace(randbelow=lambda top: top - 1, token_urlsafe=secrets.token_urlsafe)
    monkeypatch.setattr(proof, "secrets", costliest)  # each challenge's costliest counter
    client = citizen()
    counters = [solved(client)[1] for _ in range(6)]
    assert counters == [COUNTER - 1] * 3 + [COUNTER * 2 - 1, COUNTER * 4 - 1, COUNTER * 4 - 1]  # free 3, x2, x4, capped
    assert solved(citizen())[1] == COUNTER - 1  # another address starts cheap


def test_the_counter_to_find_is_anywhere_below_the_top(office):
    client = citizen()
    counters = [solved(client)[1] for _ in range(3)]
    assert all(0 <= counter < COUNTER for counter in counters)


def test_a_booking_without_a_hold_needs_a_proof_and_one_with_a_paid_hold_does_not(office):
    client = citizen()
    assert api_book(client, "09:00")[0] == 403
    assert api_book(client, "09:00", solved(client)[0])[0] == 201
    status, hold = api_hold(client, "10:00", solved(client)[0])
    assert status == 201
    assert api_book(client, "10:00", hold=hold["token"])[0] == 201
    assert Appointment.objects.count() == 2


def test_an_api_key_needs_no_proof_of_work(office):
    _api_key, key = api_key_create(name="115")
    assert api_hold(citizen(), "09:00", Authorization=f"Bearer {key}")[0] == 201


def test_two_requests_with_one_solution_at_once_place_one_hold(office):
    """The spend is one INSERT … ON CONFLICT DO NOTHING: of two, one finds the row taken (the race on PostgreSQL
    is in tests/system; here the record itself)."""
    client = citizen()
    proof, _counter = solved(client)
    assert api_hold(client, "09:00", proof)[0] == 201
    assert UsedProof.objects.count() == 1


def test_used_proofs_are_forgotten_once_their_challenge_expired(office, frozen):
    client = citizen()
    api_hold(client, "09:00", solved(client)[0])
    assert proofs_forget(now=timezone.now()) == 0
    assert proofs_forget(now=timezone.now() + datetime.timedelta(minutes=10)) == 1


# The web flow


def web_hold(client: Client, hhmm: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/en/book/at/mitte/hold/", {"services": "personalausweis", "start": f"2026-11-23T{hhmm}", **fields}
    )


def question_of(response) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    page = response.content.decode()
    token = re.search(r'name="proof_token" value="([^"]+)"', page).group(1)
    first, second = map(int, re.search(r"How much is (\d+) plus (\d+)\?", page).groups())
    return token, first + second


def test_the_times_page_carries_the_widget_served_by_us(office):
    page = Client(headers={"Accept-Language": "en"}).get("/en/book/at/mitte/?services=personalausweis&date=2026-11-23")
    text = page.content.decode()
    assert "<altcha-widget" in text and 'challenge="/api/v1/challenge"' in text
    assert "/static/vendor/altcha/external/altcha.min.js" in text
    assert "/static/vendor/altcha/workers/pbkdf2.js" in text
    assert 'name="altcha"' in text and "data-proof" in text
    assert "http" not in re.sub(
        r"https?://(testserver|www\.w3\.org)", "", " ".join(re.findall(r'(?:src|href)="[^"]*"', text))
    )


def test_without_the_proof_of_work_the_page_has_no_widget(office):
    with override_settings(PROOF_OF_WORK=False):
        cache.clear()
        page = Client().get("/en/book/at/mitte/?services=personalausweis&date=2026-11-23").content.decode()
    assert "altcha" not in page


def test_the_widget_s_solution_places_the_hold(office):
    client = citizen()
    response = web_hold(client, "09:00", altcha=solved(client)[0])
    assert response.status_code == 302
    assert Hold.objects.count() == 1


def test_without_javascript_a_question_is_asked_and_the_right_answer_holds_the_time(office):
    client = citizen()
    asked = web_hold(client, "09:00")
    assert asked.status_code == 200
    assert not Hold.objects.exists()
    assert "call the city's service number 115" in asked.content.decode()
    token, answer = question_of(asked)
    response = web_hold(client, "09:00", proof_token=token, proof_answer=f" {answer} ")
    assert response.status_code == 302
    assert Hold.objects.count() == 1


def test_a_wrong_answer_asks_again_and_a_used_question_is_refused(office):
    client = citizen()
    token, answer = question_of(web_hold(client, "09:00"))
    wrong = web_hold(client, "09:00", proof_token=token, proof_answer=str(answer + 1))
    assert wrong.status_code == 422
    assert 'aria-invalid="true"' in wrong.content.decode()
    assert web_hold(client, "09:00", proof_token=token, proof_answer=str(answer)).status_code == 302
    replay = web_hold(citizen(), "09:15", proof_token=token, proof_answer=str(answer))
    assert replay.status_code == 422
    assert Hold.objects.count() == 1


def test_an_address_gets_only_a_few_questions_an_hour(office):
    client = citizen()
    statuses = []
    for hhmm in ("09:00", "09:15", "09:30"):
        token, answer = question_of(web_hold(client, hhmm))
        statuses.append(web_hold(client, hhmm, proof_token=token, proof_answer=str(answer)).status_code)
    assert statuses == [302, 302, 422]  # PROOF_QUESTIONS_PER_HOUR = 2


def test_a_stale_widget_solution_falls_back_to_the_question(office):
    client = citizen()
    proof = solved(client)[0]
    assert web_hold(client, "09:00", altcha=proof).status_code == 302
    again = web_hold(client, "09:15", altcha=proof)
    assert again.status_code == 422
    assert "How much is" in again.content.decode()


@pytest.mark.parametrize("answer", ["\u00b2", "\u2460", "1" * 5000, "-3", "4.0", ""])
def test_an_answer_that_is_no_small_number_is_refused_not_an_error(office, answer):
    client = citizen()
    token, _answer = question_of(web_hold(client, "09:00"))
    response = web_hold(client, "09:00", proof_token=token, proof_answer=answer)
    assert response.status_code == (200 if answer == "" else 422)  # nothing typed: simply asked again
    assert "How much is" in response.content.decode()
    assert not Hold.objects.exists()


def test_the_question_s_limit_holds_while_redis_is_unreachable(office):
    client = citizen()
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        statuses = []
        for hhmm in ("09:00", "09:15", "09:30"):
            token, answer = question_of(web_hold(client, hhmm))
            statuses.append(web_hold(client, hhmm, proof_token=token, proof_answer=str(answer)).status_code)
        limits._limiter = None
    assert statuses == [302, 302, 422]


def test_the_question_page_names_the_day_and_time(office):
    page = web_hold(citizen(), "09:00").content.decode()
    assert "Before we keep Monday, 23 November 2026, 09:00 at" in page
