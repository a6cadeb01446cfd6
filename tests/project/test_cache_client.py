"""The Redis cache keeps one redis-py client per server, not one per call (buergerservice/cache.py)."""

import os
from collections.abc import Iterator

import pytest

from buergerservice.cache import ResilientRedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_cache() -> Iterator[ResilientRedisCache]:
    cache = ResilientRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "test-cache-client"})
    yield cache
    cache.delete_many(["a", "b"])


def test_every_call_uses_the_same_redis_client_and_its_pool(redis_cache) -> None:  # type: ignore[no-untyped-def]
    first = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client(write=True) is first
    built = []
    original = redis_cache._cache._client
    redis_cache._cache._client = lambda **kwargs: built.append(kwargs) or original(**kwargs)
    redis_cache.set("a", 1)
    redis_cache.set_many({"b": 2})
    assert redis_cache.get_many(["a", "b"]) == {"a": 1, "b": 2}
    assert redis_cache.add("a", 3) is False
    assert built == [], "no new redis.Redis per call"
