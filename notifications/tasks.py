"""Celery tasks of the outbox: thin wrappers around services.py, safe to run twice."""

from celery import shared_task
from django.utils import timezone

from notifications.services import (
    SEND_TIME_LIMIT,
    message_send,
    messages_due_exist,
    messages_send_due,
)

# A send's lease is renewed at most this long (services.LeaseKeeper); the hard
# limit ends the worker process that ignored the soft one, and with it the renewals.
SEND_SOFT_LIMIT = int(SEND_TIME_LIMIT.total_seconds())
SEND_HARD_LIMIT = SEND_SOFT_LIMIT + 30


# acks_late: a worker that dies mid-task has the task delivered again; the claim
# in message_send makes that harmless. The message itself does not wait for that
# re-delivery (an hour on Redis, the visibility timeout): its lease runs out
# within seconds and the sweep sends it.
@shared_task(acks_late=True, time_limit=SEND_HARD_LIMIT, soft_time_limit=SEND_SOFT_LIMIT)
def send_message(message_id: int) -> str | None:
    """Send one message right after the change that caused it was committed."""
    outcome = message_send(message_id=message_id, now=timezone.now())
    return outcome.status if outcome else None


@shared_task(acks_late=True, time_limit=SEND_HARD_LIMIT, soft_time_limit=SEND_SOFT_LIMIT)
def send_due_messages() -> int:
    """Beat, every MESSAGES_SWEEP_SECONDS: what is due and unsent (reminders, retries, unqueued messages).

    When more is due than one run gets through, another run is queued so that
    other worker processes share the work.
    """
    handled = messages_send_due(now=timezone.now(), seconds=60)
    if handled and messages_due_exist(now=timezone.now()):
        send_due_messages.delay()
    return handled
