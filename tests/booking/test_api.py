"""The public booking API under /api/v1/: catalogue, free times, holds, booking, cancelling, moving, docs."""

import datetime
import json
import re

import pytest
import time_machine
from django.test import Client

from booking.grid import BERLIN
from booking.models import Appointment, Hold, Slot
from offices.models import Office
from tests.support.factories import ServiceFactory, bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
TUESDAY = MONDAY + datetime.timedelta(days=1)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)  # a week before


def iso(day: datetime.date, hhmm: str) -> str:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN).isoformat()


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office(frozen) -> Office:  # type: ignore[no-untyped-def]
    office = bookable_office(counters=1, first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte")
    offer(office, "personalausweis", 15, max_persons=4)
    offer(office, "anmeldung", 10)
    return office


def get(client: Client, url: str, **headers: str) -> tuple[int, object]:
    response = client.get(url, headers=headers)
    return response.status_code, response.json() if response.content else None


def send(client: Client, method: str, url: str, data: object = None, **headers: str) -> tuple[int, object]:
    response = getattr(client, method)(
        url, data=json.dumps(data) if data is not None else "", content_type="application/json", headers=headers
    )
    return response.status_code, response.json() if response.content else None


def booking(start: str = iso(MONDAY, "09:00"), **fields: object) -> dict:
    return {
        "office": "mitte",
        "start": start,
        "services": [{"service": "personalausweis", "persons": 1}],
        "name": "Erika Mustermann",
        "email": f"erika-{start[11:16].replace(':', '')}@example.org",
    } | fields


def monday_times(client: Client, services: str = "personalausweis") -> list[str]:
    status, body = get(client, f"/api/v1/availability?services={services}&office=mitte&date_from={MONDAY}")
    assert status == 200, body
    return next((day["times"] for day in body["days"] if day["date"] == MONDAY.isoformat()), [])


# The catalogue


def test_the_services_are_the_public_ones_with_what_to_bring(client, office):
    offer(office, "reisepass", 20, what_to_bring_de="Alter Reisepass\n- Passfoto", what_to_bring_en="Old passport")
    ServiceFactory(slug="nirgends")  # offered nowhere
    offer(office, "eingestellt", 10, active=False)
    status, body = get(client, "/api/v1/services", **{"Accept-Language": "en"})
    assert status == 200
    assert sorted(service["slug"] for service in body) == ["anmeldung", "personalausweis", "reisepass"]
    passport = next(service for service in body if service["slug"] == "reisepass")
    assert passport["what_to_bring"] == ["Old passport"]
    assert set(passport) == {
        "slug",
        "name",
        "category",
        "description",
        "what_to_bring",
        "max_persons",
        "default_duration_minutes",
    }
    assert passport["default_duration_minutes"] == 20 and passport["name"].startswith("Service ")
    assert passport["category"].startswith("category-")


def test_the_offices_are_the_active_ones_with_their_durations_read_in_two_queries(
    client, office, django_assert_num_queries
):
    for n in range(3):
        other = bookable_office(first=MONDAY, last=MONDAY, slug=f"other-{n}")
        offer(other, "personalausweis", 20 + n)
        offer(other, "anmeldung", 10)
    bookable_office(first=MONDAY, last=MONDAY, slug="closed", active=False)
    with django_assert_num_queries(2):
        status, body = get(client, "/api/v1/offices")
    assert status == 200
    assert sorted(item["slug"] for item in body) == ["mitte", "other-0", "other-1", "other-2"]
    mitte = next(item for item in body if item["slug"] == "mitte")
    assert mitte["services"] == [
        {"slug": "anmeldung", "duration_minutes": 10},
        {"slug": "personalausweis", "duration_minutes": 15},
    ]
    assert {key: mitte[key] for key in ["kind", "street", "postal_code", "city", "step_free"]} == {
        "kind": "citizen_office",
        "street": "Marktplatz 1",
        "postal_code": "04109",
        "city": "Musterstadt",
        "step_free": True,
    }


# Free times


def test_free_times_at_an_office_are_local_and_last_as_long_as_the_services_for_all_persons(client, office):
    status, body = get(client, "/api/v1/availability?services=personalausweis:2,anmeldung&office=mitte")
    assert status == 200
    assert body["office"] == "mitte"
    assert body["duration_minutes"] == 15 * 2 + 10
    assert [day["date"] for day in body["days"]] == [
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
        "2026-11-27",
    ]
    monday = body["days"][0]["times"]
    assert monday[0] == "08:00" and "11:20" in monday and "11:25" not in monday and "13:00" in monday
    assert monday[-1] == "15:20"


def test_the_date_range_is_kept_to_what_was_asked(client, office):
    status, body = get(
        client, f"/api/v1/availability?services=anmeldung&office=mitte&date_from={TUESDAY}&date_to={TUESDAY}"
    )
    assert status == 200 and [day["date"] for day in body["days"]] == [TUESDAY.isoformat()]
    late = MONDAY + datetime.timedelta(days=92)
    status, _body = get(
        client, f"/api/v1/availability?services=anmeldung&office=mitte&date_from={MONDAY}&date_to={late}"
    )
    assert status == 200


@pytest.mark.parametrize(
    "query",
    [
        f"date_from={TUESDAY}&date_to={MONDAY}",  # reversed
        f"date_from={MONDAY}&date_to={MONDAY + datetime.timedelta(days=93)}",  # too long
    ],
)
def test_a_reversed_or_too_long_range_is_refused(client, office, query):
    status, body = get(client, f"/api/v1/availability?services=anmeldung&office=mitte&{query}")
    assert status == 422
    assert body["detail"][0]["loc"] == ["query", "date_to"]


def test_without_an_office_every_office_offering_all_services_comes_with_its_earliest_time(client, office):
    full = bookable_office(first=MONDAY, last=TUESDAY, slug="voll", slot_minutes=10)
    offer(full, "personalausweis", 20)
    offer(full, "anmeldung", 10)
    Slot.objects.filter(office=office, local_date=MONDAY).update(booked_online=1)
    lacking = bookable_office(first=MONDAY, last=TUESDAY, slug="ohne-anmeldung")
    offer(lacking, "personalausweis", 15)
    status, body = get(client, "/api/v1/availability?services=personalausweis:2,anmeldung")
    assert status == 200
    assert body["duration_minutes"] is None
    assert body["offices"] == [
        {
            "office": "voll",
            "name": full.name,
            "kind": "citizen_office",
            "duration_minutes": 50,
            "earliest": iso(MONDAY, "08:00"),
        },
        {
            "office": "mitte",
            "name": office.name,
            "kind": "citizen_office",
            "duration_minutes": 40,
            "earliest": iso(TUESDAY, "08:00"),
        },
    ]
    assert body["earliest"] == {"office": "voll", "start": iso(MONDAY, "08:00")}


def test_offices_without_any_free_time_come_last_and_none_is_the_earliest(client, office):
    Slot.objects.filter(office=office).update(booked_online=1)
    status, body = get(client, "/api/v1/availability?services=personalausweis")
    assert status == 200
    assert body["offices"][0]["earliest"] is None and body["earliest"] is None


def test_an_unknown_service_in_the_query_is_refused_with_its_place(client, office):
    status, body = get(client, "/api/v1/availability?services=raumschiff&office=mitte", **{"Accept-Language": "en"})
    assert status == 422
    assert body["detail"] == [
        {"type": "booking_rule", "loc": ["query", "services"], "msg": "There is no service “raumschiff”."}
    ]


def test_expired_holds_give_their_times_back_before_free_times_are_read(client, office, frozen):
    status, _hold = send(
        client,
        "post",
        "/api/v1/holds",
        {"office": "mitte", "start": iso(MONDAY, "09:00"), "services": [{"service": "personalausweis", "persons": 1}]},
    )
    assert status == 201
    assert "09:00" not in monday_times(client)
    frozen.shift(datetime.timedelta(minutes=10))
    assert "09:00" in monday_times(client)
    assert not Hold.objects.exists()


# Booking


def test_booking_answers_201_with_the_code_the_token_and_the_local_times(client, office):
    status, body = send(
        client,
        "post",
        "/api/v1/appointments",
        booking(
            services=[{"service": "personalausweis", "persons": 2}, {"service": "anmeldung", "persons": 1}],
            email=" Erika@Example.org ",
        ),
    )
    assert status == 201, body
    assert body["office"] == "mitte"
    assert body["start"] == iso(MONDAY, "09:00") == "2026-11-23T09:00:00+01:00"
    assert body["end"] == iso(MONDAY, "09:40")
    assert body["status"] == "booked"
    assert body["services"] == [{"service": "personalausweis", "persons": 2}, {"service": "anmeldung", "persons": 1}]
    assert re.fullmatch(r"[A-Z0-9]{8}", body["booking_code"])
    appointment = Appointment.objects.get()
    assert (appointment.booking_code, appointment.manage_token) == (body["booking_code"], body["manage_token"])
    assert appointment.email == "erika@example.org" and appointment.language == "de"
    assert not appointment.reminders_consent
    assert "09:00" not in monday_times(client)


def test_a_time_just_taken_answers_409_with_the_nearest_free_times(client, office):
    assert send(client, "post", "/api/v1/appointments", booking())[0] == 201
    status, body = send(
        client, "post", "/api/v1/appointments", booking(email="max@example.org"), **{"Accept-Language": "en"}
    )
    assert status == 409
    assert body["detail"] == "Sorry, this time was just taken by someone else."
    # 08:45 and 09:15 are 15 minutes away; of 08:40 and 09:20 (20), the earlier wins.
    assert body["nearest"] == [iso(MONDAY, "08:40"), iso(MONDAY, "08:45"), iso(MONDAY, "09:15")]
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"services": [{"service": "raumschiff", "persons": 1}]}, ["body", "services"]),
        ({"services": [{"service": "personalausweis", "persons": 5}]}, ["body", "services"]),
        ({"services": [{"service": "personalausweis", "persons": 0}]}, ["body", "services", 0, "persons"]),
        ({"services": []}, ["body", "services"]),
        ({"start": "2026-11-23T09:00:00"}, ["body", "start"]),  # naive: which 09:00?
        ({"start": "morgen früh"}, ["body", "start"]),
        ({"start": iso(MONDAY, "09:03")}, ["body", "start"]),  # off the grid
        ({"start": iso(MONDAY, "07:00")}, ["body", "start"]),  # before opening: no slots at all
        ({"start": iso(MONDAY, "11:55")}, ["body", "start"]),  # runs into the lunch break
        ({"start": iso(datetime.date(2026, 11, 9), "09:00")}, ["body", "start"]),  # in the past
        ({"email": "erika@"}, ["body", "email"]),
        ({"name": "   "}, ["body", "name"]),
        ({"name": None}, ["body", "name"]),
        ({"office": "atlantis"}, ["body", "office"]),
        ({"language": "fr"}, ["body", "language"]),
        ({"hold": "not-this-one"}, None),  # an unknown hold is no hold: the time is taken now
    ],
)
def test_bad_input_is_refused_with_422_and_its_place(client, office, fields, loc):
    data = {key: value for key, value in (booking() | fields).items() if value is not None}
    status, body = send(client, "post", "/api/v1/appointments", data)
    if loc is None:
        assert status == 201
        return
    assert status == 422, body
    assert [error["loc"] for error in body["detail"]] == [loc]
    assert body["detail"][0]["msg"]
    assert Appointment.objects.count() == 0 and not Slot.objects.filter(booked_online__gt=0).exists()


