"""Reads of the slot grid."""

import datetime
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import F, Max, QuerySet, Sum
from django.db.models.functions import ExtractHour
from django.http import Http404

from booking.grid import BERLIN
from booking.models import Slot
from booking.services.slots import online_free, released_until
from offices.models import Membership, Office


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


@dataclass(frozen=True)
class HourCell:
    counters: int  # most counters on duty in the hour
    walkin: int  # most of them serving walk-ins
    capacity: int  # bookable slot-units in the hour
    booked: int  # booked slot-units in the hour

    @property
    def utilisation(self) -> int | None:
        """Booked share of the bookable units, in percent; None where nothing was bookable."""
        return round(100 * self.booked / self.capacity) if self.capacity else None


@dataclass(frozen=True)
class CapacityWeek:
    days: list[datetime.date]
    hours: list[int]
    cells: dict[tuple[datetime.date, int], HourCell]

    def rows(self) -> list[tuple[int, list[HourCell | None]]]:
        return [(hour, [self.cells.get((day, hour)) for day in self.days]) for hour in self.hours]


def capacity_week(*, office: Office, monday: datetime.date) -> CapacityWeek:
    """Counters on duty against booked units per hour and day of one week, in one grouped query."""
    days = [monday + datetime.timedelta(days=n) for n in range(7)]
    grouped = (
        Slot.objects.filter(office=office, local_date__range=(days[0], days[-1]))
        .annotate(hour=ExtractHour("start", tzinfo=BERLIN))
        .values("local_date", "hour")
        .annotate(
            counters=Max("counters"),
            walkin=Max("walkin_capacity"),
            capacity=Sum("capacity"),
            booked=Sum(F("booked_online") + F("booked_phone")),
        )
        .order_by()
    )
    cells = {
        (row["local_date"], row["hour"]): HourCell(row["counters"], row["walkin"], row["capacity"], row["booked"])
        for row in grouped
    }
    open_days = sorted({day for day, _hour in cells})
    shown = [day for day in days if day.weekday() < 5 or day in open_days]  # weekends only when open
    hours = list(range(min(h for _d, h in cells), max(h for _d, h in cells) + 1)) if cells else []
    return CapacityWeek(days=shown, hours=hours, cells=cells)


def offices_managed_by(user: AbstractBaseUser) -> QuerySet[Office]:
    """Administrators see every office; office managers their own; everyone else none."""
    if user.is_superuser:
        return Office.objects.all()
    return Office.objects.filter(memberships__user=user, memberships__role=Membership.Role.MANAGER)


def office_for_manager(*, user: AbstractBaseUser, slug: str) -> Office:
    """The office if this user may manage it; 404 otherwise, so other offices' existence is not revealed."""
    office = offices_managed_by(user).filter(slug=slug).first()
    if office is None:
        raise Http404("No such office.")
    return office
