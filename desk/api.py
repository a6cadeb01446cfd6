"""The staff API, JSON under /api/v1/staff/: an office's day and the steps of a visit, for the signed-in staff.

Authentication is the staff session (ninja's ``django_auth``): anonymous
requests are 401, and POSTs need the CSRF token like the desk's forms. Access
goes through desk.access exactly as on the desk's pages: another office's
day or appointment is 404, the same answer as for one that does not exist.

Answers follow booking.api's shapes: 422 ``{"detail": [{"type", "loc",
"msg"}]}`` for malformed input, 409 ``{"detail": msg}`` when the visit's
rules refuse the step with the appointment as it is now (already called
elsewhere, cancelled, not yet time for a no-show, …).
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth

from booking.api.errors import refusal
from booking.api.schemas import ConflictOut, Day, InvalidOut, LineOut, LocalDateTime
from booking.days import local_day
from booking.errors import BookingError
from booking.models import Appointment, AppointmentService
from desk.access import appointment_for_staff, office_for_staff
from desk.selectors import DayStatus, day_appointments
from desk.services import VISIT_ACTIONS, visit_call
from desk.services import Action as AuditAction
from offices.validators import MAX_COUNTER

router = Router(auth=django_auth, tags=["staff"])


class StaffAppointmentOut(Schema):
    id: int
    start: LocalDateTime
    end: LocalDateTime
    booking_code: str
    name: str
    services: list[LineOut]
    interpreter_language: str = Field(description="The language an interpreter is needed for; empty when none.")
    step_free_access: bool
    note: str = Field(description="The office's note (staff only).")
    status: str = Field(description=f"The day status: one of {', '.join(DayStatus.VALUES)}.")
    counter: int | None = Field(description="The counter the citizen was called to.")

    @staticmethod
    def resolve_services(appointment: Appointment) -> list[AppointmentService]:
        return list(appointment.lines.all())

    @staticmethod
    def resolve_note(appointment: Appointment) -> str:
        return appointment.staff_note

    @staticmethod
    def resolve_status(appointment: Appointment) -> str:
        return appointment.day_status


class DayQuery(Schema):
    date: Day | None = Field(None, description="YYYY-MM-DD; today (Europe/Berlin) when left out.")
    status: str = Field("", description=f"Only this day status: one of {', '.join(DayStatus.VALUES)}.")
    q: str = Field("", max_length=200, description="A booking code, or a part of the name.")


class CallIn(Schema):
    counter: int = Field(ge=1, le=MAX_COUNTER, description="The counter the citizen is called to.")


def _allowed(find: Callable[..., Any], **lookup: Any) -> Any:
    """desk.access' verdict as the API answers it: 404 for what is not the user's, 403 for a manager's part."""
    try:
        return find(**lookup)
    except Http404:
        raise HttpError(404, _("Not found among your offices.")) from None
    except PermissionDenied:
        raise HttpError(403, _("Office managers only.")) from None


def _read_back(pk: int) -> Appointment:
    lines = AppointmentService.objects.select_related("service").order_by("pk")
    return Appointment.objects.prefetch_related(Prefetch("lines", queryset=lines)).get(pk=pk)


@router.get(
    "/offices/{slug}/day",
    response={200: list[StaffAppointmentOut], 404: ConflictOut, 422: InvalidOut},
    summary="An office's appointments of one day, in time order",
)
def staff_read_day(request: HttpRequest, slug: str, query: Query[DayQuery]) -> list[Appointment]:
    office, _role = _allowed(office_for_staff, user=request.user, slug=slug)
    if query.status and query.status not in DayStatus.VALUES:
        raise BookingError(_("Choose one of %(expected)s.") % {"expected": ", ".join(DayStatus.VALUES)}, field="status")
    day = query.date or local_day(timezone.now())
    return list(day_appointments(office=office, day=day, status=query.status, query=query.q))


def _step(request: HttpRequest, pk: int, action: str, counter: int | None = None) -> Status[Any]:
    appointment, _role = _allowed(appointment_for_staff, user=request.user, pk=pk)
    now = timezone.now()
    try:
        if action == AuditAction.CALL:
            visit_call(appointment=appointment, by=request.user, counter=counter, now=now)
        else:
            VISIT_ACTIONS[action](appointment=appointment, by=request.user, now=now)
    except BookingError as error:
        if error.field == "counter":  # the input is at fault, not the appointment's state
            return Status(422, {"detail": [refusal(["body", "counter"], str(error.message))]})
        return Status(409, {"detail": str(error.message)})
    return Status(200, _read_back(pk))


STEP_RESPONSES = {200: StaffAppointmentOut, 404: ConflictOut, 409: ConflictOut, 422: InvalidOut}


@router.post("/appointments/{pk}/check-in", response=STEP_RESPONSES, summary="The citizen has arrived")
def staff_check_in(request: HttpRequest, pk: int) -> Status[Any]:
    """Only on the appointment's day; also after a no-show was recorded (late after all)."""
    return _step(request, pk, AuditAction.CHECK_IN)


@router.post("/appointments/{pk}/call", response=STEP_RESPONSES, summary="Call the citizen to a counter")
def staff_call(request: HttpRequest, pk: int, payload: CallIn) -> Status[Any]:
    """Calling again to the same counter is allowed; to another counter is 409."""
    return _step(request, pk, AuditAction.CALL, counter=payload.counter)


@router.post("/appointments/{pk}/start", response=STEP_RESPONSES, summary="Service begins")
def staff_start(request: HttpRequest, pk: int) -> Status[Any]:
    return _step(request, pk, AuditAction.START)


@router.post("/appointments/{pk}/finish", response=STEP_RESPONSES, summary="Service is done")
def staff_finish(request: HttpRequest, pk: int) -> Status[Any]:
    return _step(request, pk, AuditAction.FINISH)


@router.post("/appointments/{pk}/no-show", response=STEP_RESPONSES, summary="Nobody came")
def staff_no_show(request: HttpRequest, pk: int) -> Status[Any]:
    """From the start plus DESK_NO_SHOW_GRACE_MINUTES on; earlier is 409."""
    return _step(request, pk, AuditAction.NO_SHOW)
