from celery import shared_task
from django.utils import timezone

from booking.messages import reminders_plan
from booking.services.appointments import holds_expire
from booking.services.confirmation import appointments_lapse
from booking.services.contingent import contingent_keep_all


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def expire_holds() -> int:
    """Every minute: give back the units of holds nobody confirmed in time."""
    return holds_expire(now=timezone.now())


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def lapse_unconfirmed() -> int:
    """Every minute: free the times of bookings whose e-mail address was not confirmed in time."""
    return appointments_lapse(now=timezone.now())


@shared_task(acks_late=True, time_limit=240, soft_time_limit=200)
def keep_urgent_contingent() -> int:
    """Every five minutes: keep each office's urgent contingent up to the next day to be released."""
    return contingent_keep_all(now=timezone.now())


# The name it had when the outbox planned reminders itself: beat's schedule and tasks already queued keep working.
@shared_task(name="notifications.tasks.plan_reminders", acks_late=True, time_limit=300, soft_time_limit=240)
def plan_reminders() -> int:
    """Beat, hourly: reminders for booked appointments that lack one (idempotent)."""
    return reminders_plan(now=timezone.now())
