"""Writes to the slot grid: generating it from the capacity plan and taking units."""

import datetime
import logging
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.db.models import Case, ExpressionWrapper, F, IntegerField, Q, Value, When
from django.db.models.functions import Greatest
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _

from booking.days import local_day
from booking.errors import BookingError, SlotTaken
from booking.grid import BERLIN, PlannedSlot, local_datetime, plan_slots
from booking.models import Appointment, Hold, Slot
from booking.services.locks import in_range
from buergerservice import versions
from offices.models import Office
from offices.services import shifts_derive

logger = logging.getLogger(__name__)

SLOT_FIELDS = ["counters", "walkin_capacity", "capacity", "phone_reserve", "booked_online", "booked_phone"]


@dataclass
class GenerationResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    flagged: list[int] = field(default_factory=list)  # appointments that no longer fit

    def __iadd__(self, other: "GenerationResult") -> "GenerationResult":
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        self.flagged += other.flagged
        return self


def capacity_refresh(
    *, office: Office, first: datetime.date, last: datetime.date, now: datetime.datetime | None = None
) -> GenerationResult:
    """Derive the office's shifts from the weekly pattern, then bring its slot grid up to date for those days."""
    shifts_derive(office=office, first=first, last=last)
    return slots_generate(office=office, first=first, last=last, now=now)


@transaction.atomic
def slots_generate(
    *, office: Office, first: datetime.date, last: datetime.date, now: datetime.datetime | None = None
) -> GenerationResult:
    """Make the stored grid of first..last equal the plan, without ever overfilling a slot.

    With ``now`` (every refresh but the demo's and tests' building of whole
    past days), slots that have begun are history and stay as they are: a
    sickness recorded at ten does not rewrite nine o'clock, and nobody who has
    begun or is already here is marked for rebooking.

    Locks the office's slots of those days in start order (the order bookings
    lock them in), so no booking lands between reading the counts and writing
    the new capacities. Where capacity falls below what is booked, the most
    recently booked appointments of that slot are marked as needing rebooking
    and their units released in all their slots, until every slot fits.
    Idempotent: a second run writes nothing.
    """
    since = now or datetime.datetime.min.replace(tzinfo=datetime.UTC)
    planned = {
        start: plan for start, plan in plan_slots(office=office, first=first, last=last).items() if start >= since
    }
    # The lock order (booking.services.locks): the days' slots, then their holds, then their appointments.
    # A confirmation, booking, move or cancellation of these days holds some of the slots until it commits,
    # so what is read below under the locks is complete: no appointment can appear or vanish meanwhile.
    stored = {
        slot.start: slot
        for slot in Slot.objects.select_for_update()
        .filter(office=office, local_date__range=(first, last), start__gte=since)
        .order_by("start")
    }
    days = Q(
        office=office,
        start__lt=local_datetime(last + datetime.timedelta(days=1), 0),
        end__gt=local_datetime(first, 0),
    )
    holds = list(Hold.objects.select_for_update().filter(days).order_by("pk")) if stored else []
    booked = (
        list(Appointment.objects.select_for_update().filter(days, status=Appointment.Status.BOOKED).order_by("pk"))
        if stored
        else []
    )
    _keep_room_for_those_who_cannot_give_way(stored=stored, planned=planned, booked=booked, since=since)
    flagged, released = _release_what_no_longer_fits(
        stored=stored, planned=planned, holds=holds, booked=booked, since=since
    )

    to_update = []
    for start, slot in stored.items():
        plan = planned.get(start)
        if plan is not None and (_values(slot) != plan.values() or start in released):
            slot.counters, slot.walkin_capacity, slot.capacity, slot.phone_reserve = plan.values()
            to_update.append(slot)
    gone = [slot.pk for start, slot in stored.items() if start not in planned]
    new = [_new_slot(office, plan) for start, plan in planned.items() if start not in stored]
    Slot.objects.filter(pk__in=gone).delete()
    Slot.objects.bulk_update(to_update, SLOT_FIELDS, batch_size=1000)
    Slot.objects.bulk_create(new, batch_size=1000)
    if gone or to_update or new:
        versions.grid_changed(office.slug)
    return GenerationResult(created=len(new), updated=len(to_update), deleted=len(gone), flagged=flagged)


