"""The office's records of a day: the printable day list, its CSV export, and the audit log of staff actions."""

import csv
import datetime
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from booking.days import local_day, requested_day
from booking.grid import BERLIN
from booking.models import Appointment
from desk.access import office_for_staff
from desk.models import AuditEntry
from desk.selectors import DayStatus, day_appointments, day_range, office_audit
from desk.views import staff_context

AUDIT_PAGE_SIZE = 100
STATUS_LABELS = dict(DayStatus.CHOICES)
# The snapshot keys of desk.audit.snapshot, in the order the audit log shows their changes.
SNAPSHOT_LABELS = {
    "office": gettext_lazy("office"),
    "start": gettext_lazy("start"),
    "end": gettext_lazy("end"),
    "status": gettext_lazy("status"),
    "counter": gettext_lazy("counter"),
    "note": gettext_lazy("note"),
}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such cells get a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _today() -> datetime.date:
    return local_day(timezone.now())


# The day on paper and in a spreadsheet ----------------------------------------------------------


@dataclass(frozen=True)
class DayRow:
    appointment: Appointment
    services: str  # "Personalausweis × 2; Anmeldung × 1"
    status: str  # the translated day status


def _day_rows(appointments: list[Appointment]) -> list[DayRow]:
    return [
        DayRow(
            appointment=appointment,
            services="; ".join(f"{line.service.name} × {line.persons}" for line in appointment.lines.all()),
            status=str(STATUS_LABELS[appointment.day_status]),
        )
        for appointment in appointments
    ]


@require_GET
@login_required
def day_print(request: HttpRequest, slug: str) -> HttpResponse:
    """The day's appointments in time order, made for paper (static/css/print.css), readable on screen."""
    office, role = office_for_staff(user=request.user, slug=slug)
    day = requested_day(request, default=_today())
    rows = _day_rows(list(day_appointments(office=office, day=day)))
    context = staff_context(
        request,
        office,
        role,
        day=day,
        rows=rows,
        previous_day=day - datetime.timedelta(days=1),
        next_day=day + datetime.timedelta(days=1),
        printed_at=timezone.now(),
    )
    return render(request, "desk/print.html", context)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _clock(moment: datetime.datetime | None) -> str:
    return moment.astimezone(BERLIN).strftime("%H:%M") if moment else ""


@require_GET
@login_required
def day_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The day as CSV for German Excel: UTF-8 with a BOM, ``;`` between cells, formulas defused."""
    office, _role = office_for_staff(user=request.user, slug=slug)
    day = requested_day(request, default=_today())
    rows = _day_rows(list(day_appointments(office=office, day=day)))
    name = slugify(f"{pgettext('file name of the day export', 'appointments')}-{office.slug}-{day.isoformat()}")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.write("\ufeff")  # the BOM: Excel reads the file as UTF-8 only with it
    writer = csv.writer(response, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Date"),
            _("Start"),
            _("End"),
            _("Booking code"),
            _("Name"),
            _("Phone"),
            _("E-mail"),
            _("Services"),
            _("Interpreter"),
            _("Step-free access"),
            _("Note"),
            _("Status"),
            _("Counter"),
            _("Arrived at"),
            _("Called at"),
            _("Service started at"),
            _("Finished at"),
            _("No-show recorded at"),
        ]
    )
    yes, no = _("yes"), _("no")
    for row in rows:
        appointment = row.appointment
        writer.writerow(
            [
                _cell(value)
                for value in (
                    day.isoformat(),
                    _clock(appointment.start),
                    _clock(appointment.end),
                    appointment.booking_code,
                    appointment.name,
                    appointment.phone,
                    appointment.email,
                    row.services,
                    appointment.interpreter_language,
                    yes if appointment.step_free_access else no,
                    appointment.staff_note,
                    row.status,
                    appointment.counter,
                    _clock(appointment.arrived_at),
                    _clock(appointment.called_at),
                    _clock(appointment.service_started_at),
                    _clock(appointment.finished_at),
                    _clock(appointment.no_show_at),
                )
            ]
        )
    return response


# The audit log ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _shown(key: str, value: object) -> str:
    if value is None or value == "":
        return "—"
    if key == "status":
        return str(STATUS_LABELS.get(str(value), value))
    return str(value)


def entry_changes(entry: AuditEntry) -> list[Change]:
    """What the action changed: only the snapshot's keys whose value differs before and after."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    keys = [*SNAPSHOT_LABELS, *sorted((before.keys() | after.keys()) - SNAPSHOT_LABELS.keys())]
    changes = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old == new or (old in (None, "") and new in (None, "")):
            continue
        changes.append(Change(str(SNAPSHOT_LABELS.get(key, key)), _shown(key, old), _shown(key, new)))
    return changes


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    changes: list[Change]


@require_GET
@login_required
def audit(request: HttpRequest, slug: str) -> HttpResponse:
    """Managers and administrators: every staff action on the office's appointments, newest first. Read-only."""
    office, role = office_for_staff(user=request.user, slug=slug, manager=True)
    entries = office_audit(office=office)
    day = requested_day(request, default=None)
    if day is not None:
        begins, ends = day_range(day)
        entries = entries.filter(at__gte=begins, at__lt=ends)
    action = request.GET.get("action", "")
    if action in AuditEntry.Action.values:
        entries = entries.filter(action=action)
    else:
        action = ""
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = staff_context(
        request,
        office,
        role,
        day=day,
        action=action,
        actions=AuditEntry.Action.choices,
        page=page,
        rows=[AuditRow(entry, entry_changes(entry)) for entry in page.object_list],
    )
    return render(request, "desk/audit.html", context)
