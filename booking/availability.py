"""Free times as citizens read them, reused until the office's grid or the catalogue changes.

The grid changes only when something is booked, held, cancelled, moved, released
or rebuilt, and every such write bumps the office's version after it commits
(``booking.services.slots``); offices and services bump ``catalogue``. So an
answer computed once is served again from the shared cache until then
(``buergerservice.versions``), with one exception computed here: time. An
answer also stops being valid at the first instant it would differ with no
write at all:

- its earliest start passes the office's minimum notice;
- a phone reserve is released to online (``phone_release_hours`` before a slot
  that is free only because of it);
- the daily release time or midnight (the released days move on);
- a hold of the office runs out: recomputing releases expired holds first,
  as the uncached reads did.

``booking.selectors`` keeps the fresh computations; these wrappers are what
citizen reads use. Writes never read through here: they decide under the
slots' locks (``booking.services``).
"""

import datetime
from dataclasses import dataclass

from django.db.models import F, Min

from booking.days import local_day
from booking.grid import BERLIN, local_datetime
from booking.models import Hold, Slot
from booking.needs import Need, needs_minutes, offer_durations
from booking.selectors import earliest_starts, free_starts
from booking.services.appointments import holds_expire
from booking.services.slots import PHONE_FREE
from buergerservice import versions
from offices.models import Office
from offices.selectors import public_offices

Days = dict[datetime.date, list[datetime.datetime]]


def _names(office: Office) -> list[str]:
    return [versions.CATALOGUE, versions.grid(office.slug)]


def _daily_moments(office: Office, now: datetime.datetime) -> datetime.datetime:
    """The next daily release time, the next portion of it (``Office.release_steps``) or midnight in Berlin,
    whichever comes first: the released days, or the share of the newest one, move on then."""
    today = local_day(now)
    midnight = local_datetime(today + datetime.timedelta(days=1), 0)
    releases = [datetime.datetime.combine(today, time, tzinfo=BERLIN) for time, _share in office.release_steps]
    return min([release for release in releases if release > now] + [midnight])


def _reserve_releases(office_ids: list[int], *, now: datetime.datetime) -> dict[int, datetime.datetime]:
    """Per office, the first start of a slot that is free by phone only because its reserve still holds online.

    Such a slot becomes free online ``phone_release_hours`` before it starts. One
    grouped query (on the partial index of slots with a free unit); the offices'
    ``phone_release_hours`` are applied by the caller, so this looks from ``now``.
    """
    rows = (
        Slot.objects.filter(office_id__in=office_ids, start__gt=now)
        .filter(PHONE_FREE)
        .filter(capacity__lte=F("booked_online") + F("phone_reserve"))
        .values("office_id")
        .annotate(first=Min("start"))
        .order_by()
    )
    return {row["office_id"]: row["first"] for row in rows}


def _hold_expiries(office_ids: list[int], *, now: datetime.datetime) -> dict[int, datetime.datetime]:
    """Per office, when its next hold runs out; holds that have run out are released first.

    Before reading free times, as the reads always did: an expired hold's units
    are free. One grouped query when none has run out.
    """

    def expiries() -> dict[int, datetime.datetime]:
        rows = Hold.objects.filter(office_id__in=office_ids).values("office_id").annotate(first=Min("expires_at"))
        return {row["office_id"]: row["first"] for row in rows.order_by()}

    found = expiries()
    if any(first <= now for first in found.values()):
        holds_expire(now=now)
        found = expiries()
    return found


def _valid_until(
    office: Office,
    *,
    now: datetime.datetime,
    earliest: datetime.datetime | None,
    reserve: dict[int, datetime.datetime],
    holds: dict[int, datetime.datetime],
) -> datetime.datetime:
    """The first instant at which an online answer for the office, whose earliest start is ``earliest``, may differ."""
    moments = [_daily_moments(office, now)]
    if earliest is not None:  # it is offered while it lies after now and at least the notice ahead
        moments.append(earliest - datetime.timedelta(minutes=office.min_notice_minutes))
    release_ahead = datetime.timedelta(hours=office.phone_release_hours)
    first_reserved = reserve.get(office.pk)
    if first_reserved is not None:
        moments.append(first_reserved - release_ahead)
    if office.pk in holds:
        moments.append(holds[office.pk])
    return min(moments)


def office_free_starts_until(
    *, office: Office, minutes: int, now: datetime.datetime, first: datetime.date, last: datetime.date
) -> tuple[Days, datetime.datetime]:
    """``booking.selectors.free_starts`` reused until its versions change, and the instant it stops being valid."""

    def compute() -> tuple[tuple[Days, datetime.datetime], datetime.datetime]:
        holds = _hold_expiries([office.pk], now=now)
        days = free_starts(office=office, minutes=minutes, now=now, first=first, last=last)
        earliest = min((starts[0] for starts in days.values() if starts), default=None)
        release_ahead = datetime.timedelta(hours=office.phone_release_hours)
        reserve = _reserve_releases([office.pk], now=now + release_ahead)
        until = _valid_until(office, now=now, earliest=earliest, reserve=reserve, holds=holds)
        return (days, until), until

    key = f"free:{office.slug}:{minutes}:{first}:{last}"
    return versions.reuse(key, _names(office), compute, now=now)


