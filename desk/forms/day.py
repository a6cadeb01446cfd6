"""Forms of the day view and of one appointment: they validate and convert, desk.services decides."""

import datetime

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking.days import DayField
from desk.selectors import DayStatus
from desk.services import REASON_MAX_LENGTH
from offices.models import Office
from offices.validators import MAX_COUNTER

QUERY_MAX_LENGTH = 100
NOTE_MAX_LENGTH = 1000


class DayFilterForm(forms.Form):
    """What the day view shows: a day, one status (or all), a booking code or a part of a name."""

    date = DayField(required=False)
    status = forms.ChoiceField(choices=[("", _("All")), *DayStatus.CHOICES], required=False)
    q = forms.CharField(max_length=QUERY_MAX_LENGTH, required=False, strip=True)

    def __init__(self, data: object = None, **kwargs: object) -> None:
        if data is not None:
            data = data.copy()
            # An over-long search is cut, not refused: the clerk still sees a list.
            data["q"] = (data.get("q") or "")[:QUERY_MAX_LENGTH]
        super().__init__(data, **kwargs)


def _counter_error() -> str:
    return gettext("Enter your counter number (1 to %(max)s).") % {"max": MAX_COUNTER}


# Translated when shown, not when this module is imported.
COUNTER_ERROR = lazy(_counter_error, str)()


class CounterForm(forms.Form):
    counter = forms.IntegerField(
        label=_("Your counter"),
        min_value=1,
        max_value=MAX_COUNTER,
        error_messages={key: COUNTER_ERROR for key in ["invalid", "required", "min_value", "max_value"]},
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note of the office"),
        help_text=_("Seen by staff only, never by the citizen."),
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonField(forms.CharField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            label=_("Reason (the citizen reads it)"),
            max_length=REASON_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 2}),
            error_messages={"required": _("Please give a reason: the citizen is told it.")},
            **kwargs,
        )


class CancelForm(forms.Form):
    reason = ReasonField()


class MoveDayForm(forms.Form):
    """The day whose free times the move page lists."""

    date = DayField(label=_("Day"), required=False)


class MoveForm(forms.Form):
    """One of the offered times (``options``: choice value → office and start) and the reason."""

    choice = forms.ChoiceField(
        label=_("New time"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose one of the free times."),
            "invalid_choice": _("This time is no longer free. Choose another one."),
        },
    )
    reason = ReasonField()

    def __init__(self, *args: object, options: dict[str, tuple[Office, datetime.datetime]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.options = options
        self.fields["choice"].choices = [(key, key) for key in options]

    def clean_choice(self) -> tuple[Office, datetime.datetime]:
        return self.options[self.cleaned_data["choice"]]
