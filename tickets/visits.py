"""Numbering, and the appointment holder's ticket (T) that follows the desk's visit steps.

``desk.services`` calls ``ticket_follow_visit`` inside a visit step's
transaction; a step on a T ticket is taken the other way round, as the
visit's step (``desk.queue``). Lock order, here and in ``desk.queue``: the
appointment's row, then its ticket's row.
"""

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from booking.days import local_day
from booking.models import Appointment
from offices.models import Office
from tickets.models import Ticket, TicketSequence

Visit = Appointment.Visit
Status = Ticket.Status

# The visit as the ticket shows it (an expected citizen has no ticket yet).
VISIT_TO_STATUS = {
    Visit.ARRIVED: Status.WAITING,
    Visit.CALLED: Status.CALLED,
    Visit.IN_SERVICE: Status.IN_SERVICE,
    Visit.DONE: Status.DONE,
    Visit.NO_SHOW: Status.NO_SHOW,
}


def ticket_number_next(*, office: Office, day: datetime.date, queue: str) -> int:
    """The next number of a queue, counted per office and day; call it inside the transaction that uses it.

    The UPDATE takes the sequence row's lock until the caller commits: two kiosks
    drawing at once get different numbers, and whatever the caller checks after
    this (the walk-in capacity) is checked by one drawer at a time.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ticket_number_next must run inside the transaction that issues the ticket")
    sequence, _created = TicketSequence.objects.get_or_create(office=office, day=day, queue=queue)
    TicketSequence.objects.filter(pk=sequence.pk).update(last=F("last") + 1)
    sequence.refresh_from_db(fields=["last"])
    return sequence.last


def ticket_follow_visit(*, appointment: Appointment, by: AbstractBaseUser, now: datetime.datetime) -> Ticket | None:
    """Bring the appointment's ticket in line with its visit, issuing it at check-in.

    Runs in the visit step's transaction, after that step locked the appointment's row.
    """
    if appointment.visit == Visit.EXPECTED:
        return None
    ticket = Ticket.objects.select_for_update().filter(appointment=appointment).first()
    if ticket is None:
        if appointment.visit != Visit.ARRIVED:
            return None  # checked in before tickets existed: the desk's list has them
        day = local_day(appointment.start)
        line = appointment.lines.order_by("pk").first()
        return Ticket.objects.create(
            office=appointment.office,
            day=day,
            queue=Ticket.Queue.APPOINTMENT,
            number=ticket_number_next(office=appointment.office, day=day, queue=Ticket.Queue.APPOINTMENT),
            service_id=line.service_id if line else None,
            appointment=appointment,
            issued_by=by,
            issued_at=now,
            language=appointment.language,
        )
    ticket.status = VISIT_TO_STATUS[appointment.visit]
    waiting_again = appointment.visit == Visit.ARRIVED  # late after a no-show: not called until called again
    ticket.counter = None if waiting_again else appointment.counter
    ticket.called_at = None if waiting_again else appointment.called_at
    ticket.service_started_at = appointment.service_started_at
    ticket.finished_at = appointment.finished_at
    ticket.no_show_at = appointment.no_show_at
    if appointment.visit == Visit.CALLED:
        ticket.called_by = by
    ticket.save(
        update_fields=[
            "status",
            "counter",
            "called_at",
            "service_started_at",
            "finished_at",
            "no_show_at",
            "called_by",
        ]
    )
    return ticket
