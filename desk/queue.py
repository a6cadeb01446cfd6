"""The queue at the clerks' counters: a step on any ticket, and "call next to counter N".

A W, A or N ticket's steps are the queue's own (``tickets.services.ticket_step``).
An appointment holder's ticket (T) is the visit's: a step on it is the
visit's step (``desk.services``), which writes the audit entry and brings the
ticket in line (``tickets.visits.ticket_follow_visit``). Lock order, as in
the visit steps: the appointment's row, then its ticket's row.
"""

import datetime
import logging
from collections.abc import Callable

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from booking.errors import BookingError
from booking.models import Appointment
from desk.services import visit_call, visit_finish, visit_no_show, visit_start, visit_steps_allowed
from offices.models import Office
from tickets.errors import TicketTaken
from tickets.models import Ticket
from tickets.services import (
    TICKET_STEPS,
    counter_checked,
    ticket_candidates,
    ticket_lock,
    ticket_step,
    ticket_steps_allowed,
)

logger = logging.getLogger(__name__)

# A ticket's step on a T ticket: the visit's step of the same name.
VISIT_STEP_OF: dict[str, Callable[..., Appointment]] = {
    "call": visit_call,
    "start": visit_start,
    "finish": visit_finish,
    "no_show": visit_no_show,
}


def queue_steps_allowed(*, ticket: Ticket, now: datetime.datetime, counter: int | None) -> list[str]:
    """The steps the rules allow now, in the order of TICKET_STEPS: the buttons a page offers (each checks again).

    A T ticket's are its appointment's visit steps (``desk.services.visit_steps_allowed``).
    """
    if ticket.queue != Ticket.Queue.APPOINTMENT:
        return ticket_steps_allowed(ticket=ticket, counter=counter)
    visit = set(visit_steps_allowed(appointment=ticket.appointment, now=now, counter=counter))
    return [step for step in TICKET_STEPS if step in visit]


def queue_step(
    *,
    ticket: Ticket,
    step: str,
    by: AbstractBaseUser,
    now: datetime.datetime,
    counter: int | None = None,
    only_waiting: bool = False,
) -> Ticket:
    """Take one step (``TICKET_STEPS``) of any ticket; BookingError (TicketTaken for a race lost), nothing changed.

    ``counter`` is the clerk's: needed to call, and to start a ticket nobody called.
    ``only_waiting`` (call next): refuse unless the ticket is still waiting.
    """
    if ticket.queue != Ticket.Queue.APPOINTMENT:
        return ticket_step(ticket=ticket, step=step, by=by, now=now, counter=counter, only_waiting=only_waiting)
    if step not in TICKET_STEPS:
        raise BookingError(_("Unknown step."), field="step")
    if step == "call":
        counter_checked(counter)
    with transaction.atomic():
        # Lock order of the visit steps: the appointment first, then its ticket.
        Appointment.objects.select_for_update().filter(pk=ticket.appointment_id).first()
        locked = ticket_lock(ticket=ticket, only_waiting=only_waiting)
        kwargs = {"counter": counter} if step == "call" else {}
        VISIT_STEP_OF[step](appointment=locked.appointment, by=by, now=now, **kwargs)
        locked.refresh_from_db()
    return locked


def queue_call_next(*, office: Office, counter: int, by: AbstractBaseUser, now: datetime.datetime) -> Ticket | None:
    """Call the ticket the queue order (``tickets.policy``) gives this counter; None when nobody is waiting.

    A ticket another clerk calls in the same moment, or whose appointment refuses the call, is passed over.
    """
    for ticket in ticket_candidates(office=office, counter=counter, now=now):
        try:
            return queue_step(ticket=ticket, step="call", by=by, now=now, counter=counter, only_waiting=True)
        except TicketTaken:
            continue
        except BookingError as error:  # the appointment behind a T ticket refuses the call: the next one, then
            logger.warning("Call next passed over ticket %s: %s", ticket.pk, error.message)
            continue
    return None
