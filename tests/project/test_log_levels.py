"""Requests any outsider can send (a foreign Host, a body too large, too many fields) log a WARNING, not an ERROR."""

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "kwargs", "django_logs_it"),
    [
        ("get", {"path": "/", "headers": {"host": "evil.example"}}, True),
        ("post", {"path": "/api/v1/holds", "data": "x" * 3_000_000, "content_type": "application/json"}, True),
        # The input guard answers a form it cannot read itself, before Django's handler would log it.
        ("post", {"path": "/book/", "data": {f"f{n}": "x" for n in range(1_100)}}, False),
    ],
)
def test_a_suspicious_request_is_answered_400_and_logged_as_a_warning(  # type: ignore[no-untyped-def]
    caplog, method: str, kwargs: dict, django_logs_it: bool
) -> None:
    response = getattr(Client(), method)(**kwargs)
    assert response.status_code == 400
    security = [record for record in caplog.records if record.name.startswith("django.security.")]
    assert bool(security) == django_logs_it
    assert {record.levelname for record in security} <= {"WARNING"}
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
