from django.db.models import Count, QuerySet

from notifications.models import Message


def messages_in_scope(*, scope: str, status: str | None, limit: int = 200) -> QuerySet[Message]:
    """The messages of one staff list (``Message.scope``), newest first; ``status`` None means all."""
    messages = Message.objects.filter(scope=scope)
    if status:
        messages = messages.filter(status=status)
    return messages.order_by("-created_at", "-pk")[:limit]


def message_counts(*, scope: str) -> dict[str, int]:
    """How many of one staff list's messages are in each status."""
    counts = dict(
        Message.objects.filter(scope=scope).values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Message.Status.values}