def test_messages_follow_the_accept_language_header(client, office):
    bad = {key: value for key, value in booking(email="erika@").items() if key != "name"}
    english = send(client, "post", "/api/v1/appointments", bad, **{"Accept-Language": "en"})[1]["detail"]
    german = send(client, "post", "/api/v1/appointments", bad, **{"Accept-Language": "de-DE,de;q=0.9"})[1]["detail"]
    assert [error["msg"] for error in english] == ["This field is required.", "Enter a valid email address."]
    # Both texts are Django's own, so Django's catalogue has them whatever ours holds yet.
    assert german[0]["msg"].startswith("Dieses Feld ist") and german[0]["msg"].endswith("erforderlich.")
    assert german[1]["msg"] == "Bitte gültige E-Mail-Adresse eingeben."


def test_the_api_needs_no_csrf_token(office):
    client = Client(enforce_csrf_checks=True)
    assert send(client, "post", "/api/v1/appointments", booking())[0] == 201


# Holds


def hold_data(start: str = iso(MONDAY, "09:00"), persons: int = 1) -> dict:
    return {"office": "mitte", "start": start, "services": [{"service": "personalausweis", "persons": persons}]}


def test_a_hold_keeps_the_time_and_the_booking_with_it_keeps_its_units(client, office):
    status, hold = send(client, "post", "/api/v1/holds", hold_data())
    assert status == 201
    assert hold == {
        "token": Hold.objects.get().token,
        "office": "mitte",
        "start": iso(MONDAY, "09:00"),
        "end": iso(MONDAY, "09:15"),
        "expires_at": "2026-11-16T09:10:00+01:00",
    }
    assert "09:00" not in monday_times(client)
    assert send(client, "post", "/api/v1/holds", hold_data())[0] == 409
    status, body = send(client, "post", "/api/v1/appointments", booking(hold=hold["token"]))
    assert status == 201, body
    assert not Hold.objects.exists()
    assert Slot.objects.get(office=office, start=datetime.datetime.fromisoformat(iso(MONDAY, "09:00"))).booked == 1


