"""The office's urgent cases at the clerks' desk (issue 18, point 3): by deadline, to check, invite by hand or refuse
with a reason; and a case a clerk registers for someone on the phone."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from booking.errors import BookingError
from booking.needs import Need
from desk.access import office_for_staff
from desk.views import staff_context
from desk.waitlist import can_come, for_office, offered_services
from notifications.sms import mobile_number
from offices.models import Office, Service
from waitlist.models import Registration
from waitlist.services import UrgentCase, registration_confirm, urgent_register
from waitlist.urgent import urgent_check, urgent_invite, urgent_refuse

LIVE_URGENT = [Registration.Status.UNCONFIRMED, Registration.Status.WAITING, Registration.Status.OFFERED]


class CallerCaseForm(forms.Form):
    service = forms.ModelChoiceField(label=gettext_lazy("Service"), queryset=Service.objects.none())
    persons = forms.IntegerField(label=gettext_lazy("Persons"), min_value=1, max_value=20, initial=1)
    deadline = forms.DateField(
        label=gettext_lazy("Urgent by"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(label=gettext_lazy("Why is it urgent?"), max_length=1000)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("E-mail address"), required=False)
    phone = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("The invitation goes by SMS when there is no e-mail address."),
    )

    def __init__(self, *args: object, office: Office, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(
            offered_at__office=office, urgent_within_days__isnull=False
        ).distinct()

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("email") and not mobile_number(cleaned.get("phone") or ""):
            raise forms.ValidationError(_("Give an e-mail address or a mobile number for the invitation."))
        return cleaned


def office_urgent_cases(office: Office, *, now: datetime.datetime) -> list[tuple[Registration, list[Need]]]:
    """The office's live urgent cases, deadline first: they chose it, or chose none and it offers their services
    (``desk.waitlist.for_office``, the waitlist page's rule). The services are read once for all of them."""
    offered = offered_services(office)
    live = Registration.objects.filter(status__in=LIVE_URGENT, deadline__isnull=False)
    cases = [
        registration
        for registration in for_office(live, office).order_by("deadline", "created_at", "pk")[:200]
        if can_come(chose_here=registration.chose_here, needs=registration.needs, offered=offered)
    ]
    services = Service.objects.in_bulk({service_id for case in cases for service_id, _persons in case.needs})
    return [
        (case, [Need(services[service_id], persons) for service_id, persons in case.needs if service_id in services])
        for case in cases
    ]


@require_http_methods(["GET", "POST"])
@login_required
def urgent(request: HttpRequest, slug: str) -> HttpResponse:
    office, role = office_for_staff(user=request.user, slug=slug)
    now = timezone.now()
    form = CallerCaseForm(request.POST or None, office=office)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = UrgentCase(
            needs=[Need(data["service"], data["persons"])],
            offices=[office],
            deadline=data["deadline"],
            reason=data["reason"],
        )
        try:
            registration = urgent_register(
                case=case, name=data["name"], email=data["email"], phone=data["phone"], language="de", now=now
            )
        except BookingError as error:
            messages.error(request, error.message)
        else:
            registration_confirm(registration=registration, now=now)  # the clerk has the caller on the phone
            urgent_check(registration=registration, now=now)
            messages.success(request, _("The urgent case is registered."))
            return redirect("desk:urgent-cases", slug=slug)
    context = staff_context(request, office, role, cases=office_urgent_cases(office, now=now), form=form, now=now)
    return render(request, "desk/urgent.html", context, status=422 if form.errors else 200)


@require_POST
@login_required
def urgent_act(request: HttpRequest, slug: str, pk: int, action: str) -> HttpResponse:
    office, _role = office_for_staff(user=request.user, slug=slug)
    now = timezone.now()
    registration = get_object_or_404(Registration, pk=pk, deadline__isnull=False)
    if registration not in [case for case, _needs in office_urgent_cases(office, now=now)]:
        return redirect("desk:urgent-cases", slug=slug)
    try:
        if action == "check":
            urgent_check(registration=registration, now=now)
            messages.success(request, _("Checked."))
        elif action == "invite":
            appointment = urgent_invite(registration=registration, now=now, at_office=office)
            if appointment is None:
                messages.error(request, _("No free time was found for this case now."))
            else:
                messages.success(
                    request,
                    _("Invited for %(time)s.")
                    % {"time": date_format(timezone.localtime(appointment.start), "SHORT_DATETIME_FORMAT")},
                )
        elif action == "refuse":
            refused = urgent_refuse(registration=registration, reason=request.POST.get("reason", ""), now=now)
            if refused.status == Registration.Status.REFUSED:
                messages.success(request, _("Refused; the citizen is told why."))
            else:
                messages.error(
                    request, _("This case has a time offered or booked already and can no longer be refused.")
                )
    except BookingError as error:
        messages.error(request, error.message)
    return redirect("desk:urgent-cases", slug=slug)