def office_free_starts(
    *, office: Office, minutes: int, now: datetime.datetime, first: datetime.date, last: datetime.date
) -> Days:
    """The start times (UTC) from first to last where an appointment of ``minutes`` fits online now, per day."""
    return office_free_starts_until(office=office, minutes=minutes, now=now, first=first, last=last)[0]


def offices_earliest_until(
    *, minutes_by_office: dict[Office, int], now: datetime.datetime
) -> tuple[dict[int, datetime.datetime | None], datetime.datetime | None]:
    """Per office id its earliest online start (``selectors.earliest_starts``), reused until its office changes.

    Only the offices whose answer is stale are computed again, together. Also
    returns the first instant at which one of the answers stops being valid.
    """
    keys = {f"earliest:{office.slug}:{minutes}": office for office, minutes in minutes_by_office.items()}

    def compute(
        stale: list[str],
    ) -> dict[str, tuple[tuple[datetime.datetime | None, datetime.datetime], datetime.datetime]]:
        offices = {keys[key]: minutes_by_office[keys[key]] for key in stale}
        ids = [office.pk for office in offices]
        holds = _hold_expiries(ids, now=now)
        earliest = earliest_starts(minutes_by_office=offices, now=now)
        reserve: dict[int, datetime.datetime] = {}
        for hours in {office.phone_release_hours for office in offices}:  # usually one value for the whole city
            same = [office.pk for office in offices if office.phone_release_hours == hours]
            reserve |= _reserve_releases(same, now=now + datetime.timedelta(hours=hours))
        fresh = {}
        for key in stale:
            office = keys[key]
            until = _valid_until(office, now=now, earliest=earliest[office.pk], reserve=reserve, holds=holds)
            fresh[key] = ((earliest[office.pk], until), until)
        return fresh

    answers = versions.reuse_many({key: _names(office) for key, office in keys.items()}, compute, now=now)
    earliest = {keys[key]: start for key, (start, _until) in answers.items()}
    until = min((until for _start, until in answers.values()), default=None)
    return {office.pk: start for office, start in earliest.items()}, until


def offices_earliest(
    *, minutes_by_office: dict[Office, int], now: datetime.datetime
) -> dict[int, datetime.datetime | None]:
    """Per office id, the earliest start (UTC) where an appointment of that office's length fits online now."""
    return offices_earliest_until(minutes_by_office=minutes_by_office, now=now)[0]


@dataclass(frozen=True)
class OfficeChoice:
    office: Office
    minutes: int  # this office's time for the needs
    earliest: datetime.datetime | None


def offices_for_needs(*, needs: list[Need], now: datetime.datetime) -> dict[Office, int]:
    """The active public offices offering all the needs, each with its time for them, until the catalogue changes.

    In ``public_offices()`` order.
    """

    def compute() -> tuple[list[tuple[Office, int]], None]:
        durations = offer_durations(needs=needs)
        offices = [
            (office, needs_minutes(needs=needs, durations=durations[office.pk], slot_minutes=office.slot_minutes))
            for office in public_offices().filter(pk__in=list(durations))
        ]
        return offices, None

    key = "offices-for:" + ",".join(f"{need.service.pk}:{need.persons}" for need in sorted(needs, key=_need_key))
    return dict(versions.reuse(key, [versions.CATALOGUE], compute, now=now))


def _need_key(need: Need) -> int:
    return need.service.pk


def offices_by_earliest_until(
    *, needs: list[Need], now: datetime.datetime
) -> tuple[list[OfficeChoice], datetime.datetime | None]:
    """The active offices offering all the needs, each with its duration and earliest free start, earliest first;
    and the first instant at which one of those earliest starts may change by time alone."""
    minutes = offices_for_needs(needs=needs, now=now)
    earliest, until = offices_earliest_until(minutes_by_office=minutes, now=now)
    # public_offices() orders by kind and name; sorted() keeps that among equal times.
    choices = sorted(
        (OfficeChoice(office, minutes[office], earliest[office.pk]) for office in minutes),
        key=lambda choice: (choice.earliest is None, choice.earliest or now),
    )
    return choices, until


def nearest_free_starts(
    *, office: Office, minutes: int, around: datetime.datetime, now: datetime.datetime, count: int = 3
) -> list[datetime.datetime]:
    """The free starts closest to ``around`` (before or after, within a week), for whoever just lost it.

    From the same reused answers as the calendar: a booking that loses a race costs no search of its own.
    Its own day first: when the ``count`` closest of that day are all nearer than the day's midnights,
    no other day can hold a closer one, and the week is not read (in a rush, when the grid changes with
    every booking, a 409 then reads one day instead of fifteen).
    """
    day = local_day(around)
    closest = _closest(office_free_starts(office=office, minutes=minutes, now=now, first=day, last=day), around, count)
    if len(closest) == count:
        midnight = datetime.datetime.combine(day, datetime.time(0), tzinfo=BERLIN)
        next_midnight = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=BERLIN)
        reach = max(abs(start - around) for start in closest)
        if around - reach >= midnight and around + reach < next_midnight:
            return closest
    week = datetime.timedelta(days=7)
    return _closest(
        office_free_starts(office=office, minutes=minutes, now=now, first=day - week, last=day + week), around, count
    )


def _closest(days: Days, around: datetime.datetime, count: int) -> list[datetime.datetime]:
    """The ``count`` starts closest to ``around`` (the earlier of two as close), in time order."""
    starts = sorted(start for day_starts in days.values() for start in day_starts)
    return sorted(sorted(starts, key=lambda start: abs(start - around))[:count])
