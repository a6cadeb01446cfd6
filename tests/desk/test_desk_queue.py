"""The clerks' side of the walk-in queue (issue 7, points 1 and 2): the queue page, "call next", the steps of a
ticket and urgent cases, through the pages as a clerk uses them."""

import html
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse as django_reverse
from django.utils import translation

from booking.models import Appointment
from desk.models import AuditEntry
from desk.queue import queue_call_next
from desk.services import visit_check_in
from tests.support.queue_steps import at, queue_world
from tests.support.staff import sign_in
from tickets.models import Ticket

Queue = Ticket.Queue
Status = Ticket.Status
TICKET_STEP_NAMES = ["call", "start", "finish", "no_show"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


def reverse(name: str, args: list[object] | None = None) -> str:
    """The German address (an /en/ request leaves English active in the test's thread)."""
    with translation.override("de"):
        return django_reverse(name, args=args)


def en(url: str) -> str:
    """The English page: texts are asserted in English (the German catalogue is filled later)."""
    return "/en" + url


def queue_url(slug: str = "mitte") -> str:
    return reverse("desk:queue", args=[slug])


def call_next_url(slug: str = "mitte") -> str:
    return reverse("desk:call-next", args=[slug])


def urgent_url(slug: str = "mitte") -> str:
    return reverse("desk:urgent", args=[slug])


def step_url(ticket: Ticket, step: str) -> str:
    return reverse("desk:ticket-step", args=[ticket.pk, step])


def clerk(username: str = "clerk-a", counter: int | None = None) -> Client:
    """A browser signed in through the sign-in form, its counter saved the way the page saves it."""
    client = Client()
    assert sign_in(client, username)
    if counter is not None:
        response = client.post(reverse("desk:counter", args=["mitte"]), {"counter": counter, "next": queue_url()})
        assert response.status_code == 302 and response["Location"] == queue_url()
        client.get(response["Location"])  # the page shows (and so uses up) "Your counter is now …"
    return client


def said(client: Client, response: object) -> list[str]:
    """What the page the action redirected to tells the clerk (following the redirect, as a browser does)."""
    assert response.status_code == 302, response.status_code
    page = client.get(response["Location"]).content.decode()
    return [html.unescape(text) for text in re.findall(r'<div class="alert alert-\w+">(.*?)</div>', page)]


def press(client: Client, url: str, data: dict[str, object] | None = None, **extra: object) -> object:
    """A plain form POST (no JavaScript) on the English page."""
    return client.post(en(url), data or {}, **extra)


def waiting_labels(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="queue-label">(\w+)</th>', html)


def refresh(ticket: Ticket) -> Ticket:
    ticket.refresh_from_db()
    return ticket


# The page ---------------------------------------------------------------------------------------


def test_the_queue_page_lists_the_waiting_in_the_order_the_counter_calls_them(qw) -> None:  # type: ignore[no-untyped-def]
    appointment = qw.book("09:00")
    qw.draw("08:30")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:40"))
    qw.draw("08:45", service="anmeldung")
    qw.draw("09:05", queue=Queue.URGENT)
    with time_machine.travel(at("09:10"), tick=False):
        response = clerk(counter=1).get(en(queue_url()))
    html = response.content.decode()
    assert response.status_code == 200
    assert waiting_labels(html) == ["N001", "T001", "W001", "W002"]
    assert "In the order counter 1 calls them" in html
    assert "40 min." in html  # W001, drawn at 08:30
    assert "Registration" in html  # W002's matter
    assert f'href="{en(reverse("desk:appointment", args=[appointment.pk]))}">09:00' in html
    assert 'hx-trigger="every 20s"' in html
    assert f'href="{en(queue_url())}" aria-current="page">Queue</a>' in html


def test_call_next_follows_the_policy_through_the_page(qw) -> None:  # type: ignore[no-untyped-def]
    appointment = qw.book("09:00")
    qw.draw("08:30")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:40"))
    qw.draw("08:45")
    qw.draw("09:05", queue=Queue.URGENT)
    with time_machine.travel(at("09:10"), tick=False):
        client = clerk(counter=1)
        answers = [said(client, press(client, call_next_url())) for _ in range(5)]
    # Urgent first, then the appointment whose time has come before the walk-in who came earlier, then FIFO.
    assert answers == [
        ["N001 called to counter 1."],
        ["T001 called to counter 1."],
        ["W001 called to counter 1."],
        ["W002 called to counter 1."],
        ["Nobody is waiting."],
    ]
    assert set(Ticket.objects.values_list("status", "counter", "called_by")) == {(Status.CALLED, 1, qw.clerk_a.pk)}
    appointment.refresh_from_db()
    assert (appointment.visit, appointment.counter) == (Appointment.Visit.CALLED, 1)


def test_call_next_calls_to_the_counter_kept_in_the_session_by_the_day_page(qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("08:30")
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk()
        day = reverse("desk:day", args=["mitte"])
        assert said(client, client.post(reverse("desk:counter", args=["mitte"]), {"counter": 3, "next": day}))
        answer = said(client, press(client, call_next_url()))
        page = client.get(en(queue_url())).content.decode()
    assert answer == ["W001 called to counter 3."]
    assert (refresh(ticket).status, ticket.counter, ticket.called_at) == (Status.CALLED, 3, at("09:00"))
    assert "My counter now (3)" in page
    assert 'id="mine-W001"' in page
    assert 'value="3"' in page  # the counter field shows the session's counter


def test_call_next_without_a_counter_asks_for_it_and_calls_nobody(qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("08:30")
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk()
        answer = said(client, press(client, call_next_url()))
        page = client.get(en(queue_url())).content.decode()
    assert answer == ["Set your counter number first (above the queue), then call."]
    assert refresh(ticket).status == Status.WAITING and ticket.counter is None
    assert 'id="no-counter"' in page and "Enter your counter number above" in page


def test_call_next_with_nobody_waiting_says_so(qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk(counter=2)
        response = press(client, call_next_url(), follow=True)
    assert "Nobody is waiting." in response.content.decode()
    assert not Ticket.objects.exists()


def test_my_counter_shows_the_ticket_called_there_with_its_buttons_and_the_others_apart(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:30")
    qw.draw("08:31")
    qw.draw("08:32")
    with time_machine.travel(at("09:00"), tick=False):
        mine = clerk(counter=1)
        press(mine, call_next_url())
        press(clerk("manager-a", counter=2), call_next_url())
        page = mine.get(en(queue_url())).content.decode()
    w001 = Ticket.objects.get(number=1)
    mine_part = page[page.index('id="mine-heading"') : page.index('id="waiting-heading"')]
    others_part = page[page.index('id="others-heading"') :]
    assert "W001" in mine_part and "W002" not in mine_part
    for step, label in [("call", "Call again"), ("start", "Start"), ("no_show", "No-show")]:
        assert f'action="{en(step_url(w001, step))}"' in mine_part
        assert f">{label}<" in mine_part
    assert step_url(w001, "finish") not in mine_part  # not in service yet
    assert re.search(r"<td>2</td>\s*<th scope=\"row\">W002</th>", others_part)
    assert waiting_labels(page) == ["W003"]


# The steps of a ticket --------------------------------------------------------------------------


def test_a_walk_in_is_started_finished_or_marked_no_show_through_the_page(qw) -> None:  # type: ignore[no-untyped-def]
    first = qw.draw("08:30")
    second = qw.draw("08:31")
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk(counter=4)
        assert said(client, press(client, call_next_url())) == ["W001 called to counter 4."]
    with time_machine.travel(at("09:02"), tick=False):
        assert said(client, press(client, step_url(first, "start"))) == ["W001: service started."]
    with time_machine.travel(at("09:15"), tick=False):
        assert said(client, press(client, step_url(first, "finish"))) == ["W001: finished."]
        assert said(client, press(client, call_next_url())) == ["W002 called to counter 4."]
    with time_machine.travel(at("09:20"), tick=False):
        assert said(client, press(client, step_url(second, "call"))) == ["W002 called again to counter 4."]
        assert said(client, press(client, step_url(second, "no_show"))) == ["W002: recorded as not come."]
        page = client.get(en(queue_url())).content.decode()
    refresh(first)
    assert (first.status, first.counter, first.called_by) == (Status.DONE, 4, qw.clerk_a)
    assert (first.called_at, first.service_started_at, first.finished_at) == (at("09:00"), at("09:02"), at("09:15"))
    assert (refresh(second).status, second.called_at, second.no_show_at) == (Status.NO_SHOW, at("09:20"), at("09:20"))
    assert "Today so far: 1 done, 1 did not come." in page


def test_a_t_ticket_s_steps_through_the_page_update_the_appointment_and_its_audit_log(qw) -> None:  # type: ignore[no-untyped-def]
    appointment = qw.book("09:00")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:50"))
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk(counter=2)
        assert said(client, press(client, call_next_url())) == ["T001 called to counter 2."]
        ticket = Ticket.objects.get()
        # The no-show waits for the desk's grace period: refused, nothing changes.
        refused = said(client, press(client, step_url(ticket, "no_show")))
        assert refused and refused[0].startswith("A no-show can be recorded from 09:15")
    with time_machine.travel(at("09:01"), tick=False):
        assert said(client, press(client, step_url(ticket, "start"))) == ["T001: service started."]
    with time_machine.travel(at("09:14"), tick=False):
        assert said(client, press(client, step_url(ticket, "finish"))) == ["T001: finished."]
    appointment.refresh_from_db()
    assert (appointment.visit, appointment.counter) == (Appointment.Visit.DONE, 2)
    assert (appointment.called_at, appointment.service_started_at, appointment.finished_at) == (
        at("09:00"),
        at("09:01"),
        at("09:14"),
    )
    assert (refresh(ticket).status, ticket.finished_at) == (Status.DONE, at("09:14"))
    entries = AuditEntry.objects.filter(appointment=appointment).order_by("at", "pk")
    assert [(entry.action, entry.actor_id) for entry in entries] == [
        ("check_in", qw.clerk_a.pk),
        ("call", qw.clerk_a.pk),
        ("start", qw.clerk_a.pk),
        ("finish", qw.clerk_a.pk),
    ]


def test_a_refused_step_changes_nothing_shows_the_reason_to_htmx_and_redirects_a_plain_post(qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("08:30")
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk(counter=1)
        plain = press(client, step_url(ticket, "finish"))
        assert plain["Location"] == en(queue_url())
        assert said(client, plain) == ["Not possible: ticket W001 is “waiting” now."]
        htmx = press(client, step_url(ticket, "finish"), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200
    html = htmx.content.decode()
    assert 'id="queue-messages" role="status" hx-swap-oob="true"' in html
    assert "Not possible: ticket W001 is “waiting” now." in html
    assert refresh(ticket).status == Status.WAITING and ticket.finished_at is None


def test_an_unknown_step_is_404_and_changes_nothing(qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("08:30")
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk(counter=1)
        assert press(client, step_url(ticket, "check_in")).status_code == 404
        assert press(client, step_url(ticket, "delete")).status_code == 404
        assert press(client, reverse("desk:ticket-step", args=[999999, "call"])).status_code == 404
    assert refresh(ticket).status == Status.WAITING


# Urgent cases -----------------------------------------------------------------------------------


def test_an_urgent_case_gets_n001_and_is_called_next(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:30")
    qw.draw("08:31")
    anmeldung = qw.service("anmeldung")
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk(counter=1)
        form = client.get(en(queue_url())).content.decode()
        issued = said(client, press(client, urgent_url(), {"service": anmeldung.pk}))
        unnamed = said(client, press(client, urgent_url(), {"service": ""}))
        called = said(client, press(client, call_next_url()))
    assert f'<option value="{anmeldung.pk}">Registration</option>' in form
    assert issued == ["Urgent case registered: ticket N001. Please give the citizen this number."]
    assert unnamed == ["Urgent case registered: ticket N002. Please give the citizen this number."]
    urgent = Ticket.objects.get(queue=Queue.URGENT, number=1)
    assert (urgent.service, urgent.issued_by, urgent.day) == (anmeldung, qw.clerk_a, at("09:00").date())
    assert Ticket.objects.get(queue=Queue.URGENT, number=2).service is None
    assert called == ["N001 called to counter 1."]


def test_an_urgent_case_with_a_matter_the_office_does_not_offer_is_refused(qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk(counter=1)
        answers = [said(client, press(client, urgent_url(), {"service": value})) for value in ("999999", "abc")]
        htmx = press(client, urgent_url(), {"service": "abc"}, HTTP_HX_REQUEST="true")
    assert answers == [["Choose one of the matters this office offers."]] * 2
    assert htmx.status_code == 200
    assert not Ticket.objects.exists()


def test_an_urgent_case_outside_opening_hours_is_refused_with_the_reason(qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("17:00"), tick=False):
        client = clerk(counter=1)
        plain = said(client, press(client, urgent_url(), {"service": ""}))
        htmx = press(client, urgent_url(), {"service": ""}, HTTP_HX_REQUEST="true")
    assert plain == ["Closed"]
    assert htmx.status_code == 200 and "Closed" in htmx.content.decode()
    assert not Ticket.objects.exists()


# Who may ---------------------------------------------------------------------------------------


def test_a_clerk_of_another_office_gets_404_on_every_queue_address_and_nothing_changes(qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("08:30")
    addresses = [queue_url(), call_next_url(), urgent_url()] + [step_url(ticket, step) for step in TICKET_STEP_NAMES]
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk("clerk-b")
        client.post(reverse("desk:counter", args=["nord"]), {"counter": 1})
        for address in addresses:
            assert client.get(address).status_code in (404, 405), f"GET {address}"
            posts = [
                client.post(address, {"counter": "1", "service": ""}),
                client.post(address, HTTP_HX_REQUEST="true"),
            ]
            # The page itself takes no POST (405 before anyone's rights are looked at); the actions are 404.
            assert {post.status_code for post in posts} == ({405} if address == queue_url() else {404}), address
    assert list(Ticket.objects.values_list("queue", "number", "status")) == [(Queue.WALK_IN, 1, Status.WAITING)]
    assert refresh(ticket).called_at is None


def test_signed_out_visitors_are_sent_to_the_sign_in(qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("08:30")
    login = reverse("desk:staff-login")
    client = Client()
    with time_machine.travel(at("09:00"), tick=False):
        answers = [client.get(queue_url())] + [
            client.post(address, {"counter": "1"})
            for address in (call_next_url(), urgent_url(), step_url(ticket, "call"))
        ]
    for response in answers:
        assert response.status_code == 302 and response["Location"].startswith(login)
    assert refresh(ticket).status == Status.WAITING and Ticket.objects.count() == 1


def test_the_office_s_manager_and_an_administrator_see_the_queue(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:30")
    with time_machine.travel(at("09:00"), tick=False):
        for username in ("manager-a", "administrator"):
            response = clerk(username).get(en(queue_url()))
            assert response.status_code == 200 and waiting_labels(response.content.decode()) == ["W001"]


# htmx and plain forms ---------------------------------------------------------------------------


def test_htmx_gets_the_list_alone_and_plain_posts_redirect_back(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:30")
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk(counter=1)
        poll = client.get(en(queue_url()), HTTP_HX_REQUEST="true")
        called = press(client, call_next_url(), HTTP_HX_REQUEST="true")
        plain = press(client, call_next_url())
    poll_html = poll.content.decode()
    assert poll.status_code == 200
    assert "<html" not in poll_html and "nav-tabs" not in poll_html and "Register an urgent case" not in poll_html
    assert waiting_labels(poll_html) == ["W001"]
    assert "queue-messages" not in poll_html  # a poll does not touch the messages
    html = called.content.decode()
    assert called.status_code == 200 and "<html" not in html
    assert 'id="queue-messages" role="status" hx-swap-oob="true"' in html and "W001 called to counter 1." in html
    assert 'id="mine-W001"' in html and waiting_labels(html) == []
    assert plain.status_code == 302 and plain["Location"] == en(queue_url())


def test_the_page_s_forms_work_without_javascript(qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        html = clerk(counter=1).get(en(queue_url())).content.decode()
    for action in (call_next_url(), urgent_url(), reverse("desk:counter", args=["mitte"])):
        assert re.search(rf'<form method="post" action="{re.escape(en(action))}"', html), action
    assert html.count('name="csrfmiddlewaretoken"') >= 3
    assert "<script>" not in html and " onclick=" not in html


# The day page ---------------------------------------------------------------------------------


def test_call_next_on_the_day_page_returns_to_the_day(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:30")
    qw.draw("08:31")
    day = reverse("desk:day", args=["mitte"]) + "?date=2026-11-23&status=arrived"
    with time_machine.travel(at("09:00"), tick=False):
        client = clerk(counter=1)
        page = client.get(en(reverse("desk:day", args=["mitte"]))).content.decode()
        back = press(client, call_next_url(), {"next": day})
        assert back["Location"] == day
        assert said(client, back) == ["W001 called to counter 1."]
        elsewhere = press(client, call_next_url(), {"next": "https://evil.example.org/"})
    assert f'action="{en(call_next_url())}"' in page and 'id="day-call-next"' in page
    assert elsewhere["Location"] == en(queue_url())  # never off the site
    assert list(Ticket.objects.order_by("number").values_list("status", flat=True)) == [Status.CALLED] * 2


def test_the_day_page_of_another_day_has_no_call_next(qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        page = clerk(counter=1).get(en(reverse("desk:day", args=["mitte"])), {"date": "2026-11-24"})
    assert 'id="day-call-next"' not in page.content.decode()


# Cost ------------------------------------------------------------------------------------------


def _queue_queries(client: Client, **headers: object) -> int:
    with time_machine.travel(at("10:30"), tick=False), CaptureQueriesContext(connection) as queries:
        response = client.get(queue_url(), **headers)
    assert response.status_code == 200
    return len(queries)


def test_the_queue_page_and_its_list_cost_the_same_queries_for_2_and_6_tickets(qw) -> None:  # type: ignore[no-untyped-def]
    first = qw.book("10:00", name="Anna")
    visit_check_in(appointment=first, by=qw.clerk_a, now=at("09:50"))
    qw.draw("09:00")
    with time_machine.travel(at("10:30"), tick=False):
        client = clerk(counter=1)
    two = (_queue_queries(client), _queue_queries(client, HTTP_HX_REQUEST="true"))
    second = qw.book("10:15", name="Bernd")
    visit_check_in(appointment=second, by=qw.clerk_a, now=at("10:00"))
    qw.draw("09:30", service="anmeldung")
    qw.draw("09:40", queue=Queue.PICKUP, service="abholung-ausweis")
    qw.draw("09:45", queue=Queue.URGENT)
    queue_call_next(office=qw.office_a, counter=1, by=qw.clerk_a, now=at("10:20"))  # one at my counter
    queue_call_next(office=qw.office_a, counter=2, by=qw.manager_a, now=at("10:20"))  # one at another
    assert Ticket.objects.count() == 6
    six = (_queue_queries(client), _queue_queries(client, HTTP_HX_REQUEST="true"))
    # session, user, office, role, tickets, done/no-show counts; the page adds the desk's navigation and the matters.
    assert two == six == (9, 6)
