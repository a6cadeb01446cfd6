"""Booking for a caller or a visitor without internet, in three screens, and the slip to hand over.

needs (services and persons) → time (phone contingent first, the chosen time
held) → contact (name, optionally phone or e-mail; booked) → the slip with
the booking code. Plain HTML forms; writes go through booking.services
(the hold) and desk.services.desk_book (the booking with its audit entry).
"""

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from booking.days import invalid_day_message, local_day, parse_day
from booking.errors import BookingError, HoldAlreadyBooked, SlotTaken
from booking.forms import NeedsForm, StartForm
from booking.messages import confirmation_recipients, short_url
from booking.models import Appointment, Hold
from booking.needs import (
    Need,
    appointment_needs,
    hold_needs,
    needs_from_param,
    needs_param,
    office_needs_minutes,
    what_to_bring,
)
from booking.selectors import hold_by_token
from booking.services.appointments import appointment_from_hold, hold_place, holds_expire_due
from desk.access import appointment_for_staff, office_for_staff, phone_hold_for_staff
from desk.forms.booking import DeskContactForm
from desk.phone_times import earliest_phone_start, phone_day, phone_last_day
from desk.services import desk_book
from desk.views import staff_context
from notifications.models import Message
from notifications.sms import mobile_number
from offices.models import Category, Office, Service

# This browser's booking in progress: {"token", "office", "start", "services"}; one at a time, like the citizen's.
SESSION_FLOW = "desk-booking"
PHONE = Appointment.Channel.PHONE
STEPS = 3


def _time_url(office: Office, services: str, day: datetime.date | None = None) -> str:
    query = {"services": services}
    if day is not None:
        query["date"] = day.isoformat()
    return f"{reverse('desk:book-time', args=[office.slug])}?{urlencode(query)}"


def _office_categories(office: Office) -> list[Category]:
    """The categories with the active services this office offers, each category's services prefetched."""
    offered = Service.objects.filter(active=True, offered_at__office=office)
    return list(
        Category.objects.filter(services__in=offered).distinct().prefetch_related(Prefetch("services", offered))
    )


def _office_needs(request: HttpRequest, office: Office, value: str) -> tuple[list[Need], int] | None:
    """The needs of a ``services`` parameter and the office's minutes for them; a message and None if not bookable."""
    try:
        chosen = needs_from_param(value)
        return chosen, office_needs_minutes(office=office, needs=chosen)
    except BookingError as error:
        messages.error(request, error.message)
        return None


def _long_date(day: datetime.date) -> str:
    return f"{date_format(day, 'l')}, {date_format(day, 'DATE_FORMAT')}"


# Screen 1: services and persons


@login_required
@require_GET
def needs(request: HttpRequest, slug: str) -> HttpResponse:
    office, role = office_for_staff(user=request.user, slug=slug)
    categories = _office_categories(office)
    chosen: list[Need] = []
    if request.GET.get("services"):
        found = _office_needs(request, office, request.GET["services"])
        chosen = found[0] if found else []
    if any(key.startswith("persons-") for key in request.GET):
        form = NeedsForm(request.GET, categories=categories)
        if form.is_valid():
            return redirect(_time_url(office, needs_param(form.cleaned_data["needs"])))
    else:
        form = NeedsForm(categories=categories, initial_needs=chosen)
    return render(request, "desk/book_needs.html", staff_context(request, office, role, form=form, step=1))


# Screen 2: the time


@dataclass(frozen=True)
class _Day:
    day: datetime.date
    previous: datetime.date | None
    next: datetime.date | None


def _chosen_day(
    request: HttpRequest, *, office: Office, minutes: int, now: datetime.datetime, wanted: datetime.date | None
) -> _Day:
    """The day to show: the one asked for if it can be booked, else the first with a free time (or today)."""
    today = local_day(now)
    last = phone_last_day(office=office, now=now)
    value = request.GET.get("date", "").strip()
    refused = wanted is None and bool(value) and parse_day(value) is None
    if wanted is None and value and not refused:
        wanted = parse_day(value)
    if wanted is not None and not today <= wanted <= last:
        messages.error(
            request,
            _("Bookings are possible from today up to %(last)s.") % {"last": _long_date(last)},
        )
        wanted = None
    if wanted is None:
        first_free = earliest_phone_start(office=office, minutes=minutes, now=now, contingent_only=False)
        wanted = local_day(first_free) if first_free else today
    if refused:
        messages.error(request, invalid_day_message(value, shown=wanted))
    one = datetime.timedelta(days=1)
    return _Day(wanted, wanted - one if wanted > today else None, wanted + one if wanted < last else None)


