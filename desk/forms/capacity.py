"""Forms of the manager's pages about lost capacity: absences, blocked times, and rebooking what no longer fits.

They validate and convert; desk.services records and decides (and has the last word on the rules).
"""

import datetime
import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from booking.errors import BookingError
from desk.services import REASON_MAX_LENGTH
from offices.models import Absence, Office
from offices.validators import MAX_COUNTER

MAX_ABSENCE_DAYS = 366  # one absence at most a year long; a longer one is entered again
YEARS_AHEAD = 2  # how far ahead absences and blocks can be entered (keeps dates far from date.max)

MOVE_REASON_DEFAULT = _("Our office had to change its staffing at short notice. We apologise.")
CANCEL_REASON_DEFAULT = _(
    "Our office had to change its staffing at short notice and cannot offer you another time. We apologise. "
    "Please book a new appointment."
)


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_error(form: forms.Form, error: BookingError | ValidationError, fields: dict[str, str]) -> None:
    """Show a refusal of desk.services on the form: at the field it names (``fields`` maps model to form names)."""
    if isinstance(error, BookingError):
        field = fields.get(error.field or "", error.field)
        form.add_error(field if field in form.fields else None, str(error.message))
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        field = fields.get(name, name)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AbstractBaseUser) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.get_username()})" if name else obj.get_username()


class AbsenceForm(forms.Form):
    """A member of the office's staff is away on whole days."""

    clerk = StaffChoiceField(label=_("Staff member"), queryset=get_user_model().objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=Absence.Kind.choices, initial=Absence.Kind.SICK)
    first = forms.DateField(label=_("First day"), widget=_date_widget())
    last = forms.DateField(label=_("Last day"), widget=_date_widget())
    note = forms.CharField(
        label=_("Internal note"),
        max_length=200,
        required=False,
        help_text=_("Seen by staff only, never by citizens."),
    )

    # Model field names of Absence as this form names them, for the errors of Absence.full_clean.
    SERVICE_FIELDS = {"user": "clerk", "start_date": "first", "end_date": "last"}

    def __init__(self, *args: object, office: Office, today: datetime.date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["clerk"].queryset = (
            get_user_model()
            .objects.filter(memberships__office=office, is_active=True)
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        self.fields["first"].initial = today
        self.fields["last"].initial = today

    def clean(self) -> dict:
        cleaned = super().clean()
        first, last = cleaned.get("first"), cleaned.get("last")
        if first is None or last is None:
            return cleaned
        earliest = self.today - datetime.timedelta(days=MAX_ABSENCE_DAYS)
        latest = self.today + datetime.timedelta(days=YEARS_AHEAD * 365)
        for name, day in (("first", first), ("last", last)):
            if not earliest <= day <= latest:
                self.add_error(
                    name,
                    _("Enter a day between %(earliest)s and %(latest)s.")
                    % {
                        "earliest": date_format(earliest, "SHORT_DATE_FORMAT"),
                        "latest": date_format(latest, "SHORT_DATE_FORMAT"),
                    },
                )
        if last < first:
            self.add_error("last", _("The last day cannot be before the first day."))
        elif (last - first).days + 1 > MAX_ABSENCE_DAYS:
            self.add_error(
                "last",
                _("An absence can be at most %(days)s days long; enter a longer one in parts.")
                % {"days": MAX_ABSENCE_DAYS},
            )
        return cleaned


class BlockForm(forms.Form):
    """Take a time range of one day out of the office's capacity, for some or all counters."""

    date = forms.DateField(label=_("Date"), widget=_date_widget())
    starts = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    ends = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    counters = forms.IntegerField(
        label=_("Counters"),
        min_value=1,
        max_value=MAX_COUNTER,
        required=False,
        help_text=_("How many counters are out. Leave empty to block all counters."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("For staff, e.g. “staff meeting” or “printer broken”."),
    )

    # Block's model field names are this form's.
    SERVICE_FIELDS: dict[str, str] = {}

    def __init__(self, *args: object, office: Office, today: datetime.date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        step = str(office.slot_minutes * 60)
        self.fields["starts"].widget.attrs["step"] = step
        self.fields["ends"].widget.attrs["step"] = step
        self.fields["date"].initial = today

    def clean_date(self) -> datetime.date:
        date = self.cleaned_data["date"]
        if date < self.today:
            raise ValidationError(_("This day has already passed."), code="past")
        latest = self.today + datetime.timedelta(days=YEARS_AHEAD * 365)
        if date > latest:
            raise ValidationError(
                _("Blocked times can be entered up to %(date)s.") % {"date": date_format(latest, "SHORT_DATE_FORMAT")},
                code="too_far",
            )
        return date

    def clean(self) -> dict:
        cleaned = super().clean()
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if starts is not None and ends is not None and ends <= starts:
            self.add_error("ends", _("The end must be after the start."))
        return cleaned


_ACTION = re.compile(r"^(move|cancel)-(all|[1-9][0-9]{0,8})$")


class RebookForm(forms.Form):
    """One of the buttons of the rebooking list: ``move-<id>``, ``cancel-<id>``, ``move-all`` or ``cancel-all``.

    The texts the citizens read: ``move_reason`` for moves, ``cancel_reason`` for cancellations.
    """

    action = forms.CharField(max_length=30)
    move_reason = forms.CharField(
        label=_("Message to citizens whose appointment is moved"),
        max_length=REASON_MAX_LENGTH,
        initial=MOVE_REASON_DEFAULT,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    cancel_reason = forms.CharField(
        label=_("Apology to citizens whose appointment is cancelled"),
        max_length=REASON_MAX_LENGTH,
        initial=CANCEL_REASON_DEFAULT,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def clean_action(self) -> tuple[str, int | None]:
        match = _ACTION.match(self.cleaned_data["action"])
        if match is None:
            raise ValidationError(_("Unknown action."), code="invalid")
        verb, target = match.groups()
        return verb, None if target == "all" else int(target)

    def clean(self) -> dict:
        cleaned = super().clean()
        action = cleaned.get("action")
        if action is None:
            return cleaned
        field = "move_reason" if action[0] == "move" else "cancel_reason"
        if field in cleaned and not cleaned[field].strip():
            self.add_error(field, _("Please give a reason: the citizen is told it."))
        return cleaned

    @property
    def verb(self) -> str:
        return self.cleaned_data["action"][0]

    @property
    def target(self) -> int | None:
        return self.cleaned_data["action"][1]

    @property
    def reason(self) -> str:
        return self.cleaned_data["move_reason" if self.verb == "move" else "cancel_reason"]
