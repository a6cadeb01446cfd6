"""The one lock order of every write that touches the slot grid, and the helpers that take its first locks.

Every write that changes units, or decides from them, locks in this order and
never the other way round, so no two of them can deadlock and none can act on
a state another is about to change:

0. a waitlist registration's row, then its offer's (``waitlist.services``: an offer made, booked, declined,
   lapsed or withdrawn), and a per-office advisory lock for keeping the urgent contingent (``contingent``),
1. the per-address advisory lock (``address_lock``; bookings with an e-mail address),
2. the slots, in (office, start) order (``slots_lock``): of every range the write
   touches, before anything else. A capacity rebuild locks all slots of its days;
3. holds;
4. appointments;
5. what hangs off an appointment: its ticket, its messages (``messages_record``, last).

What this buys: a write that reads a hold or an appointment under its slots'
locks sees every change to them that is committed, and nothing half-done. A
confirmation claims its hold only while it holds the hold's slots, so a rebuild
of the same days either runs before it (and has given the hold's units away, so
the confirmation takes free units or is refused) or after it (and sees the
appointment, so it counts it or flags it to rebook). Cancelling and moving lock
the slots, then check the appointment is unchanged, and only then write.

On SQLite, which runs one writing transaction at a time, the locks are no-ops.
"""

import datetime

from django.db import connection
from django.db.models import Q

from booking.models import Slot

Range = tuple[int, datetime.datetime, datetime.datetime]  # (office id, start, end)


def in_range(start: datetime.datetime, end: datetime.datetime) -> Q:
    """The slots from start (inclusive) to end (exclusive)."""
    return Q(start__gte=start, start__lt=end)


def address_lock(email: str) -> None:
    """Serialise bookings for one e-mail address, so two at once cannot both pass the per-address limit.

    PostgreSQL: a transaction-scoped advisory lock on the address. SQLite
    runs one writing transaction at a time anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [email])


def _ranges_q(ranges: list[Range]) -> Q:
    wanted = Q()
    for office_id, start, end in ranges:
        wanted |= Q(office_id=office_id) & in_range(start, end)
    return wanted


def slots_lock(ranges: list[Range]) -> set[tuple[int, datetime.datetime]]:
    """Lock the slots of these ranges, in (office, start) order; returns the (office id, start) locked.

    Must run inside the write's transaction, before it locks a hold or an
    appointment. PostgreSQL locks the rows in the order they are sorted, so
    two writes locking overlapping ranges this way wait for each other, never
    deadlock.
    """
    wanted = _ranges_q(ranges)
    if not wanted:
        return set()
    return set(
        Slot.objects.filter(wanted).select_for_update().order_by("office_id", "start").values_list("office_id", "start")
    )
