"""Free times for a booking made by a clerk for a caller or a visitor without internet.

A phone booking may take any free unit of a slot (``PHONE_FREE``), needs no
minimum notice and is not held back by the daily release time, but never
starts in the past and only on the office's grid (``booking.selectors.free_runs``
finds the runs, with ``ChannelRules`` of the phone). Its times come in two
groups: those inside the phone contingent (every slot still has room in its
``phone_reserve``), offered first, and those that use a unit citizens could
otherwise book online.
"""

import datetime
from dataclasses import dataclass

from booking.days import local_day
from booking.grid import BERLIN
from booking.models import Appointment, Slot
from booking.selectors import ChannelRules, free_runs, phone_last_day
from offices.models import Office

__all__ = ["PhoneDay", "by_hour", "earliest_phone_start", "phone_day", "phone_last_day"]


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


def phone_day(*, office: Office, minutes: int, day: datetime.date, now: datetime.datetime) -> PhoneDay:
    """The day's starts where ``minutes`` fit for a phone booking, in one query (booking.selectors.free_runs)."""
    length = minutes // office.slot_minutes
    fitting = free_runs(
        office_ids=[office.pk], rules=_phone_rules(office=office, now=now), length=length, first=day, last=day
    )
    contingent: list[datetime.datetime] = []
    online: list[datetime.datetime] = []
    for start, in_contingent in fitting.order_by("start").values_list("start", "contingent"):
        (contingent if in_contingent == length else online).append(start)
    return PhoneDay(day, contingent, online)


def earliest_phone_start(
    *, office: Office, minutes: int, now: datetime.datetime, contingent_only: bool = True
) -> datetime.datetime | None:
    """The earliest start (UTC) up to the horizon where ``minutes`` fit for a phone booking (one query).

    With ``contingent_only`` inside the phone contingent only; otherwise any free unit.
    """
    length = minutes // office.slot_minutes
    fitting = free_runs(
        office_ids=[office.pk],
        rules=_phone_rules(office=office, now=now),
        length=length,
        first=local_day(now),
        last=phone_last_day(office=office, now=now),
    )
    if contingent_only:
        fitting = fitting.filter(contingent=length)
    return Slot.objects.filter(pk__in=fitting.values("pk")).order_by("start").values_list("start", flat=True).first()


def _phone_rules(*, office: Office, now: datetime.datetime) -> ChannelRules:
    return ChannelRules.of(office=office, now=now, channel=Appointment.Channel.PHONE)
