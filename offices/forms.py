"""The public feedback form (offices/views_pages.py): it validates and converts, the view stores."""

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.utils.translation import gettext_lazy as _

from offices.models import Feedback

PAGE_MAX_LENGTH = 500


def site_path(value: str, *, host: str) -> str:
    """The path of ``value`` if it names a page of this site (a path, or a full address on ``host``), else "".

    The query and the fragment are left out. An address elsewhere is dropped, not refused: the field is
    only a hint for the administrators, and a link to another site in their mail is what spam wants.
    """
    value = value.strip()
    if not value or len(value) > PAGE_MAX_LENGTH * 4:
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. a broken IPv6 host
        return ""
    if (parts.scheme or parts.netloc) and (
        parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower()
    ):
        return ""
    path = parts.path
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return ""
    if any(ord(char) < 32 or ord(char) == 127 for char in path):  # noqa: PLR2004 - control characters
        return ""
    return path[:PAGE_MAX_LENGTH]


class FeedbackForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is it about?"),
        choices=Feedback.Kind.choices,
        initial=Feedback.Kind.BARRIER,
        widget=forms.RadioSelect,
    )
    page = forms.CharField(
        label=_("Page address (optional)"),
        required=False,
        max_length=PAGE_MAX_LENGTH * 4,
        help_text=_(
            "The page of this site your message is about, for example /book/. Addresses elsewhere are left out."
        ),
    )
    message = forms.CharField(
        label=_("Your message"),
        max_length=Feedback.MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What did you want to do, and what stopped you? At most 5,000 characters."),
    )
    name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=120)
    email = forms.EmailField(
        label=_("Your e-mail address (optional)"),
        required=False,
        max_length=254,
        help_text=_("Only if you would like an answer."),
    )

    def __init__(self, *args: Any, host: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.host = host
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["name"].widget.attrs["autocomplete"] = "name"

    def clean_page(self) -> str:
        return site_path(self.cleaned_data.get("page", ""), host=self.host)
