"""Every change of a queue ticket of its own: drawing one, the counter it is called to, the candidates for
"call next", and the steps of a W, A or N ticket.

A ticket's steps mirror the appointment visit's (``desk.services.VISIT_STEPS``):
waiting → called → in service → done, or called → no-show. An appointment
holder's ticket (T) is the visit's, so its steps are the desk's visit steps:
``desk.queue`` takes a step on any ticket and calls the next one, using this
module for the others. Each step locks the ticket's row (``ticket_lock``) and
checks it against what is stored, so two clerks pressing "call next" at once
call two different tickets.
"""

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from booking.days import local_day
from booking.errors import BookingError
from offices.models import Office, Service
from offices.selectors import active_offers
from offices.validators import MAX_COUNTER
from tickets.errors import TicketTaken
from tickets.estimate import QueueState
from tickets.models import Kiosk, Ticket
from tickets.policy import Lane, queue_order
from tickets.selectors import WALK_IN_WORDS, WalkIn, pickup_state, queue_state, walkin_state
from tickets.visits import ticket_number_next

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

    Refused (BookingError, nothing written) for walk-ins when
    ``tickets.selectors.walkin_state`` says no more can be served today, for
    pickups and urgent cases when ``tickets.selectors.pickup_state`` says the
    office is not open now. The queue's sequence row is locked first, so of two
    walk-ins drawing the last capacity at once only one gets it.
    """
    if queue not in (Queue.WALK_IN, Queue.PICKUP, Queue.URGENT):
        raise BookingError(_("This kind of ticket is issued at check-in."), field="queue")
    if queue == Queue.URGENT and by is None:
        raise BookingError(_("Only a clerk can issue a ticket for an urgent case."), field="queue")
    minutes = None
    if service is not None:
        offer = active_offers().filter(office=office, service=service).first()
        if offer is None:
            raise BookingError(_("This office does not offer that service."), field="service")
        minutes = offer.duration_minutes
    with transaction.atomic():
        day = local_day(now)
        number = ticket_number_next(office=office, day=day, queue=queue)
        if queue == Queue.WALK_IN:
            state = queue_state(office=office, now=now)
            walkin = walkin_state(office=office, now=now, state=state, minutes=_expected(state, service, minutes))
            if walkin != WalkIn.OPEN:
                raise BookingError(WALK_IN_WORDS[walkin], field="queue")
        elif (drawable := pickup_state(office=office, now=now)) != WalkIn.OPEN:  # the status page's rule too
            raise BookingError(WALK_IN_WORDS[drawable], field="queue")
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


def counter_valid(counter: object) -> bool:
    """Whether this is a counter's number (1 to ``MAX_COUNTER``): the one check of tickets, visits and the desk."""
    return isinstance(counter, int) and not isinstance(counter, bool) and 1 <= counter <= MAX_COUNTER


def counter_checked(counter: int | None) -> int:
    """The counter a clerk calls to; BookingError (field "counter") unless ``counter_valid``."""
    if not counter_valid(counter):
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


def _not_a_visit(ticket: Ticket) -> None:
    if ticket.queue == Queue.APPOINTMENT:
        raise ValueError("an appointment holder's ticket takes the visit's steps (desk.queue)")


def ticket_steps_allowed(*, ticket: Ticket, counter: int | None) -> list[str]:
    """A W, A or N ticket's steps the rules allow now, in the order of TICKET_STEPS (the buttons a page offers)."""
    _not_a_visit(ticket)
    allowed = []
    for step in TICKET_STEPS:
        try:
            _check_step(ticket, step=step, counter=counter)
        except BookingError:
            continue
        allowed.append(step)
    return allowed


def ticket_lock(*, ticket: Ticket, only_waiting: bool = False) -> Ticket:
    """Lock the ticket's row in the caller's transaction and read it again (with its appointment).

    Of two clerks taking the same ticket at once, the second sees the first's
    step. For a T ticket the caller locks the appointment's row first (the
    lock order: appointment, then ticket). ``only_waiting`` (call next):
    TicketTaken unless the ticket is still waiting.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ticket_lock must run inside the transaction of the step")
    locked = Ticket.objects.select_for_update(of=("self",)).select_related("appointment").get(pk=ticket.pk)
    if only_waiting and locked.status != Status.WAITING:
        raise TicketTaken(_("Another counter has called this ticket."), field="status")
    return locked


def ticket_step(
    *,
    ticket: Ticket,
    step: str,
    by: AbstractBaseUser,
    now: datetime.datetime,
    counter: int | None = None,
    only_waiting: bool = False,
) -> Ticket:
    """Take one step (``TICKET_STEPS``) of a W, A or N ticket; BookingError (TicketTaken for a race lost) and
    nothing changed when the rules refuse it. A T ticket's steps are its visit's: ``desk.queue.queue_step``.

    ``counter`` is the clerk's: needed to call, and to start a ticket nobody called.
    ``only_waiting`` (call next): refuse unless the ticket is still waiting.
    """
    if step not in TICKET_STEPS:
        raise BookingError(_("Unknown step."), field="step")
    _not_a_visit(ticket)
    if step == "call":
        counter_checked(counter)
    _allowed_from, to, stamp = TICKET_STEPS[step]
    with transaction.atomic():
        locked = ticket_lock(ticket=ticket, only_waiting=only_waiting)
        _check_step(locked, step=step, counter=counter)
        fields = ["status", stamp]
        if step == "call" or (step == "start" and locked.counter is None):
            locked.counter = counter_checked(counter)
            fields.append("counter")
        if step == "call":
            locked.called_by = by
            locked.no_show_at = None  # came back after all
            fields += ["called_by", "no_show_at"]
        locked.status = to
        setattr(locked, stamp, now)
        locked.save(update_fields=fields)
    return locked


# Calling the next -------------------------------------------------------------------------------


def ticket_candidates(*, office: Office, counter: int, now: datetime.datetime) -> list[Ticket]:
    """Today's waiting tickets in the order the queue order (``tickets.policy``) gives this counter to call them.

    ``desk.queue.queue_call_next`` calls the first that can still be called.
    """
    counter_checked(counter)
    lane = Lane.of(counter=counter, pickup_counters=office.pickup_counter_numbers)
    waiting = list(
        Ticket.objects.filter(office=office, day=local_day(now), status=Status.WAITING)
        .select_related("appointment")
        .order_by("issued_at", "pk")
    )
    return queue_order(waiting, lane=lane, now=now)
