"""The clerks' desk pages. Each view reaches its office, appointment, ticket, hold or block through
``desk.access`` (404 for another office, 403 for a clerk on a manager's page)
and renders with ``staff_context`` so every page has the same navigation."""

from django.http import HttpRequest

from booking.models import Appointment
from desk.access import can_manage, staff_offices
from offices.models import Office


def staff_context(request: HttpRequest, office: Office, role: str, **extra: object) -> dict[str, object]:
    """What templates/desk/_layout.html needs: the office, the user's role and offices, the count to rebook."""
    return {
        "office": office,
        "role": role,
        "is_manager": can_manage(role),
        "offices": staff_offices(request.user).order_by("name"),
        "rebook_count": Appointment.objects.filter(office=office, status=Appointment.Status.NEEDS_REBOOKING).count(),
        **extra,
    }
