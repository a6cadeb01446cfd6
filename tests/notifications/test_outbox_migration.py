"""Migration 0003 turns the outbox's appointment rows into generic messages, reminders into at-most-once ones."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from booking.messages import as_recorded, office_scope
from notifications.models import Message
from tests.support.messages import MONDAY, NOW, at, book, leipzig_office

BEFORE = [("notifications", "0002_message_lease")]
AFTER = [("notifications", "0003_generic_outbox")]


def migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_messages_keep_their_appointment_as_it_was_and_reminders_stay_once_only() -> None:
    office = leipzig_office()
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    Message.objects.all().delete()
    old = migrate(BEFORE).get_model("notifications", "Message")
    fields = {
        "appointment_id": appointment.pk,
        "office_id": office.pk,
        "start": at(MONDAY, "08:00"),  # the time it had when the message was recorded
        "end": at(MONDAY, "08:30"),
        "sequence": 0,
        "channel": "email",
        "language": "de",
        "recipient": "erika@example.org",
        "due_at": NOW,
    }
    moved = old.objects.create(kind="moved", reason="Stromausfall", **fields)
    reminder = old.objects.create(kind="reminder", **fields)
    migrate(AFTER)

    moved, reminder = Message.objects.get(pk=moved.pk), Message.objects.get(pk=reminder.pk)
    for message in (moved, reminder):
        assert (message.subject_type, message.subject_id, message.scope) == (
            "appointment",
            appointment.pk,
            office_scope(office.pk),
        )
        then = as_recorded(message)
        assert (then.office_id, then.start, then.end, then.sequence, then.code) == (
            office.pk,
            at(MONDAY, "08:00"),
            at(MONDAY, "08:30"),
            0,
            appointment.booking_code,
        )
    assert as_recorded(moved).reason == "Stromausfall"
    assert (moved.at_most_once, moved.once_key, moved.expires_at) == (False, None, None)
    assert (reminder.at_most_once, reminder.expires_at) == (True, at(MONDAY, "08:00"))
    assert reminder.once_key == f"appointment:{appointment.pk}:0:email:reminder"
    reminder.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        reminder.save()
    assert Message.objects.count() == 2
    assert isinstance(moved.created_at, datetime.datetime)


@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_back_only_with_an_empty_outbox() -> None:
    book(leipzig_office(), at(MONDAY, "09:00"))
    from django.db.migrations.exceptions import IrreversibleError

    with pytest.raises(IrreversibleError, match="empty outbox"):
        migrate(BEFORE)
    assert Message.objects.count() == 1  # nothing changed
