"""A NUL character (or a lone surrogate) anywhere in a request is refused once for the whole site, never a 500.

PostgreSQL cannot store a NUL in text and answers a query holding one with an
error; these tests fail on PostgreSQL without buergerservice.input_guard (CI
runs them there). On SQLite they still pin the answers: 404 for a path, 400
for a page's field, the API's 422 naming the field.
"""

import json

import pytest
from django.test import Client

from booking.models import Appointment, Hold
from tests.support.factories import next_weekday_at_nine, office_from_today

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    return office_from_today()


def _post_json(client: Client, url: str, data: object, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def _booking(**fields: object) -> dict:
    return {
        "office": "mitte",
        "start": next_weekday_at_nine(),
        "services": [{"service": "personalausweis", "persons": 1}],
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    } | fields


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/appointments/a%00b",
        "/api/v1/holds/a%00b",
        "/api/v1/offices/a%00b/status",
        "/api/v1/staff/offices/a%00b/day",
    ],
)
def test_a_nul_in_an_api_path_token_is_a_json_404(client, office, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "url", ["/appointment/a%00b/", "/t/a%00b/", "/book/hold/a%00b/", "/en/appointment/a%00b/cancel/"]
)
def test_a_nul_in_a_page_path_token_is_the_sites_404_page(client, office, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
    english = url.startswith("/en/")
    assert ("Page not found" if english else "Seite nicht gefunden") in response.content.decode()


def test_a_nul_in_a_query_parameter_of_a_page_is_a_400_in_the_pages_language(client, office):
    german = client.get("/book/?office=a%00b")
    english = client.get("/en/book/where/?services=a%00b")
    assert german.status_code == english.status_code == 400
    assert "Ungültige Eingabe" in german.content.decode()
    assert "Invalid input" in english.content.decode()
    assert english["Content-Language"] == "en"


def test_a_nul_in_a_query_parameter_of_the_api_is_a_422_naming_it(client, office):
    url = "/api/v1/availability?services=personalausweis&office=a%00b"
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "office"]
    assert error["msg"] == "This text contains a character that is not allowed, such as a null character."


@pytest.mark.parametrize(
    ("url", "data", "loc"),
    [
        ("/api/v1/holds", {"office": "a\u0000", "start": "2030-01-07T09:00:00+01:00", "services": []}, ["office"]),
        ("/api/v1/appointments", _booking(name="Erika\u0000"), ["name"]),
        ("/api/v1/appointments", _booking(phone="0151\u0000"), ["phone"]),
        ("/api/v1/appointments", _booking(hold="\u0000"), ["hold"]),
        ("/api/v1/appointments", _booking(services=[{"service": "personal\u0000ausweis"}]), ["services", 0, "service"]),
        ("/api/v1/appointments", _booking(email="\ud800@example.org"), ["email"]),  # a lone surrogate: no UTF-8
        ("/api/v1/appointments", _booking() | {"a\u0000": 1}, ["a\u0000"]),  # a key is text too
    ],
)
def test_a_nul_in_a_json_string_of_the_api_is_a_422_naming_the_field_and_changes_nothing(
    client, office, url, data, loc
):
    response = _post_json(client, url, data)
    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", *loc]
    assert error["type"] == "forbidden_character"
    assert not Appointment.objects.exists() and not Hold.objects.exists()


def test_a_nul_in_the_hold_of_a_move_is_a_422(client, office):
    booked = _post_json(client, "/api/v1/appointments", _booking())
    assert booked.status_code == 201, booked.content
    token = booked.json()["manage_token"]
    move = {"start": next_weekday_at_nine(), "hold": "x\u0000"}
    moved = _post_json(client, f"/api/v1/appointments/{token}/move", move)
    assert moved.status_code == 422
    assert moved.json()["detail"][0]["loc"] == ["body", "hold"]


def test_a_nul_in_a_form_field_of_a_page_is_a_400(client, office):
    response = client.post("/staff/login/", {"username": "clerk\x00", "password": "secret"})
    assert response.status_code == 400
    assert "Ungültige Eingabe" in response.content.decode()


def test_a_cookie_holding_a_nul_is_dropped_not_looked_up(office):
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get("/staff/capacity/mitte/")  # reads the session to know who is signed in
    assert response.status_code == 302  # to the sign-in page, as for anyone without a session


def test_clean_input_passes_the_guard(client, office):
    assert client.get("/book/?services=personalausweis").status_code == 200
    assert _post_json(client, "/api/v1/appointments", _booking(name="Zoë Ødegård")).status_code == 201


def test_a_nul_in_a_request_header_is_refused_before_the_sign_in_lockout_stores_it(client, office):  # type: ignore[no-untyped-def]
    response = client.post(
        "/staff/login/", {"username": "clerk", "password": "wrong"}, headers={"user-agent": "Mozilla\x00/5.0"}
    )
    assert response.status_code == 400
    assert "unzulässiges Zeichen" in response.content.decode()
    api = client.get("/api/v1/services", headers={"accept-language": "en", "x-anything": "a\x00b"})
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["header", "x-anything"]
