from celery import shared_task
from django.utils import timezone

from access.proof import proofs_forget


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def forget_used_proofs() -> int:
    """Drop the record of proofs whose challenge expired (beat runs it hourly): they cannot be replayed anyway."""
    return proofs_forget(now=timezone.now())