def test_a_hold_for_something_else_cannot_be_booked(client, office):
    token = send(client, "post", "/api/v1/holds", hold_data())[1]["token"]
    services = [{"service": "personalausweis", "persons": 2}]
    status, body = send(client, "post", "/api/v1/appointments", booking(hold=token, services=services))
    assert status == 422 and body["detail"][0]["loc"] == ["body", "hold"]


def test_a_hold_can_be_extended_and_given_back(client, office, frozen):
    token = send(client, "post", "/api/v1/holds", hold_data())[1]["token"]
    frozen.shift(datetime.timedelta(minutes=5))
    status, body = send(client, "post", f"/api/v1/holds/{token}/extend")
    assert status == 200 and body["expires_at"] == "2026-11-16T09:15:00+01:00"
    status, body = send(client, "delete", f"/api/v1/holds/{token}")
    assert (status, body) == (204, None)
    assert "09:00" in monday_times(client)
    assert send(client, "delete", f"/api/v1/holds/{token}")[0] == 404
    assert send(client, "post", f"/api/v1/holds/{token}/extend")[0] == 404


def test_a_hold_that_ran_out_cannot_be_extended(client, office, frozen):
    token = send(client, "post", "/api/v1/holds", hold_data())[1]["token"]
    frozen.shift(datetime.timedelta(minutes=11))
    status, body = send(client, "post", f"/api/v1/holds/{token}/extend", **{"Accept-Language": "en"})
    assert status == 409
    assert body == {"detail": "Your reserved time has run out. Please choose a time again."}


