"""Retention of personal data (issue 20, point 5): each kind erased exactly after its period (an office's longer one
too), the figures unchanged, a dry run and a second pass changing nothing, and the citizen erasing on the manage page.
"""

import datetime
import json
from dataclasses import dataclass

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import Client

from booking.models import Appointment, AppointmentService
from booking.services.appointments import appointment_cancel
from desk.audit import audit_record, snapshot
from desk.models import AuditEntry
from desk.retention import personal_data_erase
from desk.tasks import erase_personal_data
from notifications.models import Message
from offices.models import Feedback, Office
from tests.support.factories import UserFactory, bookable_office, offer
from tests.support.messages import MONDAY, NOW, at, book, leipzig_office
from tickets.models import Ticket
from waitlist.models import Registration

pytestmark = pytest.mark.django_db

EVENING = at(MONDAY, "17:00")  # the day's rows are all recorded by then


def days_after(days: int) -> datetime.datetime:
    return EVENING + datetime.timedelta(days=days)


NOTHING = {"appointments": 0, "tickets": 0, "waitlist registrations": 0, "messages": 0, "feedback": 0}


@dataclass
class City:
    office: Office  # the city's period (30 days)
    longer: Office  # keeps personal data 90 days
    visited: Appointment
    cancelled: Appointment
    at_longer: Appointment
    ticket: Ticket
    ticket_longer: Ticket
    message: Message
    message_longer: Message
    pending: Message
    registration: Registration
    registration_longer: Registration
    feedback: Feedback
    audit: AuditEntry


def _message(office: Office, appointment: Appointment, *, kind: str = "confirmation", **fields: object) -> Message:
    return Message.objects.create(
        subject_type="appointment",
        subject_id=appointment.pk,
        kind=kind,
        channel=Message.Channel.EMAIL,
        language="de",
        recipient="erika@example.org",
        context={"name": "Erika Mustermann", "start": "2026-11-23 09:00"},
        scope=f"office:{office.pk}",
        last_error="550 erika@example.org: mailbox full",
        due_at=at(MONDAY, "08:00"),
        **fields,
    )


def _registration(office: Office) -> Registration:
    registration = Registration.objects.create(
        first_day=MONDAY - datetime.timedelta(days=7),
        last_day=MONDAY,
        name="Max Mustermann",
        email="max@example.org",
        phone="+4917612345678",
        email_key="max@example.org",
        reason="Mein Aufenthaltstitel läuft ab",
        status=Registration.Status.ENDED,
    )
    registration.offices.set([office])
    return registration


def _ticket(office: Office, number: int) -> Ticket:
    return Ticket.objects.create(
        office=office,
        day=MONDAY,
        queue=Ticket.Queue.WALK_IN,
        number=number,
        status=Ticket.Status.DONE,
        counter=1,
        issued_at=at(MONDAY, "09:30"),
        called_at=at(MONDAY, "09:50"),
        service_started_at=at(MONDAY, "09:51"),
        finished_at=at(MONDAY, "10:05"),
    )


def make_city() -> City:
    with time_machine.travel(NOW, tick=False):
        office = leipzig_office()
        longer = bookable_office(counters=1, first=MONDAY, last=MONDAY, name_de="Standesamt", retention_days=90)
        offer(longer, "personalausweis", 15)
        visited = book(office, at(MONDAY, "09:00"), phone="+49 341 1234567", interpreter_language="Arabisch")
        cancelled = book(
            office, at(MONDAY, "10:00"), name="Hans Meier", email="hans@example.org", channel=Appointment.Channel.PHONE
        )
        cancelled = appointment_cancel(appointment=cancelled, now=NOW)
        at_longer = book(longer, at(MONDAY, "09:00"), name="Lena Schmidt", email="lena@example.org")
    with time_machine.travel(EVENING, tick=False):
        Appointment.objects.filter(pk=visited.pk).update(
            visit=Appointment.Visit.DONE,
            counter=2,
            arrived_at=at(MONDAY, "08:55"),
            called_at=at(MONDAY, "09:02"),
            service_started_at=at(MONDAY, "09:03"),
            finished_at=at(MONDAY, "09:21"),
            staff_note="Frau Mustermann bringt das Foto nach",
            step_free_access=True,
        )
        visited.refresh_from_db()
        clerk = UserFactory(username="clerk", first_name="Karla", last_name="Clerk")
        with transaction.atomic():
            audit = audit_record(
                appointment=visited, by=clerk, action=AuditEntry.Action.FINISH, before=snapshot(visited), now=EVENING
            )
        return City(
            office=office,
            longer=longer,
            visited=visited,
            cancelled=cancelled,
            at_longer=at_longer,
            ticket=_ticket(office, 1),
            ticket_longer=_ticket(longer, 1),
            message=_message(office, visited, status=Message.Status.SENT, sent_at=at(MONDAY, "08:00")),
            message_longer=_message(longer, at_longer, status=Message.Status.FAILED),
            # A reminder still waiting (its time stuck in the past) keeps its address: it may yet be sent.
            pending=_message(office, visited, status=Message.Status.PENDING, kind="reminder"),
            registration=_registration(office),
            registration_longer=_registration(longer),
            feedback=Feedback.objects.create(
                page="/book/", message="Die Schrift ist zu klein", name="Erika", email="erika@example.org"
            ),
            audit=audit,
        )


