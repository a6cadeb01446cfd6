"""Request budgets per client address (or per API key), shared by every web instance through Redis.

Each kind of request has its own budget (``settings.RATE_LIMITS``): reading free
times, holding a time, booking, moving, cancelling. A request over its budget is
answered 429 with ``Retry-After`` (the seconds until its window ends) and a
message in the citizen's language; the view never runs. A request with an API
key counts against the key's budgets (``budget_scale`` times a citizen's), not
its address's.

The counters are fixed windows in Redis (``limits``, one round trip per request).
While Redis is unreachable the limits fail open (a citizen office must not close
because its counter did) and say so in the log, once per period. Without
``REDIS_URL`` (a local run) they are counted in the process's memory.

Addresses: the client's as ``buergerservice.signin.client_address`` reads it
behind ``TRUSTED_PROXY_COUNT`` proxies; an IPv6 address counts as its /64 network,
since one household's devices (or one bot) get a whole /64 to pick from.
"""

import functools
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError

from access.keys import UnknownKey, api_key_of
from buergerservice.input_guard import API_PREFIX
from buergerservice.log_levels import CountedRefusals
from buergerservice.outage import Pauses
from buergerservice.signin import client_address

logger = logging.getLogger(__name__)
T = TypeVar("T")

BUCKETS = ("read", "hold", "book", "move", "cancel")
READING = frozenset({"GET", "HEAD"})
RETRY_SECONDS = 10.0  # after a Redis failure the limits are not asked again for this long in this process
IPV6_NETWORK = 64

_down = Pauses()
_refusals = CountedRefusals(logger, "rate limits: %s requests answered 429 (the last one: %s)")
_limiter: tuple[str, FixedWindowRateLimiter] | None = None
_limiter_lock = threading.Lock()


@functools.lru_cache(maxsize=64)
def _parsed(text: str, scale: int) -> RateLimitItem:
    item = parse(text)
    return type(item)(item.amount * scale, item.multiples)


def budget(bucket: str, *, scale: int = 1) -> RateLimitItem:
    """The bucket's budget from ``RATE_LIMITS`` (``"10/10 minutes"``), ``scale`` times as large (parsed once)."""
    return _parsed(settings.RATE_LIMITS[bucket], scale)


def storage_url() -> str:
    return settings.REDIS_URL or "memory://"


def limiter() -> FixedWindowRateLimiter:
    """The process's limiter, made at first use (and again if the storage's address changed, as tests do)."""
    global _limiter  # noqa: PLW0603 - one per process, like a connection pool
    url = storage_url()
    kept = _limiter
    if kept is None or kept[0] != url:
        with _limiter_lock:
            storage: Storage = (
                storage_from_string(url, wrap_exceptions=True, socket_timeout=0.5, socket_connect_timeout=0.5)
                if url != "memory://"
                else storage_from_string(url)
            )
            kept = _limiter = (url, FixedWindowRateLimiter(storage))
    return kept[1]


def identity(request: HttpRequest) -> tuple[str, int] | None:
    """Whose budget a request spends: ``("key:<prefix>", scale)`` or ``("addr:<address>", 1)``; None for a bad key."""
    api_key = api_key_of(request)
    if isinstance(api_key, UnknownKey):
        return None
    if api_key is not None:
        return f"key:{api_key.prefix}", api_key.budget_scale
    return address_identity(request), 1


def address_identity(request: HttpRequest) -> str:
    """``addr:<address>``: the client's address behind the trusted proxies, or the connection's where the
    forwarded entry is no address."""
    counted_as = address_counted(client_address(request) or "") or address_counted(request.META.get("REMOTE_ADDR", ""))
    return f"addr:{counted_as or 'unknown'}"


def address_counted(address: str) -> str | None:
    """The address as it is counted: IPv4 as it is, IPv6 as its /64 network; None for what is no address (a
    forwarded entry a client made up, or one with a port): then the connection's address counts."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if parsed.version == 6:  # noqa: PLR2004 - the protocol's version
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_NETWORK}", strict=False))
    return str(parsed)


def wait_seconds(bucket: str, who: str, *, scale: int = 1) -> int | None:
    """Spend one request of ``who``'s budget; the seconds to wait if it was spent already, else None.

    Fails open: with the counter's storage unreachable every request passes.
    """
    item = budget(bucket, scale=scale)

    def spend() -> int | None:
        counter = limiter()
        if counter.hit(item, bucket, who):
            return None
        reset, _remaining = counter.get_window_stats(item, bucket, who)
        return max(1, math.ceil(reset - time.time()))

    return _failing_open(spend, None)


def counted(name: str, who: str, *, per: RateLimitItem) -> int:
    """Count one more of ``name`` for ``who`` in ``per``'s window and return how many there were, this one
    included (0 while the counter is unreachable). ``per``'s amount is not a limit here, only its window."""

    def count() -> int:
        counter = limiter()
        counter.hit(per, name, who)
        return per.amount - counter.get_window_stats(per, name, who).remaining

    return _failing_open(count, 0)


def _failing_open(call: Callable[[], T], default: T) -> T:
    """``call()``, or ``default`` while the counter's storage is unreachable (logged once per period)."""
    return _down.attempt(
        "limits",
        call,
        lambda: default,
        seconds=RETRY_SECONDS,
        errors=(StorageError, RedisError, OSError),
        warn=lambda error: logger.warning(
            "rate limits unreachable, letting requests through for %ss: %r", RETRY_SECONDS, error
        ),
    )


def too_many(request: HttpRequest, seconds: int) -> HttpResponse:
    """429 with ``Retry-After``, in the active language: the API's JSON, or a page."""
    minutes = max(1, math.ceil(seconds / 60))
    message = _(
        "Too many requests from your connection in a short time. Please wait %(minutes)s minute(s) and try again."
    ) % {"minutes": minutes}
    if request.path_info.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse({"detail": message, "retry_after": seconds}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    response._has_been_logged = True  # type: ignore[attr-defined]  # counted in one line per period instead
    return response


def unknown_key(request: HttpRequest) -> HttpResponse:
    response = JsonResponse({"detail": _("This API key is not known or has been revoked.")}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def limited(bucket: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Count a view's requests against ``bucket``: GET and HEAD for ``read``, the other methods for the rest.

    Works on Django views and, through ``ninja.decorators.decorate_view``, on the API's endpoints.
    """
    if bucket not in BUCKETS:
        raise ValueError(f"unknown rate-limit bucket {bucket!r}")
    reads = bucket == "read"

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def limited_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if (request.method in READING) == reads:
                who = identity(request)
                if who is None:  # a wrong key spends its address's budget, so guessing keys is no free lunch
                    seconds = wait_seconds(bucket, address_identity(request))
                    return too_many(request, seconds) if seconds is not None else unknown_key(request)
                seconds = wait_seconds(bucket, who[0], scale=who[1])
                if seconds is not None:
                    _refusals.add(bucket)
                    return too_many(request, seconds)
            return view(request, *args, **kwargs)

        return limited_view

    return decorate
