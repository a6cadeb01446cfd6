from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def redis_for_messages(**kwargs: object) -> list[CheckMessage]:
    """Without REDIS_URL tasks run inside web requests and no beat runs: reminders and retries never go out."""
    if settings.REDIS_URL:
        return []
    return [
        Warning(
            "REDIS_URL is not set: Celery tasks run inside the web requests and nothing sends reminders, "
            "retries or messages that failed.",
            hint="Set REDIS_URL and run a Celery worker and beat (see README, 'Running in production').",
            id="notifications.W001",
        )
    ]
