"""The waitlist's forms: when and where a citizen can come, and who they are. They validate; services write."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from booking.grid import BERLIN
from buergerservice.languages import language_choices
from offices.models import Office, Service
from waitlist.models import Part

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
]
LONGEST = datetime.timedelta(days=180)  # how far ahead a registration may reach
PAST_DAY = _("Please choose today or a later day.")  # for a day in the past, on either end of the range


class WishForm(forms.Form):
    offices = forms.ModelMultipleChoiceField(
        label=_("Offices you can go to"),
        queryset=Office.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any office that offers your services."),
    )
    first_day = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    last_day = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days you can come"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any day."),
    )
    parts = forms.MultipleChoiceField(
        label=_("Times of day you can come"),
        choices=Part.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any time of day."),
    )

    def __init__(self, *args: object, offices: list[Office], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offices"].queryset = Office.objects.filter(pk__in=[office.pk for office in offices])
        today = timezone.localdate()
        self.fields["first_day"].initial = today + datetime.timedelta(days=1)
        self.fields["last_day"].initial = today + datetime.timedelta(days=28)

    def clean(self) -> dict:
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        today = timezone.now().astimezone(BERLIN).date()
        if first and first < today:
            self.add_error("first_day", PAST_DAY)
        if last and last < today:  # said as such, not as "before the first day"
            self.add_error("last_day", PAST_DAY)
        elif first and last and last < first:
            self.add_error("last_day", _("The last day must not be before the first."))
        if last and last > today + LONGEST:
            self.add_error("last_day", _("Please choose a day within the next six months."))
        return cleaned


class RegistrationForm(WishForm):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(
        label=_("E-mail address"), help_text=_("We send the link to confirm, and the offers, to this address.")
    )
    language = forms.ChoiceField(label=_("Language of our messages"), choices=language_choices)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = (get_language() or "de")[:2]
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"


class UrgentForm(forms.Form):
    """An urgent case: why, by when, who; the needs come from the address (as the waitlist's)."""

    offices = forms.ModelMultipleChoiceField(
        label=_("Offices you can go to"),
        queryset=Office.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any office that offers your services."),
    )
    deadline = forms.DateField(
        label=_("By when must it be dealt with?"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("For example the day your residence title ends or ended."),
    )
    reason = forms.CharField(label=_("Why is it urgent?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(
        label=_("E-mail address"), help_text=_("We send the link to confirm, and the invitation, to this address.")
    )
    language = forms.ChoiceField(label=_("Language of our messages"), choices=language_choices)

    matter = forms.ModelChoiceField(
        label=_("What is it about?"), queryset=Service.objects.none(), required=False, empty_label=None
    )

    def __init__(
        self, *args: object, offices: list[Office], within_days: int, ask_matter: bool = False, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.within_days = within_days
        if ask_matter:  # no services chosen before: the services that take urgent cases
            self.fields["matter"].queryset = Service.objects.filter(active=True, urgent_within_days__isnull=False)
            self.fields["matter"].required = True
        else:
            del self.fields["matter"]
        self.fields["offices"].queryset = Office.objects.filter(pk__in=[office.pk for office in offices])
        self.fields["language"].initial = (get_language() or "de")[:2]

    def clean(self) -> dict:
        cleaned = super().clean()
        matter, deadline = cleaned.get("matter"), cleaned.get("deadline")
        if matter is not None and deadline is not None and matter.urgent_within_days is not None:
            self._check_deadline(deadline, matter.urgent_within_days)
        return cleaned

    def _check_deadline(self, deadline: datetime.date, days: int) -> None:
        today = timezone.now().astimezone(BERLIN).date()
        if deadline > today + datetime.timedelta(days=days):
            self.add_error(
                "deadline",
                _("Urgent cases are those due within %(days)s days. Please book an appointment as usual.")
                % {"days": days},
            )

    def clean_deadline(self) -> datetime.date:
        deadline = self.cleaned_data["deadline"]
        today = timezone.now().astimezone(BERLIN).date()
        if deadline > today + datetime.timedelta(days=self.within_days):
            raise forms.ValidationError(
                _("Urgent cases are those due within %(days)s days. Please book an appointment as usual.")
                % {"days": self.within_days}
            )
        return deadline
