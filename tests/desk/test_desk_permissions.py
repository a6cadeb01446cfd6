"""Every staff page and staff API answers 404 for another office's offices and appointments, 403 for a clerk on a
manager's page, and sends the signed-out to the sign-in. The lists below must name every staff URL: a new page
that is not listed fails ``test_every_staff_url_is_in_this_file``."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from booking.models import Hold
from booking.needs import Need
from booking.services.appointments import hold_place
from offices.models import Block
from tests.support.desk_steps import EARLY, TODAY, at
from tickets.models import Ticket
from waitlist.services import Wish, registration_create

pytestmark = pytest.mark.django_db

NOW = at("10:30")

# (url name, which object it addresses, whether managers only, the methods to try)
PAGES = [
    ("desk:day", "office", False),
    ("desk:waitlist", "office", False),
    ("desk:urgent-cases", "office", False),
    ("desk:urgent-case-act", "urgent", False),
    ("desk:counter", "office", False),
    ("desk:print", "office", False),
    ("desk:csv", "office", False),
    ("desk:audit", "office", True),
    ("desk:appointment", "appointment", False),
    ("desk:act", "act", False),
    ("desk:note", "appointment", False),
    ("desk:cancel", "appointment", False),
    ("desk:move", "appointment", False),
    ("desk:slip", "appointment", False),
    ("desk:book", "office", False),
    ("desk:book-time", "office", False),
    ("desk:book-contact", "hold", False),
    ("desk:rebook", "office", True),
    ("desk:absences", "office", True),
    ("desk:blocks", "office", True),
    ("desk:block-remove", "block", True),
    ("desk:capacity", "office", True),
    ("desk:office-messages", "office", True),
    ("desk:queue", "office", False),
    ("desk:call-next", "office", False),
    ("desk:urgent", "office", False),
    ("desk:ticket-step", "ticket", False),
]
NOT_OFFICE_PAGES = {"desk:home", "desk:staff-login", "desk:staff-logout"}

API = [
    ("get", "/api/v1/staff/offices/{slug}/day", False),
    ("post", "/api/v1/staff/appointments/{pk}/check-in", False),
    ("post", "/api/v1/staff/appointments/{pk}/call", False),
    ("post", "/api/v1/staff/appointments/{pk}/start", False),
    ("post", "/api/v1/staff/appointments/{pk}/finish", False),
    ("post", "/api/v1/staff/appointments/{pk}/no-show", False),
]


@pytest.fixture
def targets(world):  # type: ignore[no-untyped-def]
    """Office A's things: an appointment, a hold of the phone booking flow, a block, a waiting queue ticket."""
    appointment = world.book("11:00", email="erika@example.org")
    need = [Need(world.service(), 1)]
    hold = hold_place(office=world.office_a, start=at("14:00"), needs=need, now=EARLY, channel="phone")
    block = Block.objects.create(
        office=world.office_a,
        date=TODAY + datetime.timedelta(days=1),
        starts=datetime.time(9),
        ends=datetime.time(10),
        reason="Drucker",
    )
    ticket = Ticket.objects.create(
        office=world.office_a, day=TODAY, queue=Ticket.Queue.WALK_IN, number=1, issued_at=at("10:00")
    )
    wish = Wish(needs=need, offices=[world.office_a], first_day=TODAY, last_day=TODAY, weekdays=[], parts=[])
    urgent = registration_create(
        wish=wish, name="Dringend", email="urgent@example.org", language="de", now=EARLY, deadline=TODAY
    )
    return {"appointment": appointment, "hold": hold, "block": block, "ticket": ticket, "urgent": urgent}


