"""The answer to a locked-out staff sign-in, and the capacity overview (a manager's page with the desk's tabs)."""

import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from booking.days import local_day, requested_day
from booking.selectors import capacity_week
from desk.access import Role, office_managed_by
from desk.views import staff_context


def locked_out(request: HttpRequest, credentials: dict | None = None, *args: object, **kwargs: object) -> HttpResponse:
    """What django-axes answers to a sign-in of a locked-out user name (429, in the page's language)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds()) // 60
    return render(request, "desk/staff_locked.html", {"cooloff_minutes": minutes}, status=429)


@require_GET
@login_required
def capacity_overview(request: HttpRequest, slug: str) -> HttpResponse:
    """Managers and administrators: counters on duty against bookings per hour and day of a week."""
    office = office_managed_by(user=request.user, slug=slug)
    today = local_day(timezone.now())
    # At the weekend the week that matters is the coming one.
    day = today + datetime.timedelta(days=7 - today.weekday()) if today.weekday() >= 5 else today
    day = requested_day(request, default=day)
    monday = day - datetime.timedelta(days=day.weekday())
    week = capacity_week(office=office, monday=monday)
    context = staff_context(
        request,
        office,
        Role.ADMINISTRATOR if request.user.is_superuser else Role.MANAGER,  # office_managed_by saw to it
        switch_query=f"date={monday.isoformat()}",  # keeps the week when switching offices
        week=week,
        monday=monday,
        sunday=monday + datetime.timedelta(days=6),
        previous=monday - datetime.timedelta(days=7),
        next=monday + datetime.timedelta(days=7),
        today=today,
    )
    return render(request, "desk/capacity_overview.html", context)
