from celery import shared_task
from django.utils import timezone

from waitlist.services import offers_sweep


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def make_offers() -> dict[str, int]:
    """Every minute: lapse offers whose window ran out, and offer freed and free times to the waitlist."""
    result = offers_sweep(now=timezone.now())
    return {
        "lapsed": result.lapsed,
        "paused": result.paused,
        "offered": result.offered,
        "ended": result.ended,
        "invited": result.invited,
    }
