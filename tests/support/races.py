"""Helpers of the race tests: actions in parallel threads, each with its own PostgreSQL connection, and the
integrity check every race test ends with."""

import datetime
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from booking.errors import BookingError, HoldAlreadyBooked, SlotTaken


def outcome(action: Callable[[], object]) -> str:
    """What one attempt came to: "ok", "repeated" (a hold booked before), "taken", "refused:<field>", or the
    unexpected error itself."""
    try:
        action()
    except HoldAlreadyBooked:
        return "repeated"
    except SlotTaken:
        return "taken"
    except BookingError as error:
        return f"refused:{error.field}"
    except Exception as error:  # noqa: BLE001 - a deadlock or a constraint violation is what this looks for
        return f"error:{type(error).__name__}: {error}"
    return "ok"


def race(actions: list[Callable[[], object]]) -> list[str]:
    """Each action in its own thread and connection, all released at once by a barrier."""
    barrier = threading.Barrier(len(actions))

    def attempt(action: Callable[[], object]) -> str:
        try:
            barrier.wait()
            return outcome(action)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return list(pool.map(attempt, actions))


def assert_integrity(first: datetime.date) -> None:
    """verify_integrity from ``first`` on finds nothing wrong."""
    out = StringIO()
    try:
        call_command("verify_integrity", "--from", first.isoformat(), stdout=out)
    except CommandError as error:
        pytest.fail(f"verify_integrity: {error}\n{out.getvalue()}")
    assert "0 slots over capacity, 0 slots with wrong counts, 0 appointments or holds without slots" in out.getvalue()
