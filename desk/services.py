"""Every write of the clerks' desk, with its rules in one place, each recorded in the audit log.

The visit of a booked appointment goes expected → arrived → called → in
service → done, or expected/called → no-show (see ``VISIT_STEPS``). Each step
locks the appointment's row and checks the step against what is stored, so
two clerks clicking at once cannot both call the same citizen. Moves and
cancellations go through ``booking.services.appointments`` (capacity and the
citizen's message live there) inside a transaction that also writes the
audit entry.
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from booking.days import local_day
from booking.errors import BookingError, SlotTaken
from booking.grid import BERLIN
from booking.models import Appointment
from booking.needs import Need
from booking.services.appointments import (
    CHANGED_MEANWHILE,
    CancelledBy,
    Contact,
    appointment_book,
    appointment_cancel,
    appointment_move,
)
from desk.audit import audit_record, snapshot
from desk.capacity import CapacityChange, capacity_changed
from desk.models import AuditEntry
from desk.selectors import rebooking_alternative, to_rebook
from offices.models import Absence, Block, Office
from tickets.services import counter_checked
from tickets.visits import ticket_follow_visit

logger = logging.getLogger(__name__)

Action = AuditEntry.Action
Visit = Appointment.Visit

# action: (the visits it may start from, the visit it leads to, the timestamp field it sets)
VISIT_STEPS: dict[str, tuple[frozenset[str], str, str]] = {
    Action.CHECK_IN: (frozenset({Visit.EXPECTED, Visit.NO_SHOW}), Visit.ARRIVED, "arrived_at"),
    Action.CALL: (frozenset({Visit.ARRIVED, Visit.CALLED}), Visit.CALLED, "called_at"),
    Action.START: (frozenset({Visit.ARRIVED, Visit.CALLED}), Visit.IN_SERVICE, "service_started_at"),
    Action.FINISH: (frozenset({Visit.IN_SERVICE}), Visit.DONE, "finished_at"),
    Action.NO_SHOW: (frozenset({Visit.EXPECTED, Visit.CALLED}), Visit.NO_SHOW, "no_show_at"),
}
REASON_MAX_LENGTH = 500


# The visit --------------------------------------------------------------------------------------


def _visit_step(
    *, appointment: Appointment, by: AbstractBaseUser, action: str, now: datetime.datetime, counter: int | None = None
) -> Appointment:
    """Take one step of the visit; raises BookingError (and changes nothing) when the rules refuse it."""
    allowed_from, to, stamp = VISIT_STEPS[action]
    with transaction.atomic():
        # The row lock: of two clerks acting on the same citizen at once, the second sees the first's step.
        locked = Appointment.objects.select_for_update().select_related("office").get(pk=appointment.pk)
        before = snapshot(locked)
        _check_step(appointment=locked, action=action, allowed_from=allowed_from, now=now, counter=counter)
        locked.visit = to
        setattr(locked, stamp, now)
        fields = ["visit", stamp, "updated_at"]
        if action == Action.CALL:
            locked.counter = counter
            fields.append("counter")
        if action == Action.CHECK_IN:
            locked.no_show_at = None  # late after all: the no-show is taken back
            fields.append("no_show_at")
        locked.save(update_fields=fields)
        ticket_follow_visit(appointment=locked, by=by, now=now)  # check-in issues the T ticket; it follows the visit
        audit_record(appointment=locked, by=by, action=action, before=before, now=now)
    return locked


def _check_step(
    *, appointment: Appointment, action: str, allowed_from: frozenset[str], now: datetime.datetime, counter: int | None
) -> None:
    if appointment.status == Appointment.Status.CANCELLED:
        raise BookingError(_("This appointment is cancelled."))
    if appointment.status == Appointment.Status.NEEDS_REBOOKING:
        raise BookingError(_("This appointment lost its time and must be rebooked first."))
    today = local_day(now)
    day = local_day(appointment.start)
    if action == Action.CHECK_IN and day != today:
        raise BookingError(
            _("This appointment is on %(day)s, not today.") % {"day": date_format(day, "SHORT_DATE_FORMAT")},
            field="visit",
        )
    if action == Action.CALL:
        if appointment.visit == Visit.CALLED and appointment.counter != counter:
            raise BookingError(
                _("This citizen has already been called to counter %(counter)s.") % {"counter": appointment.counter},
                field="visit",
            )
    if action == Action.NO_SHOW:
        grace = datetime.timedelta(minutes=settings.DESK_NO_SHOW_GRACE_MINUTES)
        if now < appointment.start + grace:
            allowed_at = (appointment.start + grace).astimezone(BERLIN)
            raise BookingError(
                _("A no-show can be recorded from %(time)s (the start plus %(minutes)s minutes).")
                % {"time": allowed_at.strftime("%H:%M"), "minutes": settings.DESK_NO_SHOW_GRACE_MINUTES},
                field="visit",
            )
    if appointment.visit not in allowed_from:
        raise BookingError(
            _("Not possible: the appointment is “%(status)s” now. Reload the day to see the latest.")
            % {"status": Visit(appointment.visit).label},
            field="visit",
        )


def visit_check_in(*, appointment: Appointment, by: AbstractBaseUser, now: datetime.datetime) -> Appointment:
    """The citizen has arrived (on the appointment's day; also after a no-show was recorded)."""
    return _visit_step(appointment=appointment, by=by, action=Action.CHECK_IN, now=now)


def visit_call(*, appointment: Appointment, by: AbstractBaseUser, counter: int, now: datetime.datetime) -> Appointment:
    """Call the arrived citizen to ``counter`` (calling again to the same counter is allowed)."""
    counter_checked(counter)
    return _visit_step(appointment=appointment, by=by, action=Action.CALL, now=now, counter=counter)


def visit_start(*, appointment: Appointment, by: AbstractBaseUser, now: datetime.datetime) -> Appointment:
    """The citizen is at the counter: service begins."""
    return _visit_step(appointment=appointment, by=by, action=Action.START, now=now)


def visit_finish(*, appointment: Appointment, by: AbstractBaseUser, now: datetime.datetime) -> Appointment:
    return _visit_step(appointment=appointment, by=by, action=Action.FINISH, now=now)


def visit_no_show(*, appointment: Appointment, by: AbstractBaseUser, now: datetime.datetime) -> Appointment:
    """Nobody came: only once the start plus ``DESK_NO_SHOW_GRACE_MINUTES`` has passed."""
    return _visit_step(appointment=appointment, by=by, action=Action.NO_SHOW, now=now)


def visit_steps_allowed(*, appointment: Appointment, now: datetime.datetime, counter: int | None) -> list[str]:
    """The steps the rules allow now, in the order of VISIT_STEPS: the buttons a page offers (each checks again).

    ``counter`` is the clerk's: a citizen called to another counter is that clerk's to call again.
    """
    allowed = []
    for action, (allowed_from, _to, _stamp) in VISIT_STEPS.items():
        try:
            _check_step(appointment=appointment, action=action, allowed_from=allowed_from, now=now, counter=counter)
        except BookingError:
            continue
        allowed.append(action)
    return allowed


VISIT_ACTIONS = {
    Action.CHECK_IN: visit_check_in,
    Action.START: visit_start,
    Action.FINISH: visit_finish,
    Action.NO_SHOW: visit_no_show,
}


@transaction.atomic
def appointment_note(
    *, appointment: Appointment, by: AbstractBaseUser, note: str, now: datetime.datetime
) -> Appointment:
    """Set the office's note on the appointment (seen by staff only)."""
    locked = Appointment.objects.select_for_update().select_related("office").get(pk=appointment.pk)
    note = note.strip()[:1000]
    if note == locked.staff_note:
        return locked
    before = snapshot(locked)
    locked.staff_note = note
    locked.save(update_fields=["staff_note", "updated_at"])
    audit_record(appointment=locked, by=by, action=Action.NOTE, before=before, now=now)
    return locked


# Cancelling and moving --------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise BookingError(_("Please give a reason: the citizen is told it."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise BookingError(
            _("The reason can be at most %(count)s characters long.") % {"count": REASON_MAX_LENGTH}, field="reason"
        )
    return reason