@pytest.fixture
def city() -> City:
    return make_city()


def erase(days: int, *, dry_run: bool = False) -> dict[str, int]:
    with time_machine.travel(days_after(days), tick=False):
        return personal_data_erase(days_after(days), dry_run=dry_run)


def personal_values() -> list[object]:
    """Every stored value that could name or reach a person, in a fixed order."""
    return [
        *Appointment.objects.order_by("pk").values_list(
            "name",
            "email",
            "phone",
            "email_key",
            "phone_key",
            "interpreter_language",
            "step_free_access",
            "staff_note",
            "manage_token",
            "confirm_token",
            "hold_token",
            "personal_data_erased_at",
        ),
        *Ticket.objects.order_by("pk").values_list("token"),
        *Message.objects.order_by("pk").values_list("recipient", "context", "last_error"),
        *Registration.objects.order_by("pk").values_list("name", "email", "phone", "email_key", "reason", "token"),
        *Offer_tokens(),
        *Feedback.objects.order_by("pk").values_list("name", "email", "message"),
    ]


def Offer_tokens() -> list[object]:  # noqa: N802
    from waitlist.models import Offer

    return list(Offer.objects.order_by("pk").values_list("token"))


def figures() -> dict[str, object]:
    """What the statistics read: appointments by status and channel, visit times, services, tickets, messages."""
    return {
        "appointments": sorted(
            Appointment.objects.values_list("office", "status", "channel", "visit").annotate(n=Count("pk"))
        ),
        "visits": sorted(
            Appointment.objects.values_list(
                "pk",
                "start",
                "end",
                "created_at",
                "cancelled_at",
                "arrived_at",
                "called_at",
                "service_started_at",
                "finished_at",
                "counter",
                "booking_code",
                "language",
            )
        ),
        "services": sorted(AppointmentService.objects.values_list("appointment", "service", "persons", "minutes")),
        "tickets": sorted(
            Ticket.objects.values_list(
                "office",
                "day",
                "queue",
                "number",
                "status",
                "issued_at",
                "called_at",
                "service_started_at",
                "finished_at",
                "counter",
            )
        ),
        "messages": sorted(
            Message.objects.values_list("kind", "channel", "language", "status", "scope", "due_at", "sent_at")
        ),
        "registrations": sorted(Registration.objects.values_list("status", "first_day", "last_day", "needs")),
        "feedback": sorted(Feedback.objects.values_list("kind", "page", "message", "created_at")),
    }


def test_nothing_is_erased_a_day_before_the_period_ends(city: City) -> None:
    before = personal_values()
    assert erase(29) == NOTHING
    assert personal_values() == before


def test_after_the_period_the_appointment_s_person_is_erased_and_its_visit_kept(city: City) -> None:
    counts = erase(31)
    assert counts["appointments"] == 2  # the visited one and the cancelled one; not the one at the longer office
    visited = Appointment.objects.get(pk=city.visited.pk)
    assert (visited.name, visited.email, visited.phone, visited.email_key, visited.phone_key) == ("", "", "", "", "")
    assert (visited.interpreter_language, visited.step_free_access, visited.staff_note) == ("", False, "")
    assert visited.confirm_token is None and visited.hold_token is None
    assert visited.manage_token.startswith("erased-") and visited.manage_token != city.visited.manage_token
    assert visited.personal_data_erased_at == days_after(31)
    assert (visited.status, visited.channel, visited.visit, visited.counter) == ("booked", "online", "done", 2)
    assert (visited.arrived_at, visited.finished_at) == (at(MONDAY, "08:55"), at(MONDAY, "09:21"))
    assert [(line.service.slug, line.persons) for line in visited.lines.all()] == [("personalausweis", 2)]
    cancelled = Appointment.objects.get(pk=city.cancelled.pk)
    assert (cancelled.name, cancelled.email, cancelled.status, cancelled.channel) == ("", "", "cancelled", "phone")
    assert Appointment.objects.get(pk=city.at_longer.pk).name == "Lena Schmidt"


