"""The live status kept for a few seconds in the shared cache, computed by one process at a time.

The status changes with every ticket drawn, every call and every booking, so
it is not kept "until the data changes" (``buergerservice.versions``) but for
``QUEUE_STATUS_CACHE_SECONDS``: the freshness the product accepts for it (the
status pages say "as of" the time it was computed). When that period is over,
the first request to notice takes a short lock in the shared cache (``add``) and
computes the answer afresh; every other request, in any process, answers with
the previous one until the new one is stored. Without the lock every request
arriving in that moment computed it (all offices' entries expired together), so
the status JSON's p95 was ten times its median.

How old an answer can be: at most ``QUEUE_STATUS_CACHE_SECONDS`` plus
``LOCK_SECONDS`` (an entry is kept no longer than that, and a lock whose holder
died runs out after ``LOCK_SECONDS``), plus the time of the computation that
reads it. With nothing kept yet (cold, or idle longer than that), the others wait
for the first computation up to ``WAIT_SECONDS``, then compute it themselves.
Without the cache (Redis unreachable) every request computes.

Each process also remembers the answers it has read for as long as they are
fresh, so a read within the period costs no round trip to Redis (the same
answer, with the same bound: a fresh answer is never older than the period).
"""

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

T = TypeVar("T")

LOCK_SECONDS = 5  # the longest a computation may take before another request may start one
WAIT_SECONDS = 2.0  # cold: how long the others wait for the first computation
POLL_SECONDS = 0.02

# This process's copies of fresh answers, by key (a few: per language and address, all offices and each office).
_fresh: dict[str, "Kept"] = {}


@dataclass(frozen=True)
class Kept(Generic[T]):
    """An answer and the instant of the data it was computed from."""

    value: T
    computed_at: datetime.datetime

    def fresh_for(self, now: datetime.datetime, seconds: int) -> float:
        """Seconds it is still fresh at ``now`` (0 or less: it is due to be computed again)."""
        return seconds - (now - self.computed_at).total_seconds()


def kept(key: str, compute: Callable[[], Kept[T]], *, now: datetime.datetime, seconds: int) -> Kept[T]:
    """The answer kept under ``key`` while fresh; otherwise computed by this request or, if another is, the previous.

    ``compute`` gives the answer with the instant it reflects (usually ``now``;
    an answer derived from another kept answer carries that one's instant).
    ``seconds`` 0: nothing is kept, every call computes.
    """
    if seconds <= 0:
        return compute()
    entry: Kept[T] | None = _fresh.get(key)
    if entry is not None and entry.fresh_for(now, seconds) > 0:
        return entry
    entry = cache.get(key)
    if entry is not None and entry.fresh_for(now, seconds) > 0:
        _fresh[key] = entry
        return entry
    lock = f"{key}:computing"
    held = cache.add(lock, 1, timeout=LOCK_SECONDS)
    if not held:
        if entry is not None:
            return entry  # another request computes it: the previous answer meanwhile
        entry = _wait_for(key, lock)
        if entry is not None:
            return entry
    try:
        fresh = compute()
        # Kept past its freshness only as long as a computation may take: what the others serve meanwhile.
        lifetime = fresh.fresh_for(now, seconds) + LOCK_SECONDS
        if lifetime > 0:
            cache.set(key, fresh, timeout=lifetime)
            _fresh[key] = fresh
    finally:
        if held:
            cache.delete(lock)
    return fresh


def _wait_for(key: str, lock: str) -> Kept | None:
    """Cold: the answer another request is computing, once stored; None if it does not come in time."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and cache.get(lock) is not None:
        time.sleep(POLL_SECONDS)
        entry = cache.get(key)
        if entry is not None:
            return entry
    return cache.get(key)


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: object) -> None:
    """A changed period or cache (tests do that) leaves no copy from before."""
    if setting in ("QUEUE_STATUS_CACHE_SECONDS", "CACHES"):
        _fresh.clear()
