"""The office's waitlist at the clerks' desk (issue 18, point 4): read only; offers are made by the sweep."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from desk.access import office_for_staff
from desk.views import staff_context
from desk.waitlist import office_waitlist


@require_GET
@login_required
def waitlist(request: HttpRequest, slug: str) -> HttpResponse:
    """Who waits that could come to this office, who is next in line, its open offers and how its offers ended."""
    office, role = office_for_staff(user=request.user, slug=slug)
    now = timezone.now()
    context = staff_context(request, office, role, waitlist=office_waitlist(office=office, now=now), now=now)
    return render(request, "desk/waitlist.html", context)
