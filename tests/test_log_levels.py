"""Requests any outsider can send (a foreign Host, a body too large, too many fields) log a WARNING, not an ERROR."""

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("get", {"path": "/", "headers": {"host": "evil.example"}}),
        ("post", {"path": "/book/", "data": {f"f{n}": "x" for n in range(1_100)}}),
        ("post", {"path": "/api/v1/holds", "data": "x" * 3_000_000, "content_type": "application/json"}),
    ],
)
def test_a_suspicious_request_is_answered_400_and_logged_as_a_warning(caplog, method: str, kwargs: dict) -> None:  # type: ignore[no-untyped-def]
    response = getattr(Client(), method)(**kwargs)
    assert response.status_code == 400
    security = [record for record in caplog.records if record.name.startswith("django.security.")]
    assert security, "Django logged nothing about it"
    assert {record.levelname for record in security} == {"WARNING"}
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
