"""The clerks' desk pages. Each view reaches its office, appointment, ticket, hold or block through
``desk.access`` (404 for another office, 403 for a clerk on a manager's page)
and renders with ``staff_context`` so every page has the same navigation."""

from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from booking.models import Appointment
from desk.access import can_manage, staff_offices
from offices.models import Membership, Office

# The pages of an office's desk (URL names): whether only its managers may open it.
OFFICE_PAGES = {
    "day": False,
    "queue": False,
    "book": False,
    "waitlist": False,
    "urgent-cases": False,
    "rebook": True,
    "absences": True,
    "blocks": True,
    "audit": True,
    "capacity": True,
    "office-messages": True,
}
# The steps of a page that belongs to another one (its tab and the page the office switcher keeps).
PAGE_OF = {"book-time": "book", "book-contact": "book"}


@dataclass(frozen=True)
class Tab:
    url: str
    label: str
    current: bool
    badge: int = 0


@dataclass(frozen=True)
class OfficeLink:
    office: Office
    url: str
    current: bool


class OfficeSwitch:
    """The offices of the switcher in the header, each linking to the same page at that office (or its day,
    where the user may not open that page). Read only when the page shows it: an htmx partial never asks."""

    def __init__(self, *, user: AbstractBaseUser, office: Office, page: str, query: str) -> None:
        self.user, self.office, self.page, self.query = user, office, page, query

    @cached_property
    def links(self) -> list[OfficeLink]:
        offices = staff_offices(self.user).order_by("name")
        managers_only = OFFICE_PAGES.get(self.page, False)
        if managers_only and not self.user.is_superuser:
            managed = Membership.objects.filter(office=OuterRef("pk"), user=self.user, role=Membership.Role.MANAGER)
            offices = offices.annotate(managed=Exists(managed))
        links = []
        for other in offices:
            if self.page in OFFICE_PAGES and (not managers_only or self.user.is_superuser or other.managed):
                url = reverse(f"desk:{self.page}", args=[other.slug]) + (f"?{self.query}" if self.query else "")
            else:
                url = reverse("desk:day", args=[other.slug])
            links.append(OfficeLink(other, url, other.pk == self.office.pk))
        return links


def _page(request: HttpRequest) -> str:
    """The desk page being shown (its URL name; a booking step counts as the booking)."""
    match = request.resolver_match
    name = match.url_name if match is not None and match.namespace == "desk" else ""
    return PAGE_OF.get(name or "", name or "")


def _tabs(page: str, office: Office, *, manager: bool, rebook_count: int) -> tuple[list[Tab], list[Tab]]:
    """The desk's tabs: the ones every clerk uses, then the manager's (behind "More", so the row fits one line)."""

    def tab(name: str, label: str, badge: int = 0) -> Tab:
        return Tab(reverse(f"desk:{name}", args=[office.slug]), label, page == name, badge)

    tabs = [
        tab("day", _("Day")),
        tab("queue", _("Queue")),
        tab("book", _("Book for a caller")),
        tab("waitlist", _("Waitlist")),
        tab("urgent-cases", _("Urgent cases")),
    ]
    if not manager:
        return tabs, []
    tabs.append(tab("rebook", _("To rebook"), rebook_count))
    more = [
        tab("absences", _("Absences")),
        tab("blocks", _("Blocked times")),
        tab("audit", _("Audit log")),
        tab("capacity", _("Capacity")),
        tab("office-messages", _("Messages")),
    ]
    return tabs, more


def staff_context(
    request: HttpRequest, office: Office, role: str, *, switch_query: str = "", **extra: object
) -> dict[str, object]:
    """What templates/desk/_layout.html needs: the office, the user's role, the count to rebook, the tabs and the
    office switcher (``switch_query`` is kept when switching, as the week or the filter)."""
    manager = can_manage(role)
    rebook_count = Appointment.objects.filter(office=office, status=Appointment.Status.NEEDS_REBOOKING).count()
    page = _page(request)
    tabs, more_tabs = _tabs(page, office, manager=manager, rebook_count=rebook_count)
    return {
        "office": office,
        "role": role,
        "is_manager": manager,
        "rebook_count": rebook_count,
        "tabs": tabs,
        "more_tabs": more_tabs,
        "more_current": next((tab for tab in more_tabs if tab.current), None),
        "office_switch": OfficeSwitch(user=request.user, office=office, page=page, query=switch_query),
        **extra,
    }
