"""Django's Redis cache, degrading instead of failing while Redis is unreachable.

Everything this project caches can be computed again (the live status, the busy
chart), so a cache that is down must cost time at most, never a page: a read
answers as a miss, a write is dropped. After a failure the cache is not asked
again for ``RETRY_SECONDS`` in this process, so a Redis that accepts connections
but never answers costs one socket timeout per process and period, not one per
request; the failure is logged once per period (not once per request).
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import Redis
from redis.exceptions import RedisError

from buergerservice.outage import Pauses

logger = logging.getLogger(__name__)

RETRY_SECONDS = 10.0

# Django makes one cache object per thread; the knowledge that Redis is down is
# shared by all threads of the process, keyed by the cache's location.
_down = Pauses()


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client with one ``redis.Redis`` per server kept, instead of a new one for every call.

    Django builds a ``redis.Redis`` around the (kept) connection pool on each
    get or set; redis-py fills some 170 response callbacks into each one, which
    made it the costliest single function of a booking POST (about 0.13 ms of
    CPU per cache call, measured 2026-12-07). A ``redis.Redis`` is safe to
    share: every command takes a connection from the pool.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> Redis:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class ResilientRedisCache(RedisCache):
    """RedisCache whose every call degrades (a miss, a dropped write) on a Redis error or timeout.

    ``OPTIONS`` may carry ``retry_seconds`` (default 10): how long Redis is left
    alone after a failure. Everything else in ``OPTIONS`` goes to redis-py as
    for Django's RedisCache; set short ``socket_connect_timeout`` and
    ``socket_timeout`` there, they bound what one failure costs.
    """

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        self.retry_seconds = float(options.pop("retry_seconds", RETRY_SECONDS))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusingRedisCacheClient
        self._location = ",".join(self._servers)

    def _degrade(self, default: Callable[[], Any], call: Callable[[], Any]) -> Any:
        return _down.attempt(
            self._location, call, default, seconds=self.retry_seconds, errors=(RedisError, OSError), warn=self._warn
        )

    def _warn(self, error: Exception) -> None:
        logger.warning(
            "cache unreachable, pages are computed without it for %.0f s: %s: %s",
            self.retry_seconds,
            type(error).__name__,
            error,
        )

    def add(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._degrade(lambda: False, lambda: super(ResilientRedisCache, self).add(key, value, timeout, version))

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._degrade(lambda: default, lambda: super(ResilientRedisCache, self).get(key, default, version))

    def set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._degrade(lambda: None, lambda: super(ResilientRedisCache, self).set(key, value, timeout, version))

    def touch(self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._degrade(lambda: False, lambda: super(ResilientRedisCache, self).touch(key, timeout, version))

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._degrade(lambda: False, lambda: super(ResilientRedisCache, self).delete(key, version))

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        keys = list(keys)
        return self._degrade(dict, lambda: super(ResilientRedisCache, self).get_many(keys, version))

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._degrade(lambda: False, lambda: super(ResilientRedisCache, self).has_key(key, version))

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        def missing() -> int:
            raise ValueError(f"Key '{key}' not found (the cache is unreachable).")  # what incr says of a miss

        return self._degrade(missing, lambda: super(ResilientRedisCache, self).incr(key, delta, version))

    def set_many(
        self, data: dict[str, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        return self._degrade(
            lambda: list(data), lambda: super(ResilientRedisCache, self).set_many(data, timeout, version)
        )

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        keys = list(keys)
        self._degrade(lambda: None, lambda: super(ResilientRedisCache, self).delete_many(keys, version))

    def clear(self) -> bool:
        return self._degrade(lambda: False, lambda: super(ResilientRedisCache, self).clear())
