"""Reads of the slot grid."""

import datetime

from django.db.models import QuerySet

from booking.grid import BERLIN
from booking.models import Appointment, Slot
from booking.services import online_free
from offices.models import Office


def released_until(*, office: Office, now: datetime.datetime) -> datetime.date:
    """The last date citizens may book: ``horizon_days`` ahead once today's release time has passed."""
    local = now.astimezone(BERLIN)
    days = office.horizon_days if local.time() >= office.release_time else office.horizon_days - 1
    return local.date() + datetime.timedelta(days=days)


def online_bookable_slots(
    *, office: Office, now: datetime.datetime, first: datetime.date, last: datetime.date
) -> QuerySet[Slot]:
    """Slots a citizen could take a unit of online now: future, within the released horizon, free online."""
    last = min(last, released_until(office=office, now=now))
    return (
        Slot.objects.filter(office=office, local_date__range=(first, last), start__gt=now)
        .filter(online_free(office=office, now=now))
        .order_by("start")
    )


def appointments_to_rebook(*, office: Office) -> QuerySet[Appointment]:
    return Appointment.objects.filter(office=office, status=Appointment.Status.NEEDS_REBOOKING).order_by("start")
