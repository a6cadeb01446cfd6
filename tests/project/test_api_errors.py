"""The API answers every error as JSON, refuses bodies that are not application/json, and its schema says so."""

import json

import pytest
from django.test import Client

from booking.models import Appointment, Hold
from tests.support.factories import clerk_at, next_weekday_at_nine, office_from_today

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    return office_from_today()


def _booking() -> dict:
    return {
        "office": "mitte",
        "start": next_weekday_at_nine(),
        "services": [{"service": "personalausweis", "persons": 1}],
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }


def _is_json_error(response) -> bool:  # type: ignore[no-untyped-def]
    return response["Content-Type"] == "application/json" and isinstance(response.json()["detail"], str | list)


# Errors are JSON


@pytest.mark.parametrize("url", ["/api/v1/nope", "/api/v1/", "/api/v1/holds/", "/api/v2/services"])
def test_an_unknown_api_address_is_a_json_404(client, url):
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert _is_json_error(response)
    assert response.json() == {"detail": "Not found."}


def test_a_wrong_method_is_a_json_405_with_the_allowed_ones(client):
    response = client.put("/api/v1/holds", "{}", content_type="application/json", headers={"Accept-Language": "de"})
    assert response.status_code == 405
    assert response.json() == {"detail": "Diese Methode ist hier nicht erlaubt."}
    assert response["Allow"] == "POST"


def test_an_unexpected_exception_is_a_json_500(office, monkeypatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("booking.api.endpoints.public_services", broken)
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/services", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error. Please try again in a few minutes."}


def test_pages_keep_their_html_errors_and_the_docs_stay_html(client):
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]
    assert "text/html" in client.get("/api/v1/docs")["Content-Type"]


# Bodies are JSON


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_booking_sent_as_anything_but_json_is_415_and_books_nothing(office, content_type):
    # What a cross-site form can send without a CORS preflight, from a browser with no CSRF protection to help.
    client = Client(enforce_csrf_checks=True)
    body = json.dumps(_booking())
    if content_type == "multipart/form-data":
        response = client.post("/api/v1/appointments", {"payload": body})
    elif content_type == "application/x-www-form-urlencoded":
        response = client.post("/api/v1/appointments", f"payload={body}", content_type=content_type)
    else:
        response = client.post("/api/v1/appointments", body, content_type=content_type)
    assert response.status_code == 415
    assert _is_json_error(response)
    assert not Appointment.objects.exists()


def test_a_hold_and_a_move_sent_as_text_are_415(client, office):
    body = json.dumps(
        {"office": "mitte", "start": next_weekday_at_nine(), "services": [{"service": "personalausweis"}]}
    )
    assert client.post("/api/v1/holds", body, content_type="text/plain").status_code == 415
    assert not Hold.objects.exists()
    booked = client.post("/api/v1/appointments", json.dumps(_booking()), content_type="application/json")
    token = booked.json()["manage_token"]
    move = json.dumps({"start": next_weekday_at_nine()})
    moved = client.post(f"/api/v1/appointments/{token}/move", move, content_type="text/plain")
    assert moved.status_code == 415


def test_a_staff_step_sent_as_text_is_415(client, office):
    client.force_login(clerk_at(office))
    response = client.post("/api/v1/staff/appointments/1/call", '{"counter": 1}', content_type="text/plain")
    assert response.status_code == 415


def test_json_with_a_charset_is_json(client, office):
    body = json.dumps(_booking())
    response = client.post("/api/v1/appointments", body, content_type="application/json; charset=utf-8")
    assert response.status_code == 201


def test_a_body_that_is_not_json_is_a_translated_400(client, office):
    german = {"Accept-Language": "de"}
    response = client.post("/api/v1/holds", "{office:", content_type="application/json", headers=german)
    assert response.status_code == 400
    assert response.json() == {"detail": "Der Inhalt ist kein gültiges JSON."}


# The schema tells the truth


def test_the_schema_declares_what_the_guard_and_the_staff_session_answer(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert {"400", "422"} <= declared, (method, path)
            if method in {"post", "delete"}:
                assert {"400", "415"} <= declared, (method, path)
            if "{" in path:
                assert "404" in declared, (method, path)
            if path.startswith("/api/v1/staff/"):
                assert {"401", "403"} <= declared, (method, path)
    assert "415" not in paths["/api/v1/services"]["get"]["responses"]
    # The public API's 401 is a wrong API key's, not the staff session's (access.limits).
    assert "API key" in paths["/api/v1/holds"]["post"]["responses"]["401"]["description"]
    assert "429" in paths["/api/v1/holds"]["post"]["responses"]


def test_a_json_error_keeps_the_headers_of_the_answer_it_replaces(client):
    """No-store, Permissions-Policy and the security headers stay on a 404 and a 405 rewritten as JSON."""
    for response in (client.get("/api/v1/nope"), client.get("/api/v1/appointments/" + "x" * 40 + "/move")):
        assert response.status_code in (404, 405) and _is_json_error(response)
        assert "camera=()" in response["Permissions-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert "no-store" in client.get("/api/v1/appointments/" + "x" * 40 + "/move")["Cache-Control"]


def test_a_get_with_a_body_is_answered_as_a_get_not_refused(client, office):
    """A GET's body is never read, so it is not refused either: the schema declares no 415 on reads."""
    for content_type, body in (("text/plain", "hello"), ("application/json", "{")):
        response = client.generic("GET", "/api/v1/offices", body, content_type=content_type)
        assert response.status_code == 200, (content_type, response.content)


@pytest.mark.parametrize("url", ["/api/v1/holds", "/book/", "/en/book/", "/staff/login/", "/i18n/setlang/"])
def test_a_form_in_another_charset_than_utf_8_is_a_400_not_a_server_error(url):
    """With a CSRF cookie, Django's own 400 page read the unreadable form again and failed: a 500 everywhere."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies["csrftoken"] = "ClrPaFZn8etRH3iBfhJaaO7C5Cz3BUdc"
    for charset in ("utf-16", "latin-1"):
        response = client.post(url, "a=b", content_type=f"application/x-www-form-urlencoded; charset={charset}")
        assert response.status_code in (400, 415), (url, charset, response.status_code)
        if url.startswith("/api/"):
            assert _is_json_error(response)
