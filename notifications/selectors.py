from django.db.models import Count, QuerySet

from notifications.models import Message
from offices.models import Office


def office_messages(*, office: Office, status: str | None, limit: int = 200) -> QuerySet[Message]:
    """An office's messages, newest first; ``status`` None means all."""
    messages = Message.objects.filter(office=office).select_related("appointment")
    if status:
        messages = messages.filter(status=status)
    return messages.order_by("-created_at", "-pk")[:limit]


def office_message_counts(*, office: Office) -> dict[str, int]:
    """How many of an office's messages are in each status."""
    counts = dict(
        Message.objects.filter(office=office).values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Message.Status.values}
