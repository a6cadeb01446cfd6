"""A schema-driven fuzzer (schemathesis) against the live OpenAPI schema: no 5xx, nothing the schema does not declare.

It runs in-process against the WSGI application (the whole middleware stack,
CSRF enforced) on a small seeded city: one office with two services, a clerk
signed in for the staff API, one appointment and one hold. Every operation
gets positive and negative examples (NUL bytes included, which is what
PostgreSQL refuses: CI runs this on PostgreSQL); some of them use the seeded
slugs, tokens and ids so that the requests reach the services, not only the
lookups. A bounded number of examples per operation keeps it under a minute.
"""

import datetime
import os
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from booking.grid import BERLIN
from booking.needs import Need
from booking.services.appointments import Contact, appointment_book, hold_place
from buergerservice.api import api
from offices.models import Service
from tests.support.factories import bookable_office, clerk_at, offer

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))  # per operation; raise it locally to search longer
CSRF_TOKEN = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"  # 32 characters of the token alphabet: a valid CSRF secret


def _in_test_transaction(application: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """The WSGI app without closing "old" connections per request: that would close the test's own transaction.

    The same as Django's test client does (django.test.client.ClientHandler).
    """

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_started.disconnect(close_old_connections)
        try:
            return application(environ, start_response)
        finally:
            request_started.connect(close_old_connections)

    return app


class City:
    """What the seeded examples name: known slugs, tokens and ids, besides the fuzzer's random ones."""

    def __init__(self) -> None:
        today = timezone.localdate()
        self.office = bookable_office(counters=2, first=today, last=today + datetime.timedelta(days=14), slug="mitte")
        offer(self.office, "personalausweis", 15, max_persons=4)
        offer(self.office, "anmeldung", 10)
        self.clerk = clerk_at(self.office, *[(weekday, "08:00", "16:00") for weekday in range(5)])
        now = timezone.now()
        starts = self._free_starts(today)
        needs = [Need(service=Service.objects.get(slug="personalausweis"), persons=1)]
        contact = Contact(name="Erika Mustermann", email="erika@example.org", phone="", language="de")
        self.appointment = appointment_book(office=self.office, start=starts[0], needs=needs, contact=contact, now=now)
        self.hold = hold_place(office=self.office, start=starts[1], needs=needs, now=now)
        self.starts = [start.isoformat() for start in starts[2:]]

    def values(self, path: str) -> dict[str, dict[str, Any]]:
        """Where the operation at ``path`` names things (path, query, body), what exists in this city."""
        office = self.office.slug
        today = timezone.localdate()
        token = self.hold.token if path.startswith("/api/v1/holds/") else self.appointment.manage_token
        return {
            "path_parameters": {"token": token, "slug": office, "pk": self.appointment.pk},
            "query": {
                "office": office,
                "services": "personalausweis",
                "date_from": today.isoformat(),
                "date_to": (today + datetime.timedelta(days=7)).isoformat(),
                "date": today.isoformat(),
                "status": "",
                "q": "",
            },
            "body": {
                "office": office,
                "services": [{"service": "personalausweis", "persons": 1}],
                "start": self.starts[0],
                "hold": self.hold.token,
                "name": "Max Mustermann",
                "email": "max@example.org",
                "phone": "",
                "counter": 1,
            },
        }

    def _free_starts(self, today: datetime.date) -> list[datetime.datetime]:
        """Weekday starts on the office's grid in the coming days (Mon–Fri 08:00–12:00)."""
        days = [today + datetime.timedelta(days=n) for n in range(1, 15)]
        weekdays = [day for day in days if day.weekday() < 5][:4]
        return [
            datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=BERLIN)
            for day in weekdays
            for hour, minute in [(9, 0), (10, 30), (11, 15)]
        ]


@pytest.fixture
def city(db: None) -> City:
    return City()


@pytest.fixture
def staff_session(city: City) -> str:
    """The clerk's signed-in session key."""
    client = Client()
    client.force_login(city.clerk)
    return client.cookies["sessionid"].value


