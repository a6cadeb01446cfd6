"""With Redis down or hanging, every public page still answers (buergerservice/cache.py).

The cache is the one the real settings build from REDIS_URL, pointed at a
closed local port (connection refused) or at a socket that accepts but never
answers (the timeout path).
"""

import logging
import runpy
import socket
import time
from collections.abc import Iterator

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, override_settings

from buergerservice import cache as resilient
from buergerservice import settings as project_settings
from tests.support.queue_steps import at, queue_world

pytestmark = pytest.mark.django_db

SETTINGS = project_settings.__file__

PUBLIC_PAGES = [
    "/",
    "/en/",
    "/offices/mitte/",
    "/status/",
    "/status/mitte/",
    "/en/status/mitte/",
    "/api/v1/offices/status",
    "/api/v1/offices/mitte/status",
    "/book/",
    "/book/where/?services=personalausweis",
    "/book/at/mitte/?services=personalausweis&date=2026-11-23",
    "/healthz",
]


def settings_caches(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """CACHES exactly as buergerservice/settings.py builds it when REDIS_URL is set."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("SECRET_KEY", "tests-only-not-secret")
    return runpy.run_path(str(SETTINGS))["CACHES"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nobody listens there once the probe is closed


@pytest.fixture
def silent_redis() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) but never answers a byte."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.fixture(autouse=True)
def _fresh_breaker() -> Iterator[None]:
    resilient._down.clear()
    yield
    resilient._down.clear()


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


def answers(client: Client) -> dict[str, int]:
    with time_machine.travel(at("09:00"), tick=False):
        return {page: client.get(page).status_code for page in PUBLIC_PAGES}


def test_the_settings_use_the_degrading_cache_with_short_timeouts_when_redis_is_configured(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    caches = settings_caches("redis://127.0.0.1:6379/3", monkeypatch)
    assert caches["default"]["BACKEND"] == "buergerservice.cache.ResilientRedisCache"
    assert caches["default"]["OPTIONS"]["socket_timeout"] <= 1
    assert caches["default"]["OPTIONS"]["socket_connect_timeout"] <= 1


def test_every_public_page_answers_while_redis_refuses_connections(client, qw, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    caches = settings_caches(f"redis://127.0.0.1:{closed_port()}/3", monkeypatch)
    with override_settings(CACHES=caches, QUEUE_STATUS_CACHE_SECONDS=10), caplog.at_level(logging.WARNING):
        codes = answers(client)
    assert codes == dict.fromkeys(PUBLIC_PAGES, 200)
    outage = [record for record in caplog.records if record.name == "buergerservice.cache"]
    assert len(outage) == 1, "logged once per period, not once per request"
    assert "ConnectionError" in outage[0].getMessage()


def test_every_public_page_answers_quickly_while_redis_accepts_but_never_answers(  # type: ignore[no-untyped-def]
    client, qw, monkeypatch, silent_redis
) -> None:
    caches = settings_caches(f"redis://127.0.0.1:{silent_redis}/3", monkeypatch)
    with override_settings(CACHES=caches, QUEUE_STATUS_CACHE_SECONDS=10):
        started = time.monotonic()
        codes = answers(client)
        took = time.monotonic() - started
    assert codes == dict.fromkeys(PUBLIC_PAGES, 200)
    # One socket timeout (0.5 s) for the first call, then Redis is left alone for the period.
    assert took < 5, f"{len(PUBLIC_PAGES)} pages took {took:.1f} s"


def test_the_status_shows_the_same_figures_with_the_cache_down_as_without_one(client, qw, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:01")
    with time_machine.travel(at("09:00"), tick=False):
        uncached = client.get("/api/v1/offices/status").json()
    caches = settings_caches(f"redis://127.0.0.1:{closed_port()}/3", monkeypatch)
    with override_settings(CACHES=caches, QUEUE_STATUS_CACHE_SECONDS=10), time_machine.travel(at("09:00"), tick=False):
        degraded = client.get("/api/v1/offices/status").json()
    assert degraded == uncached


def test_a_down_cache_reads_as_a_miss_and_drops_writes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    caches = settings_caches(f"redis://127.0.0.1:{closed_port()}/3", monkeypatch)
    with override_settings(CACHES=caches):
        assert cache.get("key", "fallback") == "fallback"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.set_many({"a": 1}) == ["a"]
        assert cache.add("a", 1) is False
        assert cache.get_or_set("a", 7) == 7
        cache.set("a", 1)
        cache.delete("a")
        with pytest.raises(ValueError):
            cache.incr("a")


def test_after_the_retry_period_the_cache_is_asked_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    caches = settings_caches(f"redis://127.0.0.1:{closed_port()}/3", monkeypatch)
    caches["default"]["OPTIONS"]["retry_seconds"] = 0.2
    attempts = []
    original = resilient.RedisCache.get

    def counting_get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        attempts.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(resilient.RedisCache, "get", counting_get)
    with override_settings(CACHES=caches):
        cache.get("a")
        cache.get("a")  # within the period: not asked
        assert len(attempts) == 1
        time.sleep(0.25)
        cache.get("a")
    assert len(attempts) == 2


@pytest.mark.redis
def test_a_reachable_redis_still_caches(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os

    caches = settings_caches(os.environ["REDIS_URL"], monkeypatch)
    with override_settings(CACHES=caches):
        cache.set("tests:cache-outage", 42, 30)
        assert cache.get("tests:cache-outage") == 42
        cache.delete("tests:cache-outage")
