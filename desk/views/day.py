"""The day of an office at the clerks' desk, and what the clerks do with one appointment.

The list of the day is a partial (templates/desk/_day_table.html) that htmx
reloads every ``DESK_REFRESH_SECONDS`` and after each action; the filter form
stays outside it, so what a clerk types is never replaced. Without
JavaScript every action is a plain form that redirects back to the day.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from booking.days import invalid_day_message, local_day
from booking.errors import BookingError
from booking.grid import BERLIN, is_ambiguous
from booking.models import Appointment
from booking.selectors import free_starts
from booking.services.appointments import Change, appointment_changes_allowed
from desk.access import appointment_for_staff, can_manage, office_for_staff, staff_offices
from desk.forms.day import CancelForm, CounterForm, DayFilterForm, MoveDayForm, MoveForm, NoteForm
from desk.models import AuditEntry
from desk.selectors import DayStatus, day_appointments, day_counts, rebooking_alternative
from desk.services import (
    VISIT_ACTIONS,
    VISIT_STEPS,
    appointment_note,
    desk_cancel,
    desk_move,
    visit_call,
    visit_steps_allowed,
)
from desk.views import staff_context
from offices.models import Office
from tickets.models import Ticket
from tickets.services import counter_valid

Action = AuditEntry.Action
STATUS_LABELS = dict(DayStatus.CHOICES)


def _counter_key(office: Office) -> str:
    return f"desk-counter-{office.pk}"


def session_counter(request: HttpRequest, office: Office) -> int | None:
    counter = request.session.get(_counter_key(office))
    return counter if counter_valid(counter) else None


def next_url(request: HttpRequest, fallback: str) -> str:
    """The ``next`` field when it points into this site, else ``fallback``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _day_url(office: Office, day: datetime.date, status: str = "", query: str = "") -> str:
    params = {"date": day.isoformat()}
    if status:
        params["status"] = status
    if query:
        params["q"] = query
    return f"{reverse('desk:day', args=[office.slug])}?{urlencode(params)}"


# The day ---------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One office: its day. Several: the choice. None: a page that says so."""
    offices = list(staff_offices(request.user).order_by("name"))
    if len(offices) == 1:
        return redirect("desk:day", offices[0].slug)
    return render(request, "desk/home.html", {"offices": offices})


@dataclass
class Row:
    appointment: Appointment
    status_label: str
    services: list[str]
    actions: list[tuple[str, str]]  # (action, button label)


def _actions(appointment: Appointment, *, now: datetime.datetime, counter: int | None) -> list[tuple[str, str]]:
    """The buttons of the visit's steps the rules allow now (desk.services decides, and checks again when taken)."""
    labels = {
        Action.CHECK_IN: _("Check in"),
        Action.CALL: _("Call to counter %(counter)s") % {"counter": counter} if counter else _("Call"),
        Action.START: _("Start"),
        Action.FINISH: _("Finish"),
        Action.NO_SHOW: _("No-show"),
    }
    return [
        (action, labels[action]) for action in visit_steps_allowed(appointment=appointment, now=now, counter=counter)
    ]


def _day_context(
    request: HttpRequest, office: Office, data: QueryDict, *, now: datetime.datetime, default_day: datetime.date
) -> dict[str, object]:
    """Everything the day's page and its list show, for the filter in ``data`` (a bad value falls back)."""
    form = DayFilterForm(data)
    form.is_valid()
    cleaned = form.cleaned_data
    if "date" in form.errors:
        messages.error(request, invalid_day_message(data.get("date"), shown=default_day))
    day = cleaned.get("date") or default_day
    status = cleaned.get("status") or ""
    query = cleaned.get("q") or ""
    today = local_day(now)
    counter = session_counter(request, office)
    rows = [
        Row(
            appointment=appointment,
            status_label=STATUS_LABELS[appointment.day_status],
            services=[f"{line.service.name} × {line.persons}" for line in appointment.lines.all()],
            actions=_actions(appointment, now=now, counter=counter),
        )
        for appointment in day_appointments(office=office, day=day, status=status, query=query)
    ]
    counts = day_counts(office=office, day=day)
    filters = [
        {"value": "", "label": _("All"), "count": sum(counts.values()), "url": _day_url(office, day, "", query)},
        *(
            {"value": value, "label": label, "count": counts[value], "url": _day_url(office, day, value, query)}
            for value, label in DayStatus.CHOICES
        ),
    ]
    return {
        "day": day,
        "today": today,
        "now": now,
        "is_today": day == today,
        "previous_day": _day_url(office, day - datetime.timedelta(days=1), status, query),
        "next_day": _day_url(office, day + datetime.timedelta(days=1), status, query),
        "today_url": _day_url(office, today, status, query),
        "status": status,
        "status_label": STATUS_LABELS.get(status, ""),
        "q": query,
        "rows": rows,
        "filters": filters,
        "here": _day_url(office, day, status, query),
        "counter": counter,
        "counter_form": CounterForm(initial={"counter": counter}),
        "refresh_seconds": settings.DESK_REFRESH_SECONDS,
    }


