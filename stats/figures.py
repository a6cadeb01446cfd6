"""The city's figures over a period of days (first to last, Berlin calendar days), for one office or the whole city.

Pure reads returning plain numbers. Each reads only the columns it needs (``values_list``) and does the
arithmetic in Python, percentiles included, so SQLite and PostgreSQL give the same answers.

What the data offers, and so what the figures mean:

- Channels: an appointment records ``online`` or ``phone`` (by phone *or at the counter*: the model does not tell
  the two apart). Bookings for someone on the waitlist and for an urgent case are the appointments a waitlist
  registration points to (``Registration.appointment``); those with a deadline are urgent cases. The five
  counts are exclusive: an appointment counts as urgent or waitlist first, else by its channel.
- Rebooked: a cancelled appointment's person (the same ``email_key``, else the same ``phone_key``) booked
  another appointment, at any office, after the cancellation and before the period ended. Once personal data is
  erased the keys are blank and such a cancellation no longer counts as rebooked.
"""

import datetime
import math
import statistics  # the standard library's (this app is named stats so as not to shadow it)
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from booking.grid import BERLIN
from booking.models import Appointment, AppointmentService, Slot
from offices.models import Office
from tickets.models import Ticket
from waitlist.models import Registration


def bounds(first: datetime.date, last: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The instants where the period begins and where the day after it begins (midnights in Berlin)."""
    start = datetime.datetime.combine(first, datetime.time(0), tzinfo=BERLIN)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(0), tzinfo=BERLIN)
    return start, end


def percentile(values: list[float], share: float) -> float | None:
    """The ``share`` (0 to 1) percentile with linear interpolation between the closest ranks (as numpy's
    default and ``statistics.quantiles(method="inclusive")``); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _office_filter(office: Office | None, field: str = "office") -> Q:
    return Q() if office is None else Q(**{field: office})


@dataclass(frozen=True)
class Bookings:
    online: int
    phone: int  # by phone or at the counter
    waitlist: int
    urgent: int

    @property
    def total(self) -> int:
        return self.online + self.phone + self.waitlist + self.urgent


def bookings_by_channel(*, first: datetime.date, last: datetime.date, office: Office | None = None) -> Bookings:
    """Appointments booked (made) in the period, whatever became of them since, by the way they were booked."""
    start, end = bounds(first, last)
    booked = Appointment.objects.filter(_office_filter(office), created_at__gte=start, created_at__lt=end)
    channels = dict(booked.values_list("pk", "channel"))
    counts = {"online": 0, "phone": 0, "waitlist": 0, "urgent": 0}
    registered = Registration.objects.filter(appointment_id__in=list(channels)).values_list(
        "appointment_id", "deadline"
    )
    kinds = {pk: ("urgent" if deadline is not None else "waitlist") for pk, deadline in registered}
    for pk, channel in channels.items():
        counts[kinds.get(pk, channel)] += 1
    return Bookings(**counts)


@dataclass(frozen=True)
class NoShows:
    due: int  # appointments due in the period and still booked (neither cancelled nor waiting to be rebooked)
    no_shows: int

    @property
    def rate(self) -> float | None:
        return self.no_shows / self.due if self.due else None


def no_show_rate(*, first: datetime.date, last: datetime.date, office: Office | None = None) -> NoShows:
    """No-shows ÷ appointments due in the period that were not cancelled."""
    start, end = bounds(first, last)
    visits = Appointment.objects.filter(
        _office_filter(office), start__gte=start, start__lt=end, status=Appointment.Status.BOOKED
    ).values_list("visit", flat=True)
    visits = list(visits)
    return NoShows(due=len(visits), no_shows=visits.count(Appointment.Visit.NO_SHOW))


@dataclass(frozen=True)
class Cancellations:
    cancelled: int
    rebooked: int  # of those, how many persons booked again in the period after cancelling


def cancellations(*, first: datetime.date, last: datetime.date, office: Office | None = None) -> Cancellations:
    """Appointments cancelled in the period, and how many of their persons booked again (see the module)."""
    start, end = bounds(first, last)
    cancelled = list(
        Appointment.objects.filter(
            _office_filter(office),
            status=Appointment.Status.CANCELLED,
            cancelled_at__gte=start,
            cancelled_at__lt=end,
        ).values_list("pk", "email_key", "phone_key", "cancelled_at")
    )
    emails = {email for _pk, email, _phone, _at in cancelled if email}
    phones = {phone for _pk, _email, phone, _at in cancelled if phone}
    later: dict[tuple[str, str], list[tuple[int, datetime.datetime]]] = defaultdict(list)
    if emails or phones:
        again = Appointment.objects.filter(
            Q(email_key__in=emails) | Q(phone_key__in=phones), created_at__gte=start, created_at__lt=end
        ).values_list("pk", "email_key", "phone_key", "created_at")
        for pk, email, phone, created_at in again:
            if email:
                later[("email", email)].append((pk, created_at))
            if phone:
                later[("phone", phone)].append((pk, created_at))
    rebooked = 0
    for pk, email, phone, cancelled_at in cancelled:
        person = ("email", email) if email else ("phone", phone) if phone else None
        if person and any(other != pk and at > cancelled_at for other, at in later.get(person, [])):
            rebooked += 1
    return Cancellations(cancelled=len(cancelled), rebooked=rebooked)


@dataclass(frozen=True)
class Waiting:
    called: int  # walk-in tickets called in the period
    median_minutes: float | None
    p90_minutes: float | None


def walk_in_waiting(*, first: datetime.date, last: datetime.date, office: Office | None = None) -> Waiting:
    """Minutes from drawing a walk-in ticket to its call, for the walk-in tickets of the period's days."""
    rows = Ticket.objects.filter(
        _office_filter(office), queue=Ticket.Queue.WALK_IN, day__gte=first, day__lte=last, called_at__isnull=False
    ).values_list("issued_at", "called_at")
    minutes = [(called - issued).total_seconds() / 60 for issued, called in rows]
    return Waiting(called=len(minutes), median_minutes=percentile(minutes, 0.5), p90_minutes=percentile(minutes, 0.9))


@dataclass(frozen=True)
class Throughput:
    served: int  # visits finished: appointments, and tickets of the other queues (walk-in, pickup, urgent)
    counter_hours: float  # counters on duty × the slots' length, from the slot grid of the period's days

    @property
    def per_hour(self) -> float | None:
        """Served per counter-hour on duty."""
        return self.served / self.counter_hours if self.counter_hours else None


def served_per_hour(*, first: datetime.date, last: datetime.date, office: Office | None = None) -> Throughput:
    """Visits finished in the period ÷ counter-hours on duty in it.

    An appointment's ticket (queue T) follows the appointment's visit, so only the appointment counts.
    """
    start, end = bounds(first, last)
    appointments = Appointment.objects.filter(_office_filter(office), finished_at__gte=start, finished_at__lt=end)
    tickets = Ticket.objects.filter(
        _office_filter(office), finished_at__gte=start, finished_at__lt=end, status=Ticket.Status.DONE
    ).exclude(queue=Ticket.Queue.APPOINTMENT)
    served = appointments.count() + tickets.count()
    slots = Slot.objects.filter(_office_filter(office), local_date__gte=first, local_date__lte=last)
    seconds = sum(
        (end_ - start_).total_seconds() * counters
        for start_, end_, counters in slots.values_list("start", "end", "counters")
    )
    return Throughput(served=served, counter_hours=seconds / 3600)


def service_time_medians(
    *, first: datetime.date, last: datetime.date, office: Office | None = None
) -> dict[int, float]:
    """Per service id, the median minutes from a visit's start to its finish, over visits finished in the period.

    Appointments with one service count for it (the time of one with several cannot be split among them); walk-in,
    pickup and urgent tickets count for the matter chosen when drawing. Services with no such visit are left out.
    """
    start, end = bounds(first, last)
    done = Q(finished_at__gte=start, finished_at__lt=end, service_started_at__isnull=False)
    durations: dict[int, list[float]] = defaultdict(list)
    visits = {
        pk: (started, finished)
        for pk, started, finished in Appointment.objects.filter(_office_filter(office), done).values_list(
            "pk", "service_started_at", "finished_at"
        )
    }
    lines: dict[int, list[int]] = defaultdict(list)
    for appointment_id, service_id in AppointmentService.objects.filter(appointment_id__in=list(visits)).values_list(
        "appointment_id", "service_id"
    ):
        lines[appointment_id].append(service_id)
    for pk, (started, finished) in visits.items():
        if len(lines[pk]) == 1:
            durations[lines[pk][0]].append((finished - started).total_seconds() / 60)
    tickets = (
        Ticket.objects.filter(_office_filter(office), done, service__isnull=False)
        .exclude(queue=Ticket.Queue.APPOINTMENT)
        .values_list("service_id", "service_started_at", "finished_at")
    )
    for service_id, started, finished_at in tickets:
        durations[service_id].append((finished_at - started).total_seconds() / 60)
    return {service_id: statistics.median(values) for service_id, values in sorted(durations.items())}