def url(name: str, kind: str, world, targets) -> str:  # type: ignore[no-untyped-def]
    office = world.office_a
    args = {
        "office": [office.slug],
        "appointment": [targets["appointment"].pk],
        "act": [targets["appointment"].pk, "check_in"],
        "hold": [office.slug, targets["hold"].token],
        "block": [office.slug, targets["block"].pk],
        "ticket": [targets["ticket"].pk, "call"],
        "urgent": [office.slug, targets["urgent"].pk, "check"],
    }[kind]
    return reverse(name, args=args)


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("name", "kind", "managers_only"), PAGES)
def test_another_office_s_clerk_gets_404_on_every_page(world, targets, name, kind, managers_only) -> None:  # type: ignore[no-untyped-def]
    address = url(name, kind, world, targets)
    with time_machine.travel(NOW, tick=False):
        for user in (world.clerk_b,):
            client = signed_in(user)
            assert client.get(address).status_code in (404, 405), f"GET {address}"
            assert client.post(address, {"reason": "x", "counter": "1"}).status_code in (404, 405), f"POST {address}"
    targets["appointment"].refresh_from_db()
    assert targets["appointment"].visit == "expected" and targets["appointment"].status == "booked"
    assert Hold.objects.filter(pk=targets["hold"].pk).exists()
    assert Block.objects.filter(pk=targets["block"].pk).exists()
    assert list(Ticket.objects.values_list("pk", "status")) == [(targets["ticket"].pk, "waiting")]


@pytest.mark.parametrize(("name", "kind", "managers_only"), PAGES)
def test_the_office_s_own_staff_get_in_and_clerks_get_403_on_managers_pages(
    world, targets, name, kind, managers_only
) -> None:  # type: ignore[no-untyped-def]
    address = url(name, kind, world, targets)
    with time_machine.travel(NOW, tick=False):
        clerk = signed_in(world.clerk_a).get(address).status_code
        clerk_post = signed_in(world.clerk_a).post(address, {"reason": "x"}).status_code if managers_only else None
        manager = signed_in(world.manager_a).get(address).status_code
        administrator = signed_in(world.administrator).get(address).status_code
    # Some addresses take only POST (405 on GET): that is still "in".
    assert manager in (200, 302, 405), f"manager GET {address}: {manager}"
    assert administrator in (200, 302, 405), f"administrator GET {address}: {administrator}"
    if managers_only:
        # 405 is the answer to the method an address does not take at all (before it looks at anyone's
        # rights); the method it takes is refused.
        answers = {clerk, clerk_post}
        assert answers <= {403, 404, 405} and answers & {403, 404}, f"clerk GET/POST {address}: {answers}"
        assert Block.objects.filter(pk=targets["block"].pk).exists()
    else:
        assert clerk in (200, 302, 405), f"clerk GET {address}: {clerk}"


@pytest.mark.parametrize(("name", "kind", "managers_only"), PAGES)
def test_signed_out_visitors_are_sent_to_the_sign_in(world, targets, name, kind, managers_only) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(url(name, kind, world, targets))
    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response.url.startswith(reverse("desk:staff-login"))


@pytest.mark.parametrize(("method", "path", "managers_only"), API)
def test_the_staff_api_answers_404_for_another_office(world, targets, method, path, managers_only) -> None:  # type: ignore[no-untyped-def]
    address = path.format(slug=world.office_a.slug, pk=targets["appointment"].pk)
    with time_machine.travel(NOW, tick=False):
        other = getattr(signed_in(world.clerk_b), method)(address, {"counter": 1}, content_type="application/json")
        own = getattr(signed_in(world.clerk_a), method)(address, {"counter": 1}, content_type="application/json")
        anonymous = getattr(Client(), method)(address, {"counter": 1}, content_type="application/json")
    assert other.status_code == 404, address
    assert own.status_code in (200, 409), address  # 409: the step's rule refused (e.g. not yet arrived)
    assert anonymous.status_code == 401, address
    targets["appointment"].refresh_from_db()


def _names(patterns: list, namespace: str = "") -> set[str]:  # type: ignore[type-arg]
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "api-v1":
                continue  # the staff API has its own list (API) and test below
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            route = str(pattern.pattern)
            if route.startswith("staff/"):
                names.add(f"{namespace}{pattern.name}")
    return names


def test_every_staff_url_is_in_this_file() -> None:
    listed = {name for name, _kind, _managers in PAGES} | NOT_OFFICE_PAGES
    assert _names(get_resolver().url_patterns) - listed == set()


def test_every_staff_api_endpoint_is_in_this_file() -> None:
    from buergerservice.api import api

    schema = api.get_openapi_schema()
    staff = {
        (method, path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/staff/")
        for method in operations
    }
    assert staff == {(method, path) for method, path, _managers in API}
