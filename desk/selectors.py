"""Reads of the clerks' desk: the day of an office, what is to rebook and its alternatives, the audit log.

Which staff member may see which office is decided in ``desk.access``.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from booking.availability import nearest_free_starts, offices_earliest
from booking.errors import BookingError
from booking.grid import local_datetime
from booking.models import Appointment, AppointmentService
from booking.needs import appointment_needs, needs_minutes, offer_durations, office_needs_minutes
from desk.models import AuditEntry
from offices.models import Office

# The day ---------------------------------------------------------------------------------------


class DayStatus:
    """The statuses the day view filters by: the visit's, plus cancelled and to rebook."""

    CHOICES = [
        *Appointment.Visit.choices,
        (Appointment.Status.NEEDS_REBOOKING, Appointment.Status.NEEDS_REBOOKING.label),
        (Appointment.Status.CANCELLED, Appointment.Status.CANCELLED.label),
    ]
    VALUES = [value for value, _label in CHOICES]

    @staticmethod
    def condition(value: str) -> Q:
        if value in Appointment.Visit.values:
            return Q(status=Appointment.Status.BOOKED, visit=value)
        return Q(status=value)


def day_range(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The UTC instants a Berlin day begins and ends (23 or 25 hours on the days the clocks change)."""
    return local_datetime(day, 0), local_datetime(day + datetime.timedelta(days=1), 0)


def day_appointments(*, office: Office, day: datetime.date, status: str = "", query: str = "") -> QuerySet[Appointment]:
    """The office's appointments starting on ``day`` in time order, with their services (two queries).

    ``query`` matches a booking code exactly (any case, spaces ignored) or a
    part of the name.
    """
    begins, ends = day_range(day)
    appointments = Appointment.objects.filter(office=office, start__gte=begins, start__lt=ends)
    if status in DayStatus.VALUES:
        appointments = appointments.filter(DayStatus.condition(status))
    query = query.strip()
    if query:
        code = query.replace(" ", "").upper()
        appointments = appointments.filter(Q(booking_code=code) | Q(name__icontains=query))
    return appointments.order_by("start", "pk").prefetch_related(
        Prefetch("lines", queryset=AppointmentService.objects.select_related("service").order_by("pk"))
    )


def day_counts(*, office: Office, day: datetime.date) -> dict[str, int]:
    """How many appointments of the day are in each day status (one grouped query)."""
    begins, ends = day_range(day)
    rows = (
        Appointment.objects.filter(office=office, start__gte=begins, start__lt=ends)
        .values("status", "visit")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(DayStatus.VALUES, 0)
    for row in rows:
        key = row["visit"] if row["status"] == Appointment.Status.BOOKED else row["status"]
        counts[key] += row["count"]
    return counts


# Rebooking --------------------------------------------------------------------------------------


def to_rebook(*, office: Office) -> QuerySet[Appointment]:
    """The office's appointments that lost their time (sickness, a block) and wait to be moved or cancelled."""
    return (
        Appointment.objects.filter(office=office, status=Appointment.Status.NEEDS_REBOOKING)
        .select_related("office")
        .prefetch_related(
            Prefetch("lines", queryset=AppointmentService.objects.select_related("service").order_by("pk"))
        )
        .order_by("start", "pk")
    )


@dataclass(frozen=True)
class Alternative:
    office: Office
    start: datetime.datetime
    minutes: int
    same_office: bool


def rebooking_alternative(*, appointment: Appointment, now: datetime.datetime) -> Alternative | None:
    """The nearest free time for what the appointment needs (never its own booked time): its own office first (a
    week either side), else the earliest at another active office offering all its services.

    Only times a citizen could book online now are offered: those are free
    for a phone booking too, so the move takes what is shown.
    """
    needs = appointment_needs(appointment)
    office = appointment.office
    try:
        minutes = office_needs_minutes(office=office, needs=needs)
    except BookingError:
        minutes = 0  # the office no longer offers one of the services: only other offices can help
    if minutes:
        around = max(appointment.start, now)
        # A booked appointment's own time can look free (another unit there is): it is no alternative.
        nearest = [
            start
            for start in nearest_free_starts(office=office, minutes=minutes, around=around, now=now, count=2)
            if not (appointment.status == Appointment.Status.BOOKED and start == appointment.start)
        ]
        if nearest:
            nearest.sort(key=lambda start: abs(start - around))
            return Alternative(office, nearest[0], minutes, same_office=True)
    durations = offer_durations(needs=needs)
    durations.pop(office.pk, None)
    others = list(Office.objects.filter(pk__in=durations).order_by("name"))
    if not others:
        return None
    minutes_by_office = {
        other: needs_minutes(needs=needs, durations=durations[other.pk], slot_minutes=other.slot_minutes)
        for other in others
    }
    earliest = offices_earliest(minutes_by_office=minutes_by_office, now=now)
    found = [(start, other) for other in others if (start := earliest[other.pk]) is not None]
    if not found:
        return None
    start, other = min(found, key=lambda pair: (pair[0], pair[1].name))
    return Alternative(other, start, minutes_by_office[other], same_office=False)


# The audit log ----------------------------------------------------------------------------------


def office_audit(*, office: Office) -> QuerySet[AuditEntry]:
    """What staff did to the office's appointments, newest first."""
    return AuditEntry.objects.filter(office=office).select_related("appointment").order_by("-at", "-pk")
