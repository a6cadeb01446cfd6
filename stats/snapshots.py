"""The nightly snapshots: each office's lead time per service and its capacity offered per channel, for one day.

Lead time is what a citizen booking online would have been offered at that moment, read with the booking app's
own selector (``booking.selectors.earliest_starts``, fresh, not the reused answers), so it can only be taken for
today. Capacity offered is summed from the day's slots, so it can also be taken for past days while their slots
still exist. Both are upserts: taking a day again overwrites that day's rows and adds none.
"""

import datetime

from django.db import transaction
from django.db.models import F, Sum

from booking.days import local_day
from booking.models import Slot
from booking.needs import Need, needs_minutes
from booking.selectors import earliest_starts
from offices.models import Office, OfficeService
from offices.selectors import public_offices
from stats.models import CapacitySnapshot, LeadTimeSnapshot


def _lead_time_rows(*, day: datetime.date, now: datetime.datetime) -> list[LeadTimeSnapshot]:
    """One row per active office and active service it offers: days from ``day`` to the first free online time
    for one person (None when none is free within the horizon)."""
    offices = {office.pk: office for office in public_offices()}
    offers = OfficeService.objects.filter(office_id__in=list(offices), service__active=True).select_related("service")
    # Per office, the services of each length: the selector answers per (office, length), not per service.
    by_office: dict[int, dict[int, list[int]]] = {}
    for offer in offers.order_by("office_id", "service_id"):
        office = offices[offer.office_id]
        need = Need(service=offer.service, persons=1)
        minutes = needs_minutes(
            needs=[need], durations={offer.service_id: offer.duration_minutes}, slot_minutes=office.slot_minutes
        )
        by_office.setdefault(office.pk, {}).setdefault(minutes, []).append(offer.service_id)
    # One call of the selector per round, each round asking every office for one of its lengths (shortest first).
    lengths = {office_id: sorted(services) for office_id, services in by_office.items()}
    rows = []
    for round_ in range(max((len(each) for each in lengths.values()), default=0)):
        asked: dict[Office, int] = {
            offices[office_id]: each[round_] for office_id, each in lengths.items() if round_ < len(each)
        }
        earliest = earliest_starts(minutes_by_office=asked, now=now)
        for office, minutes in asked.items():
            start = earliest[office.pk]
            days = None if start is None else (local_day(start) - day).days
            rows.extend(
                LeadTimeSnapshot(date=day, office_id=office.pk, service_id=service_id, days=days, taken_at=now)
                for service_id in by_office[office.pk][minutes]
            )
    return rows


def _capacity_rows(*, day: datetime.date, now: datetime.datetime) -> list[CapacitySnapshot]:
    """Per office with slots on ``day``: units offered online (bookable capacity less the phone reserve), by phone
    or at the counter (the reserve) and to walk-ins (the walk-in counters), one unit being a counter for a slot."""
    sums = (
        Slot.objects.filter(local_date=day)
        .values("office_id")
        .annotate(
            online=Sum(F("capacity") - F("phone_reserve")), phone=Sum("phone_reserve"), counter=Sum("walkin_capacity")
        )
        .order_by("office_id")
    )
    return [
        CapacitySnapshot(date=day, office_id=row["office_id"], channel=channel, units=row[channel] or 0, taken_at=now)
        for row in sums
        for channel in CapacitySnapshot.Channel.values
    ]


def snapshot_take(*, day: datetime.date, now: datetime.datetime) -> dict[str, int]:
    """Write ``day``'s capacity snapshot and, when ``day`` is today (in Berlin), its lead-time snapshot.

    Idempotent: one upsert per kind on the (date, office, service) and (date, office, channel) constraints, so a
    second run, a retried task or the command and the beat task at once leave one row each. Returns rows written.
    """
    capacity = _capacity_rows(day=day, now=now)
    lead_times = _lead_time_rows(day=day, now=now) if day == local_day(now) else []
    with transaction.atomic():
        CapacitySnapshot.objects.bulk_create(
            capacity,
            update_conflicts=True,
            unique_fields=["date", "office", "channel"],
            update_fields=["units", "taken_at"],
        )
        LeadTimeSnapshot.objects.bulk_create(
            lead_times,
            update_conflicts=True,
            unique_fields=["date", "office", "service"],
            update_fields=["days", "taken_at"],
        )
    return {"capacity": len(capacity), "lead_time": len(lead_times)}


def snapshot_backfill(*, days: int, now: datetime.datetime) -> dict[str, int]:
    """Take the last ``days`` days up to today: capacity for each of them, lead time for today only."""
    today = local_day(now)
    written = {"capacity": 0, "lead_time": 0}
    for back in range(days - 1, -1, -1):
        taken = snapshot_take(day=today - datetime.timedelta(days=back), now=now)
        written = {kind: written[kind] + taken[kind] for kind in written}
    return written
