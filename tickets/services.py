"""Every change of a queue ticket: drawing one, calling the next, and the steps of its service.

A ticket's steps mirror the appointment visit's (``desk.services.VISIT_STEPS``):
waiting → called → in service → done, or called → no-show. An appointment
holder's ticket (T) takes its steps through the desk's visit steps, which keep
the appointment, its audit log and the ticket in line (``tickets.visits``);
the other tickets take them here. Each step locks the ticket's row (for a T
ticket, the appointment's row first) and checks it against what is stored, so
two clerks pressing "call next" at once call two different tickets.
"""

import datetime
import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from booking.errors import BookingError
from booking.models import Appointment
from desk.services import visit_call, visit_finish, visit_no_show, visit_start, visit_steps_allowed
from offices.models import Office, OfficeService, Service
from offices.validators import MAX_COUNTER
from tickets.errors import TicketTaken
from tickets.estimate import QueueState
from tickets.models import Kiosk, Ticket
from tickets.policy import Lane, queue_order
from tickets.selectors import WALK_IN_WORDS, WalkIn, local_today, open_today, queue_state, walkin_state
from tickets.visits import ticket_number_next

logger = logging.getLogger(__name__)

Status = Ticket.Status
Queue = Ticket.Queue


# Drawing a ticket -------------------------------------------------------------------------------


def ticket_issue(
    *,
    office: Office,
    queue: str,
    now: datetime.datetime,
    service: Service | None = None,
    kiosk: Kiosk | None = None,
    by: AbstractBaseUser | None = None,
    language: str = "de",
) -> Ticket:
    """Draw a W (walk-in), A (pickup) or N (urgent, by a clerk) ticket; T tickets come from the desk's check-in.

    Refused (BookingError, nothing written) when the office is not open now,
    and for walk-ins when ``tickets.selectors.walkin_state`` says no more can
    be served today. The queue's sequence row is locked first, so of two
    walk-ins drawing the last capacity at once only one gets it.
    """
    if queue not in (Queue.WALK_IN, Queue.PICKUP, Queue.URGENT):
        raise BookingError(_("This kind of ticket is issued at check-in."), field="queue")
    if queue == Queue.URGENT and by is None:
        raise BookingError(_("Only a clerk can issue a ticket for an urgent case."), field="queue")
    minutes = None
    if service is not None:
        offer = OfficeService.objects.filter(office=office, service=service, service__active=True).first()
        if offer is None:
            raise BookingError(_("This office does not offer that service."), field="service")
        minutes = offer.duration_minutes
    with transaction.atomic():
        day = local_today(now)
        number = ticket_number_next(office=office, day=day, queue=queue)
        if queue == Queue.WALK_IN:
            state = queue_state(office=office, now=now)
            walkin = walkin_state(office=office, now=now, state=state, minutes=_expected(state, service, minutes))
            if walkin != WalkIn.OPEN:
                raise BookingError(WALK_IN_WORDS[walkin], field="queue")
        elif not open_today(office=office, now=now).is_open(now):
            raise BookingError(WALK_IN_WORDS[WalkIn.CLOSED], field="queue")
        return Ticket.objects.create(
            office=office,
            day=day,
            queue=queue,
            number=number,
            service=service,
            kiosk=kiosk,
            issued_by=by,
            issued_at=now,
            language=language,
        )


def _expected(state: QueueState, service: Service | None, configured: int | None) -> float | None:
    if service is None:
        return None
    known = state.times.by_service.get(service.pk)
    return known.mid if known is not None else configured


def ticket_draw_at_kiosk(*, kiosk: Kiosk, service: Service, now: datetime.datetime, language: str) -> Ticket:
    """The kiosk's ticket for a matter: pickups go to the fast lane (A), everything else to the walk-ins (W)."""
    queue = Queue.PICKUP if service.pickup else Queue.WALK_IN
    return ticket_issue(office=kiosk.office, queue=queue, service=service, now=now, kiosk=kiosk, language=language)


# The steps of a ticket --------------------------------------------------------------------------

# step: (the statuses it may start from, the status it leads to, the timestamp it sets)
TICKET_STEPS: dict[str, tuple[frozenset[str], str, str]] = {
    "call": (frozenset({Status.WAITING, Status.CALLED, Status.NO_SHOW}), Status.CALLED, "called_at"),
    "start": (frozenset({Status.WAITING, Status.CALLED}), Status.IN_SERVICE, "service_started_at"),
    "finish": (frozenset({Status.IN_SERVICE}), Status.DONE, "finished_at"),
    "no_show": (frozenset({Status.CALLED}), Status.NO_SHOW, "no_show_at"),
}
VISIT_STEP_OF = {"call": visit_call, "start": visit_start, "finish": visit_finish, "no_show": visit_no_show}