@transaction.atomic
def desk_cancel(*, appointment: Appointment, by: AbstractBaseUser, reason: str, now: datetime.datetime) -> Appointment:
    """The office cancels, with a reason the citizen reads in the message (recorded in the same transaction)."""
    reason = _reason(reason)
    before = snapshot(appointment)
    cancelled = appointment_cancel(appointment=appointment, now=now, by=CancelledBy.OFFICE, reason=reason)
    audit_record(appointment=cancelled, by=by, action=Action.CANCEL, before=before, now=now, reason=reason)
    return cancelled


@transaction.atomic
def desk_move(
    *,
    appointment: Appointment,
    start: datetime.datetime,
    by: AbstractBaseUser,
    reason: str,
    now: datetime.datetime,
    office: Office | None = None,
) -> Appointment:
    """The office moves the appointment (to another of its times, or another office), telling the citizen why."""
    reason = _reason(reason)
    before = snapshot(appointment)
    from_office = appointment.office
    moved = appointment_move(
        appointment=appointment, start=start, now=now, office=office, reason=reason, by=CancelledBy.OFFICE
    )
    audit_record(
        appointment=moved, by=by, action=Action.MOVE, before=before, now=now, reason=reason, office=from_office
    )
    return moved


@transaction.atomic
def desk_book(
    *,
    office: Office,
    start: datetime.datetime,
    needs: list[Need],
    contact: Contact,
    by: AbstractBaseUser,
    now: datetime.datetime,
    hold_token: str | None = None,
) -> Appointment:
    """Book for a caller or a visitor without internet: phone capacity, an SMS if a mobile number was given."""
    appointment = appointment_book(
        office=office,
        start=start,
        needs=needs,
        contact=contact,
        now=now,
        channel=Appointment.Channel.PHONE,
        hold_token=hold_token,
    )
    audit_record(appointment=appointment, by=by, action=Action.BOOK, before={}, now=now)
    return appointment


