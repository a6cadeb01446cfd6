"""API keys: created once and shown once, stored as their SHA-256, looked up from the request."""

import datetime
import hashlib
import secrets

from django.http import HttpRequest
from django.utils import timezone

from access.models import ApiKey

KEY_PREFIX = "bsk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # shown in the admin, so a key can be recognised without being stored
LAST_USED_PRECISION = datetime.timedelta(minutes=1)  # "last used" is written at most once a minute per key


class UnknownKey:
    """A request that carried a key no active ApiKey has: refused (401), never counted as a citizen's."""


UNKNOWN = UnknownKey()


def _digest(key: str) -> str:
    # A fast hash is right here: the keys are 32 random bytes, nothing a dictionary could guess.
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, name: str, budget_scale: int = 20) -> tuple[ApiKey, str]:
    """A new key for an integrator: the stored record and the key itself, which nobody can see again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name, budget_scale=budget_scale, prefix=key[:PREFIX_LENGTH], digest=_digest(key)
    )
    return api_key, key


def presented_key(request: HttpRequest) -> str | None:
    """The key in ``Authorization: Bearer <key>``, if the request carries one."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def books_for_callers(request: HttpRequest) -> bool:
    """Whether the request comes with an active key of staff booking for callers (``ApiKey.books_for_callers``)."""
    key = api_key_of(request)
    return isinstance(key, ApiKey) and key.books_for_callers


def api_key_of(request: HttpRequest) -> ApiKey | UnknownKey | None:
    """The request's active API key; UNKNOWN for a key that is wrong or revoked; None without one.

    Looked up once per request (kept on it): the limits and the proof of work both ask.
    """
    if hasattr(request, "_api_key"):
        return request._api_key  # type: ignore[no-any-return]
    key = presented_key(request)
    found: ApiKey | UnknownKey | None = None
    if key is not None:
        found = ApiKey.objects.filter(digest=_digest(key), active=True).first() or UNKNOWN
    if isinstance(found, ApiKey):
        now = timezone.now()
        if found.last_used_at is None or found.last_used_at < now - LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=found.pk).update(last_used_at=now)
    request._api_key = found  # type: ignore[attr-defined]
    return found
