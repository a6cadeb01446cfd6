from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from booking.selectors import office_for_manager, offices_managed_by
from notifications import selectors
from notifications.models import Message


@require_GET
@login_required
def office_messages(request: HttpRequest, slug: str) -> HttpResponse:
    """Managers and administrators: what the office's citizens were sent, and what failed and why."""
    office = office_for_manager(user=request.user, slug=slug)
    status = request.GET.get("status", Message.Status.FAILED)
    if status not in Message.Status.values:
        status = ""  # "all", or anything unknown
    return render(
        request,
        "notifications/office_messages.html",
        {
            "office": office,
            "status": status,
            "query": f"status={status or 'all'}",  # keeps the filter when switching offices
            "statuses": Message.Status.choices,
            "counts": selectors.office_message_counts(office=office),
            "messages_list": selectors.office_messages(office=office, status=status or None),
            "offices": offices_managed_by(request.user).order_by("name"),
        },
    )
