"""No-store on pages with one person's data, Permissions-Policy everywhere, SameSite on the language cookie."""

import json

import pytest
import time_machine
from django.test import Client

from booking.models import Hold
from buergerservice.privacy_headers import PERMISSIONS_POLICY
from tests.support.desk_steps import at
from tests.support.staff import sign_in

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:  # type: ignore[no-untyped-def]
    return "no-store" in response.get("Cache-Control", "")


@pytest.fixture
def booked(world):  # type: ignore[no-untyped-def]
    return world.book("10:00")


@pytest.fixture
def hold(client: Client, world) -> Hold:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        response = client.post("/book/at/mitte/hold/", {"services": "personalausweis", "start": "2026-11-23T11:00"})
    assert response.status_code == 302
    assert no_store(response)
    return Hold.objects.get(token=response["Location"].rstrip("/").split("/")[-1])


def test_the_appointment_pages_reached_by_the_manage_token_are_not_stored(client: Client, booked) -> None:  # type: ignore[no-untyped-def]
    token = booked.manage_token
    with time_machine.travel(at("08:00"), tick=False):
        for path in [
            f"/appointment/{token}/",
            f"/en/appointment/{token}/",
            f"/appointment/{token}/cancel/",
            f"/appointment/{token}/move/",
            f"/appointment/{token}/calendar.ics",
        ]:
            response = client.get(path)
            assert response.status_code == 200, path
            assert no_store(response), path
            assert "private" in response["Cache-Control"], path


def test_the_booking_flow_from_the_held_time_on_is_not_stored(client: Client, hold: Hold) -> None:
    with time_machine.travel(at("08:01"), tick=False):
        for path in [f"/book/hold/{hold.token}/", f"/book/hold/{hold.token}/check/"]:
            response = client.get(path)
            assert response.status_code in {200, 302}, path
            assert no_store(response), path
        assert no_store(client.post(f"/book/hold/{hold.token}/extend/"))


def test_the_appointment_api_answers_are_not_stored(client: Client, booked) -> None:  # type: ignore[no-untyped-def]
    api = f"/api/v1/appointments/{booked.manage_token}"
    with time_machine.travel(at("08:00"), tick=False):
        read = client.get(api)
        moved = client.post(f"{api}/move", {"start": at("11:00").isoformat()}, content_type="application/json")
        cancelled = client.delete(api)
        unknown = client.get("/api/v1/appointments/no-such-token")
        booking = {
            "office": "mitte",
            "start": at("11:30").isoformat(),
            "services": [{"service": "personalausweis", "persons": 1}],
            "name": "Erika Mustermann",
            "email": "erika@example.org",
        }
        created = client.post("/api/v1/appointments", json.dumps(booking), content_type="application/json")
        held = client.post(
            "/api/v1/holds",
            {"office": "mitte", "start": at("13:00").isoformat(), "services": booking["services"]},
            content_type="application/json",
        )
    assert [read.status_code, moved.status_code, cancelled.status_code, unknown.status_code] == [200, 200, 200, 404]
    assert created.status_code == 201, created.content
    assert held.status_code == 201, held.content
    for response in (read, moved, cancelled, unknown, created, held):
        assert no_store(response), response.request


def test_the_desks_pages_csv_and_staff_api_are_not_stored(client: Client, world, booked) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "clerk-a")
    with time_machine.travel(at("08:00"), tick=False):
        for path in [
            "/staff/",
            "/staff/desk/mitte/?day=2026-11-23",
            f"/staff/appointments/{booked.pk}/",
            "/staff/desk/mitte/print/?day=2026-11-23",
            "/staff/desk/mitte/day.csv?day=2026-11-23",
            "/staff/desk/mitte/queue/",
            "/api/v1/staff/offices/mitte/day?day=2026-11-23",
        ]:
            response = client.get(path)
            assert response.status_code in {200, 302}, (path, response.status_code)
            assert no_store(response), path


def test_public_pages_keep_their_caching(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    for path in ["/", "/book/", "/offices/mitte/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert not no_store(response), path
    assert not no_store(client.get("/api/v1/offices/status"))  # revalidated, but may be kept


def test_every_response_forbids_camera_microphone_location_payment_and_usb(client: Client, world, booked) -> None:  # type: ignore[no-untyped-def]
    for path in [
        "/",
        "/status/",
        "/api/v1/offices/status",
        f"/appointment/{booked.manage_token}/",
        "/no-such-page/",
        "/static/css/site.css",
        "/healthz",
    ]:
        response = client.get(path)
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY, path


def test_the_language_cookie_is_same_site_lax(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"]["samesite"] == "Lax"


@pytest.mark.browser
def test_chromium_accepts_the_permissions_policy_without_a_console_warning(page, world) -> None:  # type: ignore[no-untyped-def]
    messages: list[str] = []
    devtools = page.context.new_cdp_session(page)
    devtools.send("Log.enable")
    devtools.on("Log.entryAdded", lambda event: messages.append(event["entry"]["text"]))
    page.on("console", lambda message: messages.append(message.text))
    response = page.goto("/")
    assert response.headers["permissions-policy"] == PERMISSIONS_POLICY
    page.reload()
    page.wait_for_timeout(300)
    assert not [text for text in messages if "Permissions-Policy" in text], messages
