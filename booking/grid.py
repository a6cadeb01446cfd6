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


def local_datetime(day: datetime.date, minutes: int, *, fold: int = 0) -> datetime.datetime:
    """A wall-clock time in Berlin on ``day``, in UTC.

    On the autumn day a time between 02:00 and 02:59 happens twice: ``fold=0`` is
    the first (summer time), ``fold=1`` the second (winter time). A time the
    spring change skips counts with the offset before the gap (02:30 is 03:30 CEST).
    """
    wall = datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60, fold=fold), tzinfo=BERLIN)
    return wall.astimezone(UTC)


def wall_minutes(moment: datetime.datetime) -> int:
    """Minutes since midnight on Berlin's clock at ``moment`` (both 02:30 of the autumn day are 150)."""
    local = moment.astimezone(BERLIN)
    return local.hour * 60 + local.minute


def is_ambiguous(moment: datetime.datetime) -> bool:
    """Whether Berlin's clock shows the time of ``moment`` twice that day (02:00–02:59 on the autumn day)."""
    local = moment.astimezone(BERLIN)
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


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

    Slots are laid in UTC, each exactly ``slot_minutes`` long, from the range's
    opening to its closing instant; hours, shifts, blocks and windows are
    wall-clock times and are compared on Berlin's clock. So on the autumn day an
    office open through the night has slots in both 02:00–02:59 hours (and none
    lasts 65 minutes), and on the spring day none in the hour that does not exist.
    A range closing in the repeated hour closes at its second occurrence.
    """
    step = office.slot_minutes
    length = datetime.timedelta(minutes=step)
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
            start = local_datetime(day.date, minutes_of(opens))
            close = local_datetime(day.date, minutes_of(closes), fold=1)
            while start + length <= close:
                minute = wall_minutes(start)
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
                planned[start] = PlannedSlot(
                    local_date=day.date,
                    start=start,
                    end=start + length,
                    counters=counters,
                    walkin_capacity=walkin,
                    capacity=capacity,
                    phone_reserve=phone_share(capacity, office.phone_share_percent),
                )
                start += length
    return planned
