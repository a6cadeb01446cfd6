"""The slot grid an office should have: computed from its hours, the clerks on duty and its contingents.

Pure computation, no writes: ``booking.services.slots.slots_generate`` compares the
result with the stored slots and applies the difference.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q

from offices.models import Absence, Block, Office, Shift, WalkInWindow
from offices.selectors import opening_days
from offices.validators import minutes_of

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.UTC


@dataclass(frozen=True)
class PlannedSlot:
    local_date: datetime.date
    start: datetime.datetime  # UTC
    end: datetime.datetime  # UTC
    counters: int
    walkin_capacity: int
    capacity: int
    phone_reserve: int

    def values(self) -> tuple[int, int, int, int]:
        return (self.counters, self.walkin_capacity, self.capacity, self.phone_reserve)


def local_datetime(day: datetime.date, minutes: int) -> datetime.datetime:
    """A wall-clock time in Berlin on ``day``, in UTC (correct on the days the clocks change)."""
    wall = datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60), tzinfo=BERLIN)
    return wall.astimezone(UTC)


def phone_share(capacity: int, percent: int) -> int:
    """The office's share of the bookable capacity kept for phone bookings, rounded half up."""
    return (capacity * percent + 50) // 100


def plan_slots(*, office: Office, first: datetime.date, last: datetime.date) -> dict[datetime.datetime, PlannedSlot]:
    """Every slot the office should have from first to last, keyed by its start (UTC).

    A slot is inside the day's opening ranges; its counters are the active shifts
    covering it whole, not counting clerks absent that day, less the counters a
    block takes out (all of them where no number is set); walk-in windows take
    their counters (all of them where no number is set) away from the bookable
    capacity.
    """
    step = office.slot_minutes
    absent: dict[int, list[Absence]] = defaultdict(list)
    shifts_by_day: dict[datetime.date, list[tuple[int, int, int]]] = defaultdict(list)
    shifts = list(Shift.objects.filter(office=office, date__range=(first, last), active=True))
    users = {shift.user_id for shift in shifts}
    for absence in Absence.objects.filter(Q(start_date__lte=last) & Q(end_date__gte=first), user_id__in=users):
        absent[absence.user_id].append(absence)
    for shift in shifts:
        if any(a.start_date <= shift.date <= a.end_date for a in absent.get(shift.user_id, ())):
            continue
        shifts_by_day[shift.date].append((shift.user_id, minutes_of(shift.starts), minutes_of(shift.ends)))
    windows: dict[int, list[WalkInWindow]] = defaultdict(list)
    for window in WalkInWindow.objects.filter(office=office):
        windows[window.weekday].append(window)
    blocks: dict[datetime.date, list[tuple[int, int, int | None]]] = defaultdict(list)
    for block in Block.objects.filter(office=office, date__range=(first, last)):
        blocks[block.date].append((minutes_of(block.starts), minutes_of(block.ends), block.counters))

    planned: dict[datetime.datetime, PlannedSlot] = {}
    for day in opening_days(office=office, first=first, last=last):
        day_shifts = shifts_by_day.get(day.date, [])
        day_windows = [
            (minutes_of(w.starts), minutes_of(w.ends), w.counters) for w in windows.get(day.date.weekday(), [])
        ]
        day_blocks = blocks.get(day.date, [])
        for opens, closes in day.ranges:
            minute = minutes_of(opens)
            while minute + step <= minutes_of(closes):
                counters = len(
                    {user for user, starts, ends in day_shifts if starts <= minute and ends >= minute + step}
                )
                for starts, ends, blocked in day_blocks:
                    if starts < minute + step and ends > minute:  # a block touching the slot takes it
                        counters = 0 if blocked is None else max(counters - blocked, 0)
                walkin = 0
                for starts, ends, window_counters in day_windows:
                    if starts <= minute and ends >= minute + step:
                        walkin = max(walkin, counters if window_counters is None else window_counters)
                walkin = min(walkin, counters)
                capacity = counters - walkin
                start = local_datetime(day.date, minute)
                planned[start] = PlannedSlot(
                    local_date=day.date,
                    start=start,
                    end=local_datetime(day.date, minute + step),
                    counters=counters,
                    walkin_capacity=walkin,
                    capacity=capacity,
                    phone_reserve=phone_share(capacity, office.phone_share_percent),
                )
                minute += step
    return planned
