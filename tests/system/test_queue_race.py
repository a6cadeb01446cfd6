"""Two clerks pressing "call next" at the same moment: real parallel connections against PostgreSQL.

Each clerk runs in a thread with its own database connection; a barrier releases them together. Whatever the
timing, every waiting ticket is called at most once, to one counter, and nobody is called twice.
"""

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from booking.models import Appointment
from desk.models import AuditEntry
from desk.queue import queue_call_next
from desk.services import visit_check_in
from tests.support.queue_steps import QueueWorld, at, queue_world
from tests.support.staff import sign_in
from tickets.models import Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 4  # each round a fresh contest: the more rounds, the likelier the two really overlap


def race(actions: list[Callable[[], object]]) -> list[object]:
    """Each action in its own thread and connection, all released at once by a barrier."""
    barrier = threading.Barrier(len(actions))

    def attempt(action: Callable[[], object]) -> object:
        try:
            barrier.wait()
            return action()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return list(pool.map(attempt, actions))


def two_clerks_call_next(qw: QueueWorld, hhmm: str) -> list[str | None]:
    """Clerk A at counter 1 and the manager at counter 2 press "call next" together; the labels they got."""

    def call(user: object, counter: int) -> Callable[[], str | None]:
        def action() -> str | None:
            ticket = queue_call_next(office=qw.office_a, counter=counter, by=user, now=at(hhmm))
            return ticket.label if ticket else None

        return action

    return race([call(qw.clerk_a, 1), call(qw.manager_a, 2)])


def assert_every_call_complete() -> None:
    """Every called ticket carries its counter, its clerk and its time (a half-written call would not)."""
    for ticket in Ticket.objects.filter(status=Ticket.Status.CALLED):
        assert ticket.counter in (1, 2) and ticket.called_by_id is not None and ticket.called_at is not None


def test_two_clerks_calling_next_with_two_waiting_get_one_each() -> None:
    qw = queue_world()
    for round_ in range(ROUNDS):
        first = qw.draw(f"08:{10 + 2 * round_}", service="anmeldung")
        second = qw.draw(f"08:{11 + 2 * round_}", service="anmeldung")
        results = two_clerks_call_next(qw, f"09:{10 + round_}")
        assert sorted(results) == sorted([first.label, second.label]), f"round {round_}: {results}"
        first.refresh_from_db()
        second.refresh_from_db()
        assert {first.counter, second.counter} == {1, 2}
        assert {first.called_by, second.called_by} == {qw.clerk_a, qw.manager_a}
    assert Ticket.objects.filter(status=Ticket.Status.WAITING).count() == 0
    assert_every_call_complete()


def test_two_clerks_calling_next_with_one_waiting_one_gets_it_the_other_nobody() -> None:
    qw = queue_world()
    for round_ in range(ROUNDS):
        ticket = qw.draw(f"08:{10 + round_}", service="anmeldung")
        results = two_clerks_call_next(qw, f"09:{10 + round_}")
        assert Counter(results) == {ticket.label: 1, None: 1}, f"round {round_}: {results}"
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.CALLED and ticket.counter in (1, 2)
    assert_every_call_complete()


def test_two_clerks_calling_next_with_one_appointment_holder_waiting_call_them_once() -> None:
    """A T ticket's call goes through the appointment's visit: one call, one audit entry, whoever wins."""
    qw = queue_world()
    appointment = qw.book("09:00")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:50"))
    results = two_clerks_call_next(qw, "09:00")
    assert Counter(results) == {"T001": 1, None: 1}
    appointment.refresh_from_db()
    ticket = Ticket.objects.get()
    assert appointment.visit == Appointment.Visit.CALLED
    assert (ticket.status, ticket.counter) == (Ticket.Status.CALLED, appointment.counter)
    assert AuditEntry.objects.filter(appointment=appointment, action="call").count() == 1


def test_two_clerks_pressing_call_next_on_their_pages_get_different_tickets() -> None:
    qw = queue_world()
    qw.draw("08:30")
    qw.draw("08:31")
    address = reverse("desk:call-next", args=[qw.office_a.slug])
    clients = []
    with time_machine.travel(at("09:00"), tick=False):
        for username, counter in (("clerk-a", 1), ("manager-a", 2)):
            client = Client()
            assert sign_in(client, username)
            client.post(reverse("desk:counter", args=[qw.office_a.slug]), {"counter": counter})
            clients.append(client)
        answers = race([lambda client=client: client.post(address).status_code for client in clients])
    assert answers == [302, 302]
    called = Ticket.objects.order_by("number").values_list("status", "called_by__username", "counter")
    assert sorted(called, key=lambda row: row[2]) == [("called", "clerk-a", 1), ("called", "manager-a", 2)]
