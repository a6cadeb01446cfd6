"""Losing capacity, for managers and administrators: record an absence, block a time range, and rebook what no
longer fits (move each appointment to its nearest free time, or cancel with an apology)."""

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from booking.days import local_day
from booking.errors import BookingError
from booking.grid import BERLIN
from booking.models import Appointment
from desk import services
from desk.access import block_for_staff, office_for_staff
from desk.forms.capacity import AbsenceForm, BlockForm, RebookForm, add_service_error
from desk.selectors import rebooking_alternative, to_rebook
from desk.views import staff_context
from offices.models import Absence, Block, Office


def _when(moment: datetime.datetime) -> str:
    local = moment.astimezone(BERLIN)
    return f"{formats.date_format(local, 'D')} {formats.date_format(local, 'SHORT_DATETIME_FORMAT')}"


def _flagged_message(office: Office, done: str, flagged: int) -> SafeString:
    """What a loss of capacity did: how many appointments are now to rebook, with the way there."""
    if not flagged:
        return format_html("{} {}", done, _("Every appointment still fits."))
    return format_html(
        '{} {} <a href="{}">{}</a>',
        done,
        ngettext(
            "%(count)s appointment no longer fits and is now to rebook.",
            "%(count)s appointments no longer fit and are now to rebook.",
            flagged,
        )
        % {"count": flagged},
        reverse("desk:rebook", args=[office.slug]),
        _("Rebook them now"),
    )


def _capacity_page(
    request: HttpRequest,
    slug: str,
    name: str,
    form_class: type[AbsenceForm | BlockForm],
    record: Callable[[HttpRequest, Office, dict[str, Any], datetime.datetime], tuple[str, services.CapacityChange]],
    listing: Callable[[Office, datetime.date], QuerySet],
) -> HttpResponse:
    """A manager's page that takes capacity away: the form above the current and upcoming entries.

    ``name`` is the page's URL name, template and list in the context; ``record`` calls the service for the valid
    form's data and says what it did.
    """
    office, role = office_for_staff(user=request.user, slug=slug, manager=True)
    now = timezone.now()
    today = local_day(now)
    form = form_class(request.POST if request.method == "POST" else None, office=office, today=today)
    if form.is_valid():
        try:
            done, change = record(request, office, form.cleaned_data, now)
        except (BookingError, ValidationError) as error:
            add_service_error(form, error, form_class.SERVICE_FIELDS)
        else:
            messages.success(request, _flagged_message(office, done, len(change.flagged)))
            return redirect(f"desk:{name}", slug=office.slug)
    status = 400 if form.is_bound else 200
    context = staff_context(request, office, role, form=form, **{name: listing(office, today)})
    return render(request, f"desk/{name}.html", context, status=status)


# Absences ----------------------------------------------------------------------------------------


def _office_absences(office: Office, today: datetime.date) -> QuerySet[Absence]:
    """Current and upcoming absences of the office's staff (they take capacity wherever the person works)."""
    return (
        Absence.objects.filter(user__memberships__office=office, end_date__gte=today)
        .select_related("user")
        .distinct()
        .order_by("start_date", "end_date", "pk")
    )


def _record_absence(
    request: HttpRequest, office: Office, data: dict[str, Any], now: datetime.datetime
) -> tuple[str, services.CapacityChange]:
    absence, change = services.absence_record(
        user=data["clerk"],
        kind=data["kind"],
        first=data["first"],
        last=data["last"],
        note=data["note"],
        by=request.user,
        now=now,
    )
    done = _("The absence of %(name)s from %(first)s to %(last)s is recorded.") % {
        "name": absence.user.get_full_name() or absence.user.get_username(),
        "first": formats.date_format(absence.start_date, "SHORT_DATE_FORMAT"),
        "last": formats.date_format(absence.end_date, "SHORT_DATE_FORMAT"),
    }
    return done, change


@login_required
@require_http_methods(["GET", "POST"])
def absences(request: HttpRequest, slug: str) -> HttpResponse:
    return _capacity_page(request, slug, "absences", AbsenceForm, _record_absence, _office_absences)


# Blocked times ------------------------------------------------------------------------------------


def _office_blocks(office: Office, today: datetime.date) -> QuerySet[Block]:
    return (
        Block.objects.filter(office=office, date__gte=today)
        .select_related("created_by")
        .order_by("date", "starts", "pk")
    )