def _check_counter(counter: int | None) -> int:
    if counter is None or not 1 <= counter <= MAX_COUNTER:
        raise BookingError(_("Enter your counter number (1 to %(max)s).") % {"max": MAX_COUNTER}, field="counter")
    return counter


def _check_step(ticket: Ticket, *, step: str, counter: int | None) -> None:
    """The rules of ``TICKET_STEPS`` for a W, A or N ticket as it is stored; BookingError when they refuse."""
    allowed_from, _to, _stamp = TICKET_STEPS[step]
    if ticket.status not in allowed_from:
        raise BookingError(
            _("Not possible: ticket %(label)s is “%(status)s” now.")
            % {"label": ticket.label, "status": Status(ticket.status).label},
            field="status",
        )
    if step == "call" and ticket.status == Status.CALLED and ticket.counter != counter:
        raise TicketTaken(
            _("Ticket %(label)s has already been called to counter %(counter)s.")
            % {"label": ticket.label, "counter": ticket.counter},
            field="status",
        )


def ticket_steps_allowed(*, ticket: Ticket, now: datetime.datetime, counter: int | None) -> list[str]:
    """The steps the rules allow now, in the order of TICKET_STEPS: the buttons a page offers (each checks again).

    A T ticket's are its appointment's visit steps (``desk.services.visit_steps_allowed``).
    """
    if ticket.queue == Queue.APPOINTMENT:
        visit = set(visit_steps_allowed(appointment=ticket.appointment, now=now, counter=counter))
        return [step for step in TICKET_STEPS if step in visit]
    allowed = []
    for step in TICKET_STEPS:
        try:
            _check_step(ticket, step=step, counter=counter)
        except BookingError:
            continue
        allowed.append(step)
    return allowed


def ticket_step(
    *,
    ticket: Ticket,
    step: str,
    by: AbstractBaseUser,
    now: datetime.datetime,
    counter: int | None = None,
    only_waiting: bool = False,
) -> Ticket:
    """Take one step (``TICKET_STEPS``); raises BookingError (TicketTaken for a race lost) and changes nothing.

    ``counter`` is the clerk's: needed to call, and to start a ticket nobody called.
    ``only_waiting`` (call next): refuse unless the ticket is still waiting.
    """
    if step not in TICKET_STEPS:
        raise BookingError(_("Unknown step."), field="step")
    if step == "call":
        _check_counter(counter)
    _allowed_from, to, stamp = TICKET_STEPS[step]
    with transaction.atomic():
        if ticket.appointment_id is not None:
            # Lock order of the visit steps: the appointment first, then its ticket.
            Appointment.objects.select_for_update().filter(pk=ticket.appointment_id).first()
        # The row lock: of two clerks taking the same ticket at once, the second sees the first's step.
        locked = Ticket.objects.select_for_update(of=("self",)).select_related("appointment").get(pk=ticket.pk)
        if only_waiting and locked.status != Status.WAITING:
            raise TicketTaken(_("Another counter has called this ticket."), field="status")
        if locked.queue == Queue.APPOINTMENT:
            kwargs = {"counter": counter} if step == "call" else {}
            VISIT_STEP_OF[step](appointment=locked.appointment, by=by, now=now, **kwargs)
            locked.refresh_from_db()
            return locked
        _check_step(locked, step=step, counter=counter)
        fields = ["status", stamp]
        if step == "call" or (step == "start" and locked.counter is None):
            locked.counter = _check_counter(counter)
            fields.append("counter")
        if step == "call":
            locked.called_by = by
            locked.no_show_at = None  # came back after all
            fields += ["called_by", "no_show_at"]
        locked.status = to
        setattr(locked, stamp, now)
        locked.save(update_fields=fields)
    return locked


def ticket_call_next(*, office: Office, counter: int, by: AbstractBaseUser, now: datetime.datetime) -> Ticket | None:
    """Call the ticket the queue order (``tickets.policy``) gives this counter; None when nobody is waiting.

    A ticket another clerk calls in the same moment, or whose appointment refuses the call, is passed over.
    """
    _check_counter(counter)
    lane = Lane.of(counter=counter, pickup_counters=office.pickup_counter_numbers)
    for ticket in queue_order(_waiting(office, now), lane=lane, now=now):
        try:
            return ticket_step(ticket=ticket, step="call", by=by, now=now, counter=counter, only_waiting=True)
        except TicketTaken:
            continue
        except BookingError as error:  # the appointment behind a T ticket refuses the call: the next one, then
            logger.warning("Call next passed over ticket %s: %s", ticket.pk, error.message)
            continue
    return None


def _waiting(office: Office, now: datetime.datetime) -> list[Ticket]:
    return list(
        Ticket.objects.filter(office=office, day=local_today(now), status=Status.WAITING)
        .select_related("appointment")
        .order_by("issued_at", "pk")
    )