def test_after_the_period_the_other_kinds_lose_exactly_their_personal_fields(city: City) -> None:
    assert erase(31) == {"appointments": 2, "tickets": 1, "waitlist registrations": 1, "messages": 1, "feedback": 1}
    ticket = Ticket.objects.get(pk=city.ticket.pk)
    assert ticket.token.startswith("-") and len(ticket.token) == len(city.ticket.token)
    assert (ticket.label, ticket.status, ticket.finished_at) == ("W001", "done", at(MONDAY, "10:05"))
    message = Message.objects.get(pk=city.message.pk)
    assert (message.recipient, message.context, message.last_error) == ("", {}, "")
    assert (message.kind, message.channel, message.status, message.sent_at) == (
        "confirmation",
        "email",
        "sent",
        at(MONDAY, "08:00"),
    )
    assert Message.objects.get(pk=city.pending.pk).recipient == "erika@example.org"
    registration = Registration.objects.get(pk=city.registration.pk)
    assert (registration.name, registration.email, registration.phone, registration.email_key) == ("", "", "", "")
    assert registration.reason == "" and registration.token.startswith("erased-")
    assert (registration.status, registration.last_day) == ("ended", MONDAY)
    feedback = Feedback.objects.get(pk=city.feedback.pk)
    assert (feedback.name, feedback.email, feedback.message, feedback.page) == (
        "",
        "",
        "Die Schrift ist zu klein",
        "/book/",
    )


def test_an_office_that_must_keep_data_longer_keeps_it_until_its_own_period_ends(city: City) -> None:
    erase(31)
    assert Appointment.objects.get(pk=city.at_longer.pk).email == "lena@example.org"
    assert Ticket.objects.get(pk=city.ticket_longer.pk).token == city.ticket_longer.token
    assert Message.objects.get(pk=city.message_longer.pk).recipient == "erika@example.org"
    assert Registration.objects.get(pk=city.registration_longer.pk).name == "Max Mustermann"
    assert erase(89) == NOTHING
    assert erase(91) == {"appointments": 1, "tickets": 1, "waitlist registrations": 1, "messages": 1, "feedback": 0}
    assert Appointment.objects.get(pk=city.at_longer.pk).email == ""
    assert Message.objects.get(pk=city.message_longer.pk).recipient == ""
    assert Registration.objects.get(pk=city.registration_longer.pk).name == ""


def test_the_city_s_period_comes_from_the_setting(city: City, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RETENTION_DAYS = 10
    assert erase(11)["appointments"] == 2
    settings.RETENTION_DAYS = 120  # longer than the office's 90 days: the longer of the two counts
    assert erase(91)["appointments"] == 0


def test_a_dry_run_counts_what_would_be_erased_and_changes_nothing(city: City) -> None:
    before = personal_values()
    counts = erase(31, dry_run=True)
    assert counts == {"appointments": 2, "tickets": 1, "waitlist registrations": 1, "messages": 1, "feedback": 1}
    assert personal_values() == before
    assert erase(31) == counts


def test_a_second_pass_erases_nothing_more(city: City) -> None:
    erase(31)
    after_first = personal_values()
    assert erase(32) == NOTHING
    assert personal_values() == after_first


def test_the_figures_are_the_same_before_and_after_erasing(city: City) -> None:
    before = figures()
    erase(91)
    assert figures() == before
    assert Appointment.objects.filter(personal_data_erased_at__isnull=False).count() == 3


def test_the_audit_log_keeps_who_and_what_but_no_citizen(city: City) -> None:
    entry = AuditEntry.objects.get(pk=city.audit.pk)
    stored = json.dumps([entry.before, entry.after, entry.reason, entry.actor_name])
    assert "Karla Clerk (clerk)" in stored and entry.action == "finish"
    for personal in ("Erika", "erika@example.org", "+49 341", "Arabisch"):
        assert personal not in stored
    erase(31)
    assert AuditEntry.objects.get(pk=city.audit.pk).after == entry.after  # the log is never rewritten


def test_old_links_lead_nowhere_once_erased(city: City, client: Client) -> None:
    with time_machine.travel(days_after(29), tick=False):
        assert client.get(f"/appointment/{city.visited.manage_token}/").status_code == 200
        assert client.get(f"/w/{city.ticket.token}/").status_code == 200
        assert client.get(f"/waitlist/{city.registration.token}/").status_code == 200
    erase(31)
    with time_machine.travel(days_after(31), tick=False):
        assert client.get(f"/appointment/{city.visited.manage_token}/").status_code == 404
        assert client.get(f"/w/{city.ticket.token}/").status_code == 404
        assert client.get(f"/waitlist/{city.registration.token}/").status_code == 404
        erased_token = Ticket.objects.get(pk=city.ticket.pk).token
        assert client.get(f"/w/{erased_token}/").status_code == 404


def test_the_command_prints_the_counts_and_a_dry_run_says_so(city: City, capsys) -> None:  # type: ignore[no-untyped-def]
    before = personal_values()
    with time_machine.travel(days_after(31), tick=False):
        call_command("erase_personal_data", "--dry-run")
        dry = capsys.readouterr().out
        assert personal_values() == before
        call_command("erase_personal_data")
        done = capsys.readouterr().out
    assert "Retention period: 30 days. Personal data would be erased:" in dry and "  appointments: 2" in dry
    assert "Personal data erased:" in done and "  messages: 1" in done and "  feedback: 1" in done
    assert personal_values() != before


def test_the_nightly_task_erases_what_is_due(city: City) -> None:
    with time_machine.travel(days_after(31), tick=False):
        counts = erase_personal_data.delay().get()
    assert counts["appointments"] == 2
    assert Appointment.objects.get(pk=city.visited.pk).name == ""
