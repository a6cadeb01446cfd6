"""The errors the queue's rules raise: a ``BookingError`` each, so every page and the API show them alike."""

from booking.errors import BookingError


class TicketTaken(BookingError):
    """Another clerk took this ticket first."""
