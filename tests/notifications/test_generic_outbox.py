"""The outbox is generic: a message about something other than an appointment is recorded, sent once, retried and
listed like any other, and the outbox itself imports nothing of the apps whose subjects it carries."""

import ast
import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from notifications import sms, subjects
from notifications.models import Message
from notifications.selectors import message_counts, messages_in_scope
from notifications.services import message_send, messages_record, messages_send_due
from notifications.subjects import Email, SubjectHandler
from tests.support.smtp import SmtpScript, smtp_server

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=datetime.UTC)
Status = Message.Status
NOTIFICATIONS = Path(__file__).resolve().parents[2] / "notifications"


class WaitlistOffers(SubjectHandler):
    """A subject registered by the test: a place on a waiting list that became free."""

    withdrawn: set[int] = set()

    def email(self, message: Message) -> Email:
        place = message.context["place"]
        return Email(subject=f"A place for you: {place}", text=f"Come at {place}.", html=f"<p>Come at {place}.</p>")

    def sms(self, message: Message) -> str:
        return f"A place for you: {message.context['place']}"

    def withdraw_reason(self, message: Message, *, now: datetime.datetime) -> str:
        return "taken by someone else" if message.subject_id in self.withdrawn else ""

    def kind_label(self, kind: str) -> str:
        return {"offer": "offer of a place"}.get(kind, kind)

    def label(self, message: Message) -> str:
        return f"waiting list entry {message.subject_id}"

    def search(self, term: str) -> Q | None:
        return Q(context__place=term)

    def scopes(self) -> list[tuple[str, str]]:
        return [("lending:1", "Waiting list 1")]


@pytest.fixture(autouse=True)
def lending() -> Iterator[WaitlistOffers]:
    handler = WaitlistOffers()
    handler.withdrawn = set()
    subjects.register("lending", handler)
    sms.outbox.clear()
    yield handler
    subjects.unregister("lending")


def offer(entry: int = 7, **fields: object) -> Message:
    values: dict[str, object] = {
        "subject_type": "lending",
        "subject_id": entry,
        "kind": "offer",
        "channel": Message.Channel.EMAIL,
        "recipient": "wartend@example.org",
        "language": "en",
        "due_at": NOW,
        "context": {"place": "Tuesday 10:00"},
        "scope": "lending:1",
    } | fields
    return Message(**values)


def test_a_message_about_another_subject_is_recorded_with_its_change_and_sent_once_after_commit(
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        (message,) = messages_record(messages=[offer()], now=NOW)
        assert mail.outbox == []  # not before the commit
    (email,) = mail.outbox
    assert (email.to, email.subject, email.body) == (
        ["wartend@example.org"],
        "A place for you: Tuesday 10:00",
        "Come at Tuesday 10:00.",
    )
    assert email.alternatives[0][0] == "<p>Come at Tuesday 10:00.</p>"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 1)
    assert message_send(message_id=message.pk, now=NOW) is None  # a second task sends nothing
    assert messages_send_due(now=NOW + datetime.timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1
    assert str(message) == "offer of a place (E-Mail) → wartend@example.org"


@pytest.mark.django_db(transaction=True)
def test_a_message_about_another_subject_is_never_recorded_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        messages_record(messages=[offer()], now=NOW)
    assert not Message.objects.exists()


def test_a_message_about_another_subject_is_retried_with_backoff(settings) -> None:  # type: ignore[no-untyped-def]
    script = SmtpScript(rcpt="451 4.3.0 try again later")
    with smtp_server(script) as port:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        with transaction.atomic():
            (message,) = messages_record(messages=[offer()], now=NOW)
        outcome = message_send(message_id=message.pk, now=NOW)
        assert outcome is not None and outcome.status == Status.PENDING
        assert outcome.retry_at == NOW + datetime.timedelta(minutes=1)
        script.rcpt = "250 OK"
        assert messages_send_due(now=outcome.retry_at) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 2)


def test_its_handler_withdraws_what_is_no_longer_wanted_and_nothing_goes_out_after_its_expiry(lending) -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        taken, late, on_time = messages_record(
            messages=[
                offer(1),
                offer(2, expires_at=NOW, channel=Message.Channel.SMS, recipient="+4915123456789"),
                offer(
                    3,
                    expires_at=NOW + datetime.timedelta(minutes=5),
                    channel=Message.Channel.SMS,
                    recipient="+4915123456789",
                ),
            ],
            now=NOW - datetime.timedelta(minutes=1),  # due, not queued: the sweep sends them
        )
    lending.withdrawn = {1}
    assert messages_send_due(now=NOW) == 3
    statuses = dict(Message.objects.values_list("subject_id", "status"))
    assert statuses == {1: Status.WITHDRAWN, 2: Status.WITHDRAWN, 3: Status.SENT}
    assert Message.objects.get(subject_id=1).last_error == "taken by someone else"
    assert Message.objects.get(subject_id=2).last_error == "Ihr Zeitpunkt ist verstrichen."
    assert [sent.text for sent in sms.outbox] == ["A place for you: Tuesday 10:00"]
    assert mail.outbox == []


def test_an_at_most_once_message_has_one_key_the_database_keeps_unique() -> None:
    with transaction.atomic():
        messages_record(messages=[offer(at_most_once=True, once_key="lending:7:offer")], now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        messages_record(messages=[offer(at_most_once=True, once_key="lending:7:offer")], now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():  # a key only for what must never arrive twice
        messages_record(messages=[offer(once_key="lending:8:offer")], now=NOW)


def test_a_message_about_another_subject_is_listed_for_its_staff_and_administrators(admin_client) -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        (message,) = messages_record(messages=[offer()], now=NOW + datetime.timedelta(days=1))
    assert list(messages_in_scope(scope="lending:1", status=None)) == [message]
    assert message_counts(scope="lending:1")[Status.PENDING] == 1
    changelist = reverse("admin:notifications_message_changelist")
    page = admin_client.get(changelist + "?scope=lending:1").content.decode()
    assert "waiting list entry 7" in page and "offer of a place" in page
    assert "Waiting list 1" in page  # the filter's choice, named by the handler
    assert "wartend@example.org" in admin_client.get(changelist + "?q=Tuesday+10:00").content.decode()
    assert "wartend@example.org" not in admin_client.get(changelist + "?q=Friday").content.decode()


def test_a_message_whose_subject_has_no_handler_fails_like_any_error_and_is_retried() -> None:
    with transaction.atomic():
        (message,) = messages_record(messages=[offer(subject_type="unknown")], now=NOW - datetime.timedelta(minutes=1))
    outcome = message_send(message_id=message.pk, now=NOW)
    assert outcome is not None and outcome.status == Status.PENDING
    assert "no handler registered for 'unknown'" in Message.objects.get().last_error


def test_the_outbox_imports_nothing_of_the_apps_above_or_beside_it() -> None:
    imported = set()
    for path in NOTIFICATIONS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    assert not imported & {"booking", "offices", "tickets", "desk", "demo"}, imported
