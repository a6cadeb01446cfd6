"""What a message about an appointment says and its rules: confirmations, moves and cancellations by e-mail
(German and English, with calendar files) and SMS, reminders planned and withdrawn, a change overtaken by a later
one."""

import datetime
from email import message_from_bytes, policy

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from booking.errors import SlotTaken
from booking.grid import BERLIN
from booking.messages import Kind, appointment_messages, as_recorded, reminders_plan
from booking.models import Appointment
from booking.services.appointments import CancelledBy, appointment_cancel, appointment_move
from notifications import sms
from notifications.models import Message
from notifications.services import (
    message_send,
    messages_send_due,
)
from tests.support.factories import bookable_office, offer
from tests.support.messages import (
    MONDAY,
    NOW,
    at,
    book,
    event_of,
    ics_of,
    leipzig_office,
    sent_now,
    use_smtp,
)
from tests.support.smtp import SmtpScript, smtp_server

pytestmark = pytest.mark.django_db

Status, Channel = Message.Status, Message.Channel


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> None:
    sms.outbox.clear()


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    return leipzig_office()


def test_a_booking_records_its_confirmation_in_the_same_transaction(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    (message,) = appointment_messages(appointment)
    assert (message.kind, message.channel, message.status) == (Kind.CONFIRMATION, Channel.EMAIL, Status.PENDING)
    assert (message.recipient, message.language, as_recorded(message).start, as_recorded(message).sequence) == (
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
    assert "Biometrisches Passfoto" in html and '<html lang="de" dir="ltr">' in html
    calendar = ics_of(email)
    event = event_of(calendar)
    assert calendar["METHOD"] == "PUBLISH"
    assert event.decoded("dtstart") == at(MONDAY, "09:00")
    assert event.decoded("dtend") == at(MONDAY, "09:30")
    assert str(event["dtstart"].params["TZID"]) == "Europe/Berlin"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert event["SEQUENCE"] == 0
    message = appointment_messages(appointment).get()
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
    assert appointment_messages(appointment).get(kind=Kind.CANCELLED_BY_CITIZEN).status == Status.SENT


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
    assert as_recorded(appointment_messages(appointment).get(kind=Kind.CANCELLED_BY_OFFICE)).reason == "Stromausfall"


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


def test_a_reminder_is_planned_24_hours_ahead_only_with_consent(office) -> None:  # type: ignore[no-untyped-def]
    with_consent = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    without = book(office, at(MONDAY, "10:00"), email="max@example.org")
    (reminder,) = Message.objects.filter(kind=Kind.REMINDER)
    assert reminder.subject_id == with_consent.pk
    assert reminder.due_at == at(MONDAY, "09:00") - datetime.timedelta(hours=24)
    assert not appointment_messages(without).filter(kind=Kind.REMINDER).exists()


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
    reminders = Message.objects.filter(kind=Kind.REMINDER).order_by("pk")
    assert [(r.status, as_recorded(r).sequence) for r in reminders] == [(Status.WITHDRAWN, 0), (Status.PENDING, 1)]
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
    message = appointment_messages(appointment).get()
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


def test_the_hourly_pass_adds_missing_reminders_once(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    cancelled = book(office, at(MONDAY, "10:00"), email="max@example.org", reminders_consent=True)
    appointment_cancel(appointment=cancelled, now=NOW)
    Message.objects.filter(kind=Kind.REMINDER).delete()  # e.g. booked before reminders existed
    now = at(MONDAY, "09:00") - datetime.timedelta(days=2)
    assert reminders_plan(now=now) == 1
    (reminder,) = Message.objects.filter(kind=Kind.REMINDER)
    assert (reminder.subject_id, reminder.due_at) == (
        appointment.pk,
        at(MONDAY, "09:00") - datetime.timedelta(hours=24),
    )
    assert reminders_plan(now=now) == 0
    assert Message.objects.filter(kind=Kind.REMINDER).count() == 1


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
    # claim (2: update, read), a later change sent? (1), appointment and office (1), lines and services (1), finish (1)
    with django_assert_max_num_queries(6):
        message_send(message_id=message.pk, now=NOW)
    assert Message.objects.get().status == Status.SENT


def test_the_admin_shows_an_appointments_messages_and_finds_them_by_its_booking_code(office, admin_client) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    book(office, at(MONDAY, "10:00"), email="max@example.org")
    page = admin_client.get(reverse("admin:booking_appointment_change", args=[appointment.pk])).content.decode()
    listed = (
        f"{reverse('admin:notifications_message_changelist')}?subject_type=appointment&amp;subject_id={appointment.pk}"
    )
    assert f'<a href="{listed}">2 Nachrichten</a>' in page
    for url in (
        listed.replace("&amp;", "&"),
        reverse("admin:notifications_message_changelist") + f"?q={appointment.booking_code.lower()}",
    ):
        found = admin_client.get(url).content.decode()
        assert found.count('name="_selected_action"') == 2 and "max@example.org" not in found
        assert f"Termin {appointment.booking_code}" in found and "Erinnerung" in found


def test_the_hourly_pass_runs_on_beat_under_the_task_name_it_always_had(office) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    from booking.tasks import plan_reminders

    assert settings.CELERY_BEAT_SCHEDULE["plan-reminders"]["task"] == plan_reminders.name
    assert plan_reminders.name == "notifications.tasks.plan_reminders"  # tasks queued before the move still run
    book(office, at(MONDAY, "09:00"), reminders_consent=True)
    Message.objects.filter(kind=Kind.REMINDER).delete()
    with time_machine.travel(at(MONDAY, "09:00") - datetime.timedelta(days=1, hours=1), tick=False):
        assert plan_reminders.delay().get() == 1
