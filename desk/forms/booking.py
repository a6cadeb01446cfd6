"""The clerk's form for the caller's details: only the name is required; the rules live in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from booking.forms import contact_from
from booking.services.appointments import Contact
from buergerservice.languages import language_choices
from notifications.sms import mobile_number


class DeskContactForm(forms.Form):
    name = forms.CharField(label=_("Name of the citizen"), max_length=200)
    phone = forms.RegexField(
        label=_("Phone number (optional)"),
        regex=r"^\+?[0-9 ()/-]{6,30}$",
        required=False,
        max_length=30,
        help_text=_("An SMS confirmation with the booking code is sent to a mobile number only."),
        error_messages={"invalid": _("Enter a phone number with digits only, for example 0341 123456.")},
    )
    email = forms.EmailField(
        label=_("E-mail address (optional)"),
        required=False,
        help_text=_("The confirmation and the link to change or cancel go here."),
    )
    language = forms.ChoiceField(label=_("Language of the messages"), choices=language_choices, initial="de")
    reminders_consent = forms.BooleanField(
        label=_("The citizen wants a reminder the day before (by SMS or e-mail)."), required=False
    )
    interpreter_language = forms.CharField(
        label=_("Interpreter needed for (language, optional)"), max_length=100, required=False
    )
    step_free_access = forms.BooleanField(label=_("Needs step-free access"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "off"
        self.fields["phone"].widget.attrs.update({"autocomplete": "off", "inputmode": "tel"})
        self.fields["email"].widget.attrs["autocomplete"] = "off"

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Please enter the citizen's name."), code="required")
        return name

    @property
    def mobile(self) -> str | None:
        """The phone number in E.164 if it is a mobile one (an SMS goes there), else None."""
        return mobile_number(self.cleaned_data.get("phone") or "")

    def contact(self) -> Contact:
        return contact_from(self.cleaned_data)
