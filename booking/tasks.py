from celery import shared_task
from django.utils import timezone

from booking.services.appointments import holds_expire


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def expire_holds() -> int:
    """Every minute: give back the units of holds nobody confirmed in time."""
    return holds_expire(now=timezone.now())