def _day_response(
    request: HttpRequest, office: Office, role: str, data: QueryDict, *, default_day: datetime.date
) -> HttpResponse:
    now = timezone.now()
    shown = _day_context(request, office, data, now=now, default_day=default_day)
    # Switching office keeps the day shown.
    context = staff_context(request, office, role, switch_query=f"date={shown['day']:%Y-%m-%d}", **shown)
    if request.htmx:
        return render(request, "desk/_day_table.html", {**context, "partial": True})
    return render(request, "desk/day.html", context)


@require_GET
@login_required
def day(request: HttpRequest, slug: str) -> HttpResponse:
    """The office's appointments of one day (default today) in time order, filtered and searched."""
    office, role = office_for_staff(user=request.user, slug=slug)
    return _day_response(request, office, role, request.GET, default_day=local_day(timezone.now()))


@require_POST
@login_required
def counter(request: HttpRequest, slug: str) -> HttpResponse:
    """Remember the clerk's counter at this office (in the session, for the "call" button)."""
    office, _role = office_for_staff(user=request.user, slug=slug)
    form = CounterForm(request.POST)
    if form.is_valid():
        request.session[_counter_key(office)] = form.cleaned_data["counter"]
        messages.success(request, _("Your counter is now %(counter)s.") % {"counter": form.cleaned_data["counter"]})
    else:
        messages.error(request, form.errors["counter"][0])
    return HttpResponseRedirect(next_url(request, reverse("desk:day", args=[office.slug])))


def call_counter(request: HttpRequest, office: Office) -> int | None:
    """The counter to call to: the one sent with the button (then remembered), else the session's."""
    if request.POST.get("counter", "").strip():
        form = CounterForm(request.POST)
        if not form.is_valid():
            raise BookingError(form.errors["counter"][0], field="counter")
        request.session[_counter_key(office)] = form.cleaned_data["counter"]
        return form.cleaned_data["counter"]
    return session_counter(request, office)


@require_POST
@login_required
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One step of the visit: check in, call, start, finish, no-show."""
    appointment, role = appointment_for_staff(user=request.user, pk=pk)
    if action not in VISIT_STEPS:
        raise Http404("No such action.")
    office = appointment.office
    try:
        if action == Action.CALL:
            number = call_counter(request, office)
            if number is None:
                raise BookingError(_("Set your counter number first (above the list), then call."), field="counter")
            done = visit_call(appointment=appointment, by=request.user, counter=number, now=timezone.now())
        else:
            done = VISIT_ACTIONS[action](appointment=appointment, by=request.user, now=timezone.now())
    except BookingError as error:
        messages.error(request, error.message)
    else:
        said = _("%(name)s (%(code)s): %(action)s.") % {
            "name": done.name,
            "code": done.booking_code,
            "action": Action(action).label,
        }
        if action == Action.CHECK_IN and (ticket := Ticket.objects.filter(appointment=done).first()):
            said += " " + _("Queue ticket %(label)s: please give the citizen this number.") % {"label": ticket.label}
        messages.success(request, said)
    the_day = local_day(appointment.start)
    if request.htmx:
        return _day_response(request, office, role, request.POST, default_day=the_day)
    return HttpResponseRedirect(next_url(request, _day_url(office, the_day)))


# One appointment -------------------------------------------------------------------------------


def _changeable(appointment: Appointment, now: datetime.datetime) -> bool:
    """Whether the office can still move it (and so cancel it): booking.services' one rule."""
    return Change.MOVE in appointment_changes_allowed(appointment=appointment, now=now)


@dataclass
class HistoryEntry:
    entry: AuditEntry
    changes: list[tuple[str, object, object]]  # (what, before, after)


def _history(appointment: Appointment) -> list[HistoryEntry]:
    labels = {
        "office": _("Office"),
        "start": _("Start"),
        "end": _("End"),
        "status": _("Status"),
        "counter": _("Counter"),
        "note": _("Note"),
    }
    entries = []
    for entry in appointment.audit_entries.order_by("at", "pk"):
        changes = []
        for key, label in labels.items():
            before, after = entry.before.get(key), entry.after.get(key)
            if before != after:
                if key == "status":
                    before, after = STATUS_LABELS.get(before, before), STATUS_LABELS.get(after, after)
                changes.append((label, before, after))
        entries.append(HistoryEntry(entry, changes))
    return entries


