"""The urgent contingent (Stuttgart's "Notfalltool"): ``Office.urgent_counters`` units of every time kept from the
open calendar for urgent cases, by holds of ``URGENT_HOLDER``.

``contingent_keep`` (beat, every few minutes) places them from before a day is released (so nobody at the
release minute can take them) until ``urgent_release_hours`` before the day's first time, when the holds expire
and what the urgent cases did not use opens to everyone. ``contingent_take`` gives one urgent case a time out of
them (the waitlist's morning invitations, or a clerk inviting by hand); the rest of that hold stays kept.
Holds take units like appointments, so the contingent is never sold online; the lock order is ``locks``'s.
"""

import datetime
from collections import Counter

from django.db import transaction
from django.db.models import QuerySet

from booking.days import local_day
from booking.errors import BookingError
from booking.models import URGENT_HOLDER, Appointment, Hold, Slot
from booking.needs import Need
from booking.services.appointments import hold_place
from booking.services.locks import address_lock, slots_lock
from booking.services.slots import released_until, slots_release, slots_take
from offices.models import Office


def contingent_holds(*, office: Office, now: datetime.datetime) -> QuerySet[Hold]:
    return Hold.objects.filter(office=office, holder=URGENT_HOLDER, expires_at__gt=now)


def _keep(
    *,
    office: Office,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
    expires_at: datetime.datetime,
) -> bool:
    """Keep one unit from ``start`` to ``end`` for urgent cases; False when a unit is no longer free."""
    try:
        with transaction.atomic():
            slots_take(
                office=office, start=start, end=end, channel=Appointment.Channel.ONLINE, now=now, before_release=True
            )
            Hold.objects.create(
                office=office,
                start=start,
                end=end,
                channel=Appointment.Channel.ONLINE,
                needs=[],
                expires_at=expires_at,
                holder=URGENT_HOLDER,
            )
    except BookingError:
        return False
    return True


def contingent_keep(*, office: Office, now: datetime.datetime) -> int:
    """Keep the office's urgent contingent on every day up to the next one to be released; returns holds placed.

    Times within ``urgent_release_hours`` are left alone (their contingent has been released). Idempotent: a
    second run, or one beside another, finds the units kept and places nothing (two at once may both place
    one; the counts, not the holds, are what the grid's constraint keeps within capacity).
    """
    wanted = office.urgent_counters
    if not wanted:
        return 0
    with transaction.atomic():
        # Two runs at once (a redelivered task) would each count the kept units before the other's are placed.
        address_lock(f"urgent-contingent:{office.pk}")
        return _keep_days(office=office, wanted=wanted, now=now)


def _keep_days(*, office: Office, wanted: int, now: datetime.datetime) -> int:
    last = released_until(office=office, now=now + datetime.timedelta(days=1))  # the next day to be released too
    ahead = datetime.timedelta(hours=office.urgent_release_hours)
    days: dict[datetime.date, list[tuple[datetime.datetime, datetime.datetime]]] = {}
    for day, start, end in (
        Slot.objects.filter(office=office, local_date__gte=local_day(now), local_date__lte=last, capacity__gt=0)
        .order_by("start")
        .values_list("local_date", "start", "end")
    ):
        days.setdefault(day, []).append((start, end))
    placed = 0
    for slots in days.values():
        released_at = slots[0][0] - ahead  # a day's contingent opens to everyone this long before its first time
        if released_at <= now:
            continue
        placed += _keep_day(office=office, slots=slots, wanted=wanted, now=now, expires_at=released_at)
    return placed


def _keep_day(
    *,
    office: Office,
    slots: list[tuple[datetime.datetime, datetime.datetime]],
    wanted: int,
    now: datetime.datetime,
    expires_at: datetime.datetime,
) -> int:
    kept: Counter[datetime.datetime] = Counter()
    holds = contingent_holds(office=office, now=now).filter(start__lt=slots[-1][1], end__gt=slots[0][0])
    for hold in holds:
        for start, _end in slots:
            if hold.start <= start < hold.end:
                kept[start] += 1
    placed = 0
    for level in range(1, wanted + 1):
        runs: list[list[datetime.datetime]] = []
        for start, end in slots:
            if kept[start] >= level:
                continue
            if runs and runs[-1][1] == start:
                runs[-1][1] = end
            else:
                runs.append([start, end])
        for start, end in runs:
            if _keep(office=office, start=start, end=end, now=now, expires_at=expires_at):
                placed += 1
                continue
            # Some unit of the run is taken (booked before the contingent existed): keep slot by slot.
            for slot_start, slot_end in slots:
                if start <= slot_start < end and kept[slot_start] < level:
                    placed += _keep(office=office, start=slot_start, end=slot_end, now=now, expires_at=expires_at)
    return placed


def contingent_offices() -> QuerySet[Office]:
    return Office.objects.filter(active=True, urgent_counters__gt=0)


def contingent_keep_all(*, now: datetime.datetime) -> int:
    return sum(contingent_keep(office=office, now=now) for office in contingent_offices())


def contingent_starts(
    *, office: Office, minutes: int, now: datetime.datetime, not_before: datetime.datetime
) -> list[tuple[datetime.datetime, Hold]]:
    """The starts where ``minutes`` fit inside one kept hold, earliest first, each with its hold."""
    step = datetime.timedelta(minutes=office.slot_minutes)
    length = datetime.timedelta(minutes=minutes)
    starts = []
    for hold in contingent_holds(office=office, now=now).filter(start__gte=not_before - length).order_by("start"):
        start = max(hold.start, not_before)
        offset = (start - hold.start) % step
        if offset:
            start += step - offset
        while start + length <= hold.end:
            if local_day(start) <= released_until(office=office, now=now):
                starts.append((start, hold))
            start += step
    starts.sort(key=lambda pair: pair[0])
    return starts


@transaction.atomic
def contingent_take(
    *, hold: Hold, office: Office, start: datetime.datetime, needs: list[Need], now: datetime.datetime
) -> Hold:
    """A hold for ``needs`` at ``start`` (for one urgent case) out of the kept ``hold``; what is left of that hold
    is kept again. Raises BookingError when the kept hold is gone (taken by another, or released)."""
    slots_lock([(hold.office_id, hold.start, hold.end)])
    deleted, _detail = Hold.objects.filter(pk=hold.pk, holder=URGENT_HOLDER).delete()
    if not deleted:
        raise BookingError("the kept time is gone", field="start")
    slots_release(office=office, start=hold.start, end=hold.end, channel=hold.channel)
    taken = hold_place(office=office, start=start, needs=needs, now=now)
    for rest_start, rest_end in ((hold.start, taken.start), (taken.end, hold.end)):
        if rest_start < rest_end:
            Hold.objects.create(
                office=office,
                start=rest_start,
                end=rest_end,
                channel=hold.channel,
                needs=[],
                expires_at=hold.expires_at,
                holder=URGENT_HOLDER,
            )
            slots_take(
                office=office,
                start=rest_start,
                end=rest_end,
                channel=hold.channel,
                now=now,
                before_release=True,
            )
    return taken