def _keep_room_for_those_who_cannot_give_way(
    *,
    stored: dict[datetime.datetime, Slot],
    planned: dict[datetime.datetime, PlannedSlot],
    booked: list[Appointment],
    since: datetime.datetime,
) -> None:
    """Raise the planned capacity of a slot to what appointments that can no longer move occupy in it.

    Someone already here, or an appointment that has begun, keeps the time
    even when a block or a sickness takes the counters: the slot keeps as
    many counters as they need (so its counts stay true and the units are
    not sold twice when the capacity comes back). Changes ``planned``.
    """
    fixed = [
        (appointment.start, appointment.end)
        for appointment in booked
        if appointment.start < since or appointment.visit != Appointment.Visit.EXPECTED
    ]
    units: dict[datetime.datetime, int] = {}
    for start, end in fixed:
        for slot_start in stored:
            if start <= slot_start < end:
                units[slot_start] = units.get(slot_start, 0) + 1
    for slot_start, needed in units.items():
        plan = planned.get(slot_start)
        if plan is None:
            slot = stored[slot_start]
            plan = PlannedSlot(slot.local_date, slot.start, slot.end, 0, 0, 0, 0)
        if plan.capacity < needed:
            extra = needed - plan.capacity
            planned[slot_start] = replace(plan, counters=plan.counters + extra, capacity=needed)


def _values(slot: Slot) -> tuple[int, int, int, int]:
    return (slot.counters, slot.walkin_capacity, slot.capacity, slot.phone_reserve)


def _new_slot(office: Office, plan: PlannedSlot) -> Slot:
    counters, walkin, capacity, reserve = plan.values()
    return Slot(
        office_id=office.pk,  # the id, not the instance: no descriptor work for each of thousands of slots
        local_date=plan.local_date,
        start=plan.start,
        end=plan.end,
        counters=counters,
        walkin_capacity=walkin,
        capacity=capacity,
        phone_reserve=reserve,
    )


def _release_what_no_longer_fits(
    *,
    stored: dict[datetime.datetime, Slot],
    planned: dict[datetime.datetime, PlannedSlot],
    holds: list[Hold],
    booked: list[Appointment],
    since: datetime.datetime,
) -> tuple[list[int], set[datetime.datetime]]:
    """Flag the newest appointments of every slot booked beyond its new capacity; release their units.

    ``holds`` and ``booked`` are the days' holds and booked appointments,
    locked. Changes the booked counts of ``stored`` in memory; returns the
    flagged appointments and the starts of the slots whose counts changed.
    """
    capacity = {start: planned[start].capacity if start in planned else 0 for start in stored}
    overfull = sorted(start for start, slot in stored.items() if slot.booked > capacity[start])
    if not overfull:
        return [], set()
    released: set[datetime.datetime] = set()
    newest_first = sorted(holds, key=lambda hold: (hold.created_at, hold.pk), reverse=True)
    # Holds give way first: their citizen has not booked yet and will be offered other times.
    removed_holds: list[int] = []
    for start in overfull:
        slot = stored[start]
        for hold in newest_first:
            if slot.booked <= capacity[start]:
                break
            if hold.pk in removed_holds or not hold.start <= start < hold.end:
                continue
            removed_holds.append(hold.pk)
            _give_back(stored, hold.start, hold.end, hold.channel, released)
    Hold.objects.filter(pk__in=removed_holds).delete()
    overfull = [start for start in overfull if stored[start].booked > capacity[start]]
    if not overfull:
        return [], released
    # Not one that has begun or whose citizen is already here: they keep their time.
    appointments = sorted(
        (a for a in booked if a.visit == Appointment.Visit.EXPECTED and a.start >= since),
        key=lambda appointment: (appointment.created_at, appointment.pk),
        reverse=True,
    )
    flagged: list[int] = []  # in the order they were chosen
    flagged_ids: set[int] = set()
    for start in overfull:
        slot = stored[start]
        while slot.booked > capacity[start]:
            victim = next((a for a in appointments if a.pk not in flagged_ids and a.start <= start < a.end), None)
            if victim is None:
                # Counts without appointments behind them: verify_integrity reports such drift.
                logger.error("slot %s counts %s booked units no appointment explains", slot.pk, slot.booked)
                slot.booked_online = min(slot.booked_online, capacity[start])
                slot.booked_phone = min(slot.booked_phone, capacity[start] - slot.booked_online)
                released.add(start)
                break
            flagged.append(victim.pk)
            flagged_ids.add(victim.pk)
            _give_back(stored, victim.start, victim.end, victim.channel, released)
    Appointment.objects.filter(pk__in=flagged).update(status=Appointment.Status.NEEDS_REBOOKING)
    return flagged, released