def _appointment_page(
    request: HttpRequest,
    appointment: Appointment,
    role: str,
    *,
    note_form: NoteForm | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    steps = [
        (_("Arrived"), appointment.arrived_at),
        (_("Called"), appointment.called_at),
        (_("Service started"), appointment.service_started_at),
        (_("Finished"), appointment.finished_at),
        (_("No-show recorded"), appointment.no_show_at),
        (_("Cancelled"), appointment.cancelled_at),
    ]
    counter = session_counter(request, appointment.office)
    context = staff_context(
        request,
        appointment.office,
        role,
        appointment=appointment,
        status_label=STATUS_LABELS[appointment.day_status],
        # The visit's steps as on the day list (the same buttons and endpoint); each comes back to this page.
        actions=_actions(appointment, now=now, counter=counter),
        counter=counter,
        here=reverse("desk:appointment", args=[appointment.pk]),
        lines=appointment.lines.select_related("service").order_by("pk"),
        steps=[(label, moment) for label, moment in steps if moment],
        changeable=_changeable(appointment, now),
        note_form=note_form or NoteForm(initial={"note": appointment.staff_note}),
        cancel_form=cancel_form or CancelForm(),
        history=_history(appointment) if can_manage(role) else None,
        back_url=_day_url(appointment.office, local_day(appointment.start)),
    )
    return render(request, "desk/appointment.html", context, status=status)


@require_GET
@login_required
def appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about one appointment, its note, cancelling and moving; the history for managers."""
    appointment, role = appointment_for_staff(user=request.user, pk=pk)
    return _appointment_page(request, appointment, role)


@require_POST
@login_required
def note(request: HttpRequest, pk: int) -> HttpResponse:
    appointment, role = appointment_for_staff(user=request.user, pk=pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _appointment_page(request, appointment, role, note_form=form, status=400)
    appointment_note(appointment=appointment, by=request.user, note=form.cleaned_data["note"], now=timezone.now())
    messages.success(request, _("The note is saved."))
    return redirect("desk:appointment", appointment.pk)


@require_POST
@login_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """The office cancels with a reason; the citizen is told it through the outbox."""
    appointment, role = appointment_for_staff(user=request.user, pk=pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            desk_cancel(
                appointment=appointment, by=request.user, reason=form.cleaned_data["reason"], now=timezone.now()
            )
        except BookingError as error:
            form.add_error("reason" if error.field == "reason" else None, error.message)
        else:
            messages.success(request, _("The appointment is cancelled. The citizen is notified with your reason."))
            return redirect("desk:appointment", appointment.pk)
    return _appointment_page(request, appointment, role, cancel_form=form, status=400)


def _option_key(office: Office, start: datetime.datetime) -> str:
    local = start.astimezone(BERLIN)
    # The repeated hour of the autumn day needs the offset, or its two 02:30 would be one option.
    return f"{office.pk}-{local:%Y-%m-%dT%H:%M}" + (f"{local:%z}" if is_ambiguous(start) else "")


@require_http_methods(["GET", "POST"])
@login_required
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """Another time for the appointment: the chosen day's free times and the nearest alternative, with a reason."""
    appointment, role = appointment_for_staff(user=request.user, pk=pk)
    office = appointment.office
    now = timezone.now()
    today = local_day(now)
    data = request.POST if request.method == "POST" else request.GET
    day_form = MoveDayForm(data)
    default_day = max(local_day(appointment.start), today)
    if day_form.is_valid():
        the_day = day_form.cleaned_data["date"] or default_day
    else:
        messages.error(request, invalid_day_message(data.get("date"), shown=default_day))
        the_day = default_day
    changeable = _changeable(appointment, now)
    starts: list[datetime.datetime] = []
    alternative = None
    if changeable:
        found = free_starts(office=office, minutes=appointment.duration_minutes, now=now, first=the_day, last=the_day)
        starts = [start for start in found.get(the_day, []) if start != appointment.start]
        alternative = rebooking_alternative(appointment=appointment, now=now)
    options = {_option_key(office, start): (office, start) for start in starts}
    if alternative is not None:
        options[_option_key(alternative.office, alternative.start)] = (alternative.office, alternative.start)
    form = MoveForm(request.POST if request.method == "POST" else None, options=options)
    if request.method == "POST" and not changeable:
        form.add_error(None, _("This appointment can no longer be moved."))
    elif request.method == "POST" and form.is_valid():
        target, start = form.cleaned_data["choice"]
        try:
            moved = desk_move(
                appointment=appointment,
                start=start,
                office=target if target.pk != office.pk else None,
                by=request.user,
                reason=form.cleaned_data["reason"],
                now=now,
            )
        except BookingError as error:
            form.add_error("reason" if error.field == "reason" else None, error.message)
        else:
            local = moved.start.astimezone(BERLIN)
            messages.success(
                request,
                _("Moved to %(office)s, %(date)s, %(time)s. The citizen is notified with your reason.")
                % {
                    "office": moved.office.name,
                    "date": date_format(local, "SHORT_DATE_FORMAT"),
                    "time": local.strftime("%H:%M"),
                },
            )
            if moved.office_id != office.pk and not staff_offices(request.user).filter(pk=moved.office_id).exists():
                return HttpResponseRedirect(_day_url(office, local_day(appointment.start)))
            return redirect("desk:appointment", moved.pk)
    context = staff_context(
        request,
        office,
        role,
        appointment=appointment,
        changeable=changeable,
        day=the_day,
        today=today,
        starts=[(_option_key(office, start), start) for start in starts],
        alternative=alternative,
        alternative_key=_option_key(alternative.office, alternative.start) if alternative else "",
        form=form,
        day_form=MoveDayForm(initial={"date": the_day}),
        status_label=STATUS_LABELS[appointment.day_status],
    )
    return render(request, "desk/move.html", context, status=400 if form.errors else 200)
