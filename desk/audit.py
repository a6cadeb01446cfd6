"""The audit log of staff actions on appointments: what it keeps of an appointment, and writing one entry."""

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from booking.grid import BERLIN
from booking.models import Appointment
from desk.models import AuditEntry
from offices.models import Office

SYSTEM_ACTOR = "system"  # the actor's name of an entry no person caused (kept as it was then, like a user's)


def snapshot(appointment: Appointment) -> dict[str, object]:
    """What the audit log keeps of an appointment before and after an action (local times, as shown)."""
    return {
        "office": appointment.office.name,
        "start": appointment.start.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M"),
        "end": appointment.end.astimezone(BERLIN).strftime("%H:%M"),
        "status": appointment.day_status,
        "counter": appointment.counter,
        "note": appointment.staff_note,
    }


def audit_record(
    *,
    appointment: Appointment,
    by: AbstractBaseUser | None,
    action: str,
    before: dict[str, object],
    now: datetime.datetime,
    reason: str = "",
    office: Office | None = None,
) -> AuditEntry:
    """Write one entry in the caller's transaction (an action that rolls back leaves no entry).

    ``by`` None: the system did it (the nightly rebuild of the grid), no person.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the action it records")
    return AuditEntry.objects.create(
        appointment=appointment,
        office=office or appointment.office,
        actor=by,
        actor_name=_actor_name(by),
        action=action,
        at=now,
        before=before,
        after=snapshot(appointment),
        reason=reason,
    )


def _actor_name(by: AbstractBaseUser | None) -> str:
    if by is None:
        return SYSTEM_ACTOR
    name = by.get_full_name() if hasattr(by, "get_full_name") else ""
    return f"{name} ({by.get_username()})" if name else by.get_username()
