"""The outbox's guarantees, shown with appointment messages: recorded with their change, claimed by one
sender, leases renewed, retried with backoff, at most once where it must, recovered after a crash, sent again by
an administrator."""

import datetime
import threading
import time
import uuid
from email import message_from_bytes

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from booking.messages import Kind, appointment_messages_record
from booking.models import Appointment
from buergerservice import outage
from buergerservice.outage import Pauses
from notifications import sms
from notifications.models import Message
from notifications.services import (
    message_claim,
    message_deliver,
    message_lease_renew,
    message_send,
    messages_retry,
    messages_send_due,
)
from notifications.tasks import send_message
from offices.models import Membership
from tests.support.factories import MembershipFactory, UserFactory
from tests.support.messages import (
    MONDAY,
    NOW,
    HandOver,
    at,
    book,
    leipzig_office,
    seconds,
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


@pytest.mark.django_db(transaction=True)
def test_a_message_is_never_recorded_outside_the_transaction_of_its_change(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    with pytest.raises(RuntimeError, match="inside the transaction"):
        appointment_messages_record(appointment=appointment, kind=Kind.MOVED, now=NOW)
    assert not Message.objects.filter(kind=Kind.MOVED).exists()


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
    page = client.get(reverse("desk:office-messages", args=[office.slug]))
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
    settings.SMS_BACKEND = "tests.notifications.test_outbox.RefusingSmsBackend"
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
    settings.EMAIL_BACKEND = "tests.support.messages.HandOver"
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
    settings.EMAIL_BACKEND = "tests.support.messages.HandOver"
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


def test_the_database_refuses_a_second_reminder_for_the_same_version(office) -> None:  # type: ignore[no-untyped-def]
    from django.db import IntegrityError

    book(office, at(MONDAY, "09:00"), reminders_consent=True)
    reminder = Message.objects.get(kind=Kind.REMINDER)
    reminder.pk = None
    with pytest.raises(IntegrityError):
        reminder.save()


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


def test_after_a_failed_publish_the_process_leaves_the_broker_alone_for_a_while(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Redis down: one request waits out the connection timeout, the next ones (one write at a time per process,
    buergerservice/write_gate.py) do not queue for BROKER_PAUSE_SECONDS; the sweep sends what was not queued."""
    from notifications import services
    from notifications.tasks import send_message

    clock = [1000.0]
    published: list[int] = []

    def broker_down(message_id: int) -> None:
        published.append(message_id)
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(outage.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(services, "_broker", Pauses())
    monkeypatch.setattr(send_message, "delay", broker_down)
    eager = send_message.app.conf.task_always_eager
    send_message.app.conf.task_always_eager = False  # a real broker (Celery's settings refuse monkeypatch's undo)
    try:
        services._queue([1, 2])
    finally:
        send_message.app.conf.task_always_eager = eager
    assert published == [1]  # tried once, then gave up on this request
    clock[0] += services.BROKER_PAUSE_SECONDS - 1
    services._queue([3])
    assert published == [1]  # still paused: not even tried
    clock[0] += 1
    services._queue([4])
    assert published == [1, 4]  # the pause is over: tried again (eager now, so no new pause)


def test_an_eager_task_that_fails_does_not_pause_the_queueing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from notifications import services
    from notifications.tasks import send_message

    tried: list[int] = []

    def failing(message_id: int) -> None:
        tried.append(message_id)
        raise RuntimeError("the task failed, not the broker")

    monkeypatch.setattr(services, "_broker", Pauses())
    monkeypatch.setattr(send_message, "delay", failing)
    assert send_message.app.conf.task_always_eager  # the tests' settings: no REDIS_URL
    services._queue([1])
    services._queue([2])
    assert tried == [1, 2]
