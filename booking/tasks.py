import datetime

from celery import shared_task
from django.utils import timezone

from booking.messages import reminders_plan
from booking.services.appointments import holds_expire
from booking.services.slots import capacity_refresh
from buergerservice.celery import after_commit
from offices.models import Office


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5, acks_late=True)
def refresh_capacity(office_id: int, first: str, last: str) -> list[int]:
    """Regenerate one office's shifts and slots for first..last (ISO dates); returns the flagged appointments."""
    office = Office.objects.get(pk=office_id)
    result = capacity_refresh(
        office=office,
        first=datetime.date.fromisoformat(first),
        last=datetime.date.fromisoformat(last),
        now=timezone.now(),
    )
    return result.flagged


@shared_task(acks_late=True)
def refresh_all_capacity() -> None:
    """Nightly: every active office's grid from today to the end of its horizon (the next release included)."""
    today = timezone.localdate()
    for office in Office.objects.filter(active=True):
        refresh_capacity.delay(
            office.pk, today.isoformat(), (today + datetime.timedelta(days=office.horizon_days)).isoformat()
        )


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def expire_holds() -> int:
    """Every minute: give back the units of holds nobody confirmed in time."""
    return holds_expire(now=timezone.now())


def refresh_capacity_after_commit(
    *, offices: list[Office], first: datetime.date | None = None, last: datetime.date | None = None
) -> None:
    """Queue a regeneration of these offices' days once the change that affects them is committed.

    Without dates: the whole horizon. Dates before today are left alone.
    """
    today = timezone.localdate()
    for office in offices:
        start = max(first or today, today)
        end = min(
            last or today + datetime.timedelta(days=office.horizon_days),
            today + datetime.timedelta(days=office.horizon_days),
        )
        if start <= end:
            # With Redis down the change still stands; the nightly refresh rebuilds the days then.
            after_commit(refresh_capacity.delay, office.pk, start.isoformat(), end.isoformat())


# The name it had when the outbox planned reminders itself: beat's schedule and tasks already queued keep working.
@shared_task(name="notifications.tasks.plan_reminders", acks_late=True, time_limit=300, soft_time_limit=240)
def plan_reminders() -> int:
    """Beat, hourly: reminders for booked appointments that lack one (idempotent)."""
    return reminders_plan(now=timezone.now())
