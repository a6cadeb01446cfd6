"""Capacity changed: rebuild the grid of the days it touches and handle what no longer fits.

The one path of every change of capacity: a sickness or a blocked time on the
desk (at once, so the manager sees what is to rebook), a change in the admin
(after commit, in a Celery task of ``desk.tasks``; ``desk.admin`` registers those admins),
and the nightly rebuild. Each appointment that no longer fits is marked to
rebook by the grid (``booking.services.slots.capacity_refresh``) and gets an
audit entry here, on every path.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from booking.days import local_day
from booking.models import Appointment
from booking.services.slots import GenerationResult, capacity_refresh
from desk.audit import audit_record, snapshot
from desk.models import AuditEntry
from offices.models import Office


@dataclass
class CapacityChange:
    flagged: list[int] = field(default_factory=list)  # appointments now to rebook
    grid: GenerationResult = field(default_factory=GenerationResult)  # slots created, updated, deleted


def capacity_days(
    *, office: Office, first: datetime.date | None, last: datetime.date | None, now: datetime.datetime
) -> tuple[datetime.date, datetime.date] | None:
    """The days of first..last to rebuild: none before today, none past the office's horizon (the one clamp).

    Without first: from today; without last: to the end of the horizon. None when nothing is left.
    """
    today = local_day(now)
    horizon = today + datetime.timedelta(days=office.horizon_days)
    start = max(first or today, today)
    end = min(last or horizon, horizon)
    return (start, end) if start <= end else None


@transaction.atomic
def capacity_changed(
    *,
    offices: Iterable[Office],
    first: datetime.date | None = None,
    last: datetime.date | None = None,
    by: AbstractBaseUser | None,
    reason: str,
    now: datetime.datetime,
) -> CapacityChange:
    """Rebuild these offices' grids for first..last (``capacity_days``) and audit every appointment now to rebook.

    One transaction: the grid, the appointments marked to rebook (the newest
    bookings of each over-full slot give way) and their audit entries (``by``,
    None for the system, with ``reason``) are written together or not at all.
    Offices are rebuilt in id order, the order moves between offices lock
    slots in (``booking.services.locks``): no deadlock between the two.
    """
    grid = GenerationResult()
    for office in sorted(offices, key=lambda office: office.pk):
        days = capacity_days(office=office, first=first, last=last, now=now)
        if days is not None:
            grid += capacity_refresh(office=office, first=days[0], last=days[1], now=now)
    for appointment in Appointment.objects.filter(pk__in=grid.flagged).select_related("office"):
        before = {**snapshot(appointment), "status": Appointment.Status.BOOKED}
        audit_record(
            appointment=appointment, by=by, action=AuditEntry.Action.FLAG, before=before, now=now, reason=reason
        )
    return CapacityChange(list(grid.flagged), grid)