def _give_back(
    stored: dict[datetime.datetime, Slot],
    start: datetime.datetime,
    end: datetime.datetime,
    channel: str,
    released: set[datetime.datetime],
) -> None:
    """Take one unit of this channel off the in-memory counts of the slots from start to end."""
    for covered in (slot for slot in stored.values() if start <= slot.start < end):
        if channel == Appointment.Channel.PHONE:
            covered.booked_phone = max(covered.booked_phone - 1, 0)
        else:
            covered.booked_online = max(covered.booked_online - 1, 0)
        released.add(covered.start)


def released_until(*, office: Office, now: datetime.datetime) -> datetime.date:
    """The last date citizens may book: ``horizon_days`` ahead once today's release time has passed."""
    released = now.astimezone(BERLIN).time() >= office.release_time
    days = office.horizon_days if released else office.horizon_days - 1
    return local_day(now) + datetime.timedelta(days=days)


@dataclass(frozen=True)
class Portion:
    """The day released today, of which only ``percent`` of each slot's online units are open yet."""

    day: datetime.date
    percent: int


def release_portion(*, office: Office, now: datetime.datetime) -> Portion | None:
    """The newest day while it opens in portions (``Office.release_steps``), on its release day; else None.

    From the release time the first share of the day's online units is open, at each later time the next
    share, and from the last one (or from midnight) all of them.
    """
    local = now.astimezone(BERLIN).time()
    steps = office.release_steps
    if len(steps) == 1 or local < office.release_time or local >= steps[-1][0]:
        return None
    percent = max(share for time, share in steps if time <= local)
    return Portion(day=released_until(office=office, now=now), percent=percent)


def within_portion(portion: Portion | None) -> Q:
    """Slots with room for one more online booking within the portion (every slot of another day)."""
    if portion is None:
        return Q()
    room = ExpressionWrapper(
        Value(portion.percent) * (F("capacity") - F("phone_reserve")) - 100 * F("booked_online"),
        output_field=IntegerField(),
    )
    # 100 * (booked + 1) <= percent * units: one more booking stays within the share, in whole units.
    return ~Q(local_date=portion.day) | Q(GreaterThanOrEqual(room, 100))


def held_back_from_online(*, reserve_until: datetime.datetime) -> Greatest:
    """Units of a slot citizens cannot book online: those booked by phone, or the phone reserve while it holds.

    The reserve holds for slots starting after ``reserve_until`` (now plus the
    office's ``phone_release_hours``).
    """
    reserve = Case(When(start__gt=reserve_until, then=F("phone_reserve")), default=Value(0))
    return Greatest(F("booked_phone"), reserve)


def online_free(*, office: Office, now: datetime.datetime) -> Q:
    """Slots with at least one unit a citizen may book online now (within the release's portion)."""
    reserve_until = now + datetime.timedelta(hours=office.phone_release_hours)
    free = Q(capacity__gt=F("booked_online") + held_back_from_online(reserve_until=reserve_until))
    return free & within_portion(release_portion(office=office, now=now))


PHONE_FREE = Q(capacity__gt=F("booked_online") + F("booked_phone"))


Range = tuple[datetime.datetime, datetime.datetime]


def _counter(channel: str) -> str:
    return "booked_online" if channel == Appointment.Channel.ONLINE else "booked_phone"


