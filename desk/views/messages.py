"""An office's messages to citizens, for its managers and administrators."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from booking.messages import as_recorded, office_scope
from desk.access import Role, office_managed_by
from desk.views import staff_context
from notifications.models import Message
from notifications.selectors import message_counts, messages_in_scope
from notifications.subjects import kind_label


@require_GET
@login_required
def office_messages(request: HttpRequest, slug: str) -> HttpResponse:
    """Managers and administrators: what the office's citizens were sent, and what failed and why."""
    office = office_managed_by(user=request.user, slug=slug)
    status = request.GET.get("status", Message.Status.FAILED)
    if status not in Message.Status.values:
        status = ""  # "all", or anything unknown
    scope = office_scope(office.pk)
    messages = messages_in_scope(scope=scope, status=status or None)
    context = staff_context(
        request,
        office,
        Role.ADMINISTRATOR if request.user.is_superuser else Role.MANAGER,  # office_managed_by saw to it
        switch_query=f"status={status or 'all'}",  # keeps the filter when switching offices
        status=status,
        statuses=Message.Status.choices,
        counts=message_counts(scope=scope),
        rows=[(message, as_recorded(message), kind_label(message)) for message in messages],
    )
    return render(request, "desk/office_messages.html", context)
