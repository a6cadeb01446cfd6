"""The Celery app. Its configuration is the CELERY_* part of settings.py."""

import os
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler
from django.db import transaction

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


def after_commit(func: Callable[..., object], *args: object) -> None:
    """Call ``func(*args)`` once the current transaction commits; if it fails (Redis down), log and go on.

    The committed change stands and the request answers normally. Django's
    ``robust`` logging needs a ``__qualname__``, which ``functools.partial``
    lacks (it then raised AttributeError, turning a saved booking into a 500),
    hence the named wrapper.
    """

    def call() -> None:
        func(*args)

    call.__qualname__ = getattr(func, "__qualname__", repr(func))
    transaction.on_commit(call, robust=True)