# The booked appointment


def test_an_appointment_is_read_by_its_manage_token(client, office):
    booked = send(client, "post", "/api/v1/appointments", booking())[1]
    status, body = get(client, f"/api/v1/appointments/{booked['manage_token']}")
    assert (status, body) == (200, booked)


def test_cancelling_frees_the_time_for_the_next_answer_at_once(client, office):
    token = send(client, "post", "/api/v1/appointments", booking())[1]["manage_token"]
    assert "09:00" not in monday_times(client)
    status, body = send(client, "delete", f"/api/v1/appointments/{token}")
    assert status == 200 and body["status"] == "cancelled"
    assert "09:00" in monday_times(client)
    status, body = send(client, "delete", f"/api/v1/appointments/{token}", **{"Accept-Language": "en"})
    assert (status, body) == (409, {"detail": "This appointment is already cancelled."})


def test_an_appointment_that_has_begun_cannot_be_cancelled(client, office, frozen):
    token = send(client, "post", "/api/v1/appointments", booking())[1]["manage_token"]
    frozen.move_to(datetime.datetime.fromisoformat(iso(MONDAY, "09:05")))
    assert send(client, "delete", f"/api/v1/appointments/{token}")[0] == 409
    assert Appointment.objects.get().status == Appointment.Status.BOOKED


def test_moving_takes_the_new_time_and_frees_the_old_one(client, office):
    token = send(client, "post", "/api/v1/appointments", booking())[1]["manage_token"]
    status, body = send(client, "post", f"/api/v1/appointments/{token}/move", {"start": iso(MONDAY, "10:00")})
    assert status == 200, body
    assert (body["start"], body["end"], body["status"]) == (iso(MONDAY, "10:00"), iso(MONDAY, "10:15"), "booked")
    times = monday_times(client)
    assert "09:00" in times and "10:00" not in times


def test_moving_to_a_taken_time_answers_409_and_keeps_the_old_one(client, office):
    token = send(client, "post", "/api/v1/appointments", booking())[1]["manage_token"]
    assert send(client, "post", "/api/v1/appointments", booking(iso(MONDAY, "10:00")))[0] == 201
    status, body = send(client, "post", f"/api/v1/appointments/{token}/move", {"start": iso(MONDAY, "10:00")})
    assert status == 409 and len(body["nearest"]) == 3
    assert get(client, f"/api/v1/appointments/{token}")[1]["start"] == iso(MONDAY, "09:00")


