from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from offices import selectors
from offices.models import Office


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    offices = list(selectors.public_offices())
    office_groups = [
        (label, [office for office in offices if office.kind == kind])
        for kind, label in Office.Kind.choices
        if any(office.kind == kind for office in offices)
    ]
    return render(
        request,
        "offices/home.html",
        {"categories": selectors.public_categories(), "office_groups": office_groups},
    )


@require_GET
def office_detail(request: HttpRequest, slug: str) -> HttpResponse:
    office = selectors.public_office(slug)
    today = timezone.localdate()
    week, upcoming = selectors.office_calendar(office=office, today=today)
    context = {"office": office, "today": today, "week": week, "upcoming": upcoming}
    return render(request, "offices/office_detail.html", context | {"offers": office.offered_services.all()})


@require_GET
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    service, offers = selectors.public_service(slug)
    return render(request, "offices/service_detail.html", {"service": service, "offers": offers})
