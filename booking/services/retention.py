"""Erasing the personal data of appointments that are over: nightly after the retention period, or when the citizen
asks on the manage page. What the figures need stays: office, services, times, channel, status and the visit."""

import datetime

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from booking.errors import BookingError
from booking.models import Appointment, new_token
from offices.retention import BATCH_SIZE, Cutoffs, erase_in_batches

# A manage link that was retired: a fresh random token nobody was given, marked so the nightly pass skips the row.
RETIRED_TOKEN_PREFIX = "erased-"  # noqa: S105 - a marker, not a secret

# The person's fields as they are after erasing: name, contact, the keys the per-person limit compares, the needs
# of the person, the office's note, and the links of the booking flow (the hold and the e-mail confirmation).
ERASED_VALUES = {
    "name": "",
    "email": "",
    "phone": "",
    "email_key": "",
    "phone_key": "",
    "interpreter_language": "",
    "step_free_access": False,
    "reminders_consent": False,
    "staff_note": "",
    "hold_token": None,
    "confirm_token": None,
}


def appointment_is_over(*, appointment: Appointment, now: datetime.datetime) -> bool:
    """Over: cancelled, marked as missed, or its end has passed (its personal data may be erased)."""
    return (
        appointment.status == Appointment.Status.CANCELLED
        or appointment.visit == Appointment.Visit.NO_SHOW
        or appointment.end <= now
    )


def appointment_erase_personal_data(*, appointment: Appointment, now: datetime.datetime) -> Appointment:
    """The citizen erases their appointment's personal data once it is over; the manage link keeps showing what
    remains until the retention period retires it. Refused (BookingError) before the end. Erasing twice is harmless.
    """
    with transaction.atomic():
        # Locked so a move or a check-in at the same moment cannot come between the check and the erasing.
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if not appointment_is_over(appointment=current, now=now):
            raise BookingError(_("Your personal data can be erased once the appointment is over."))
        Appointment.objects.filter(pk=current.pk).update(
            **ERASED_VALUES, personal_data_erased_at=Coalesce("personal_data_erased_at", now)
        )
    return Appointment.objects.select_related("office").get(pk=appointment.pk)


def appointments_erase_personal_data(
    *, cutoffs: Cutoffs, now: datetime.datetime, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> int:
    """Erase the personal data of every appointment whose end lies before its office's cut-off (cancelled ones too)
    and retire its manage link; the number of appointments. Already erased and retired ones are skipped."""
    due = Appointment.objects.filter(cutoffs.due("end")).exclude(manage_token__startswith=RETIRED_TOKEN_PREFIX)

    def erase(ids: list[int]) -> None:
        with transaction.atomic():  # one batch at a time: erased and retired together
            Appointment.objects.filter(pk__in=ids).update(
                **ERASED_VALUES, personal_data_erased_at=Coalesce("personal_data_erased_at", now)
            )
            # Each row its own unguessable token: the old link answers 404 from now on.
            retired = [Appointment(pk=pk, manage_token=RETIRED_TOKEN_PREFIX + new_token()) for pk in ids]
            Appointment.objects.bulk_update(retired, ["manage_token"])

    return erase_in_batches(due, erase, dry_run=dry_run, batch_size=batch_size)


def appointment_personal_data_kept(appointment: Appointment) -> bool:
    """Whether anything personal is still stored (the manage page offers erasing only then)."""
    return appointment.personal_data_erased_at is None
