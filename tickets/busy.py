"""The "usually busy" chart of an office: tickets drawn per weekday and hour in recent weeks.

Built from the office's tickets of the last ``QUEUE_HISTORY_DAYS`` days before
today, of every queue (each ticket is someone arriving). A ticket counts in the
Berlin wall-clock hour of its ``issued_at``; the database converts each moment
with the rules of its own date, so the days the clocks change count right. A
cell's number is an average day: the tickets of that weekday and hour divided
by the days of that weekday in the window on which the office was open (a
holiday does not dilute it). Its level compares it with the office's busiest
cell: up to a third is quiet, up to two thirds moderate, above that busy.

The chart changes once a day at most, so it is cached per office and date for
an hour (not when ``QUEUE_STATUS_CACHE_SECONDS`` is 0, as in the tests).
"""

import datetime
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from booking.days import local_day
from booking.grid import BERLIN
from offices.models import Office
from offices.selectors import opening_days
from offices.validators import minutes_of
from tickets.models import Ticket

CACHE_SECONDS = 60 * 60


class Level(StrEnum):
    QUIET = "quiet"
    MODERATE = "moderate"
    BUSY = "busy"


LEVEL_WORDS: dict[Level, Promise] = {
    Level.QUIET: _("quiet"),
    Level.MODERATE: _("moderate"),
    Level.BUSY: _("busy"),
}


@dataclass(frozen=True)
class BusyCell:
    weekday: int  # 0 is Monday
    hour: int
    open: bool  # the office was open in this hour on such a day in the window
    average: float  # tickets drawn in this hour on an average such day
    level: Level
    percent: int  # of the busiest cell: the bar's length

    @property
    def word(self) -> Promise:
        return LEVEL_WORDS[self.level]

    @property
    def weekday_abbr(self) -> Promise:
        """The cell's column in short, which it shows itself when the table is stacked on a phone."""
        return WEEKDAYS_ABBR[self.weekday]


@dataclass(frozen=True)
class BusyRow:
    hour: int
    cells: list[BusyCell]  # one per weekday of the chart

    @property
    def starts(self) -> datetime.time:
        return datetime.time(self.hour)

    @property
    def ends(self) -> datetime.time:
        return datetime.time((self.hour + 1) % 24)


@dataclass(frozen=True)
class BusyChart:
    office_id: int
    first: datetime.date  # the window, both ends included
    last: datetime.date
    weekdays: list[int]  # the columns: weekdays the office was open (or drew tickets) in the window
    rows: list[BusyRow]  # the hours, earliest first
    tickets: int  # all tickets in the window
    peak: float  # the busiest cell's average

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def weekday_names(self) -> list[Promise]:
        return [WEEKDAYS[weekday] for weekday in self.weekdays]

    @property
    def has_data(self) -> bool:
        return self.tickets > 0


def _level(average: float, peak: float) -> Level:
    if average * 3 > peak * 2:
        return Level.BUSY
    if average * 3 > peak:
        return Level.MODERATE
    return Level.QUIET


def _open_hours(
    *, office: Office, first: datetime.date, last: datetime.date
) -> tuple[Counter[int], dict[int, set[int]], Counter[int]]:
    """Per weekday: the days open in the window, the hours touched by the opening hours, and all its dates."""
    open_days: Counter[int] = Counter()
    hours: dict[int, set[int]] = {}
    all_days: Counter[int] = Counter()
    for day in opening_days(office=office, first=first, last=last):
        weekday = day.date.weekday()
        all_days[weekday] += 1
        if not day.is_open:
            continue
        open_days[weekday] += 1
        for opens, closes in day.ranges:
            start, end = minutes_of(opens), minutes_of(closes)
            hours.setdefault(weekday, set()).update(h for h in range(24) if h * 60 < end and (h + 1) * 60 > start)
    return open_days, hours, all_days


def _counts(*, office: Office, first: datetime.date, last: datetime.date) -> Counter[tuple[int, int]]:
    """Tickets per (weekday, hour) in Berlin, counted in the database (one query)."""
    rows = (
        Ticket.objects.filter(office=office, day__range=(first, last))
        .annotate(
            iso_weekday=ExtractIsoWeekDay("issued_at", tzinfo=BERLIN), hour=ExtractHour("issued_at", tzinfo=BERLIN)
        )
        .order_by()
        .values_list("iso_weekday", "hour")
        .annotate(n=Count("pk"))
    )
    return Counter({(iso_weekday - 1, hour): n for iso_weekday, hour, n in rows})


def _build(*, office: Office, today: datetime.date) -> BusyChart:
    first = today - datetime.timedelta(days=settings.QUEUE_HISTORY_DAYS)
    last = today - datetime.timedelta(days=1)
    open_days, open_hours, all_days = _open_hours(office=office, first=first, last=last)
    counts = _counts(office=office, first=first, last=last)
    weekdays = sorted(set(open_days) | {weekday for weekday, _hour in counts})
    touched = {hour for weekday in weekdays for hour in open_hours.get(weekday, ())} | {hour for _w, hour in counts}
    hours = range(min(touched), max(touched) + 1) if touched else range(0)  # a break is a row too
    averages = {
        (weekday, hour): counts[weekday, hour] / (open_days[weekday] or all_days[weekday])
        for weekday in weekdays
        for hour in hours
    }
    peak = max(averages.values(), default=0.0)
    rows = [
        BusyRow(
            hour=hour,
            cells=[
                BusyCell(
                    weekday=weekday,
                    hour=hour,
                    open=hour in open_hours.get(weekday, ()) or counts[weekday, hour] > 0,
                    average=averages[weekday, hour],
                    level=_level(averages[weekday, hour], peak),
                    percent=round(100 * averages[weekday, hour] / peak) if peak else 0,
                )
                for weekday in weekdays
            ],
        )
        for hour in hours
    ]
    return BusyChart(
        office_id=office.pk,
        first=first,
        last=last,
        weekdays=weekdays,
        rows=rows,
        tickets=sum(counts.values()),
        peak=peak,
    )


def busy_chart(*, office: Office, now: datetime.datetime) -> BusyChart:
    """The office's chart as of ``now`` (5 queries; cached for an hour when the status is cached at all)."""
    today = local_day(now)
    if settings.QUEUE_STATUS_CACHE_SECONDS <= 0:
        return _build(office=office, today=today)
    key = f"tickets:busy:{office.pk}:{today.isoformat()}"
    chart = cache.get(key)
    if chart is None:
        chart = _build(office=office, today=today)
        cache.set(key, chart, CACHE_SECONDS)
    return chart