def test_moving_with_a_hold_uses_the_held_time(client, office):
    token = send(client, "post", "/api/v1/appointments", booking())[1]["manage_token"]
    hold = send(client, "post", "/api/v1/holds", hold_data(iso(TUESDAY, "08:00")))[1]["token"]
    move = {"start": iso(TUESDAY, "08:00"), "hold": hold}
    status, body = send(client, "post", f"/api/v1/appointments/{token}/move", move)
    assert status == 200 and body["start"] == iso(TUESDAY, "08:00")
    assert not Hold.objects.exists()
    assert Slot.objects.filter(office=office, booked_online__gt=0).count() == 3


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/appointments/{token}"),
        ("delete", "/api/v1/appointments/{token}"),
        ("post", "/api/v1/appointments/{token}/move"),
        ("post", "/api/v1/holds/{token}/extend"),
        ("delete", "/api/v1/holds/{token}"),
    ],
)
def test_an_unknown_token_is_404(client, office, method, url):
    data = {"start": iso(MONDAY, "10:00")} if url.endswith("move") else None
    status, body = send(client, method, url.format(token="nope"), data)
    assert status == 404 and body["detail"]


# The description


def test_the_openapi_schema_describes_every_path(client):
    response = client.get("/api/v1/openapi.json")
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/services",
        "/api/v1/offices",
        "/api/v1/availability",
        "/api/v1/holds",
        "/api/v1/holds/{token}/extend",
        "/api/v1/holds/{token}",
        "/api/v1/appointments",
        "/api/v1/appointments/{token}",
        "/api/v1/appointments/{token}/move",
        # The proof of work's challenge (access/api.py).
        "/api/v1/challenge",
        # The staff API (desk/api.py), for the signed-in staff session.
        "/api/v1/staff/offices/{slug}/day",
        "/api/v1/staff/appointments/{pk}/check-in",
        "/api/v1/staff/appointments/{pk}/call",
        "/api/v1/staff/appointments/{pk}/start",
        "/api/v1/staff/appointments/{pk}/finish",
        "/api/v1/staff/appointments/{pk}/no-show",
        # The live status of the walk-in queues (tickets/api.py).
        "/api/v1/offices/status",
        "/api/v1/offices/{slug}/status",
        # The waitlist (waitlist/api.py).
        "/api/v1/waitlist",
        "/api/v1/waitlist/{token}",
        "/api/v1/waitlist/offers/{token}/accept",
        "/api/v1/waitlist/offers/{token}/decline",
    }
    assert {"200", "201", "403", "409", "422"} <= set(schema["paths"]["/api/v1/appointments"]["post"]["responses"])
    assert {"201", "403", "409", "422"} <= set(schema["paths"]["/api/v1/holds"]["post"]["responses"])
    for path, method in (("/api/v1/availability", "get"), ("/api/v1/holds", "post"), ("/api/v1/challenge", "get")):
        responses = schema["paths"][path][method]["responses"]
        assert {"401", "429"} <= {str(status) for status in responses}, path
        assert "Retry-After" in str(responses.get(429, responses.get("429")))
    assert "429" not in {str(status) for status in schema["paths"]["/api/v1/offices/status"]["get"]["responses"]}


def test_the_docs_page_loads_only_assets_of_this_host(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assets = re.findall(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)""", html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert [asset for asset in assets if re.match(r"(https?:)?//", asset)] == []
    assert "<script>" not in html.replace(" ", ""), "no inline script: the CSP would block it"
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    # Labelled as a page for developers, the one page the accessibility checks leave out (issue 19, point 5).
    assert '<html lang="en">' in html and "<strong>Developer page:</strong>" in html
    assert "not meant for citizens" in html and 'href="/accessibility/"' in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_docs_run_in_a_browser_under_the_content_security_policy(page, live_server):  # type: ignore[no-untyped-def]
    requested: list[str] = []
    violations: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    page.goto("/api/v1/docs")
    page.get_by_text("/api/v1/appointments/{token}/move").wait_for()
    assert all(url.startswith(live_server.url) for url in requested), requested
    assert violations == []
