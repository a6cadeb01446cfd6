"""Tokens and keys in addresses never reach a log line (buergerservice/log_redaction.py).

Django's request warnings, CSRF refusals and runserver lines are checked as
captured records and as the console handler of settings.LOGGING writes them;
gunicorn's access log through the logger class gunicorn.conf.py configures.
"""

import datetime
import io
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import gunicorn.config
import pytest
import time_machine
from django.conf import settings
from django.test import Client

from buergerservice.log_redaction import REDACTED, RedactingFormatter, redact
from tests.support.desk_steps import at

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Zq9xSECRETtokenVALUE4711"


class Collect(logging.Handler):
    """A handler that keeps every record and its line as the settings' console formatter writes it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        formatter = settings.LOGGING["formatters"]["plain"]
        self.setFormatter(RedactingFormatter(formatter["format"], style=formatter["style"]))
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def logged():  # type: ignore[no-untyped-def]
    handler = Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def assert_nothing_kept(handler: Collect, *secrets: str) -> None:
    assert handler.records, "the requests were expected to log warnings"
    for record in handler.records:
        for secret in secrets:
            assert secret not in record.getMessage(), record.getMessage()
            assert secret not in str(record.args or ""), record.args
    for line in handler.lines:
        for secret in secrets:
            assert secret not in line, line


@pytest.mark.parametrize(
    "path",
    [
        f"/appointment/{SECRET}/",
        f"/en/appointment/{SECRET}/cancel/",
        f"/appointment/{SECRET}/calendar.ics",
        f"/book/hold/{SECRET}/",
        f"/book/hold/{SECRET}/check/",
        f"/t/{SECRET}/",
        f"/w/{SECRET}/",
        f"/kiosk/{SECRET}/",
        f"/api/v1/appointments/{SECRET}",
        f"/api/v1/holds/{SECRET}/extend",
    ],
)
def test_an_unknown_token_is_logged_as_refused_without_the_token(client: Client, logged, path: str) -> None:  # type: ignore[no-untyped-def]
    method = client.post if path.endswith("/extend") else client.get
    assert method(path).status_code in {404, 410}  # 410: a hold that is gone
    assert any(record.name == "django.request" for record in logged.records)
    assert_nothing_kept(logged, SECRET)
    assert any(REDACTED in record.getMessage() for record in logged.records)


def test_a_refused_move_and_cancel_log_their_conflict_without_the_manage_token(client: Client, world, logged) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00")
    token = appointment.manage_token
    api = f"/api/v1/appointments/{token}"
    with time_machine.travel(at("08:00"), tick=False):
        assert client.delete(api).status_code == 200
        assert client.delete(api).status_code == 409  # already cancelled
        later = (at("10:00")).isoformat()
        answer = client.post(f"{api}/move", {"start": later}, content_type="application/json")
        assert answer.status_code == 409
    conflicts = [record.getMessage() for record in logged.records if record.name == "django.request"]
    assert conflicts == [
        f"Conflict: /api/v1/appointments/{REDACTED}",
        f"Conflict: /api/v1/appointments/{REDACTED}/move",
    ]
    assert_nothing_kept(logged, token)


def test_a_csrf_refusal_on_the_cancel_page_keeps_the_token_out_of_the_security_log(world, logged) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00")
    client = Client(enforce_csrf_checks=True)
    with time_machine.travel(at("08:00"), tick=False):
        assert client.post(f"/appointment/{appointment.manage_token}/cancel/").status_code == 403
    assert any(record.name == "django.security.csrf" for record in logged.records)
    assert_nothing_kept(logged, appointment.manage_token)


def test_a_kiosk_ticket_address_loses_both_the_key_and_the_ticket_token() -> None:
    line = f"GET /kiosk/{SECRET}/ticket/{SECRET[::-1]}/ HTTP/1.1"
    assert redact(line) == f"GET /kiosk/{REDACTED}/ticket/{REDACTED}/ HTTP/1.1"


def test_the_desk_hold_token_is_redacted_but_its_time_step_stays_readable() -> None:
    assert redact(f"/staff/desk/mitte/book/{SECRET}/") == f"/staff/desk/mitte/book/{REDACTED}/"
    assert redact("/staff/desk/mitte/book/time/?services=x") == "/staff/desk/mitte/book/time/?services=x"


@pytest.mark.parametrize("office", [" ", "a b", "..", "a/b", "%20"])
def test_the_desk_hold_token_is_redacted_whatever_the_office_part_holds(office: str) -> None:
    """Not Found: /staff/desk/ /book/<token>/ kept the token when the office part had a space."""
    line = f"Not Found: /staff/desk/{office}/book/{SECRET}/"
    assert SECRET not in redact(line) and redact(line).endswith(f"/book/{REDACTED}/")


def test_addresses_without_a_secret_are_left_as_they_are() -> None:
    for line in [
        "GET /status/mitte/ HTTP/1.1",
        "POST /api/v1/appointments HTTP/1.1",
        "POST /api/v1/holds HTTP/1.1",
        "GET /book/at/mitte/?services=personalausweis HTTP/1.1",
        "GET /staff/tickets/12/call/ HTTP/1.1",
        "GET /static/booking/t.css HTTP/1.1",
    ]:
        assert redact(line) == line


def test_runserver_access_lines_are_redacted(logged) -> None:  # type: ignore[no-untyped-def]
    server = logging.getLogger("django.server")
    captured = Collect()
    server.addHandler(captured)
    try:
        # what django.core.servers.basehttp.WSGIRequestHandler.log_message sends
        server.warning('"%s" %s %s', f"GET /appointment/{SECRET}/ HTTP/1.1", "404", "179")
    finally:
        server.removeHandler(captured)
    assert captured.records[0].getMessage() == f'"GET /appointment/{REDACTED}/ HTTP/1.1" 404 179'
    assert_nothing_kept(captured, SECRET)


@pytest.fixture
def gunicorn_logger(monkeypatch):  # type: ignore[no-untyped-def]
    """The logger gunicorn builds from gunicorn.conf.py, writing its access lines to a buffer."""
    monkeypatch.setenv("WEB_THREADS", "4")  # the config file exports it; restored after the test
    cfg = gunicorn.config.Config()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in cfg.settings:
            cfg.set(name, value)
    stdout = io.StringIO()
    monkeypatch.setattr("sys.stdout", stdout)
    logger = cfg.logger_class(cfg)
    yield logger, stdout
    for log in (logger.access_log, logger.error_log):
        for handler in list(log.handlers):
            log.removeHandler(handler)


def test_gunicorns_access_line_keeps_the_request_but_not_the_token(gunicorn_logger) -> None:  # type: ignore[no-untyped-def]
    logger, stdout = gunicorn_logger
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/api/v1/appointments/{SECRET}/move",
        "PATH_INFO": f"/api/v1/appointments/{SECRET}/move",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": f"https://termine.example.de/en/appointment/{SECRET}/move/",
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    response = SimpleNamespace(status="409 Conflict", sent=81, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    logger.access(response, request, environ, datetime.timedelta(milliseconds=12))
    line = stdout.getvalue()
    assert f'"POST /api/v1/appointments/{REDACTED}/move HTTP/1.1" 409 81' in line
    assert f'"https://termine.example.de/en/appointment/{REDACTED}/move/"' in line
    assert SECRET not in line


def test_gunicorns_error_log_is_redacted_too(gunicorn_logger) -> None:  # type: ignore[no-untyped-def]
    logger, _stdout = gunicorn_logger
    collected = Collect()
    logger.error_log.addHandler(collected)
    logger.error("Error handling request %s", f"/book/hold/{SECRET}/check/")
    assert collected.records[0].getMessage() == f"Error handling request /book/hold/{REDACTED}/check/"


def test_the_gunicorn_configuration_uses_the_redacting_logger(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WEB_THREADS", "4")  # the config file exports it; restored after the test
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["logger_class"] == "buergerservice.log_redaction.RedactingGunicornLogger"
    assert config["accesslog"] == "-"
