"""Celery tasks of the desk: the grid's rebuild after a change of capacity, and every night."""

import datetime
from collections.abc import Iterable

from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from buergerservice.celery import after_commit
from desk.capacity import capacity_changed
from desk.retention import personal_data_erase
from offices.models import Office


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5, acks_late=True)
def capacity_rebuild(office_id: int, first: str | None, last: str | None, by_id: int | None, reason: str) -> list[int]:
    """``desk.capacity.capacity_changed`` for one office (ISO dates, None for today / the horizon's end).

    Returns the appointments marked to rebook. Idempotent: a second run finds nothing more to change.
    """
    office = Office.objects.get(pk=office_id)
    by = get_user_model().objects.filter(pk=by_id).first() if by_id is not None else None
    change = capacity_changed(
        offices=[office],
        first=datetime.date.fromisoformat(first) if first else None,
        last=datetime.date.fromisoformat(last) if last else None,
        by=by,
        reason=reason,
        now=timezone.now(),
    )
    return change.flagged


@shared_task(acks_late=True)
def capacity_rebuild_all() -> None:
    """Nightly: every active office's grid from today to the end of its horizon (the next release included)."""
    for office in Office.objects.filter(active=True):
        capacity_rebuild.delay(office.pk, None, None, None, "")


# The names these tasks had before they moved here (booking.tasks), so a rebuild still waiting in Redis
# when a new version starts is carried out, not discarded as unknown. Remove once no queue can hold them.
@shared_task(name="booking.tasks.refresh_capacity", acks_late=True)
def refresh_capacity_as_before(office_id: int, first: str, last: str) -> list[int]:
    """The old per-office rebuild (first..last as ISO dates), now through ``capacity_rebuild`` (with audit)."""
    return capacity_rebuild(office_id, first, last, None, "")


@shared_task(name="booking.tasks.refresh_all_capacity", acks_late=True)
def refresh_all_capacity_as_before() -> None:
    """The old nightly rebuild's name."""
    capacity_rebuild_all()


def capacity_changed_after_commit(
    *,
    offices: Iterable[Office],
    first: datetime.date | None = None,
    last: datetime.date | None = None,
    by: AbstractBaseUser | None,
    reason: str,
) -> None:
    """Queue ``capacity_changed`` for each office once the change that affects them is committed (the admin's way).

    With Redis down the change still stands; the nightly rebuild catches up then (without ``by``).
    """
    for office in offices:
        after_commit(
            capacity_rebuild.delay,
            office.pk,
            first.isoformat() if first else None,
            last.isoformat() if last else None,
            by.pk if by is not None else None,
            reason,
        )


@shared_task(acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def erase_personal_data() -> dict[str, int]:
    """Nightly: erase the personal data whose retention period is over (``desk.retention``); the counts."""
    return personal_data_erase(timezone.now())
