"""The outbox: confirmations, reminders, moves and cancellations by e-mail and SMS, sent once, retried, visible."""

import datetime
import threading
import time
import uuid
from collections.abc import Callable
from email import message_from_bytes, policy

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from booking.errors import SlotTaken
from booking.grid import BERLIN
from booking.models import Appointment
from booking.services.appointments import (
    CancelledBy,
    Contact,
    appointment_book,
    appointment_cancel,
    appointment_move,
)
from notifications import sms
from notifications.models import Message
from notifications.services import (
    message_claim,
    message_deliver,
    message_lease_renew,
    message_send,
    messages_record,
    messages_retry,
    messages_send_due,
)
from notifications.tasks import send_message
from offices.models import Membership
from tests.support.factories import MembershipFactory, UserFactory, bookable_office, offer
from tests.support.smtp import SmtpScript, smtp_server

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)  # a week before
Kind, Status, Channel = Message.Kind, Message.Status, Message.Channel


def at(day: datetime.date, hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> None:
    sms.outbox.clear()


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    office = bookable_office(
        counters=2,
        first=MONDAY,
        last=MONDAY + datetime.timedelta(days=4),
        name_de="Bürgerbüro Mitte",
        name_en="Citizen Office Centre",
        street="Markt 1",
        postal_code="04109",
        city="Leipzig",
        directions_de="Straßenbahn 4 bis Markt",
        directions_en="Tram 4 to Markt",
        phone="0341 123-0",
    )
    offer(
        office,
        "personalausweis",
        15,
        name_de="Personalausweis",
        name_en="Identity card",
        what_to_bring_de="Altes Ausweisdokument\nBiometrisches Passfoto",
        what_to_bring_en="Old identity document\nBiometric photo",
    )
    return office


def book(office, start, *, now=NOW, **contact):  # type: ignore[no-untyped-def]
    contact.setdefault("name", "Erika Mustermann")
    contact.setdefault("email", "erika@example.org")
    channel = contact.pop("channel", Appointment.Channel.ONLINE)
    from booking.needs import needs_from_param

    return appointment_book(
        office=office,
        start=start,
        needs=needs_from_param("personalausweis:2"),
        contact=Contact(**contact),
        now=now,
        channel=channel,
    )


def sent_now(django_capture_on_commit_callbacks, action):  # type: ignore[no-untyped-def]
    """Run ``action`` and the tasks it queues after commit (eager Celery: in-process)."""
    with django_capture_on_commit_callbacks(execute=True):
        return action()


def ics_of(email: mail.EmailMessage) -> Calendar:
    (attachment,) = [a for a in email.attachments if a[2].startswith("text/calendar")]
    return Calendar.from_ical(attachment[1])


def event_of(calendar: Calendar):  # type: ignore[no-untyped-def]
    (event,) = calendar.walk("VEVENT")
    return event


# Recording -----------------------------------------------------------------------------------------


def test_a_booking_records_its_confirmation_in_the_same_transaction(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    (message,) = Message.objects.filter(appointment=appointment)
    assert (message.kind, message.channel, message.status) == (Kind.CONFIRMATION, Channel.EMAIL, Status.PENDING)
    assert (message.recipient, message.language, message.start, message.sequence) == (
        "erika@example.org",
        "de",
        appointment.start,
        0,
    )
    assert mail.outbox == []  # nothing leaves before the commit


def test_a_refused_booking_records_no_message(office) -> None:  # type: ignore[no-untyped-def]
    for _n in range(2):
        book(office, at(MONDAY, "09:00"), email=f"person{_n}@example.org")
    with pytest.raises(SlotTaken):
        book(office, at(MONDAY, "09:00"), email="third@example.org")
    assert Message.objects.filter(recipient="third@example.org").count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_message_is_never_recorded_outside_the_transaction_of_its_change(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    with pytest.raises(RuntimeError, match="inside the transaction"):
        messages_record(appointment=appointment, kind=Kind.MOVED, now=NOW)
    assert not Message.objects.filter(kind=Kind.MOVED).exists()


# The e-mails ---------------------------------------------------------------------------------------


def test_the_confirmation_email_says_everything_in_german_with_a_calendar_file(  # type: ignore[no-untyped-def]
    office, django_capture_on_commit_callbacks, settings
) -> None:
    settings.SITE_URL = "https://termine.example.de"
    appointment = sent_now(django_capture_on_commit_callbacks, lambda: book(office, at(MONDAY, "09:00")))
    (email,) = mail.outbox
    assert email.to == ["erika@example.org"]
    assert email.subject == f"Ihr Termin am 23. November 2026 um 09:00 (Code {appointment.booking_code})"
    text = email.body
    for expected in [
        "Hallo Erika Mustermann,",
        f"Buchungscode: {appointment.booking_code}",
        "Montag, 23. November 2026, 09:00–09:30",
        "Bürgerbüro Mitte, Markt 1, 04109 Leipzig",
        "- Personalausweis – 2 Personen",
        "- Altes Ausweisdokument",
        "- Biometrisches Passfoto",
        "Straßenbahn 4 bis Markt",
        f"https://termine.example.de/appointment/{appointment.manage_token}/",
    ]:
        assert expected in text, expected
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="https://termine.example.de/appointment/{appointment.manage_token}/"' in html
    assert "Biometrisches Passfoto" in html and '<html lang="de">' in html
    calendar = ics_of(email)
    event = event_of(calendar)
    assert calendar["METHOD"] == "PUBLISH"
    assert event.decoded("dtstart") == at(MONDAY, "09:00")
    assert event.decoded("dtend") == at(MONDAY, "09:30")
    assert str(event["dtstart"].params["TZID"]) == "Europe/Berlin"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert event["SEQUENCE"] == 0
    message = Message.objects.get(appointment=appointment)
    assert (message.status, message.attempts, message.sent_at is not None) == (Status.SENT, 1, True)


def test_an_english_booking_gets_english_emails_and_english_links(  # type: ignore[no-untyped-def]
    office, django_capture_on_commit_callbacks, settings
) -> None:
    settings.SITE_URL = "https://termine.example.de"
    appointment = sent_now(django_capture_on_commit_callbacks, lambda: book(office, at(MONDAY, "09:00"), language="en"))
    (email,) = mail.outbox
    assert email.subject == f"Your appointment on 23 November 2026 at 09:00 (code {appointment.booking_code})"
    assert "Hello Erika Mustermann," in email.body
    assert "Identity card – 2 persons" in email.body
    assert "Biometric photo" in email.body and "Tram 4 to Markt" in email.body
    assert f"https://termine.example.de/en/appointment/{appointment.manage_token}/" in email.body
    assert "Citizen Office Centre" in email.body
    assert "Appointment at Citizen Office Centre" in str(event_of(ics_of(email))["SUMMARY"])


def test_a_move_sends_the_new_time_with_the_same_calendar_uid_and_a_higher_sequence(  # type: ignore[no-untyped-def]
    office, django_capture_on_commit_callbacks
) -> None:
    appointment = sent_now(django_capture_on_commit_callbacks, lambda: book(office, at(MONDAY, "09:00")))
    sent_now(
        django_capture_on_commit_callbacks,
        lambda: appointment_move(appointment=appointment, start=at(MONDAY, "14:00"), now=NOW),
    )
    confirmation, moved = mail.outbox
    assert moved.subject.startswith("Ihr Termin ist verschoben auf 23. November 2026 um 14:00")
    assert "14:00–14:30" in moved.body
    first, second = event_of(ics_of(confirmation)), event_of(ics_of(moved))
    assert first["UID"] == second["UID"]
    assert (first["SEQUENCE"], second["SEQUENCE"]) == (0, 1)
    assert second.decoded("dtstart") == at(MONDAY, "14:00")


def test_a_cancellation_removes_the_calendar_entry_by_its_uid(  # type: ignore[no-untyped-def]
    office, django_capture_on_commit_callbacks
) -> None:
    appointment = sent_now(django_capture_on_commit_callbacks, lambda: book(office, at(MONDAY, "09:00")))
    sent_now(django_capture_on_commit_callbacks, lambda: appointment_cancel(appointment=appointment, now=NOW))
    confirmation, cancelled = mail.outbox
    assert cancelled.subject.startswith("Abgesagt: Ihr Termin am 23. November 2026 um 09:00")
    calendar = ics_of(cancelled)
    assert calendar["METHOD"] == "CANCEL"
    assert event_of(calendar)["UID"] == event_of(ics_of(confirmation))["UID"]
    assert event_of(calendar)["STATUS"] == "CANCELLED"
    assert Message.objects.get(appointment=appointment, kind=Kind.CANCELLED_BY_CITIZEN).status == Status.SENT


def test_the_office_cancelling_apologises_and_gives_its_reason(  # type: ignore[no-untyped-def]
    office, django_capture_on_commit_callbacks
) -> None:
    appointment = book(office, at(MONDAY, "09:00"))
    sent_now(
        django_capture_on_commit_callbacks,
        lambda: appointment_cancel(appointment=appointment, now=NOW, by=CancelledBy.OFFICE, reason="Stromausfall"),
    )
    (email,) = mail.outbox
    assert email.subject.startswith("Wir mussten Ihren Termin am 23. November 2026 um 09:00 absagen")
    assert "Grund: Stromausfall" in email.body and "Es tut uns leid" in email.body
    assert "0341 123-0" in email.body
    assert Message.objects.get(appointment=appointment, kind=Kind.CANCELLED_BY_OFFICE).reason == "Stromausfall"


def test_a_message_sent_late_tells_what_happened_then_not_what_is_true_now(  # type: ignore[no-untyped-def]
    office,
) -> None:
    appointment = book(office, at(MONDAY, "09:00"))
    appointment_move(appointment=appointment, start=at(MONDAY, "14:00"), now=NOW)
    messages_send_due(now=NOW)  # the broker was down: both go out now, each as it was
    confirmation, moved = sorted(mail.outbox, key=lambda email: event_of(ics_of(email))["SEQUENCE"])
    assert "09:00–09:30" in confirmation.body and event_of(ics_of(confirmation)).decoded("dtstart") == at(
        MONDAY, "09:00"
    )
    assert "14:00–14:30" in moved.body


# Reminders -----------------------------------------------------------------------------------------


def test_a_reminder_is_planned_24_hours_ahead_only_with_consent(office) -> None:  # type: ignore[no-untyped-def]
    with_consent = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    without = book(office, at(MONDAY, "10:00"), email="max@example.org")
    (reminder,) = Message.objects.filter(kind=Kind.REMINDER)
    assert reminder.appointment == with_consent
    assert reminder.due_at == at(MONDAY, "09:00") - datetime.timedelta(hours=24)
    assert not Message.objects.filter(appointment=without, kind=Kind.REMINDER).exists()


def test_no_reminder_for_an_appointment_booked_inside_the_lead_time(office) -> None:  # type: ignore[no-untyped-def]
    book(office, at(MONDAY, "09:00"), reminders_consent=True, now=at(MONDAY, "09:00") - datetime.timedelta(hours=23))
    assert not Message.objects.filter(kind=Kind.REMINDER).exists()


def test_the_reminder_lead_time_is_a_setting(office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REMINDER_LEAD_HOURS = 48
    book(office, at(MONDAY, "09:00"), reminders_consent=True)
    assert Message.objects.get(kind=Kind.REMINDER).due_at == at(MONDAY, "09:00") - datetime.timedelta(hours=48)


def test_the_sweep_sends_the_reminder_when_it_is_due_and_not_before(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    Message.objects.filter(kind=Kind.CONFIRMATION).update(status=Status.SENT, sent_at=NOW)
    due = at(MONDAY, "09:00") - datetime.timedelta(hours=24)
    assert messages_send_due(now=due - datetime.timedelta(seconds=1)) == 0
    assert mail.outbox == []
    assert messages_send_due(now=due) == 1
    (email,) = mail.outbox
    assert email.subject == "Erinnerung: Ihr Termin am 23. November 2026 um 09:00, Bürgerbüro Mitte"
    assert "bitte sagen Sie den Termin ab" in email.body
    assert appointment.booking_code in email.body
    assert email.attachments == []
    assert messages_send_due(now=due + datetime.timedelta(minutes=5)) == 0
    assert len(mail.outbox) == 1


def test_a_cancelled_appointment_gets_no_reminder(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    appointment_cancel(appointment=appointment, now=NOW)
    assert Message.objects.get(kind=Kind.REMINDER).status == Status.WITHDRAWN
    messages_send_due(now=at(MONDAY, "08:00"))
    assert [email.subject.split(":")[0] for email in mail.outbox] == [
        "Ihr Termin am 23. November 2026 um 09",
        "Abgesagt",
    ]


def test_a_reminder_still_pending_for_an_appointment_no_longer_booked_is_withdrawn_when_due(  # type: ignore[no-untyped-def]
    office,
) -> None:
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    Message.objects.filter(kind=Kind.CONFIRMATION).update(status=Status.SENT, sent_at=NOW)
    # A capacity change flagged it for rebooking (no message of its own): the reminder must not go out.
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.NEEDS_REBOOKING)
    messages_send_due(now=at(MONDAY, "08:00"))
    assert mail.outbox == []
    reminder = Message.objects.get(kind=Kind.REMINDER)
    assert (reminder.status, reminder.last_error) == (Status.WITHDRAWN, "Der Termin ist nicht mehr gebucht.")


def test_a_move_replaces_the_reminder_with_one_for_the_new_time(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    appointment_move(appointment=appointment, start=at(MONDAY + datetime.timedelta(days=1), "10:00"), now=NOW)
    reminders = Message.objects.filter(kind=Kind.REMINDER).order_by("sequence")
    assert [(r.status, r.sequence) for r in reminders] == [(Status.WITHDRAWN, 0), (Status.PENDING, 1)]
    assert reminders[1].due_at == at(MONDAY, "10:00")


def test_a_reminder_24_hours_before_a_monday_after_the_clocks_change_goes_out_at_the_right_instant(  # type: ignore[no-untyped-def]
    settings,
) -> None:
    # Summer time begins on Sunday 28 March 2027 at 02:00 (clocks jump to 03:00).
    monday = datetime.date(2027, 3, 29)
    office = bookable_office(counters=1, first=monday, last=monday, horizon_days=400)
    offer(office, "personalausweis", 15)
    start = at(monday, "08:00")  # 08:00 CEST = 06:00 UTC
    assert start.utcoffset() == datetime.timedelta(hours=2)
    booked_at = datetime.datetime(2027, 3, 20, 12, 0, tzinfo=BERLIN)
    appointment = book(office, start, reminders_consent=True, now=booked_at)
    Message.objects.filter(kind=Kind.CONFIRMATION).update(status=Status.SENT, sent_at=booked_at)
    # 24 hours before is Sunday 08:00 CEST = 06:00 UTC (not 07:00 UTC, as "Saturday's offset" would give).
    instant = datetime.datetime(2027, 3, 28, 6, 0, tzinfo=datetime.UTC)
    assert Message.objects.get(kind=Kind.REMINDER).due_at == instant
    with time_machine.travel(instant - datetime.timedelta(seconds=1), tick=False):
        assert messages_send_due(now=timezone.now()) == 0
    with time_machine.travel(instant, tick=False):
        assert messages_send_due(now=timezone.now()) == 1
    (email,) = mail.outbox
    assert "Montag, 29. März 2027, 08:00–08:30" in email.body
    assert event_of(Calendar.from_ical(_ics_of_booking(appointment))).decoded("dtstart").utcoffset() == (
        datetime.timedelta(hours=2)
    )


def _ics_of_booking(appointment: Appointment) -> bytes:
    from booking.ics import appointment_ics

    return appointment_ics(appointment)


# SMS -----------------------------------------------------------------------------------------------


def test_a_caller_booked_by_phone_with_a_mobile_number_gets_sms(  # type: ignore[no-untyped-def]
    office, django_capture_on_commit_callbacks, settings
) -> None:
    settings.SITE_URL = "https://termine.leipzig.de"
    appointment = sent_now(
        django_capture_on_commit_callbacks,
        lambda: book(office, at(MONDAY, "09:00"), email="", phone="0151 2345 6789", channel=Appointment.Channel.PHONE),
    )
    (sent,) = sms.outbox
    assert sent.to == "+4915123456789"
    assert sent.text == (
        f"Bürgerbüro Mitte: Termin Mo 23.11. 09:00, Code {appointment.booking_code}. "
        f"Ändern oder absagen: https://termine.leipzig.de/t/{appointment.manage_token}/"
    )
    assert sms.sms_length(sent.text).fits_one_sms
    message = Message.objects.get(appointment=appointment)
    assert (message.channel, message.status, message.note) == (Channel.SMS, Status.SENT, "")
    assert mail.outbox == []


def test_no_sms_to_landlines_or_to_citizens_who_booked_online(office, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    sent_now(
        django_capture_on_commit_callbacks,
        lambda: book(office, at(MONDAY, "09:00"), email="", phone="0341 123456", channel=Appointment.Channel.PHONE),
    )
    sent_now(
        django_capture_on_commit_callbacks,
        lambda: book(office, at(MONDAY, "10:00"), email="a@example.org", phone="0151 23456789"),
    )
    assert sms.outbox == []
    assert not Message.objects.filter(channel=Channel.SMS).exists()


def test_an_sms_reminder_two_hours_before_for_callers_who_consented(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(
        office,
        at(MONDAY, "09:00"),
        email="",
        phone="+49 170 1234567",
        channel=Appointment.Channel.PHONE,
        reminders_consent=True,
    )
    Message.objects.filter(kind=Kind.CONFIRMATION).update(status=Status.SENT, sent_at=NOW)
    (reminder,) = Message.objects.filter(kind=Kind.REMINDER)
    assert (reminder.channel, reminder.due_at) == (Channel.SMS, at(MONDAY, "07:00"))
    messages_send_due(now=at(MONDAY, "07:00"))
    (sent,) = sms.outbox
    assert sent.text.startswith(f"Erinnerung: Bürgerbüro Mitte, Mo 23.11. 09:00, Code {appointment.booking_code}.")
    assert sms.sms_length(sent.text).fits_one_sms


def test_an_sms_too_long_for_one_part_says_why(office, settings) -> None:  # type: ignore[no-untyped-def]
    office.name_de = "Bürgerbüro im Technischen Rathaus Nord, Eingang über den Innenhof, zweiter Stock rechts"
    office.save()
    book(office, at(MONDAY, "09:00"), email="", phone="0151 23456789", channel=Appointment.Channel.PHONE)
    messages_send_due(now=NOW)
    (sent,) = sms.outbox
    message = Message.objects.get(channel=Channel.SMS)
    assert message.status == Status.SENT
    assert not sms.sms_length(sent.text).fits_one_sms
    assert "in 2 Teilen" in message.note, message.note


# At most once --------------------------------------------------------------------------------------


def test_a_message_is_claimed_by_one_sender_only(office) -> None:  # type: ignore[no-untyped-def]
    book(office, at(MONDAY, "09:00"))
    message = Message.objects.get()
    assert message_claim(message_id=message.pk, now=NOW) is not None
    assert message_claim(message_id=message.pk, now=NOW) is None
    assert Message.objects.get().attempts == 1


def test_a_task_delivered_twice_sends_once(office) -> None:  # type: ignore[no-untyped-def]
    book(office, at(MONDAY, "09:00"))
    message = Message.objects.get()
    with time_machine.travel(NOW, tick=False):
        assert send_message.delay(message.pk).get() == Status.SENT
        assert send_message.delay(message.pk).get() is None
        messages_send_due(now=NOW)
    assert len(mail.outbox) == 1


def test_a_reminder_is_not_sent_before_it_is_due_even_if_a_task_asks(office) -> None:  # type: ignore[no-untyped-def]
    book(office, at(MONDAY, "09:00"), reminders_consent=True)
    reminder = Message.objects.get(kind=Kind.REMINDER)
    assert message_send(message_id=reminder.pk, now=NOW) is None
    assert Message.objects.get(pk=reminder.pk).status == Status.PENDING


# Failures ------------------------------------------------------------------------------------------


def test_a_temporary_smtp_failure_retries_with_growing_delays_then_gives_up(  # type: ignore[no-untyped-def]
    office, settings
) -> None:
    script = SmtpScript(rcpt="451 4.3.0 try again later")
    settings.MESSAGE_MAX_ATTEMPTS = 3
    with smtp_server(script) as port:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        book(office, at(MONDAY, "09:00"))
        message = Message.objects.get()
        now = NOW
        delays = []
        for _attempt in range(2):
            outcome = message_send(message_id=message.pk, now=now)
            assert outcome is not None and outcome.status == Status.PENDING
            delays.append((outcome.retry_at - now).total_seconds())
            assert message_send(message_id=message.pk, now=now) is None  # not before its time
            now = outcome.retry_at
        assert delays == [60, 120]
        outcome = message_send(message_id=message.pk, now=now)
    assert outcome is not None and outcome.status == Status.FAILED
    message.refresh_from_db()
    assert message.attempts == 3
    assert "451" in message.last_error and "try again later" in message.last_error


def test_the_mail_server_back_delivers_on_the_next_attempt(office, settings) -> None:  # type: ignore[no-untyped-def]
    script = SmtpScript(data="421 4.7.0 busy")
    with smtp_server(script) as port:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        book(office, at(MONDAY, "09:00"))
        messages_send_due(now=NOW)
        assert Message.objects.get().status == Status.PENDING
        script.data = "250 OK"
        messages_send_due(now=NOW + datetime.timedelta(minutes=1))
    message = Message.objects.get()
    assert (message.status, message.attempts) == (Status.SENT, 2)
    (received,) = script.received
    parsed = message_from_bytes(received)
    assert parsed["To"] == "erika@example.org"
    assert {part.get_content_type() for part in parsed.walk()} >= {"text/plain", "text/html", "text/calendar"}


def test_a_refused_address_fails_at_once_and_shows_on_the_office_list_and_in_the_admin(  # type: ignore[no-untyped-def]
    office, settings, client, administrator
) -> None:
    script = SmtpScript(rcpt="550 5.1.1 no such user")
    with smtp_server(script) as port:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        appointment = book(office, at(MONDAY, "09:00"), email="nobody@example.org")
        messages_send_due(now=NOW)
    message = Message.objects.get()
    assert (message.status, message.attempts) == (Status.FAILED, 1)
    assert "550" in message.last_error and "no such user" in message.last_error
    manager = UserFactory(username="manager")
    MembershipFactory(user=manager, office=office, role=Membership.Role.MANAGER)
    client.force_login(manager)
    page = client.get(reverse("notifications:office-messages", args=[office.slug]))
    assert page.status_code == 200
    content = page.content.decode()
    assert appointment.booking_code in content and "no such user" in content and "nobody@example.org" in content
    client.force_login(administrator)
    admin_page = client.get(reverse("admin:notifications_message_changelist") + "?status__exact=failed")
    assert "nobody@example.org" in admin_page.content.decode()


class RefusingSmsBackend:
    def send(self, *, to: str, text: str) -> str:
        raise sms.PermanentSmsError("gateway refused the number (code 202)")


def test_a_permanently_refused_sms_number_fails_without_retrying(office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "tests.notifications.test_messages.RefusingSmsBackend"
    book(office, at(MONDAY, "09:00"), email="", phone="0151 23456789", channel=Appointment.Channel.PHONE)
    messages_send_due(now=NOW)
    message = Message.objects.get()
    assert (message.status, message.attempts, message.last_error) == (
        Status.FAILED,
        1,
        "gateway refused the number (code 202)",
    )


def test_an_administrator_can_send_a_failed_message_again(office, admin_client) -> None:  # type: ignore[no-untyped-def]
    book(office, at(MONDAY, "09:00"))
    Message.objects.update(status=Status.FAILED, attempts=10, last_error="550 no such user")
    response = admin_client.post(
        reverse("admin:notifications_message_changelist"),
        {"action": "send_again", "_selected_action": [Message.objects.get().pk]},
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.status, message.attempts) == (Status.PENDING, 0)
    messages_send_due(now=timezone.now())
    assert Message.objects.get().status == Status.SENT
    assert messages_retry(message_ids=[message.pk], now=NOW) == 0  # only failed ones


# A worker that died mid-send -----------------------------------------------------------------------


class HandOver(locmem.EmailBackend):
    """The test backend, running ``during`` while an e-mail is being handed over (a slow or hung mail server)."""

    during: Callable[[], object] = staticmethod(lambda: None)

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        HandOver.during()
        return super().send_messages(messages)


def seconds(n: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=n)


def test_a_claim_is_a_lease_of_seconds_that_only_its_holder_renews(office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MESSAGES_LEASE_SECONDS = 30
    book(office, at(MONDAY, "09:00"))
    message = message_claim(message_id=Message.objects.get().pk, now=NOW)
    assert message is not None and message.lease_until == NOW + seconds(30)
    assert message_lease_renew(message=message, now=NOW + seconds(20))
    assert Message.objects.get().lease_until == NOW + seconds(50)
    stranger = Message(pk=message.pk, claim_token=uuid.uuid4())  # a sender whose claim this is not
    assert not message_lease_renew(message=stranger, now=NOW + seconds(25))
    assert Message.objects.get().lease_until == NOW + seconds(50)
    # Past the first lease, but renewed: the sweep leaves the live send alone.
    assert messages_send_due(now=NOW + seconds(45)) == 0
    assert Message.objects.get().status == Status.SENDING
    assert mail.outbox == []


def test_after_a_crash_a_confirmation_goes_out_again_within_seconds_and_a_reminder_never(  # type: ignore[no-untyped-def]
    office, settings
) -> None:
    lease, sweep = settings.MESSAGES_LEASE_SECONDS, settings.MESSAGES_SWEEP_SECONDS
    assert (lease, sweep) == (30, 10)  # the defaults
    book(office, at(MONDAY, "09:00"), reminders_consent=True)
    crash = at(MONDAY, "09:00") - datetime.timedelta(hours=24)
    confirmation = message_claim(message_id=Message.objects.get(kind=Kind.CONFIRMATION).pk, now=crash)
    reminder = message_claim(message_id=Message.objects.get(kind=Kind.REMINDER).pk, now=crash)
    assert confirmation is not None and reminder is not None  # ... and then the worker died: nobody renews
    resent_after = None
    for tick in range(0, 15 * 60, sweep):  # beat's sweeps after the crash
        now = crash + seconds(tick)
        with time_machine.travel(now, tick=False):
            handled = messages_send_due(now=now)
        if mail.outbox:
            resent_after = tick
            break
        assert handled == 0  # maybe still sending: not before the lease ran out
    assert resent_after is not None
    assert lease < resent_after <= lease + sweep  # 40 s, where it took ten minutes
    assert [email.subject.split(" ")[0] for email in mail.outbox] == ["Ihr"]
    reminder.refresh_from_db()
    assert reminder.status == Status.FAILED
    assert "Nicht noch einmal gesendet" in reminder.last_error
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == (Status.SENT, 2)
    messages_send_due(now=crash + datetime.timedelta(hours=1))
    assert len(mail.outbox) == 1  # the reminder stays given up


def test_a_send_whose_lease_ran_out_before_the_hand_over_sends_nothing_and_is_sent_once_later(  # type: ignore[no-untyped-def]
    office, settings
) -> None:
    settings.MESSAGES_LEASE_SECONDS = 30
    book(office, at(MONDAY, "09:00"), reminders_consent=True)
    due = at(MONDAY, "09:00") - datetime.timedelta(hours=24)
    reminder = message_claim(message_id=Message.objects.get(kind=Kind.REMINDER).pk, now=due)
    assert reminder is not None
    # The worker froze after the claim and wakes 25 s later, 5 s before its lease ends: too late to hand over.
    outcome = message_deliver(message=reminder, now=due + seconds(25))
    assert outcome.status == Status.PENDING
    assert mail.outbox == []
    reminder.refresh_from_db()
    assert (reminder.status, reminder.due_at) == (Status.PENDING, due + seconds(25))
    assert "lief ab, bevor sie übergeben wurde" in reminder.last_error
    messages_send_due(now=due + seconds(26))
    messages_send_due(now=due + seconds(60))
    assert len([email for email in mail.outbox if email.subject.startswith("Erinnerung:")]) == 1
    assert Message.objects.get(kind=Kind.REMINDER).attempts == 2


def test_a_late_sender_keeps_its_result_unless_another_sender_claimed_the_message_meanwhile(  # type: ignore[no-untyped-def]
    office, settings
) -> None:
    settings.MESSAGES_LEASE_SECONDS = 30
    settings.EMAIL_BACKEND = "tests.notifications.test_messages.HandOver"
    book(office, at(MONDAY, "09:00"))
    message = message_claim(message_id=Message.objects.get().pk, now=NOW)
    # The hand-over hangs past the lease; the sweep hands the confirmation back, nobody takes it yet.
    HandOver.during = staticmethod(lambda: messages_send_due(now=NOW + seconds(31), limit=0))
    try:
        assert message_deliver(message=message, now=NOW).status == Status.SENT
    finally:
        HandOver.during = staticmethod(lambda: None)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 1)  # the late result stands: no second copy
    assert messages_send_due(now=NOW + seconds(60)) == 0

    # Once another sender has claimed it, the late sender's result must not overwrite that claim.
    Message.objects.filter(pk=message.pk).update(status=Status.PENDING, sent_at=None)
    first = message_claim(message_id=message.pk, now=NOW + seconds(60))
    second: list[Message | None] = []

    def taken_over() -> None:
        messages_send_due(now=NOW + seconds(91), limit=0)
        second.append(message_claim(message_id=message.pk, now=NOW + seconds(91)))

    HandOver.during = staticmethod(taken_over)
    try:
        message_deliver(message=first, now=NOW + seconds(60))
    finally:
        HandOver.during = staticmethod(lambda: None)
    message.refresh_from_db()
    assert second[0] is not None and message.claim_token == second[0].claim_token
    assert (message.status, message.attempts) == (Status.SENDING, 3)  # the second sender's, untouched
    assert message_deliver(message=second[0], now=NOW + seconds(91)).status == Status.SENT
    assert len(mail.outbox) == 3  # a change may arrive twice, never not at all


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_send_slower_than_its_lease_is_renewed_and_never_taken_by_a_sweep(office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MESSAGES_LEASE_SECONDS = 3  # renewed every second
    settings.EMAIL_BACKEND = "tests.notifications.test_messages.HandOver"
    book(office, at(MONDAY, "09:00"))
    Message.objects.update(status=Status.PENDING, attempts=0, sent_at=None)  # eager Celery sent it at commit
    mail.outbox.clear()
    message = Message.objects.get()
    started = time.monotonic()

    def clock() -> datetime.datetime:  # one clock for the sender and the sweeps, starting at NOW
        return NOW + seconds(time.monotonic() - started)

    sending = threading.Event()
    HandOver.during = staticmethod(lambda: (sending.set(), time.sleep(6)))  # twice the lease
    stop = threading.Event()
    sweeps: list[int] = []

    def sweeper() -> None:
        try:
            sending.wait(10)
            while not stop.is_set():
                sweeps.append(messages_send_due(now=clock()))
                time.sleep(0.3)
        finally:
            connection.close()

    thread = threading.Thread(target=sweeper)
    thread.start()
    try:
        outcome = message_send(message_id=message.pk, now=clock())
    finally:
        stop.set()
        thread.join()
        HandOver.during = staticmethod(lambda: None)
    assert sum(sweeps) == 0  # no sweep took the message
    assert len(mail.outbox) == 1
    assert outcome is not None and outcome.status == Status.SENT
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 1)
    assert message.lease_until > message.claimed_at + seconds(5)  # renewed while the mail server took its time
    assert len(sweeps) > 10  # and they did run meanwhile


# Pages ---------------------------------------------------------------------------------------------


def test_the_office_message_list_is_only_for_its_managers(office, client) -> None:  # type: ignore[no-untyped-def]
    url = reverse("notifications:office-messages", args=[office.slug])
    assert client.get(url).status_code == 302  # to the sign-in
    other = bookable_office(counters=1, first=MONDAY, last=MONDAY)
    stranger = UserFactory(username="stranger")
    MembershipFactory(user=stranger, office=other, role=Membership.Role.MANAGER)
    clerk = UserFactory(username="clerk")
    MembershipFactory(user=clerk, office=office, role=Membership.Role.CLERK)
    for user in (stranger, clerk):
        client.force_login(user)
        assert client.get(url).status_code == 404
    both = UserFactory(username="both")
    for each in (office, other):
        MembershipFactory(user=both, office=each, role=Membership.Role.MANAGER)
    client.force_login(both)
    page = client.get(url + "?status=sent").content.decode()
    assert f'href="/staff/messages/{other.slug}/?status=sent"' in page


def test_the_sms_link_leads_to_the_manage_page_in_the_booking_language(office, client) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"), language="en")
    response = client.get(f"/t/{appointment.manage_token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/en/appointment/{appointment.manage_token}/"
    assert client.get("/t/not-a-token/").status_code == 404


def test_the_manage_page_offers_the_cancelling_calendar_file_after_a_cancellation(office, client) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    appointment_cancel(appointment=appointment, now=NOW)
    page = client.get(reverse("booking:manage", args=[appointment.manage_token])).content.decode()
    ics_url = reverse("booking:ics", args=[appointment.manage_token])
    assert ics_url in page
    calendar = Calendar.from_ical(client.get(ics_url).content)
    assert calendar["METHOD"] == "CANCEL"


def test_the_admin_office_list_links_to_each_office_message_list(office, admin_client) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get(reverse("admin:offices_office_changelist")).content.decode()
    assert f'href="/staff/messages/{office.slug}/"' in page


def test_the_hourly_pass_adds_missing_reminders_once(office) -> None:  # type: ignore[no-untyped-def]
    from notifications.services import reminders_plan

    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    cancelled = book(office, at(MONDAY, "10:00"), email="max@example.org", reminders_consent=True)
    appointment_cancel(appointment=cancelled, now=NOW)
    Message.objects.filter(kind=Kind.REMINDER).delete()  # e.g. booked before reminders existed
    now = at(MONDAY, "09:00") - datetime.timedelta(days=2)
    assert reminders_plan(now=now) == 1
    (reminder,) = Message.objects.filter(kind=Kind.REMINDER)
    assert (reminder.appointment, reminder.due_at) == (appointment, at(MONDAY, "09:00") - datetime.timedelta(hours=24))
    assert reminders_plan(now=now) == 0
    assert Message.objects.filter(kind=Kind.REMINDER).count() == 1


def test_the_database_refuses_a_second_reminder_for_the_same_version(office) -> None:  # type: ignore[no-untyped-def]
    from django.db import IntegrityError

    book(office, at(MONDAY, "09:00"), reminders_consent=True)
    reminder = Message.objects.get(kind=Kind.REMINDER)
    reminder.pk = None
    with pytest.raises(IntegrityError):
        reminder.save()


def use_smtp(settings, port: int) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port


def test_when_the_mail_server_hangs_after_the_data_a_reminder_is_given_up_but_a_change_is_retried(  # type: ignore[no-untyped-def]
    office, settings
) -> None:
    script = SmtpScript()
    script.answer.clear()  # takes the message, then never answers: did it arrive?
    settings.EMAIL_TIMEOUT = 1
    with smtp_server(script) as port:
        use_smtp(settings, port)
        book(office, at(MONDAY, "09:00"), reminders_consent=True)
        Message.objects.update(due_at=NOW)
        assert messages_send_due(now=NOW) == 2
        script.answer.set()
    confirmation = Message.objects.get(kind=Kind.CONFIRMATION)
    reminder = Message.objects.get(kind=Kind.REMINDER)
    assert (confirmation.status, confirmation.due_at) == (Status.PENDING, NOW + datetime.timedelta(minutes=1))
    assert "timed out" in confirmation.last_error
    assert reminder.status == Status.FAILED
    assert "Nicht noch einmal gesendet" in reminder.last_error


def test_a_reminder_that_never_reached_the_mail_server_is_tried_again(office, settings) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    use_smtp(settings, closed_port)
    book(office, at(MONDAY, "09:00"), reminders_consent=True)
    Message.objects.update(due_at=NOW)
    messages_send_due(now=NOW)
    assert set(Message.objects.values_list("status", flat=True)) == {Status.PENDING}
    assert "ConnectionRefusedError" in Message.objects.get(kind=Kind.REMINDER).last_error


def test_a_change_waiting_for_a_retry_is_dropped_once_a_later_change_went_out(  # type: ignore[no-untyped-def]
    office, settings
) -> None:
    script = SmtpScript(data="421 4.7.0 busy")
    with smtp_server(script) as port:
        use_smtp(settings, port)
        appointment = book(office, at(MONDAY, "09:00"))
        messages_send_due(now=NOW)  # the confirmation waits for its retry
        script.data = "250 OK"
        appointment_move(appointment=appointment, start=at(MONDAY, "14:00"), now=NOW)
        moved = Message.objects.get(kind=Kind.MOVED)
        assert message_send(message_id=moved.pk, now=NOW).status == Status.SENT
        messages_send_due(now=NOW + datetime.timedelta(minutes=5))
    confirmation = Message.objects.get(kind=Kind.CONFIRMATION)
    assert (confirmation.status, confirmation.last_error) == (
        Status.WITHDRAWN,
        "Eine spätere Änderung wurde zuerst gesendet.",
    )
    (received,) = script.received
    assert "verschoben auf 23. November 2026 um 14:00" in message_from_bytes(received, policy=policy.default)["Subject"]


def test_names_are_escaped_in_html_but_not_in_subjects_or_plain_text(office) -> None:  # type: ignore[no-untyped-def]
    office.name_de = "Bürgerbüro Nord & Süd"
    office.save()
    appointment = book(office, at(MONDAY, "09:00"), name="<b>Eve</b> & Co", reminders_consent=True)
    messages_send_due(now=NOW)
    messages_send_due(now=appointment.start - datetime.timedelta(hours=24))
    confirmation, reminder = mail.outbox
    assert reminder.subject.endswith("Bürgerbüro Nord & Süd")
    assert "Hallo <b>Eve</b> & Co," in confirmation.body
    html = confirmation.alternatives[0][0]
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; Co" in html and "<b>Eve</b>" not in html
    assert "Bürgerbüro Nord &amp; Süd" in html


def test_sending_a_confirmation_reads_the_appointment_once(office, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    book(office, at(MONDAY, "09:00"))
    message = Message.objects.get()
    # claim (2: update, read with office and appointment), lines with services (2), a later change sent? (1), finish (1)
    with django_assert_max_num_queries(6):
        message_send(message_id=message.pk, now=NOW)
    assert Message.objects.get().status == Status.SENT