def _record_block(
    request: HttpRequest, office: Office, data: dict[str, Any], now: datetime.datetime
) -> tuple[str, services.CapacityChange]:
    block, change = services.block_create(
        office=office,
        date=data["date"],
        starts=data["starts"],
        ends=data["ends"],
        counters=data["counters"],
        reason=data["reason"],
        by=request.user,
        now=now,
    )
    done = _("%(date)s from %(starts)s to %(ends)s is blocked.") % {
        "date": formats.date_format(block.date, "SHORT_DATE_FORMAT"),
        "starts": block.starts.strftime("%H:%M"),
        "ends": block.ends.strftime("%H:%M"),
    }
    return done, change


@login_required
@require_http_methods(["GET", "POST"])
def blocks(request: HttpRequest, slug: str) -> HttpResponse:
    return _capacity_page(request, slug, "blocks", BlockForm, _record_block, _office_blocks)


@login_required
@require_POST
def block_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    office, _role = office_for_staff(user=request.user, slug=slug, manager=True)
    block = block_for_staff(office=office, pk=pk)
    now = timezone.now()
    if datetime.datetime.combine(block.date, block.ends, tzinfo=BERLIN) <= now:
        messages.error(request, _("This blocked time is over; it stays on record."))
        return redirect("desk:blocks", slug=office.slug)
    services.block_remove(block=block, now=now)
    messages.success(
        request,
        _("The block of %(date)s from %(starts)s to %(ends)s is removed; the time can be booked again.")
        % {
            "date": formats.date_format(block.date, "SHORT_DATE_FORMAT"),
            "starts": block.starts.strftime("%H:%M"),
            "ends": block.ends.strftime("%H:%M"),
        },
    )
    return redirect("desk:blocks", slug=office.slug)


# Rebooking ----------------------------------------------------------------------------------------


def _citizen(appointment: Appointment) -> str:
    return f"{appointment.name or '–'} ({appointment.booking_code})"


def _refused(request: HttpRequest, refused: list[tuple[Appointment, str]]) -> None:
    for appointment, reason in refused:
        messages.error(
            request,
            _("Not done for %(citizen)s: %(reason)s") % {"citizen": _citizen(appointment), "reason": reason},
        )


def _rebook_one(request: HttpRequest, office: Office, form: RebookForm, now: datetime.datetime) -> None:
    appointment = to_rebook(office=office).filter(pk=form.target).first()
    if appointment is None:
        messages.error(request, _("This appointment is no longer to rebook: someone has moved or cancelled it."))
        return
    try:
        if form.verb == "move":
            moved = services.rebooking_move(appointment=appointment, by=request.user, reason=form.reason, now=now)
        else:
            services.desk_cancel(appointment=appointment, by=request.user, reason=form.reason, now=now)
    except BookingError as error:
        _refused(request, [(appointment, str(error.message))])
        return
    if form.verb == "move":
        messages.success(
            request,
            _("%(citizen)s moved to %(office)s, %(time)s; the citizen is told.")
            % {"citizen": _citizen(moved), "office": moved.office.name, "time": _when(moved.start)},
        )
    else:
        messages.success(request, _("%(citizen)s cancelled; the citizen is told.") % {"citizen": _citizen(appointment)})


def _rebook_all(request: HttpRequest, office: Office, form: RebookForm, now: datetime.datetime) -> None:
    run = services.rebooking_move_all if form.verb == "move" else services.rebooking_cancel_all
    result = run(office=office, by=request.user, reason=form.reason, now=now)
    if result.done:
        count = len(result.done)
        text = (
            ngettext(
                "%(count)s appointment moved; the citizen is told.",
                "%(count)s appointments moved; the citizens are told.",
                count,
            )
            if form.verb == "move"
            else ngettext(
                "%(count)s appointment cancelled; the citizen is told.",
                "%(count)s appointments cancelled; the citizens are told.",
                count,
            )
        )
        messages.success(request, text % {"count": count})
    elif not result.refused:
        messages.info(request, _("There was nothing to rebook."))
    _refused(request, result.refused)


@login_required
@require_http_methods(["GET", "POST"])
def rebook(request: HttpRequest, slug: str) -> HttpResponse:
    office, role = office_for_staff(user=request.user, slug=slug, manager=True)
    now = timezone.now()
    form = RebookForm(request.POST if request.method == "POST" else None)
    if form.is_bound:
        if form.is_valid():
            if form.target is None:
                _rebook_all(request, office, form, now)
            else:
                _rebook_one(request, office, form, now)
            return redirect("desk:rebook", slug=office.slug)
        if "action" in form.errors:
            messages.error(request, _("Unknown action: nothing was changed."))
    rows = [
        (appointment, rebooking_alternative(appointment=appointment, now=now))
        for appointment in to_rebook(office=office)
    ]
    status = 400 if form.is_bound else 200
    return render(
        request, "desk/rebook.html", staff_context(request, office, role, form=form, rows=rows), status=status
    )
