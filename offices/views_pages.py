"""The pages every page links to: the accessibility statement, the feedback form, booking in Leichte Sprache.

The feedback form is the statement's contact (BITV 2.0 § 7): a message is stored
first and then mailed to the administrators once the row is committed, so a mail
server that is down loses nothing (the admin lists every message).
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from access.limits import limited
from offices.forms import FeedbackForm, site_path
from offices.retention import offices_keeping_longer, retention_days
from offices.services import feedback_receive

logger = logging.getLogger(__name__)

STATEMENT_DATE_DEFAULT = "2026-12-07"


def statement_date() -> datetime.date:
    """When the statement was prepared: ``settings.ACCESSIBILITY_STATEMENT_DATE`` (an ISO date)."""
    value = getattr(settings, "ACCESSIBILITY_STATEMENT_DATE", STATEMENT_DATE_DEFAULT)
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ImproperlyConfigured(
            f"ACCESSIBILITY_STATEMENT_DATE must be a date like 2026-12-07, not {value!r}."
        ) from None


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    # A Land's own conciliation body may be the one for a city; without the setting, the federal one (§ 16 BGG).
    context = {
        "statement_date": statement_date(),
        "conciliation_body": getattr(settings, "ACCESSIBILITY_CONCILIATION_BODY", "") or "",
    }
    return render(request, "offices/accessibility.html", context)


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy page, generated from the retention settings so it cannot drift from them."""
    context = {
        "retention_days": retention_days(),
        "offices_longer": offices_keeping_longer(),
        # Who answers questions on personal data: settings.PRIVACY_CONTACT (several lines), else the feedback form.
        "privacy_contact": getattr(settings, "PRIVACY_CONTACT", "") or "",
    }
    return render(request, "offices/privacy.html", context)


@require_GET
def easy_language(request: HttpRequest) -> HttpResponse:
    return render(request, "offices/easy_language.html")


# The feedback form: every POST spends the client's "book" budget (a write a citizen makes, like a booking),
# every GET its "read" budget, as the booking pages do.


@require_http_methods(["GET", "HEAD", "POST"])
@limited("read")
@limited("book")
def feedback(request: HttpRequest) -> HttpResponse:
    host = request.get_host()
    if request.method == "POST":
        form = FeedbackForm(request.POST, host=host)
        if form.is_valid():
            feedback_receive(**form.cleaned_data)
            return redirect("offices:feedback-thanks")
    else:
        # Where the person came from: ?page= (the footer's link) or the browser's Referer, only a page of this site.
        page = site_path(request.GET.get("page") or request.headers.get("Referer", ""), host=host)
        if page == request.path:
            page = ""
        form = FeedbackForm(initial={"page": page}, host=host)
    return render(request, "offices/feedback.html", {"form": form})


@require_GET
def feedback_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "offices/feedback_thanks.html")
