"""Reads of the slot grid."""

import datetime
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import F, Max, QuerySet, Sum
from django.db.models.functions import ExtractHour
from django.http import Http404

from booking.grid import BERLIN
from booking.models import Slot
from booking.needs import Need, needs_minutes, offer_durations
from booking.services.slots import PHONE_FREE, online_free, released_until
from offices.models import Membership, Office
from offices.selectors import public_offices

# (local date, start, end) of one slot, as read for availability.
FreeSlot = tuple[datetime.date, datetime.datetime, datetime.datetime]


def _free_slots(
    *, offices: list[Office], first: datetime.date, last: datetime.date, now: datetime.datetime
) -> dict[int, list[FreeSlot]]:
    """Per office, the slots with a unit a citizen may book online now, in start order, in one query.

    The SQL keeps slots with any free unit; the per-office rules (phone
    reserve still held back, minimum notice, released horizon) are applied
    here, so one query serves many offices.
    """
    by_id = {office.pk: office for office in offices}
    rules = {
        office.pk: (
            now + datetime.timedelta(minutes=office.min_notice_minutes),
            released_until(office=office, now=now),
            now + datetime.timedelta(hours=office.phone_release_hours),
        )
        for office in offices
    }
    last = min(last, max((rule[1] for rule in rules.values()), default=last))
    earliest = min((rule[0] for rule in rules.values()), default=now)
    rows = (
        Slot.objects.filter(office_id__in=list(by_id), local_date__range=(first, last), start__gte=earliest)
        .filter(PHONE_FREE)
        .order_by("office_id", "start")
        .values_list(
            "office_id", "local_date", "start", "end", "capacity", "booked_online", "booked_phone", "phone_reserve"
        )
    )
    free: dict[int, list[FreeSlot]] = {office_id: [] for office_id in by_id}
    for office_id, day, start, end, capacity, online, phone, reserve in rows:
        notice, released, reserve_until = rules[office_id]
        held_back = max(phone, reserve if start > reserve_until else 0)
        if start >= notice and day <= released and capacity > online + held_back:
            free[office_id].append((day, start, end))
    return free


def _run_starts(slots: list[FreeSlot], length: int) -> list[FreeSlot]:
    """The slots that begin ``length`` consecutive free slots (none across a break, a gap or a day)."""
    starts = []
    run = 0
    previous_end = None
    for index, (_day, start, end) in enumerate(slots):
        run = run + 1 if start == previous_end else 1
        previous_end = end
        if run >= length:
            starts.append(slots[index - length + 1])
    return starts


def free_starts(
    *, office: Office, minutes: int, now: datetime.datetime, first: datetime.date, last: datetime.date
) -> dict[datetime.date, list[datetime.datetime]]:
    """The start times (UTC) from first to last where an appointment of ``minutes`` fits online now, per day."""
    length = minutes // office.slot_minutes
    days: dict[datetime.date, list[datetime.datetime]] = {}
    for day, start, _end in _run_starts(
        _free_slots(offices=[office], first=first, last=last, now=now)[office.pk], length
    ):
        days.setdefault(day, []).append(start)
    return days


# "Earliest anywhere" looks at the next days first and further only for offices without a time there.
EARLIEST_WINDOWS_DAYS = (3, 14, 400)


def earliest_starts(
    *, minutes_by_office: dict[Office, int], now: datetime.datetime
) -> dict[int, datetime.datetime | None]:
    """Per office id, the earliest start (UTC) where an appointment of that office's length fits online now."""
    today = now.astimezone(BERLIN).date()
    earliest: dict[int, datetime.datetime | None] = {office.pk: None for office in minutes_by_office}
    remaining = list(minutes_by_office)
    first = today
    for window in EARLIEST_WINDOWS_DAYS:
        if not remaining:
            break
        last = today + datetime.timedelta(days=window - 1)
        free = _free_slots(offices=remaining, first=first, last=last, now=now)
        for office in remaining:
            starts = _run_starts(free[office.pk], minutes_by_office[office] // office.slot_minutes)
            if starts:
                earliest[office.pk] = starts[0][1]
        remaining = [office for office in remaining if earliest[office.pk] is None]
        first = last + datetime.timedelta(days=1)
    return earliest


@dataclass(frozen=True)
class OfficeChoice:
    office: Office
    minutes: int  # this office's time for the needs
    earliest: datetime.datetime | None


def offices_by_earliest(*, needs: list[Need], now: datetime.datetime) -> list[OfficeChoice]:
    """The active offices offering all the needs, each with its duration and earliest free start, earliest first."""
    durations = offer_durations(needs=needs)
    minutes = {
        office: needs_minutes(needs=needs, durations=durations[office.pk], slot_minutes=office.slot_minutes)
        for office in public_offices().filter(pk__in=list(durations))
    }
    earliest = earliest_starts(minutes_by_office=minutes, now=now)
    # public_offices() orders by kind and name; sorted() keeps that among equal times.
    return sorted(
        (OfficeChoice(office, minutes[office], earliest[office.pk]) for office in minutes),
        key=lambda choice: (choice.earliest is None, choice.earliest or now),
    )


def nearest_free_starts(
    *, office: Office, minutes: int, around: datetime.datetime, now: datetime.datetime, count: int = 3
) -> list[datetime.datetime]:
    """The free starts closest to ``around`` (before or after, within a week), for whoever just lost it."""
    day = around.astimezone(BERLIN).date()
    days = free_starts(
        office=office,
        minutes=minutes,
        now=now,
        first=day - datetime.timedelta(days=7),
        last=day + datetime.timedelta(days=7),
    )
    starts = [start for day_starts in days.values() for start in day_starts]
    return sorted(sorted(starts, key=lambda start: abs(start - around))[:count])


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
