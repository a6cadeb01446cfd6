"""Forms of the citizen's booking flow: they validate and convert, the services decide."""

import datetime
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from booking.grid import BERLIN, UTC
from booking.needs import MAX_SERVICES, Need
from booking.services.appointments import Contact
from buergerservice.languages import language_choices
from offices.models import Category, Service

# The hidden field the citizen's form of step 1 sends: the services are the ticked boxes (``service``), and each
# ``persons-<slug>`` counts only for a ticked one. Without it (the clerks' form, older addresses) a service is
# chosen when its ``persons-<slug>`` is more than 0.
TICKED = "choose"


class NeedsForm(forms.Form):
    """Step 1: which services, and for how many persons each.

    Two ways to say it: a box ticked per service (``service``) with its persons
    (the citizen's page, marked by ``TICKED``), or for each service its persons
    with 0 for "not needed" (the clerks' page).
    """

    def __init__(
        self,
        *args: object,
        categories: list[Category],
        initial_needs: list[Need] = (),
        services: list[Service] | None = None,
        **kwargs: object,
    ):
        """``services`` (with their categories) are the ones to offer; by default each category's ``services``."""
        super().__init__(*args, **kwargs)
        chosen = {need.service.pk: need.persons for need in initial_needs}
        by_category: dict[int, list[Service]] | None = None
        if services is not None:
            by_category = {}
            for service in services:
                by_category.setdefault(service.category_id, []).append(service)
        self.groups: list[tuple[Category, list[forms.BoundField]]] = []
        self.entries: list[tuple[Category, list[tuple[Service, forms.BoundField]]]] = []
        self._services: dict[str, Service] = {}
        self.ticking = self.is_bound and TICKED in self.data
        for category in categories:
            fields = []
            offered = by_category.get(category.pk, []) if by_category is not None else category.services.all()
            for service in offered:
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
                    empty_value=1 if self.ticking else 0,
                )
                self._services[name] = service
                fields.append(self[name])
            self.groups.append((category, fields))
            self.entries.append((category, [(self._services[field.name], field) for field in fields]))
        self.fields["service"] = forms.MultipleChoiceField(
            label=_("Services"),
            choices=[(service.slug, service.name) for service in self._services.values()],
            required=False,
            widget=forms.CheckboxSelectMultiple,
            initial=[service.slug for service in self._services.values() if service.pk in chosen],
        )

    def is_ticked(self, service: Service) -> bool:
        """Is the service chosen as the page shows it: sent ticked (or with persons), or chosen before."""
        if not self.is_bound:
            return service.slug in self.fields["service"].initial
        if self.ticking:
            return service.slug in self.data.getlist("service")
        return str(self.data.get(f"persons-{service.slug}", "")).strip() not in ("", "0")

    def persons_shown(self, service: Service) -> str:
        """The persons to show selected for a service: as sent, as chosen before, or 1."""
        field = self[f"persons-{service.slug}"]
        value = str(field.value() if self.is_bound else field.initial)
        return value if value not in ("", "0", "None") else "1"

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.ticking:
            needs = self._ticked_needs(cleaned)
            if needs is None:
                return cleaned
        else:
            needs = [Need(service, cleaned[name]) for name, service in self._services.items() if cleaned.get(name)]
        if not needs:
            self._refuse(_("Choose at least one service."), code="empty")
        elif len(needs) > MAX_SERVICES:
            self._refuse(
                _("At most %(count)s different services fit into one appointment.") % {"count": MAX_SERVICES},
                code="too_many",
            )
        else:
            cleaned["needs"] = needs
        return cleaned

    def _ticked_needs(self, cleaned: dict) -> list[Need] | None:
        """The ticked services with their persons; None (and the errors) when a ticked one's persons are wrong.

        The persons of a service not ticked are not asked about, whatever was sent for them.
        """
        ticked = set(cleaned.get("service") or [])
        needs, wrong = [], False
        for name, service in self._services.items():
            if service.slug not in ticked:
                self._errors.pop(name, None)
            elif name in self._errors:  # more persons than the service allows, or no number at all
                wrong = True
                self._errors[name] = self.error_class(
                    [
                        ngettext(
                            "“%(service)s” can be booked for at most %(count)s person.",
                            "“%(service)s” can be booked for at most %(count)s persons.",
                            service.max_persons,
                        )
                        % {"service": service.name, "count": service.max_persons}
                    ]
                )
            elif not cleaned.get(name):
                wrong = True
                self._errors[name] = self.error_class([_("Each service needs at least one person.")])
            else:
                needs.append(Need(service, cleaned[name]))
        return None if wrong or "service" in self._errors else needs

    def _refuse(self, message: str, *, code: str) -> None:
        """The citizen's page links the message to the services; the clerks' page shows it above the form."""
        self.add_error("service" if self.ticking else None, forms.ValidationError(message, code=code))


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
    language = forms.ChoiceField(label=_("Language of our messages"), choices=language_choices)
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
