from celery import shared_task
from django.utils import timezone

from booking.days import local_day
from stats.snapshots import snapshot_take


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def snapshot_nightly() -> dict[str, int]:
    """Beat, nightly: today's lead times and capacity offered per office (idempotent, so a retry is harmless)."""
    now = timezone.now()
    return snapshot_take(day=local_day(now), now=now)