# No savepoint of its own: every caller lets SlotTaken and BookingError leave its transaction, which is then rolled
# back whole, so a savepoint would only cost every booking, hold and move two more round trips (SAVEPOINT, RELEASE).
# Called outside a transaction it still runs in one.
@transaction.atomic(savepoint=False)
def slots_take(
    *,
    office: Office,
    start: datetime.datetime,
    end: datetime.datetime,
    channel: str,
    now: datetime.datetime,
    replacing: Range | None = None,
    before_release: bool = False,
) -> None:
    """Take one unit in every slot from start to end, all or nothing; raises SlotTaken.

    ``before_release`` (online only): a contingent kept from the open calendar before its day is released
    (``booking.services.contingent``): the release and its portions do not apply, the phone reserve does.

    Locks the slots in start order first (two bookings of overlapping ranges
    cannot deadlock), then increments only where a unit is free for this
    channel: online bookings leave the unreleased phone reserve alone. The
    CHECK constraint on Slot stays the last word.

    ``replacing`` is the range the same booking occupies now (a move): its
    slots are locked with the others, the ones it shares with the new range
    keep their unit, and the ones it leaves are released only after the new
    ones were taken.
    """
    expected = int((end - start).total_seconds()) // (office.slot_minutes * 60)
    wanted = in_range(start, end)
    if replacing is not None:
        wanted |= in_range(*replacing)
    locked = list(
        Slot.objects.filter(office=office)
        .filter(wanted)
        .select_for_update()
        .order_by("start")
        .values_list("pk", "start")
    )
    covered = [pk for pk, slot_start in locked if start <= slot_start < end]
    if expected < 1 or len(covered) != expected:
        raise BookingError(_("No appointments are offered at this time."), field="start")
    online = channel == Appointment.Channel.ONLINE
    if online and not before_release and local_day(start) > released_until(office=office, now=now):
        raise SlotTaken("not released yet")
    kept = set()
    if replacing is not None:
        kept = {pk for pk, slot_start in locked if replacing[0] <= slot_start < replacing[1]}
    new = [pk for pk in covered if pk not in kept]
    free = online_free(office=office, now=now) if online else PHONE_FREE
    if online and before_release:
        reserve_until = now + datetime.timedelta(hours=office.phone_release_hours)
        free = Q(capacity__gt=F("booked_online") + held_back_from_online(reserve_until=reserve_until))
    counter = _counter(channel)
    if Slot.objects.filter(pk__in=new).filter(free).update(**{counter: F(counter) + 1}) != len(new):
        raise SlotTaken("taken")
    versions.grid_changed(office.slug)
    left = kept - set(covered)
    if left:
        Slot.objects.filter(pk__in=left, **{f"{counter}__gt": 0}).update(**{counter: F(counter) - 1})


@transaction.atomic
def slots_release(*, office: Office, start: datetime.datetime, end: datetime.datetime, channel: str) -> int:
    """Give back one unit in every slot from start to end; returns how many slots had one to give.

    Locks the slots in start order like ``slots_take``. A count that is
    already zero stays zero (the CHECK forbids less); ``verify_integrity``
    reports such drift.
    """
    counter = _counter(channel)
    locked = list(
        Slot.objects.filter(office=office)
        .filter(in_range(start, end))
        .select_for_update()
        .order_by("start")
        .values_list("pk", flat=True)
    )
    released = Slot.objects.filter(pk__in=locked, **{f"{counter}__gt": 0}).update(**{counter: F(counter) - 1})
    if released:
        versions.grid_changed(office.slug)
    if released != len(locked):
        logger.error(
            "releasing %s..%s at office %s found %s slots without a unit", start, end, office.pk, len(locked) - released
        )
    return released


def slots_keep(*, office: Office, start: datetime.datetime, end: datetime.datetime, channel: str) -> None:
    """Take back, without a condition, the unit just given back in every slot from start to end, in the same
    transaction and under the same locks: for a range whose units pass from an appointment to a hold (a move's
    old time kept for the pause against trading). Never for units that were not given back just before."""
    counter = _counter(channel)
    Slot.objects.filter(office=office).filter(in_range(start, end)).update(**{counter: F(counter) + 1})
    versions.grid_changed(office.slug)
