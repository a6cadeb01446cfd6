"""Who may see which office, and how a staff page or staff API endpoint reaches what it works on.

The one place of the rule: an administrator works for every office, a
manager or clerk for the offices of their memberships. Every staff page and
endpoint reaches an office, appointment, ticket, hold or block through one
of the ``*_for_staff`` helpers below: another office's is 404 (its existence
is not revealed), an office of one's own on a page for managers only is 403
for a clerk.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from booking.models import Appointment, Hold
from booking.selectors import hold_by_token
from offices.models import Block, Membership, Office
from tickets.models import Ticket


class Role:
    CLERK = Membership.Role.CLERK
    MANAGER = Membership.Role.MANAGER
    ADMINISTRATOR = "administrator"


def _is_staff_member(user: AbstractBaseUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def staff_offices(user: AbstractBaseUser) -> QuerySet[Office]:
    """The offices this user works for: every office for an administrator, their memberships' for staff."""
    if not _is_staff_member(user):
        return Office.objects.none()
    if user.is_superuser:
        return Office.objects.all()
    return Office.objects.filter(memberships__user=user).distinct()


def managed_offices(user: AbstractBaseUser) -> QuerySet[Office]:
    """The offices this user manages: every office for an administrator, their manager memberships' for staff."""
    if not _is_staff_member(user):
        return Office.objects.none()
    if user.is_superuser:
        return Office.objects.all()
    return Office.objects.filter(memberships__user=user, memberships__role=Membership.Role.MANAGER).distinct()


def office_managed_by(*, user: AbstractBaseUser, slug: str) -> Office:
    """The office if this user manages it; 404 otherwise, for clerks too (pages outside the desk, as the capacity
    overview and the office's messages, do not exist for them)."""
    office = managed_offices(user).filter(slug=slug).first()
    if office is None:
        raise Http404("No such office.")
    return office


def staff_role(*, user: AbstractBaseUser, office: Office) -> str | None:
    """The user's role at the office: administrator, manager, clerk, or None (no access)."""
    if not _is_staff_member(user):
        return None
    if user.is_superuser:
        return Role.ADMINISTRATOR
    return Membership.objects.filter(user=user, office=office).values_list("role", flat=True).first()


def can_manage(role: str | None) -> bool:
    return role in (Role.MANAGER, Role.ADMINISTRATOR)


def _role_at(*, user: AbstractBaseUser, office: Office | None, manager: bool, missing: str) -> str:
    """The user's role at the office; 404 (``missing``) when none, 403 for a clerk where a manager is needed."""
    role = staff_role(user=user, office=office) if office is not None else None
    if role is None:
        raise Http404(missing)
    if manager and not can_manage(role):
        raise PermissionDenied("Office managers only.")
    return role


def office_for_staff(*, user: AbstractBaseUser, slug: str, manager: bool = False) -> tuple[Office, str]:
    """The office and the user's role there; 404 for an office not theirs, 403 for a clerk on a manager's page."""
    office = Office.objects.filter(slug=slug).first()
    return office, _role_at(user=user, office=office, manager=manager, missing="No such office.")


def appointment_for_staff(*, user: AbstractBaseUser, pk: int, manager: bool = False) -> tuple[Appointment, str]:
    """The appointment and the user's role at its office; 404 unless its office is one of the user's."""
    appointment = Appointment.objects.select_related("office").filter(pk=pk).first()
    office = appointment.office if appointment is not None else None
    return appointment, _role_at(user=user, office=office, manager=manager, missing="No such appointment.")


def ticket_for_staff(*, user: AbstractBaseUser, pk: int) -> tuple[Ticket, str]:
    """The queue ticket and the user's role at its office; 404 unless its office is one of the user's."""
    ticket = Ticket.objects.select_related("office", "appointment").filter(pk=pk).first()
    office = ticket.office if ticket is not None else None
    return ticket, _role_at(user=user, office=office, manager=False, missing="No such ticket.")


def phone_hold_for_staff(*, office: Office, token: str) -> Hold | None:
    """The phone booking's hold of this office (the caller reached the office first); None once it is gone.

    A hold of another office, or a citizen's online hold, is 404 like another office.
    """
    hold = hold_by_token(token)
    if hold is not None and (hold.office_id != office.pk or hold.channel != Appointment.Channel.PHONE):
        raise Http404("No such reserved time.")
    return hold


def block_for_staff(*, office: Office, pk: int) -> Block:
    """A blocked time of this office (the caller reached the office as its manager first); 404 for another's."""
    block = Block.objects.filter(office=office, pk=pk).first()
    if block is None:
        raise Http404("No such blocked time.")
    return block
