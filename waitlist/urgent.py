"""Urgent cases (issue 18, point 3; Stuttgart's "Notfalltool"): registrations with a deadline, served first.

Each office with an urgent contingent (``booking.services.contingent``) invites them every day from
``Office.urgent_invite_time``, deadline first (``waitlist.selectors.in_order``): the earliest kept time that fits
is booked for them at once, and the booking's confirmation (time, what to bring, calendar file) is the
invitation. Staff see them by deadline, check them, invite one by hand (the contingent first, else the earliest
free time) or refuse one with a reason; an invited case that does not come has used its time.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.errors import BookingError
from booking.grid import BERLIN
from booking.models import Appointment
from booking.needs import Need
from booking.services.appointments import Contact, appointment_book, hold_place
from booking.services.contingent import contingent_offices, contingent_starts, contingent_take
from offices.models import Office
from waitlist.messages import Kind, registration_message_record
from waitlist.models import Registration
from waitlist.selectors import earliest_fitting, fits, in_order, offices_for, registration_needs


def urgent_invite(
    *,
    registration: Registration,
    now: datetime.datetime,
    contingent_only: bool = False,
    inviting: set[int] | None = None,
    at_office: Office | None = None,
) -> Appointment | None:
    """Book the earliest time that fits an urgent case: from the contingent (of the offices in ``inviting``, all
    when None), else (unless ``contingent_only``) any free time; None when there is none. The booking's
    confirmation is the invitation. ``at_office``: only there (a clerk inviting by hand uses their own office's
    times)."""
    needs = registration_needs(registration)
    if not needs:
        return None
    if at_office is not None:
        inviting = {at_office.pk}
    not_before = now + datetime.timedelta(minutes=30)
    best = None
    for office, minutes in offices_for(registration, needs, now=now).items():
        if inviting is not None and office.pk not in inviting:
            continue
        for start, hold in contingent_starts(office=office, minutes=minutes, now=now, not_before=not_before):
            if fits(registration, start):
                if best is None or start < best[1]:
                    best = (office, start, hold)
                break
    try:
        with transaction.atomic():
            # The claim: a waiting (or offered-nothing-yet) case is served once, whoever invites it.
            if not Registration.objects.filter(
                pk=registration.pk, status=Registration.Status.WAITING, deadline__isnull=False
            ).update(status=Registration.Status.BOOKED, updated_at=now):
                return None
            if best is not None:
                office, start, kept = best
                hold = contingent_take(hold=kept, office=office, start=start, needs=needs, now=now)
            elif contingent_only:
                raise _Nothing
            else:
                found = earliest_fitting(registration, needs, now=now, not_before=not_before, only=at_office)
                if found is None:
                    raise _Nothing
                office, start = found
                hold = hold_place(office=office, start=start, needs=needs, now=now)
            appointment = appointment_book(
                office=office,
                start=hold.start,
                needs=needs,
                contact=Contact(
                    name=registration.name,
                    email=registration.email,
                    phone=registration.phone,
                    language=registration.language,
                ),
                now=now,
                hold_token=hold.token,
                email_known=True,
            )
            Registration.objects.filter(pk=registration.pk).update(appointment=appointment)
            return appointment
    except (_Nothing, BookingError):
        return None


class _Nothing(Exception):
    """No time for this case now: its claim is rolled back."""


def served_by_contingent(registration: Registration, needs: list[Need], *, now: datetime.datetime) -> bool:
    """An urgent case that an office it can go to has a contingent for: invited from it, not offered other times."""
    return registration.deadline is not None and any(
        office.urgent_counters for office in offices_for(registration, needs, now=now)
    )


def urgent_invitations(*, now: datetime.datetime, limit: int = 200) -> int:
    """From each contingent office's invite time on: the waiting urgent cases, deadline first, get its kept times."""
    local = timezone.localtime(now, BERLIN).time()
    inviting = {office.pk for office in contingent_offices() if local >= office.urgent_invite_time}
    if not inviting:
        return 0
    invited = 0
    for registration in in_order(now=now).filter(deadline__isnull=False)[:limit]:
        if urgent_invite(registration=registration, now=now, contingent_only=True, inviting=inviting) is not None:
            invited += 1
    return invited


def urgent_check(*, registration: Registration, now: datetime.datetime) -> Registration:
    """A clerk has looked at the case and finds it urgent."""
    Registration.objects.filter(pk=registration.pk, checked_at__isnull=True).update(checked_at=now, updated_at=now)
    registration.refresh_from_db()
    return registration


@transaction.atomic
def urgent_refuse(*, registration: Registration, reason: str, now: datetime.datetime) -> Registration:
    """Not an urgent case: it leaves the list and the citizen is told why (they can book as everyone does)."""
    reason = reason.strip()
    if not reason:
        raise BookingError(_("Please give the reason, for the citizen."), field="reason")
    changed = Registration.objects.filter(
        pk=registration.pk,
        deadline__isnull=False,
        status__in=[Registration.Status.UNCONFIRMED, Registration.Status.WAITING, Registration.Status.PAUSED],
    ).update(status=Registration.Status.REFUSED, refused_reason=reason[:300], updated_at=now)
    registration.refresh_from_db()
    if changed and registration.email:  # a caller without one is told on the phone
        registration_message_record(registration=registration, kind=Kind.REFUSED, now=now)
    return registration
