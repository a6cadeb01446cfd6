"""The Celery app. Its configuration is the CELERY_* part of settings.py."""

import os
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buergerservice.settings")

app = Celery("buergerservice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class HeartbeatScheduler(PersistentScheduler):
    """Beat's scheduler, touching a heartbeat file on every tick for the container health check."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        from buergerservice.healthcheck import heartbeat_path

        path = heartbeat_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return super().tick(*args, **kwargs)
