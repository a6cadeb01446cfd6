"""Erasing personal data after the retention period, across the apps: each app erases its own rows.

The periods are in ``offices.retention`` (the city's ``settings.RETENTION_DAYS``, an office's longer one); the
nightly task ``desk.tasks.erase_personal_data`` and the command ``erase_personal_data`` run this.
"""

import datetime

from booking.messages import office_scope
from booking.services.retention import appointments_erase_personal_data
from notifications.retention import messages_erase_personal_data
from offices.retention import feedback_erase_personal_data, retention_cutoffs
from tickets.retention import tickets_erase_personal_data
from waitlist.retention import registrations_erase_personal_data


def personal_data_erase(now: datetime.datetime, dry_run: bool = False) -> dict[str, int]:
    """Erase (or, in a dry run, count) what is due at ``now``: the number of rows per kind.

    Idempotent: erased rows are marked and a second pass counts none of them.
    """
    cutoffs = retention_cutoffs(now)
    scope_before = {office_scope(office_id): cutoff for office_id, cutoff in cutoffs.office_before.items()}
    return {
        "appointments": appointments_erase_personal_data(cutoffs=cutoffs, now=now, dry_run=dry_run),
        "tickets": tickets_erase_personal_data(cutoffs=cutoffs, dry_run=dry_run),
        "waitlist registrations": registrations_erase_personal_data(cutoffs=cutoffs, dry_run=dry_run),
        "messages": messages_erase_personal_data(before=cutoffs.before, scope_before=scope_before, dry_run=dry_run),
        "feedback": feedback_erase_personal_data(cutoffs=cutoffs, dry_run=dry_run),
    }
