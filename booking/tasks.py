from celery import shared_task
from django.utils import timezone

from booking.messages import reminders_plan
from booking.services.appointments import holds_expire


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def expire_holds() -> int:
    """Every minute: give back the units of holds nobody confirmed in time."""
    return holds_expire(now=timezone.now())


# The name it had when the outbox planned reminders itself: beat's schedule and tasks already queued keep working.
@shared_task(name="notifications.tasks.plan_reminders", acks_late=True, time_limit=300, soft_time_limit=240)
def plan_reminders() -> int:
    """Beat, hourly: reminders for booked appointments that lack one (idempotent)."""
    return reminders_plan(now=timezone.now())
