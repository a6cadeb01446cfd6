"""Strict readers for settings taken from environment variables.

Every reader records the variable's name in ``READ`` so that deployment files
(docker-compose.yml) can be checked against what the settings really read, and
fails loudly with ImproperlyConfigured on a malformed value instead of falling
back to a default the operator did not ask for.
"""

import os

from django.core.exceptions import ImproperlyConfigured
from limits import parse

READ: set[str] = set()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    READ.add(name)
    return os.environ.get(name)


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: dict[str, str]) -> str:
    """Map a short name (e.g. ``console``) to a value; full values pass through."""
    value = _raw(name)
    if value is None or value.strip() == "":
        return choices[default]
    value = value.strip()
    if value in choices:
        return choices[value]
    if value in choices.values():
        return value
    allowed = ", ".join(sorted(choices))
    raise ImproperlyConfigured(f"{name} must be one of {allowed} (or a full dotted path listed there), not {value!r}.")


def env_rate(name: str, default: str) -> str:
    """A request budget as ``limits`` reads it: ``"10/minute"``, ``"20/10 minutes"``, ``"100 per hour"``."""
    value = (_raw(name) or "").strip() or default
    try:
        item = parse(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a budget such as '10/minute' or '20/10 minutes', not {value!r}."
        ) from None
    if item.amount < 1:
        raise ImproperlyConfigured(f"{name} must allow at least one request, not {value!r}.")
    return value
