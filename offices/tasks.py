from celery import shared_task
from django.utils import timezone

from offices.services import public_holidays_import


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def sync_public_holidays() -> int:
    """Keep this and next year's holidays current (beat runs it daily)."""
    year = timezone.localdate().year
    return public_holidays_import(years=[year, year + 1])
