"""Answers reused until what they were computed from changes: versions in the shared cache.

A *version* names one part of the data an answer is computed from: ``grid:<office slug>``
is an office's slot grid (every booking, hold, cancellation, move, expiry and
capacity change writes it), ``catalogue`` the offices, services and their
settings. Its value is a random token in the shared cache (Redis in production,
so every web process sees the same); ``bump`` replaces the token when the data
is changed and again once the transaction that changed it has committed.

``reuse`` keeps an answer in the cache together with the tokens of the versions
it was computed from, read *before* the data was read, and an instant from which
the answer would differ even if no data changed (a time passing its notice, the
daily release, a hold running out). An answer is used again only while every
token is still the current one and that instant has not come; otherwise it is
computed afresh. So once a change has committed and its bump has been made, no
process can serve what was computed before it: the change's own request answers
only after the bump, so whatever anybody reads after that reflects it.

What can still go wrong, and what bounds it:
- A process that dies between its commit and its bump, or a bump that Redis
  refuses (logged as an error), leaves the old answers current until they expire
  (``VERSIONED_CACHE_SECONDS``, default 60).
- A version that is missing (Redis restarted or evicted it) is given a fresh
  token, so nothing computed under the old one matches.
- With the cache unreachable every answer is computed afresh (``buergerservice.cache``).
"""

import datetime
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

PREFIX = "version:"
CATALOGUE = "catalogue"

T = TypeVar("T")

# What ``reuse`` stores: the versions' tokens, the instant it stops being valid (None: never by itself), the answer.
Entry = tuple[tuple[str, ...], datetime.datetime | None, Any]


ALL_GRIDS = "grids"  # any office's slot grid: for answers about all offices at once (one version instead of fifty)


def grid(slug: str) -> str:
    """The version of one office's slot grid."""
    return f"grid:{slug}"


def grid_changed(slug: str) -> None:
    """An office's slots were written: its grid's version and the city-wide one are bumped (see ``bump``)."""
    bump(grid(slug), ALL_GRIDS)


def bump(*names: str) -> None:
    """Give these versions new tokens now and again once the current transaction commits.

    The bump after the commit is the one that matters: from then on nothing
    computed before the change is served. The bump at once (inside a
    transaction) makes the transaction itself read its own change afresh, and
    what another process computes meanwhile, from the data before the commit,
    is dropped by the second bump.
    """
    unique = tuple(dict.fromkeys(names))
    if not unique:
        return
    if transaction.get_connection().in_atomic_block:
        bump_now(unique)
    transaction.on_commit(lambda: bump_now(unique), robust=True)


def bump_now(names: Sequence[str]) -> None:
    token = secrets.token_hex(8)
    failed = cache.set_many({PREFIX + name: token for name in names}, timeout=None)
    if failed:
        logger.error("could not give new versions to %s: older answers may be served until they expire", failed)


def reuse(
    key: str,
    names: Sequence[str],
    compute: Callable[[], tuple[T, datetime.datetime | None]],
    *,
    now: datetime.datetime,
) -> T:
    """The answer kept under ``key`` if it was computed at the current versions of ``names`` and is valid at ``now``.

    Otherwise ``compute()`` gives the answer and the instant from which it is no
    longer valid by time alone (None: not before the versions change); it is kept
    and returned. One round trip to the cache when the answer is reused.
    """
    return reuse_many({key: names}, lambda stale: {key: compute()}, now=now)[key]


def reuse_many(
    entries: dict[str, Sequence[str]],
    compute: Callable[[list[str]], dict[str, tuple[T, datetime.datetime | None]]],
    *,
    now: datetime.datetime,
) -> dict[str, T]:
    """``reuse`` for many keys (each with its versions' names) in one round trip; ``compute`` gets the stale keys."""
    names = list(dict.fromkeys(name for key_names in entries.values() for name in key_names))
    found = cache.get_many([*entries, *(PREFIX + name for name in names)])
    tokens = {name: _token(found, name) for name in names}
    answers: dict[str, T] = {}
    stale: list[str] = []
    for key, key_names in entries.items():
        entry: Entry | None = found.get(key)
        if _current(entry, _settled(tokens, key_names), now):
            answers[key] = entry[2]  # type: ignore[index]
        else:
            stale.append(key)
    if not stale:
        return answers
    keep: dict[str, Entry] = {}
    for key, (value, valid_until) in compute(stale).items():
        answers[key] = value
        settled = _settled(tokens, entries[key])
        if settled is not None and (valid_until is None or now < valid_until):
            keep[key] = (settled, valid_until, value)
    if keep:
        cache.set_many(keep, settings.VERSIONED_CACHE_SECONDS)
    return answers


def reused(key: str, names: Sequence[str], *, now: datetime.datetime) -> Any | None:
    """The answer kept under ``key`` if it is current (as ``reuse`` would serve it), else None; computes nothing."""
    found = cache.get_many([key, *(PREFIX + name for name in names)])
    entry: Entry | None = found.get(key)
    tokens = tuple(found.get(PREFIX + name) for name in names)
    return entry[2] if _current(entry, None if None in tokens else tokens, now) else None  # type: ignore[index]


def _current(entry: Entry | None, tokens: tuple[str, ...] | None, now: datetime.datetime) -> bool:
    """Was the entry computed at these tokens (all settled), and is it still valid at ``now``?"""
    return entry is not None and tokens is not None and entry[0] == tokens and (entry[1] is None or now < entry[1])


def _token(found: dict[str, Any], name: str) -> str | None:
    """The current token of a version; a missing one is given one. None if that could not be settled."""
    token = found.get(PREFIX + name)
    if token is None:
        token = secrets.token_hex(8)
        # add, not set: if another process (or a bump) has just given it one, what is computed now is not kept.
        if not cache.add(PREFIX + name, token, timeout=None):
            return None
    return token


def _settled(tokens: dict[str, str | None], names: Sequence[str]) -> tuple[str, ...] | None:
    """The tokens of these names, or None if one of them is not settled (nothing is kept then)."""
    found = tuple(tokens[name] for name in names)
    return None if None in found else found  # type: ignore[return-value]
