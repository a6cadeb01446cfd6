import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from booking import selectors
from booking.days import requested_day


def locked_out(request: HttpRequest, credentials: dict | None = None, *args: object, **kwargs: object) -> HttpResponse:
    """What django-axes answers to a sign-in of a locked-out user name (429, in the page's language)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds()) // 60
    return render(request, "booking/staff_locked.html", {"cooloff_minutes": minutes}, status=429)


@require_GET
@login_required
def capacity_overview(request: HttpRequest, slug: str) -> HttpResponse:
    """Managers and administrators: counters on duty against bookings per hour and day of a week."""
    office = selectors.office_for_manager(user=request.user, slug=slug)
    today = timezone.localdate()
    # At the weekend the week that matters is the coming one.
    day = today + datetime.timedelta(days=7 - today.weekday()) if today.weekday() >= 5 else today
    day = requested_day(request, default=day)
    monday = day - datetime.timedelta(days=day.weekday())
    week = selectors.capacity_week(office=office, monday=monday)
    return render(
        request,
        "booking/capacity_overview.html",
        {
            "office": office,
            "week": week,
            "monday": monday,
            "query": f"date={monday.isoformat()}",  # keeps the week when switching offices
            "sunday": monday + datetime.timedelta(days=6),
            "previous": monday - datetime.timedelta(days=7),
            "next": monday + datetime.timedelta(days=7),
            "today": today,
            "offices": selectors.offices_managed_by(request.user).order_by("name"),
        },
    )