# Strings the services must never see unrefused (PostgreSQL cannot store a NUL), empty and overlong ones.
# Lone surrogates are tests/project/test_input_guard.py's: schemathesis's own validation cannot encode them.
NASTY = ["a\x00b", "\x00", "", " ", "ß" * 300]
Place = tuple[str, str | int]


def _with_known(case: Any, seeded: dict[str, dict[str, Any]]) -> Any:
    """The case with every parameter and top-level body field that names something replaced by a seeded one."""
    known = case.derive(keep_auth=True)
    for where in ("path_parameters", "query"):
        container = getattr(known, where)
        if container:
            container.update({key: seeded[where][key] for key in container if key in seeded[where]})
    if isinstance(known.body, dict):
        known.body = known.body | {key: seeded["body"][key] for key in known.body if key in seeded["body"]}
    return known


def _string_places(case: Any) -> list[Place]:
    """Where a string goes: path parameters, query values and top-level body fields."""
    places: list[Place] = [("path_parameters", key) for key in case.path_parameters or {}]
    places += [("query", key) for key, value in (case.query or {}).items() if isinstance(value, str)]
    if isinstance(case.body, dict):
        places += [("body", key) for key, value in case.body.items() if isinstance(value, str | None)]
    return places


def _with_nasty(case: Any, place: Place, text: str) -> Any:
    nasty = case.derive(keep_auth=True)
    where, key = place
    if where == "path_parameters" and not text:
        text = "\x00"  # an empty segment makes another operation's address (/holds//extend is /holds/extend)
    getattr(nasty, where)[key] = text
    return nasty


def _steered(case: Any, seeded: dict[str, dict[str, Any]]) -> Any:
    """A positive case as generated, or naming what exists (so it reaches the services), or with one nasty string."""
    known = _with_known(case, seeded)
    strings = _string_places(known)
    nasty = st.tuples(st.sampled_from(strings), st.sampled_from(NASTY)) if strings else st.nothing()
    return st.one_of(st.just(case), st.just(known), nasty.map(lambda choice: _with_nasty(known, *choice)))


def _schema(city: City, session: str) -> Any:
    """The live schema, loaded through the app, with the clerk's session for the staff API."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _in_test_transaction(get_wsgi_application()))
    # Not checked: that every request the schema allows succeeds. The booking rules refuse many of them
    # (an office that does not exist, a time off the grid) with a 422 the schema declares.
    schema.config.checks.positive_data_acceptance.enabled = False

    @schema.auth().apply_to(path_regex="/staff/")
    class StaffSession:
        """The staff API with the clerk's session and a CSRF token, as the desk's pages send them.

        Known to schemathesis as the auth, so its ignored_auth check also sends each staff request without it
        and with a made-up session, and expects the declared 401.
        """

        def get(self, case: Any, context: Any) -> str:
            return session

        def set(self, case: Any, data: str, context: Any) -> None:
            case.cookies = {**(case.cookies or {}), "sessionid": data, "csrftoken": CSRF_TOKEN}
            case.headers = {**(case.headers or {}), "X-CSRFToken": CSRF_TOKEN}

    return schema


OPERATIONS = [
    (method.upper(), path) for path, methods in api.get_openapi_schema()["paths"].items() for method in methods
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{method} {path}" for method, path in OPERATIONS])
def test_no_operation_answers_a_server_error_or_anything_its_schema_does_not_declare(
    city: City, staff_session: str, method: str, path: str
) -> None:
    schema = _schema(city, staff_session)
    operation = schema[path][method]
    seeded = city.values(path)
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE).flatmap(lambda case: _steered(case, seeded)),
        # Negative cases are left as generated: their point is what the schema forbids.
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # nothing written into the work tree; derandomized instead, so CI repeats itself
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    def fuzz(case: Any) -> None:
        calls.append(case.call_and_validate().status_code)

    calls: list[int] = []
    fuzz()
    print(f"{method} {path}: {len(calls)} requests, statuses {sorted(set(calls))}")  # shown with -rP
    assert calls
