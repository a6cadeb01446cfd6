"""The public catalogue pages: the home page, an office's page, a service's page.

They show the offices and services, not the person asking, so each is kept
whole per language and address until the catalogue changes
(``buergerservice.shared_pages``): a rename in the admin is on the next read.
"""

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from buergerservice.shared_pages import shared_page
from offices import selectors
from offices.models import Office


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    def page() -> HttpResponse:
        offices = list(selectors.public_offices())
        office_groups = [
            (label, [office for office in offices if office.kind == kind])
            for kind, label in Office.Kind.choices
            if any(office.kind == kind for office in offices)
        ]
        context = {"categories": selectors.public_categories(), "office_groups": office_groups}
        return render(request, "offices/home.html", context)

    return shared_page(request, "home", page)


@require_GET
def office_detail(request: HttpRequest, slug: str) -> HttpResponse:
    today = timezone.localdate()

    def page() -> HttpResponse:
        office = selectors.public_office(slug)
        week, upcoming = selectors.office_calendar(office=office, today=today)
        context = {"office": office, "today": today, "week": week, "upcoming": upcoming}
        return render(request, "offices/office_detail.html", context | {"offers": office.offered_services.all()})

    # This week's hours and "today" move on at midnight.
    tomorrow = timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time()))
    return shared_page(request, "office", page, valid_until=tomorrow)


@require_GET
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    def page() -> HttpResponse:
        service, offers = selectors.public_service(slug)
        return render(request, "offices/service_detail.html", {"service": service, "offers": offers})

    return shared_page(request, "service", page)
