"""Erasing the personal data of messages after the retention period: who they went to and what they said.

Kind, channel, language, status and the times stay for the figures (messages sent and failed). Only messages that
are done with (sent, failed, withdrawn) are erased: a reminder still waiting keeps its address.
"""

import datetime
from collections.abc import Mapping

from notifications.models import Message

BATCH_SIZE = 500
DONE = (Message.Status.SENT, Message.Status.FAILED, Message.Status.WITHDRAWN)
ERASED_VALUES = {"recipient": "", "context": {}, "last_error": ""}


def messages_erase_personal_data(
    *,
    before: datetime.datetime,
    scope_before: Mapping[str, datetime.datetime] | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Erase recipient, context (the subject as it was) and the last error of every message done with and due
    before the cut-off (``scope_before``: a longer one for a staff list, e.g. ``{"office:12": ...}``); their count.
    Erased messages have no recipient, so a second pass finds none."""
    scope_before = scope_before or {}
    due = Message.objects.filter(status__in=DONE).exclude(recipient="")
    due = due.filter(due_at__lt=before).exclude(scope__in=list(scope_before))
    for scope, cutoff in scope_before.items():
        due = due | Message.objects.filter(status__in=DONE, scope=scope, due_at__lt=cutoff).exclude(recipient="")
    if dry_run:
        return due.count()
    erased = 0
    while ids := list(due.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        erased += Message.objects.filter(pk__in=ids).update(**ERASED_VALUES)
    return erased
