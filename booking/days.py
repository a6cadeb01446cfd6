"""Days: Berlin's calendar day of an instant, and days typed by people.

``local_day`` is the one place that turns an instant into the day it is in
Berlin (the offices' day: slots, tickets and pages are filed under it).

Days typed by people follow one rule for every page, form and endpoint that takes a date.

A day is a real calendar date (``YYYY-MM-DD``, or a form's local format) within
``YEARS_AROUND`` years of today (Europe/Berlin). Anything else — ``2026-02-30``,
``99999-01-01``, ``-1`` and also ``0001-01-01`` or ``9999-12-31``, whose week,
neighbours or day bounds cannot be computed (``date.max`` has no next day) — is
refused with one message, and the page shows its default day instead.
"""

import datetime

from django import forms
from django.contrib import messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.grid import BERLIN

YEARS_AROUND = 10  # a day further from today is a typing error
SHOWN_LENGTH = 40  # how much of a refused value the message repeats


def local_day(moment: datetime.datetime) -> datetime.date:
    """The calendar day in Berlin at ``moment`` (an aware instant): the one place of this conversion."""
    return moment.astimezone(BERLIN).date()


def day_limits(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and the last day anyone may ask for."""
    span = datetime.timedelta(days=YEARS_AROUND * 366)
    return today - span, today + span


class DayField(forms.DateField):
    """A day within ``YEARS_AROUND`` years of today; whatever else is "invalid" (one message for all)."""

    default_error_messages = {"invalid": gettext_lazy("Enter a valid day (YYYY-MM-DD).")}

    def to_python(self, value: object) -> datetime.date | None:
        day = super().to_python(value)
        if day is not None:
            first, last = day_limits(local_day(timezone.now()))
            if not first <= day <= last:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return day


def parse_day(value: object) -> datetime.date | None:
    """The day ``value`` names, or None when it names none (malformed, impossible or too far from today)."""
    try:
        return DayField(required=False).clean(value)
    except forms.ValidationError:
        return None


def checked_day(day: datetime.date | None) -> datetime.date | None:
    """``day`` if it may be asked for (a validator of the API's query schemas), else a ValueError with the message."""
    if day is not None and parse_day(day) is None:
        raise ValueError(_("Enter a valid day (YYYY-MM-DD)."))
    return day


def invalid_day_message(value: object, *, shown: datetime.date | None) -> str:
    """What a page says when it cannot use a day: the refused value and what it shows instead."""
    text = str(value)[:SHOWN_LENGTH]
    if shown is None:
        return _("“%(value)s” is not a valid day; showing all days.") % {"value": text}
    return _("“%(value)s” is not a valid day; showing %(day)s.") % {
        "value": text,
        "day": date_format(shown, "SHORT_DATE_FORMAT"),
    }


def requested_day(request: HttpRequest, *, default: datetime.date | None, param: str = "date") -> datetime.date | None:
    """The day in the query parameter ``param``; ``default`` when it is missing, or unusable (with a message)."""
    value = request.GET.get(param, "").strip()
    if not value:
        return default
    day = parse_day(value)
    if day is None:
        messages.error(request, invalid_day_message(value, shown=default))
        return default
    return day
