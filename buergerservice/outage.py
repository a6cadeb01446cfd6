"""Per process, which outside services failed just now and are left alone for a while.

A Redis that accepts connections but never answers costs a timeout on every
call. After a failure the caller pauses that service for some seconds in this
process (all its threads), so the outage costs one timeout per process and
period, not one per request; the sweep or a recomputation covers the rest.
Used by the cache (``buergerservice.cache``), the request budgets
(``access.limits``) and the Celery publish of the outbox
(``notifications.services``).
"""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Pauses:
    """Per key (a service's address), until when it is left alone."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def paused(self, key: str) -> bool:
        return time.monotonic() < self._until.get(key, 0.0)

    def pause(self, key: str, seconds: float) -> bool:
        """Leave ``key`` alone for ``seconds`` from now; whether it was not paused already (log once per period)."""
        now = time.monotonic()
        with self._lock:
            fresh = now >= self._until.get(key, 0.0)
            self._until[key] = now + seconds
        return fresh

    def clear(self) -> None:
        with self._lock:
            self._until.clear()

    def attempt(  # noqa: PLR0913 - keyword-only, each one named
        self,
        key: str,
        call: Callable[[], T],
        default: Callable[[], T],
        *,
        seconds: float,
        errors: tuple[type[Exception], ...],
        warn: Callable[[Exception], None],
    ) -> T:
        """``call()``; ``default()`` while ``key`` is paused, or when the call raises one of ``errors``: then
        ``key`` is left alone for ``seconds`` and ``warn`` is called once per period (not once per request)."""
        if self.paused(key):
            return default()
        try:
            return call()
        except errors as error:
            if self.pause(key, seconds):
                warn(error)
            return default()
