"""Reads of the slot grid, and of a hold by its token."""

import datetime
from dataclasses import dataclass

from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Max, Min, Q, QuerySet, Sum, Value, When, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import ExtractHour, Lead

from booking.days import local_day
from booking.grid import BERLIN
from booking.models import Appointment, Hold, Slot
from booking.services.slots import (
    PHONE_FREE,
    Portion,
    held_back_from_online,
    online_free,
    release_portion,
    released_until,
    within_portion,
)
from offices.models import Office

IN_PHONE_CONTINGENT = Q(booked_phone__lt=F("phone_reserve"))


def phone_last_day(*, office: Office, now: datetime.datetime) -> datetime.date:
    """The last day a clerk may book for: the office's horizon, without waiting for the daily release time."""
    return local_day(now) + datetime.timedelta(days=office.horizon_days)


@dataclass(frozen=True)
class ChannelRules:
    """What a channel lets be booked at an office now; offices with the same rules are read in one query.

    Online: after the minimum notice, up to the released days, not the units
    held back for the phone. By phone: any free unit from now to the horizon.
    """

    channel: str
    now: datetime.datetime  # a start must lie after it (with no notice, a slot starting now has begun)
    earliest: datetime.datetime  # the earliest start
    last_day: datetime.date
    reserve_until: datetime.datetime | None  # online: slots after this hold their phone reserve back; phone: None
    slot_minutes: int
    portion: Portion | None = None  # online: the newest day while it opens in portions

    @classmethod
    def of(cls, *, office: Office, now: datetime.datetime, channel: str) -> "ChannelRules":
        if channel == Appointment.Channel.PHONE:
            return cls(channel, now, now, phone_last_day(office=office, now=now), None, office.slot_minutes)
        return cls(
            channel,
            now,
            now + datetime.timedelta(minutes=office.min_notice_minutes),
            released_until(office=office, now=now),
            now + datetime.timedelta(hours=office.phone_release_hours),
            office.slot_minutes,
            release_portion(office=office, now=now),
        )


def free_runs(
    *, office_ids: list[int], rules: ChannelRules, length: int, first: datetime.date, last: datetime.date
) -> QuerySet[Slot]:
    """The one place that finds runs of ``length`` consecutive free units: the slots that begin one, in one query.

    The database finds them: among the slots free for the channel, a start
    fits where the free slot ``length - 1`` places later ends exactly
    ``length`` slots after it, so no break, gap or day lies between. By phone
    each start also carries ``contingent``: how many slots of its run still
    have room in the phone reserve (``length`` of them: the run lies inside
    the phone contingent).
    """
    if length < 1:
        return Slot.objects.none()
    slots = (
        Slot.objects.order_by()
        .filter(office_id__in=office_ids, local_date__range=(first, min(last, rules.last_day)))
        .filter(PHONE_FREE)  # the partial index's condition, so the planner can use it
        .filter(start__gte=rules.earliest, start__gt=rules.now)
    )
    if rules.reserve_until is not None:  # online: not the units held back for the phone, nor beyond the portion
        slots = slots.filter(capacity__gt=F("booked_online") + held_back_from_online(reserve_until=rules.reserve_until))
        slots = slots.filter(within_portion(rules.portion))
    else:
        in_contingent = Case(When(IN_PHONE_CONTINGENT, then=Value(1)), default=Value(0))
        slots = slots.annotate(contingent=_over_run(Sum(in_contingent), length))
    fitting_end = F("start") + datetime.timedelta(minutes=length * rules.slot_minutes)
    return slots.annotate(run_end=_run_end(length)).filter(
        run_end=ExpressionWrapper(fitting_end, output_field=DateTimeField())
    )


def _run_end(length: int) -> F | Window:
    """The end of the slot ``length - 1`` places after each slot of its office: a run of ``length`` slots ends there.

    One slot is its own run (and Lead refuses an offset of 0).
    """
    if length == 1:
        return F("end")
    return Window(Lead("end", offset=length - 1), partition_by=[F("office_id")], order_by=F("start").asc())


def _over_run(aggregate: Sum, length: int) -> Window:
    """``aggregate`` over each slot and the ``length - 1`` after it among the slots read, per office."""
    return Window(
        aggregate, partition_by=[F("office_id")], order_by=F("start").asc(), frame=RowRange(start=0, end=length - 1)
    )


def free_starts(
    *, office: Office, minutes: int, now: datetime.datetime, first: datetime.date, last: datetime.date
) -> dict[datetime.date, list[datetime.datetime]]:
    """The start times (UTC) from first to last where an appointment of ``minutes`` fits online now, per day."""
    fitting = free_runs(
        office_ids=[office.pk],
        rules=ChannelRules.of(office=office, now=now, channel=Appointment.Channel.ONLINE),
        length=minutes // office.slot_minutes,
        first=first,
        last=last,
    )
    days: dict[datetime.date, list[datetime.datetime]] = {}
    for day, start in fitting.order_by("start").values_list("local_date", "start"):
        days.setdefault(day, []).append(start)
    return days


# "Earliest anywhere" looks at the next week first and further only for offices without a time there.
EARLIEST_WINDOWS_DAYS = (7, 14, 21, 28, 400)


def earliest_starts(
    *, minutes_by_office: dict[Office, int], now: datetime.datetime
) -> dict[int, datetime.datetime | None]:
    """Per office id, the earliest start (UTC) where an appointment of that office's length fits online now.

    One query per window and group of offices with the same length and rules
    (usually one group), grouped by office in the database.
    """
    today = local_day(now)
    earliest: dict[int, datetime.datetime | None] = {office.pk: None for office in minutes_by_office}
    groups: dict[tuple[int, ChannelRules], list[int]] = {}
    for office, minutes in minutes_by_office.items():
        rules = ChannelRules.of(office=office, now=now, channel=Appointment.Channel.ONLINE)
        groups.setdefault((minutes // office.slot_minutes, rules), []).append(office.pk)
    for (length, rules), remaining in groups.items():
        first = today
        for window in EARLIEST_WINDOWS_DAYS:
            if not remaining:
                break
            last = today + datetime.timedelta(days=window - 1)
            fitting = free_runs(office_ids=remaining, rules=rules, length=length, first=first, last=last)
            # Grouped outside the window query: Django would group inside it, before the window is filtered.
            firsts = Slot.objects.filter(pk__in=fitting.values("pk")).order_by().values_list("office_id")
            for office_id, start in firsts.annotate(Min("start")):
                earliest[office_id] = start
            remaining = [office_id for office_id in remaining if earliest[office_id] is None]
            first = last + datetime.timedelta(days=1)
    return earliest


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


def hold_by_token(
    token: str | None, *, live_at: datetime.datetime | None = None, channel: str | None = None
) -> Hold | None:
    """The hold behind a token, with its office: the one place a hold is looked up by its token.

    None for no token or one of no hold (confirmed, released, given way). With
    ``live_at`` only a hold not yet expired then (a citizen's page: an expired
    hold is gone, even before the expiry releases it); without it also an
    expired one not released yet (confirming it still books its units, the
    API still answers for it). With ``channel`` only a hold of that channel.
    No caller locks the row: claiming a hold is deleting it under its slots'
    locks (``booking.services.appointments``).
    """
    if not token:
        return None
    holds = Hold.objects.filter(token=token).select_related("office")
    if live_at is not None:
        holds = holds.filter(expires_at__gt=live_at)
    if channel is not None:
        holds = holds.filter(channel=channel)
    return holds.first()


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
