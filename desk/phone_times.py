"""Free times for a booking made by a clerk for a caller or a visitor without internet.

A phone booking may take any free unit of a slot (``PHONE_FREE``), needs no
minimum notice and is not held back by the daily release time, but never
starts in the past and only on the office's grid. Its times come in two
groups: those inside the phone contingent (every slot still has room in its
``phone_reserve``), offered first, and those that use a unit citizens could
otherwise book online.
"""

import datetime
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet

from booking.grid import BERLIN
from booking.models import Slot
from booking.selectors import run_end
from booking.services.slots import PHONE_FREE
from offices.models import Office

IN_PHONE_CONTINGENT = Q(booked_phone__lt=F("phone_reserve"))


class _SlotRow(NamedTuple):
    start: datetime.datetime
    end: datetime.datetime
    capacity: int
    booked_online: int
    booked_phone: int
    phone_reserve: int

    @property
    def free(self) -> bool:
        return self.capacity > self.booked_online + self.booked_phone

    @property
    def in_contingent(self) -> bool:
        return self.booked_phone < self.phone_reserve


@dataclass(frozen=True)
class PhoneDay:
    """The starts of one day where an appointment fits for a phone booking, in two groups (UTC, in order)."""

    day: datetime.date
    contingent: list[datetime.datetime]  # every slot has room in the phone reserve
    online: list[datetime.datetime]  # a free unit, but the reserve of at least one slot is used up

    @property
    def empty(self) -> bool:
        return not self.contingent and not self.online

    # Split by the hour (Berlin), so a clerk can read the times out hour by hour.
    @property
    def contingent_by_hour(self) -> list[tuple[int, list[datetime.datetime]]]:
        return by_hour(self.contingent)

    @property
    def online_by_hour(self) -> list[tuple[int, list[datetime.datetime]]]:
        return by_hour(self.online)


def by_hour(starts: list[datetime.datetime]) -> list[tuple[int, list[datetime.datetime]]]:
    hours: dict[int, list[datetime.datetime]] = {}
    for start in starts:
        hours.setdefault(start.astimezone(BERLIN).hour, []).append(start)
    return list(hours.items())


def phone_last_day(*, office: Office, now: datetime.datetime) -> datetime.date:
    """The last day a clerk may book for: the office's horizon, without waiting for the daily release time."""
    return now.astimezone(BERLIN).date() + datetime.timedelta(days=office.horizon_days)


def phone_day(*, office: Office, minutes: int, day: datetime.date, now: datetime.datetime) -> PhoneDay:
    """The day's starts where ``minutes`` fit for a phone booking: one query over the day's slots (at most ~100)."""
    length = minutes // office.slot_minutes
    rows = [
        _SlotRow(*values)
        for values in Slot.objects.filter(office=office, local_date=day)
        .order_by("start")
        .values_list("start", "end", "capacity", "booked_online", "booked_phone", "phone_reserve")
    ]
    contingent: list[datetime.datetime] = []
    online: list[datetime.datetime] = []
    if length < 1:
        return PhoneDay(day, contingent, online)
    for index, first in enumerate(rows):
        run = rows[index : index + length]
        if first.start <= now or len(run) < length:
            continue
        # Consecutive slots only: a break or a gap in the grid lies between two slots whose ends and starts differ.
        if any(before.end != after.start for before, after in zip(run, run[1:], strict=False)):
            continue
        if not all(row.free for row in run):
            continue
        (contingent if all(row.in_contingent for row in run) else online).append(first.start)
    return PhoneDay(day, contingent, online)


def _phone_fitting(
    *, office: Office, minutes: int, now: datetime.datetime, first: datetime.date, last: datetime.date, condition: Q
) -> QuerySet[Slot]:
    """Slots that begin a run of consecutive future slots, each free for a phone booking and meeting ``condition``.

    Like booking.selectors._fitting_starts: among the slots that qualify, a
    start fits where the one ``length - 1`` places later ends exactly
    ``length`` slots after it.
    """
    length = max(minutes // office.slot_minutes, 1)
    fitting_end = F("start") + datetime.timedelta(minutes=length * office.slot_minutes)
    return (
        Slot.objects.order_by()
        .filter(office=office, local_date__range=(first, last), start__gt=now)
        .filter(PHONE_FREE)
        .filter(condition)
        .annotate(run_end=run_end(length))
        .filter(run_end=ExpressionWrapper(fitting_end, output_field=DateTimeField()))
    )


def earliest_phone_start(
    *, office: Office, minutes: int, now: datetime.datetime, contingent_only: bool = True
) -> datetime.datetime | None:
    """The earliest start (UTC) up to the horizon where ``minutes`` fit for a phone booking (one query).

    With ``contingent_only`` inside the phone contingent only; otherwise any free unit.
    """
    today = now.astimezone(BERLIN).date()
    fitting = _phone_fitting(
        office=office,
        minutes=minutes,
        now=now,
        first=today,
        last=phone_last_day(office=office, now=now),
        condition=IN_PHONE_CONTINGENT if contingent_only else Q(),
    )
    return Slot.objects.filter(pk__in=fitting.values("pk")).order_by("start").values_list("start", flat=True).first()
