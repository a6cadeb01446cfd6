"""Confirmation of the e-mail address (ZMS's "preconfirmed" step), against bookings with addresses nobody reads.

Where an office (``Office.confirm_email``) or one of the booked services
(``Service.confirm_email``) asks for it, an appointment booked online is
not final until the citizen opens the link sent to the address: it gets a
``confirm_token`` and a ``confirm_by`` and takes its units like any booking
(nobody else can take the time meanwhile). Confirmed in time, the citizen
gets the usual confirmation with the calendar file and reminders; still
unconfirmed at ``confirm_by``, ``appointments_lapse`` cancels it, frees its
units at once and tells the citizen. Clerks' bookings for callers (the
phone channel) need none.

The lock order is ``booking.services.locks``'s: the slots, then the
appointment's row (a conditional update: of a confirmation and a lapse of
the same appointment, exactly one changes it).
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from booking.errors import BookingError
from booking.messages import Kind as MessageKind
from booking.messages import appointment_messages_record
from booking.models import FREED_HOLDER, Appointment, Hold, new_token
from booking.needs import Need
from booking.services.locks import slots_lock
from booking.services.slots import slots_release
from offices.models import Office

LAPSED = _("This booking was not confirmed in time, so its time was given to others. Please book a new appointment.")


def confirmation_asked(*, office: Office, needs: list[Need], channel: str, email: str) -> bool:
    """Whether a booking of ``needs`` at ``office`` must be confirmed by e-mail: online, with an address, and
    asked by the office or by one of the services."""
    if channel != Appointment.Channel.ONLINE or not email:
        return False
    return office.confirm_email or any(need.service.confirm_email for need in needs)


def confirmation_fields(
    *, office: Office, needs: list[Need], channel: str, email: str, start: datetime.datetime, now: datetime.datetime
) -> dict[str, object]:
    """The new appointment's confirmation fields: a token and a deadline (the office's minutes, at most the
    start: an appointment that begins is no longer waiting), or none where no confirmation is asked."""
    if not confirmation_asked(office=office, needs=needs, channel=channel, email=email):
        return {}
    deadline = min(now + datetime.timedelta(minutes=office.confirm_within_minutes), start)
    return {"confirm_token": new_token(), "confirm_by": deadline}


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, now: datetime.datetime) -> Appointment:
    """The citizen opened the link in time: the booking is final, and the usual confirmation (calendar file,
    reminders) is sent; for one the office has to rebook, only the address counts as confirmed (the move to a
    new time brings the calendar file). Confirming again changes nothing. Raises BookingError when it lapsed or
    was cancelled.
    """
    # The race with the lapse: both are conditional updates of this row; whichever comes second finds it changed.
    confirmed = Appointment.objects.filter(
        pk=appointment.pk,
        status__in=[Appointment.Status.BOOKED, Appointment.Status.NEEDS_REBOOKING],
        confirmed_at__isnull=True,
        confirm_by__gt=now,
    ).update(confirmed_at=now, updated_at=now)
    current = Appointment.objects.select_related("office").get(pk=appointment.pk)
    if confirmed:
        if current.status == Appointment.Status.BOOKED:
            appointment_messages_record(appointment=current, kind=MessageKind.CONFIRMATION, now=now)
        return current
    if current.status == Appointment.Status.CANCELLED:
        lapsed = current.confirmed_at is None and current.cancelled_at and current.cancelled_at >= current.confirm_by
        raise BookingError(LAPSED if lapsed else _("This appointment is cancelled."))
    if current.confirmed_at is None and current.confirm_by is not None:
        raise BookingError(LAPSED)  # past its deadline; the sweep frees it within the minute
    return current  # confirmed before (a second click), or nothing was asked


def confirm_by_after_move(appointment: Appointment, *, start: datetime.datetime, now: datetime.datetime) -> None:
    """Before ``appointment`` (locked) moves to ``start``: refuse once its deadline has passed (the sweep is about
    to free it), and keep the deadline no later than the new start. Nothing for one confirmed or never asked."""
    if not appointment.awaiting_confirmation:
        return
    if appointment.confirm_by <= now:
        raise BookingError(LAPSED)
    appointment.confirm_by = min(appointment.confirm_by, start)


UNCONFIRMED = [Appointment.Status.BOOKED, Appointment.Status.NEEDS_REBOOKING]


def _awaiting_due(now: datetime.datetime) -> dict[str, object]:
    return {
        "confirm_by__lte": now,
        "confirmed_at__isnull": True,
        "visit": Appointment.Visit.EXPECTED,  # a citizen the desk has checked in is there in person
    }


def _free(appointment: Appointment, *, now: datetime.datetime) -> None:
    """With its slots locked: the lapsed booking's units go to the waitlist first (a hold of nobody's for
    ``BOOKING_FREED_FIRST_MINUTES``, handed on by its sweep), then to the open calendar."""
    if not settings.BOOKING_FREED_FIRST_MINUTES:
        slots_release(
            office=appointment.office, start=appointment.start, end=appointment.end, channel=appointment.channel
        )
        return
    Hold.objects.create(
        office=appointment.office,
        start=appointment.start,
        end=appointment.end,
        channel=appointment.channel,
        needs=[],
        expires_at=now + datetime.timedelta(minutes=settings.BOOKING_FREED_FIRST_MINUTES),
        holder=FREED_HOLDER,
    )


def appointments_lapse(*, now: datetime.datetime, limit: int = 500) -> int:
    """Cancel the appointments still unconfirmed at their deadline, free their units at once and tell the
    citizens; returns how many. One the office has to rebook lapses too (its units are free already).
    Safe to run from many places at once, and beside confirmations, moves and rebuilds.
    """
    with transaction.atomic():
        due = list(
            Appointment.objects.filter(status__in=UNCONFIRMED, **_awaiting_due(now))
            .select_related("office")
            .order_by("pk")[:limit]
        )
        holding = [appointment for appointment in due if appointment.status == Appointment.Status.BOOKED]
        slots_lock([(appointment.office_id, appointment.start, appointment.end) for appointment in holding])
        lapsed = 0
        for appointment in due:
            # Still as read (a move or a rebuild meanwhile: the next run takes it) and still unconfirmed.
            changed = Appointment.objects.filter(
                pk=appointment.pk,
                office_id=appointment.office_id,
                start=appointment.start,
                end=appointment.end,
                status=appointment.status,
                **_awaiting_due(now),
            ).update(status=Appointment.Status.CANCELLED, cancelled_at=now, updated_at=now)
            if not changed:
                continue
            if appointment.status == Appointment.Status.BOOKED:
                _free(appointment, now=now)
            appointment.status, appointment.cancelled_at = Appointment.Status.CANCELLED, now
            appointment_messages_record(appointment=appointment, kind=MessageKind.LAPSED, now=now)
            lapsed += 1
        return lapsed
