"""Health checks for load balancers and compose: web, worker and beat."""

import os
import time
from pathlib import Path
from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import Client

from buergerservice import healthcheck
from buergerservice.celery import HeartbeatScheduler
from buergerservice.celery import app as celery_app


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client: Client) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_gone(client: Client) -> None:
    with mock.patch("buergerservice.views.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})


def test_the_beat_check_wants_a_fresh_heartbeat(tmp_path: Path) -> None:
    heartbeat = tmp_path / "celerybeat-heartbeat"
    assert healthcheck.check_beat(heartbeat) is False
    heartbeat.touch()
    assert healthcheck.check_beat(heartbeat) is True
    stale = time.time() - healthcheck.BEAT_STALE_AFTER_SECONDS - 1
    os.utime(heartbeat, (stale, stale))
    assert healthcheck.check_beat(heartbeat) is False


def test_the_beat_scheduler_touches_its_heartbeat_on_every_tick(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    scheduler = HeartbeatScheduler(app=celery_app, schedule_filename=str(tmp_path / "schedule"), lazy=True)
    scheduler.setup_schedule()
    try:
        scheduler.tick()
    finally:
        scheduler.close()
    assert healthcheck.check_beat(tmp_path / "celerybeat-heartbeat")


@pytest.mark.django_db(transaction=True)
def test_the_web_check_asks_the_running_server(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")
    port = int(live_server.url.rsplit(":", 1)[1])
    assert healthcheck.check_web(port) is True
    assert healthcheck.check_web(1) is False  # nothing listens there


def test_the_checker_explains_its_usage() -> None:
    assert healthcheck.main(["healthcheck"]) == 2
    assert healthcheck.main(["healthcheck", "database"]) == 2