def _time_page(
    request: HttpRequest,
    *,
    office: Office,
    role: str,
    chosen: list[Need],
    minutes: int,
    wanted: datetime.date | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    holds_expire_due(now=now)
    shown = _chosen_day(request, office=office, minutes=minutes, now=now, wanted=wanted)
    context = staff_context(
        request,
        office,
        role,
        step=2,
        chosen=chosen,
        minutes=minutes,
        services=needs_param(chosen),
        shown=shown,
        times=phone_day(office=office, minutes=minutes, day=shown.day, now=now),
        earliest=earliest_phone_start(office=office, minutes=minutes, now=now),
        today=local_day(now),
        last_day=phone_last_day(office=office, now=now),
    )
    return render(request, "desk/book_time.html", context, status=status)


def _session_hold(request: HttpRequest) -> Hold | None:
    token = (request.session.get(SESSION_FLOW) or {}).get("token")
    return hold_by_token(token, channel=PHONE)


@login_required
@require_http_methods(["GET", "POST"])
def time(request: HttpRequest, slug: str) -> HttpResponse:
    """The free times of a day for a phone booking; choosing one holds it while the clerk types the details."""
    office, role = office_for_staff(user=request.user, slug=slug)
    data = request.POST if request.method == "POST" else request.GET
    found = _office_needs(request, office, data.get("services", ""))
    if found is None:
        return redirect("desk:book", slug=office.slug)
    chosen, minutes = found
    page = {"office": office, "role": role, "chosen": chosen, "minutes": minutes}
    if request.method == "GET":
        return _time_page(request, **page)
    form = StartForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["start"][0])
        return _time_page(request, **page, status=422)
    start = form.cleaned_data["start"]
    try:
        held = hold_place(
            office=office,
            start=start,
            needs=chosen,
            now=timezone.now(),
            channel=PHONE,
            replacing=_session_hold(request),
        )
    except BookingError as error:
        messages.error(request, error.message)
        wanted = start.date() if isinstance(error, SlotTaken) else None
        return _time_page(request, **page, wanted=wanted, status=409 if isinstance(error, SlotTaken) else 422)
    request.session[SESSION_FLOW] = {
        "token": held.token,
        "office": office.pk,
        "start": held.start.isoformat(),
        "services": needs_param(chosen),
    }
    return redirect("desk:book-contact", slug=office.slug, token=held.token)


# Screen 3: the citizen's details; booked


@dataclass(frozen=True)
class _Place:
    start: datetime.datetime
    end: datetime.datetime
    chosen: list[Need]
    hold: Hold | None  # None: the hold ran out and was released; booking takes the units again if still free


def _place(request: HttpRequest, *, office: Office, token: str) -> _Place | None:
    """What the token stands for at this office: its hold, or, once released, this browser's record of it.

    A hold of another office (or a citizen's online hold) is 404, like the office itself.
    """
    hold = phone_hold_for_staff(office=office, token=token)
    if hold is not None:
        chosen = hold_needs(hold)
        return _Place(hold.start, hold.end, chosen, hold) if chosen else None
    flow = request.session.get(SESSION_FLOW) or {}
    if flow.get("token") != token or flow.get("office") != office.pk:
        return None
    try:
        chosen = needs_from_param(flow["services"])
        minutes = office_needs_minutes(office=office, needs=chosen)
        start = datetime.datetime.fromisoformat(flow["start"])
    except (BookingError, KeyError, TypeError, ValueError):
        return None
    return _Place(start, start + datetime.timedelta(minutes=minutes), chosen, None)


def _back_to_times(request: HttpRequest, *, office: Office, place: _Place, message: str) -> HttpResponse:
    messages.error(request, message)
    request.session.pop(SESSION_FLOW, None)
    return redirect(_time_url(office, needs_param(place.chosen), local_day(place.start)))


@login_required
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    office, role = office_for_staff(user=request.user, slug=slug)
    place = _place(request, office=office, token=token)
    booked = appointment_from_hold(token) if place is None else None
    if booked is not None and booked.office_id == office.pk:  # Back or reload after booking: its slip
        return redirect("desk:slip", pk=booked.pk)
    if place is None:
        messages.error(request, _("This reserved time is no longer there. Please start the booking again."))
        return redirect("desk:book", slug=office.slug)
    form = DeskContactForm(request.POST if request.method == "POST" else None, initial={"language": "de"})
    status = 422 if form.is_bound else 200
    if form.is_bound and form.is_valid():
        try:
            appointment = desk_book(
                office=office,
                start=place.start,
                needs=place.chosen,
                contact=form.contact(),
                by=request.user,
                now=timezone.now(),
                hold_token=token,
            )
        except HoldAlreadyBooked as repeated:  # the form sent twice: the first request booked it
            request.session.pop(SESSION_FLOW, None)
            return redirect("desk:slip", pk=repeated.appointment.pk)
        except SlotTaken:
            taken = _("This time has been taken in the meantime. Nothing was booked: please choose another time.")
            return _back_to_times(request, office=office, place=place, message=taken)
        except BookingError as error:
            if error.field in ("start", "hold"):
                return _back_to_times(request, office=office, place=place, message=error.message)
            messages.error(request, error.message)
        else:
            request.session.pop(SESSION_FLOW, None)
            messages.success(request, _("Booked. The booking code is %(code)s.") % {"code": appointment.booking_code})
            return redirect("desk:slip", pk=appointment.pk)
    context = staff_context(
        request,
        office,
        role,
        step=3,
        form=form,
        place=place,
        chosen=place.chosen,
        what_to_bring=what_to_bring(place.chosen),
        change_time_url=_time_url(office, needs_param(place.chosen), local_day(place.start)),
    )
    return render(request, "desk/book_contact.html", context, status=status)


# The slip


def code_groups(code: str) -> str:
    """``"4RP7GNVT"`` → ``"4RP7 GNVT"``: groups of four are easier to read out and to type from paper."""
    return " ".join(code[index : index + 4] for index in range(0, len(code), 4))


@login_required
@require_GET
def slip(request: HttpRequest, pk: int) -> HttpResponse:
    """The confirmation to read out or print: the code, when and where, what to bring, the link to cancel."""
    appointment, role = appointment_for_staff(user=request.user, pk=pk)
    chosen = appointment_needs(appointment)
    confirmations = confirmation_recipients(appointment)
    context = staff_context(
        request,
        appointment.office,
        role,
        appointment=appointment,
        code_groups=code_groups(appointment.booking_code),
        chosen=chosen,
        what_to_bring=what_to_bring(chosen),
        short_link=short_url(appointment),
        sms_to=confirmations.get(Message.Channel.SMS),
        email_to=confirmations.get(Message.Channel.EMAIL),
        phone_is_mobile=bool(mobile_number(appointment.phone)),
    )
    return render(request, "desk/slip.html", context)
