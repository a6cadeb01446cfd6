"""Forms of the clerks' queue: they validate and convert, tickets.services and desk.queue decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from offices.models import Office, Service


class UrgentForm(forms.Form):
    """An urgent case a clerk registers: the matter is optional (the clerk may not know it yet)."""

    service = forms.ModelChoiceField(
        label=_("Matter (optional)"),
        queryset=Service.objects.none(),
        required=False,
        empty_label=_("Not given"),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": _("Choose one of the matters this office offers.")},
    )

    def __init__(self, *args: object, office: Office, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(offered_at__office=office, active=True).order_by(
            "position", "name"
        )
