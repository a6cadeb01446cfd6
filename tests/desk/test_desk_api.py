"""The staff API under /api/v1/staff/: the day of an office and the steps of a visit, for signed-in staff only."""

import json

import time_machine
from django.conf import settings
from django.test import Client

from booking.models import Appointment
from desk.models import AuditEntry
from desk.services import visit_check_in
from tests.support.desk_steps import TODAY, at

DAY = TODAY.isoformat()
CSRF_SECRET = "a" * 32


def _day(client: Client, slug: str = "mitte", **params: str) -> object:
    return client.get(f"/api/v1/staff/offices/{slug}/day", {"date": DAY, **params})


def _step(client: Client, appointment: Appointment | int, step: str, body: object = None, **extra: str) -> object:
    pk = appointment if isinstance(appointment, int) else appointment.pk
    url = f"/api/v1/staff/appointments/{pk}/{step}"
    if body is None:
        return client.post(url, **extra)
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def test_a_clerk_reads_the_day_of_their_office_in_time_order(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    late = world.book("11:00", name="Zora Spät")
    early = world.book("08:30", name="Anton Früh", service="anmeldung", persons=2, interpreter_language="Arabisch")
    world.book("09:00", office=world.office_b, name="Nora Nord")
    client.force_login(world.clerk_a)
    response = _day(client)
    assert response.status_code == 200
    day = response.json()
    assert [item["booking_code"] for item in day] == [early.booking_code, late.booking_code]
    assert day[0] == {
        "id": early.pk,
        "start": "2026-11-23T08:30:00+01:00",
        "end": "2026-11-23T08:50:00+01:00",
        "booking_code": early.booking_code,
        "name": "Anton Früh",
        "services": [{"service": "anmeldung", "persons": 2}],
        "interpreter_language": "Arabisch",
        "step_free_access": False,
        "note": "",
        "status": "expected",
        "counter": None,
    }


def test_the_day_filters_by_status_and_by_name_or_code(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    arrived = world.book("08:30", name="Anton Früh")
    waiting = world.book("09:00", name="Berta Warten")
    visit_check_in(appointment=arrived, by=world.clerk_a, now=at("08:20"))
    client.force_login(world.clerk_a)
    assert [item["id"] for item in _day(client, status="arrived").json()] == [arrived.pk]
    assert [item["id"] for item in _day(client, q="berta").json()] == [waiting.pk]
    assert [item["id"] for item in _day(client, q=waiting.booking_code.lower()).json()] == [waiting.pk]
    with time_machine.travel(at("08:00"), tick=False):
        assert len(client.get("/api/v1/staff/offices/mitte/day").json()) == 2  # today by default


def test_the_day_of_another_office_is_404_for_a_clerk_of_b(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    world.book("08:30")
    client.force_login(world.clerk_b)
    assert _day(client).status_code == 404
    assert _day(client, slug="no-such-office").status_code == 404
    assert _day(client, slug="nord").status_code == 200


def test_the_steps_on_an_appointment_of_another_office_are_404_and_change_nothing(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30")
    client.force_login(world.clerk_b)
    with time_machine.travel(at("08:40"), tick=False):
        for step, body in [("check-in", None), ("call", {"counter": 1}), ("start", None), ("finish", None)]:
            assert _step(client, appointment, step, body).status_code == 404
        assert _step(client, appointment, "no-show").status_code == 404
        assert _step(client, 987654, "check-in").status_code == 404
    appointment.refresh_from_db()
    assert appointment.visit == Appointment.Visit.EXPECTED
    assert not AuditEntry.objects.exists()


def test_anonymous_requests_are_401(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30")
    assert _day(client).status_code == 401
    assert _step(client, appointment, "check-in").status_code == 401


def test_a_post_without_the_csrf_token_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30")
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.clerk_a)
    with time_machine.travel(at("08:20"), tick=False):
        assert _step(client, appointment, "check-in").status_code == 403
        appointment.refresh_from_db()
        assert appointment.visit == Appointment.Visit.EXPECTED
        client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
        response = _step(client, appointment, "check-in", HTTP_X_CSRFTOKEN=CSRF_SECRET)
    assert response.status_code == 200
    assert response.json()["status"] == "arrived"


def test_the_visit_through_the_api_changes_the_state_and_writes_the_audit_log(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30", name="Anton Früh")
    client.force_login(world.clerk_a)
    with time_machine.travel(at("08:20"), tick=False):
        assert _step(client, appointment, "check-in").json()["status"] == "arrived"
    with time_machine.travel(at("08:31"), tick=False):
        called = _step(client, appointment, "call", {"counter": 4})
    assert called.status_code == 200
    assert (called.json()["status"], called.json()["counter"]) == ("called", 4)
    with time_machine.travel(at("08:32"), tick=False):
        assert _step(client, appointment, "start").json()["status"] == "in_service"
    with time_machine.travel(at("08:45"), tick=False):
        assert _step(client, appointment, "finish").json()["status"] == "done"
    appointment.refresh_from_db()
    assert appointment.visit == Appointment.Visit.DONE
    assert appointment.called_at == at("08:31")
    entries = AuditEntry.objects.filter(appointment=appointment).order_by("at")
    assert [(entry.action, entry.actor, entry.at) for entry in entries] == [
        ("check_in", world.clerk_a, at("08:20")),
        ("call", world.clerk_a, at("08:31")),
        ("start", world.clerk_a, at("08:32")),
        ("finish", world.clerk_a, at("08:45")),
    ]


def test_a_no_show_through_the_api(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:00")
    client.force_login(world.manager_a)
    with time_machine.travel(at("08:20"), tick=False):
        response = _step(client, appointment, "no-show")
    assert response.status_code == 200
    assert response.json()["status"] == "no_show"
    assert AuditEntry.objects.get().action == AuditEntry.Action.NO_SHOW


def test_a_refused_step_is_409_with_a_message_and_changes_nothing(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30")
    client.force_login(world.clerk_a)
    with time_machine.travel(at("08:20"), tick=False):
        finish = _step(client, appointment, "finish", HTTP_ACCEPT_LANGUAGE="en")
        early_no_show = _step(client, appointment, "no-show", HTTP_ACCEPT_LANGUAGE="en")
        _step(client, appointment, "check-in")
        _step(client, appointment, "call", {"counter": 1})
        other_counter = _step(client, appointment, "call", {"counter": 2}, HTTP_ACCEPT_LANGUAGE="en")
    assert finish.status_code == 409
    assert "Reload the day" in finish.json()["detail"]
    assert early_no_show.status_code == 409
    assert "08:45" in early_no_show.json()["detail"]
    assert other_counter.status_code == 409
    assert "counter 1" in other_counter.json()["detail"]
    appointment.refresh_from_db()
    assert (appointment.visit, appointment.counter) == (Appointment.Visit.CALLED, 1)
    assert AuditEntry.objects.filter(appointment=appointment).count() == 2


def test_a_cancelled_appointment_refuses_every_step_with_409(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    from desk.services import desk_cancel

    appointment = world.book("10:00")
    desk_cancel(appointment=appointment, by=world.clerk_a, reason="Drucker defekt", now=at("08:00"))
    client.force_login(world.clerk_a)
    with time_machine.travel(at("10:30"), tick=False):
        assert _step(client, appointment, "check-in").status_code == 409
        assert _step(client, appointment, "no-show").status_code == 409


def test_bad_input_is_422_never_a_server_error(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30")
    client.force_login(world.clerk_a)
    for params in (
        {"date": "2026-13-45"},
        {"date": "morgen"},
        {"date": "9999-12-31"},
        {"date": "0001-01-01"},
        {"status": "verschwunden"},
        {"q": "x" * 500},
    ):
        response = _day(client, **params)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["loc"][0] == "query"
    with time_machine.travel(at("08:20"), tick=False):
        _step(client, appointment, "check-in")
        for body in ({"counter": 0}, {"counter": 100}, {"counter": "drei"}, {}, []):
            response = _step(client, appointment, "call", body)
            assert response.status_code == 422, body
        assert client.post(f"/api/v1/staff/appointments/{appointment.pk}/call").status_code in (400, 422)
        assert _step(client, 2**70, "check-in").status_code in (404, 422)
        assert client.post("/api/v1/staff/appointments/abc/check-in").status_code in (404, 422)
    appointment.refresh_from_db()
    assert appointment.visit == Appointment.Visit.ARRIVED


def test_the_staff_api_is_in_the_openapi_document(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/staff/offices/{slug}/day" in paths
    assert "/api/v1/staff/appointments/{pk}/call" in paths
