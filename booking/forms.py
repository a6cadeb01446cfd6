"""Forms of the citizen's booking flow: they validate and convert, the services decide."""

import datetime
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from booking.grid import BERLIN, UTC
from booking.needs import MAX_SERVICES, Need
from booking.services.appointments import Contact
from offices.models import Category, Service


class NeedsForm(forms.Form):
    """Step 1: for each service, how many persons need it (0: not needed)."""

    def __init__(self, *args: object, categories: list[Category], initial_needs: list[Need] = (), **kwargs: object):
        super().__init__(*args, **kwargs)
        chosen = {need.service.pk: need.persons for need in initial_needs}
        self.groups: list[tuple[Category, list[forms.BoundField]]] = []
        self._services: dict[str, Service] = {}
        for category in categories:
            fields = []
            for service in category.services.all():
                name = f"persons-{service.slug}"
                choices = [(0, _("not needed"))] + [
                    (n, ngettext("%(count)s person", "%(count)s persons", n) % {"count": n})
                    for n in range(1, service.max_persons + 1)
                ]
                self.fields[name] = forms.TypedChoiceField(
                    label=service.name,
                    choices=choices,
                    coerce=int,
                    initial=chosen.get(service.pk, 0),
                    required=False,
                    empty_value=0,
                )
                self._services[name] = service
                fields.append(self[name])
            self.groups.append((category, fields))

    def clean(self) -> dict:
        cleaned = super().clean()
        needs = [Need(service, cleaned[name]) for name, service in self._services.items() if cleaned.get(name)]
        if not needs:
            raise forms.ValidationError(_("Choose at least one service."), code="empty")
        if len(needs) > MAX_SERVICES:
            raise forms.ValidationError(
                _("At most %(count)s different services fit into one appointment.") % {"count": MAX_SERVICES},
                code="too_many",
            )
        cleaned["needs"] = needs
        return cleaned


_LOCAL_START = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}([+-]\d{2}:\d{2})?$")


class StartForm(forms.Form):
    """The start time a citizen picked from the offered times: Berlin's wall clock, ``YYYY-MM-DDTHH:MM``.

    The time buttons add the offset from UTC (``…T02:30+01:00``): on the autumn day
    02:30 happens twice and only the offset says which one was chosen. Without it
    the first is meant; an offset Berlin does not have at that time is refused.
    The start comes out in UTC: ``start + duration`` on a Berlin-aware time in the
    repeated hour would be wall-clock arithmetic and end before it starts.
    """

    start = forms.CharField(max_length=25)

    def clean_start(self) -> datetime.datetime:
        value = self.cleaned_data["start"]
        try:
            match = _LOCAL_START.match(value)
            if not match:
                raise ValueError(value)
            given = datetime.datetime.fromisoformat(value)
            if match.group(1) is None:
                return given.replace(tzinfo=BERLIN).astimezone(UTC)
            if given.astimezone(BERLIN).replace(tzinfo=None) != given.replace(tzinfo=None):  # not Berlin's clock
                raise ValueError(value)
            return given.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("Please choose one of the times offered."), code="invalid") from None


def contact_from(data: Mapping[str, Any]) -> Contact:
    """The citizen's details from a contact form's cleaned data (the citizen's own form or the clerk's)."""
    return Contact(
        name=data["name"],
        email=data["email"],
        phone=data["phone"],
        language=data["language"],
        reminders_consent=data["reminders_consent"],
        interpreter_language=data["interpreter_language"],
        step_free_access=data["step_free_access"],
    )


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(
        label=_("E-mail address"), help_text=_("The confirmation and the link to change or cancel go here.")
    )
    phone = forms.RegexField(
        label=_("Phone number (optional)"),
        regex=r"^\+?[0-9 ()/-]{6,30}$",
        required=False,
        max_length=30,
        error_messages={"invalid": _("Enter a phone number with digits only, for example 0341 123456.")},
    )
    language = forms.ChoiceField(label=_("Language of our messages"), choices=settings.LANGUAGES)
    reminders_consent = forms.BooleanField(
        label=_("Yes, remind me of the appointment the day before by e-mail."), required=False
    )
    interpreter = forms.BooleanField(label=_("I need an interpreter."), required=False)
    interpreter_language = forms.CharField(label=_("Interpreter for which language?"), max_length=100, required=False)
    step_free_access = forms.BooleanField(label=_("I need step-free access."), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = (get_language() or "de")[:2]
        for name in ["name", "email", "phone"]:
            self.fields[name].widget.attrs["autocomplete"] = {"name": "name", "email": "email", "phone": "tel"}[name]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("interpreter") and not (cleaned.get("interpreter_language") or "").strip():
            self.add_error("interpreter_language", _("Please tell us the language."))
        if not cleaned.get("interpreter"):
            cleaned["interpreter_language"] = ""
        return cleaned

    def contact(self) -> Contact:
        return contact_from(self.cleaned_data)
