"""The citizen's waitlist pages: register (from the times page), confirm the address, the private page to see,
change or withdraw the registration, and an offered time to book with one click or decline. Plain HTML forms."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from access.limits import limited
from booking.availability import offices_for_needs
from booking.days import local_day
from booking.errors import BookingError
from booking.needs import Need, needs_from_param, needs_param
from offices.models import Office, Service
from waitlist.forms import RegistrationForm, UrgentForm, WishForm
from waitlist.models import Offer, Registration
from waitlist.selectors import registration_needs
from waitlist.services import (
    UrgentCase,
    Wish,
    offer_accept,
    offer_decline,
    registration_change,
    registration_confirm,
    registration_create,
    registration_resume,
    registration_withdraw,
    urgent_register,
)

ALMOST_DONE = gettext_lazy(
    "Almost done: please open the link we sent to %(email)s to confirm. Only then do you wait for a time."
)


def _wish(form: WishForm, needs: list[Need]) -> Wish:
    data = form.cleaned_data
    return Wish(
        needs=needs,
        offices=list(data["offices"]),
        first_day=data["first_day"],
        last_day=data["last_day"],
        weekdays=data["weekdays"],
        parts=data["parts"],
    )


@require_http_methods(["GET", "POST"])
@limited("read")
@limited("book")  # as many registrations per address as bookings: a script cannot fill the list
def register(request: HttpRequest) -> HttpResponse:
    try:
        needs = needs_from_param(request.GET.get("services", ""))
    except BookingError as error:
        needs, problem = [], error.message
    else:
        problem = "" if needs else _("Please choose the services you need first.")
    if problem:
        messages.error(request, problem)
        return redirect("booking:needs")
    offices = list(offices_for_needs(needs=needs, now=timezone.now()))
    chosen = [office for office in offices if office.slug == request.GET.get("office")]  # from its times page
    form = RegistrationForm(request.POST or None, offices=offices, initial={"offices": chosen})
    if request.method == "POST" and form.is_valid():
        return _register(request, form, needs)
    urgent_possible = any(need.service.urgent_within_days is not None for need in needs)
    context = {"form": form, "needs": needs, "services": needs_param(needs), "urgent_possible": urgent_possible}
    return render(request, "waitlist/register.html", context, status=422 if form.errors else 200)


def _register(request: HttpRequest, form: RegistrationForm, needs: list[Need]) -> HttpResponse:
    data = form.cleaned_data
    try:
        registration = registration_create(
            wish=_wish(form, needs),
            name=data["name"],
            email=data["email"],
            language=data["language"],
            now=timezone.now(),
        )
    except BookingError as error:
        form.add_error(error.field, error.message)
        context = {"form": form, "needs": needs, "services": needs_param(needs)}
        return render(request, "waitlist/register.html", context, status=422)
    messages.success(
        request,
        ALMOST_DONE % {"email": registration.email},
    )
    return redirect("waitlist:registration", token=registration.token)


@require_http_methods(["GET", "POST"])
@limited("read")
@limited("book")
def urgent(request: HttpRequest) -> HttpResponse:
    """An urgent case (a residence title expiring): served first, invited to the urgent contingent."""
    try:
        needs = needs_from_param(request.GET.get("services", ""))
    except BookingError:
        needs = []
    urgent_services = Service.objects.filter(active=True, urgent_within_days__isnull=False)
    if needs:
        within = [need.service.urgent_within_days for need in needs if need.service.urgent_within_days is not None]
        offices = list(offices_for_needs(needs=needs, now=timezone.now()))
    else:  # the matter is asked on the form
        within = list(urgent_services.values_list("urgent_within_days", flat=True))
        offices = list(Office.objects.filter(active=True, urgent_counters__gt=0).order_by("name"))
    if not within:
        messages.error(request, _("These services have no urgent appointments. Please book as usual."))
        return redirect("booking:needs")
    form = UrgentForm(request.POST or None, offices=offices, within_days=max(within), ask_matter=not needs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        needs = needs or [Need(data["matter"], 1)]
        case = UrgentCase(needs=needs, offices=list(data["offices"]), deadline=data["deadline"], reason=data["reason"])
        try:
            registration = urgent_register(
                case=case, name=data["name"], email=data["email"], language=data["language"], now=timezone.now()
            )
        except BookingError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(
                request,
                ALMOST_DONE % {"email": registration.email},
            )
            return redirect("waitlist:registration", token=registration.token)
    context = {"form": form, "needs": needs}
    return render(request, "waitlist/urgent.html", context, status=422 if form.errors else 200)


def _registration(token: str) -> Registration:
    return get_object_or_404(Registration.objects.prefetch_related("offices"), token=token)


@require_http_methods(["GET"])
@limited("read")
def registration(request: HttpRequest, token: str) -> HttpResponse:
    found = _registration(token)
    offer = found.offers.filter(status=Offer.Status.OPEN).select_related("office").first()
    context = {"registration": found, "needs": registration_needs(found) or [], "offer": offer}
    return render(request, "waitlist/registration.html", context)


@require_http_methods(["GET", "POST"])
@limited("read")
@limited("move")
def change(request: HttpRequest, token: str) -> HttpResponse:
    found = _registration(token)
    needs = registration_needs(found) or []
    offices = list(offices_for_needs(needs=needs, now=timezone.now())) if needs else []
    initial = {
        "offices": list(found.offices.all()),
        # A range that has begun is shown from today: the form refuses a first day in the past.
        "first_day": max(found.first_day, local_day(timezone.now())),
        "last_day": found.last_day,
        "weekdays": found.weekdays,
        "parts": found.parts,
    }
    form = WishForm(request.POST or None, offices=offices, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            registration_change(registration=found, wish=_wish(form, needs), now=timezone.now())
        except BookingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your registration is changed."))
        return redirect("waitlist:registration", token=token)
    context = {"registration": found, "form": form, "needs": needs}
    return render(request, "waitlist/change.html", context, status=422 if form.errors else 200)


@require_POST
@limited("move")
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    registration_withdraw(registration=_registration(token), now=timezone.now())
    messages.success(request, _("You are no longer on the waitlist."))
    return redirect("waitlist:registration", token=token)


@require_POST
@limited("move")
def resume(request: HttpRequest, token: str) -> HttpResponse:
    registration_resume(registration=_registration(token), now=timezone.now())
    messages.success(request, _("You are waiting again, at your old place."))
    return redirect("waitlist:registration", token=token)


@require_http_methods(["GET", "POST"])
@limited("read")
@limited("book")
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the e-mail: a page with one button (a mail scanner opening links confirms nothing)."""
    found = get_object_or_404(Registration, confirm_token=token)
    if request.method == "POST" or found.status != Registration.Status.UNCONFIRMED:
        if request.method == "POST":
            registration_confirm(registration=found, now=timezone.now())
            messages.success(request, _("Confirmed: you are on the waitlist. We will write when a time becomes free."))
        return redirect("waitlist:registration", token=found.token)
    return render(request, "waitlist/confirm.html", {"registration": found})


@require_http_methods(["GET", "POST"])
@limited("read")
@limited("book")
def offer(request: HttpRequest, token: str) -> HttpResponse:
    found = get_object_or_404(Offer.objects.select_related("office", "registration"), token=token)
    if request.method == "POST":
        now = timezone.now()
        try:
            if request.POST.get("answer") == "book":
                appointment = offer_accept(offer=found, now=now)
                messages.success(request, _("Booked: this time is yours."))
                return redirect(reverse("booking:manage", args=[appointment.manage_token]))
            offer_decline(offer=found, now=now)
        except BookingError as error:
            messages.error(request, error.message)
            return redirect("waitlist:registration", token=found.registration.token)
        messages.success(request, _("Declined: the time goes to the next person. You keep your place."))
        return redirect("waitlist:registration", token=found.registration.token)
    context = {"offer": found, "registration": found.registration, "needs": registration_needs(found.registration)}
    return render(request, "waitlist/offer.html", context, status=200 if found.status == Offer.Status.OPEN else 410)
