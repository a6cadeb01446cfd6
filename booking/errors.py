"""The errors the booking rules raise: one home, imported by every app that books, holds, moves or calls.

A ``BookingError`` means the rules refused and nothing was changed; its
``message`` is for the citizen or clerk, in the language of whoever reads it.
"""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from booking.models import Appointment


class BookingError(Exception):
    """A booking, hold, move or cancellation the rules refuse; nothing was changed.

    ``message`` is for the citizen (translated lazily, so it renders in the
    language of whoever reads it); ``field`` names the input at fault.
    """

    default_message = _("This cannot be booked.")

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.field = field
        super().__init__(str(self.message))


class SlotTaken(BookingError):
    """The units asked for are not free: someone else was faster (or the grid changed under the time)."""

    default_message = _("Sorry, this time was just taken by someone else.")

    def __init__(self, reason: str = "taken") -> None:
        self.reason = reason  # for logs and tests; the citizen sees the default message
        super().__init__(field="start")


class HoldAlreadyBooked(BookingError):
    """The hold was confirmed before (a double click, a retried request): ``appointment`` is what it became.

    Nothing was changed and no second confirmation was sent; the caller
    answers with the existing appointment.
    """

    default_message = _("This time has already been booked for you.")

    def __init__(self, appointment: "Appointment") -> None:
        self.appointment = appointment
        super().__init__(field="hold")