# Losing capacity: sickness and blocks (rebuilt by desk.capacity), and rebooking what no longer fits ---


@transaction.atomic
def absence_record(
    *,
    user: AbstractBaseUser,
    kind: str,
    first: datetime.date,
    last: datetime.date,
    note: str,
    by: AbstractBaseUser,
    now: datetime.datetime,
) -> tuple[Absence, CapacityChange]:
    """A clerk is away: every office they work for loses their shifts on those days at once.

    Appointments that no longer fit are marked to rebook (the newest
    bookings of each over-full slot give way), with an audit entry each.
    """
    absence = Absence(user=user, kind=kind, start_date=first, end_date=last, note=note.strip())
    absence.full_clean()
    absence.save()
    offices = list(Office.objects.filter(memberships__user=user).distinct().order_by("pk"))
    reason = str(absence.get_kind_display())
    change = capacity_changed(offices=offices, first=first, last=last, by=by, reason=reason, now=now)
    return absence, change


@transaction.atomic
def block_create(
    *,
    office: Office,
    date: datetime.date,
    starts: datetime.time,
    ends: datetime.time,
    counters: int | None,
    reason: str,
    by: AbstractBaseUser,
    now: datetime.datetime,
) -> tuple[Block, CapacityChange]:
    """Take a time range out for ``counters`` counters (all when None); what no longer fits is to rebook."""
    block = Block(office=office, date=date, starts=starts, ends=ends, counters=counters, reason=reason.strip())
    block.created_by = by
    block.full_clean()
    if datetime.datetime.combine(date, ends, tzinfo=BERLIN) <= now:
        raise BookingError(_("This time has already passed."), field="date")
    block.save()
    change = capacity_changed(offices=[office], first=date, last=date, by=by, reason=block.reason, now=now)
    return block, change


@transaction.atomic
def block_remove(*, block: Block, now: datetime.datetime) -> None:
    """Give the time back. Appointments marked to rebook stay so; their old time is offered first again."""
    office, date = block.office, block.date
    block.delete()
    capacity_changed(offices=[office], first=date, last=date, by=None, reason="", now=now)


def rebooking_move(
    *, appointment: Appointment, by: AbstractBaseUser, reason: str, now: datetime.datetime
) -> Appointment:
    """Move an appointment to rebook to its nearest free alternative; once more if that time is taken meanwhile."""
    for attempt in range(2):
        alternative = rebooking_alternative(appointment=appointment, now=now)
        if alternative is None:
            raise BookingError(_("No free time was found for these services. Cancel it or offer a time by phone."))
        try:
            return desk_move(
                appointment=appointment,
                start=alternative.start,
                office=alternative.office,
                by=by,
                reason=reason,
                now=now,
            )
        except SlotTaken:
            if attempt:
                raise
            # Read it again: whoever took the time may have moved this very appointment.
            appointment = Appointment.objects.select_related("office").get(pk=appointment.pk)
            if appointment.status != Appointment.Status.NEEDS_REBOOKING:
                raise BookingError(CHANGED_MEANWHILE) from None
    raise AssertionError("unreachable")


@dataclass
class RebookingResult:
    done: list[Appointment] = field(default_factory=list)
    refused: list[tuple[Appointment, str]] = field(default_factory=list)


def _rebooking_each(
    *,
    office: Office,
    act: Callable[..., Appointment],
    by: AbstractBaseUser,
    reason: str,
    now: datetime.datetime,
) -> RebookingResult:
    """Apply ``act`` (a move or a cancellation) to every appointment to rebook at the office, earliest first.

    A refusal is noted with its reason; the others are not held up by it.
    """
    result = RebookingResult()
    for appointment in to_rebook(office=office):
        try:
            result.done.append(act(appointment=appointment, by=by, reason=reason, now=now))
        except BookingError as error:
            result.refused.append((appointment, str(error.message)))
    return result


def rebooking_move_all(*, office: Office, by: AbstractBaseUser, reason: str, now: datetime.datetime) -> RebookingResult:
    """Move every appointment to rebook at the office, earliest first, each in its own transaction.

    One that cannot be moved (no free time, or changed meanwhile) stays on
    the list with the reason; the others are not held up by it.
    """
    return _rebooking_each(office=office, act=rebooking_move, by=by, reason=reason, now=now)


def rebooking_cancel_all(
    *, office: Office, by: AbstractBaseUser, reason: str, now: datetime.datetime
) -> RebookingResult:
    """Cancel every appointment to rebook at the office with an apology, each in its own transaction."""
    return _rebooking_each(office=office, act=desk_cancel, by=by, reason=reason, now=now)
