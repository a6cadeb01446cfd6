"""Writes of the waitlist: registering, confirming and withdrawing; the sweep that offers freed times in the one
order (``waitlist.selectors.in_order``); booking or declining an offer.

An offer keeps its time by a hold (``booking.services.appointments.hold_place``), so the grid's rules and lock
order are booking's. Races are settled by conditional updates: a registration is claimed for an offer by moving
it from *waiting* to *offered* (two sweeps never offer one person two times), a freed hold is claimed by
deleting it (``hold_place(replacing=...)``), the units by ``slots_take`` (never one time to two people), and an
offer is decided by moving it from *open* (booked, declined and lapsed exclude each other).
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.identity import email_key
from booking.errors import BookingError
from booking.grid import BERLIN
from booking.models import FREED_HOLDER, OFFER_HOLDER, Appointment, Hold
from booking.needs import Need
from booking.services.appointments import Contact, appointment_book, hold_place, person_limit_reached
from booking.services.locks import address_lock, slots_lock
from offices.models import Office
from waitlist.messages import Kind, registration_message_record
from waitlist.models import Offer, Registration
from waitlist.selectors import earliest_fitting, fits, in_order, offered_before, offices_for, registration_needs
from waitlist.urgent import served_by_contingent, urgent_invitations

logger = logging.getLogger(__name__)

NO_LONGER_OPEN = _("This offer is no longer open. We will write to you when another time becomes free.")
TIME_GONE = _(
    "The office had to change its times, and the time offered to you is no longer available. You keep your place; "
    "we will write to you when another time becomes free."
)


@dataclass(frozen=True)
class Wish:
    """When and where a citizen can come."""

    needs: list[Need]
    offices: list[Office]  # none: any office offering the needs
    first_day: datetime.date
    last_day: datetime.date
    weekdays: list[int]  # none: any
    parts: list[str]  # none: any


def registration_create(  # noqa: PLR0913 - keyword-only, each one named
    *,
    wish: Wish,
    name: str,
    email: str,
    language: str,
    now: datetime.datetime,
    deadline: datetime.date | None = None,
    reason: str = "",
    phone: str = "",
) -> Registration:
    """Put a citizen on the waitlist; they confirm the address by the link sent to it before anything is offered.

    At most ``WAITLIST_MAX_PER_EMAIL`` live registrations per person (the address compared as the booking
    limit compares it), so a script cannot fill the list with one mailbox.
    """
    email = email.strip().lower()
    key = email_key(email)
    with transaction.atomic():
        address_lock(f"waitlist:{key}")  # two sign-ups at once are counted one after the other
        live = Registration.objects.filter(email_key=key, status__in=LIVE)
        if key and live.count() >= settings.WAITLIST_MAX_PER_EMAIL:
            raise BookingError(
                _("This e-mail address is already waiting for %(count)s times. Withdraw one of them first.")
                % {"count": settings.WAITLIST_MAX_PER_EMAIL},
                field="email",
            )
        registration = Registration.objects.create(
            needs=[[need.service.pk, need.persons] for need in wish.needs],
            first_day=wish.first_day,
            last_day=wish.last_day,
            weekdays=sorted(set(wish.weekdays)),
            parts=sorted(set(wish.parts)),
            name=name.strip(),
            email=email,
            email_key=key,
            language=language,
            deadline=deadline,
            reason=reason.strip(),
            phone=phone.strip(),
            created_at=now,
        )
        registration.offices.set(wish.offices)
        if email:  # a caller's case without one is confirmed by the clerk on the phone
            registration_message_record(registration=registration, kind=Kind.CONFIRM, now=now)
    return registration


URGENT_DAYS = 30  # how far ahead an urgent case may be served


@dataclass(frozen=True)
class UrgentCase:
    needs: list[Need]
    offices: list[Office]  # none: any office offering the needs
    deadline: datetime.date
    reason: str


def urgent_register(  # noqa: PLR0913 - keyword-only, each one named
    *, case: UrgentCase, name: str, email: str, language: str, now: datetime.datetime, phone: str = ""
) -> Registration:
    """An urgent case on the waitlist: served from today on, first in line by its deadline."""
    today = timezone.localtime(now, BERLIN).date()
    wish = Wish(
        needs=case.needs,
        offices=case.offices,
        first_day=today,
        last_day=today + datetime.timedelta(days=URGENT_DAYS),
        weekdays=[],
        parts=[],
    )
    return registration_create(
        wish=wish,
        name=name,
        email=email,
        language=language,
        now=now,
        deadline=case.deadline,
        reason=case.reason,
        phone=phone,
    )


LIVE = [
    Registration.Status.UNCONFIRMED,
    Registration.Status.WAITING,
    Registration.Status.OFFERED,
    Registration.Status.PAUSED,
]


def registration_confirm(*, registration: Registration, now: datetime.datetime) -> Registration:
    """The citizen opened the link: the registration waits from now on, at the place of its registration time."""
    Registration.objects.filter(pk=registration.pk, status=Registration.Status.UNCONFIRMED).update(
        status=Registration.Status.WAITING, confirmed_at=now, updated_at=now
    )
    registration.refresh_from_db()
    return registration


def registration_change(*, registration: Registration, wish: Wish, now: datetime.datetime) -> Registration:
    """The citizen changes when and where they can come; an open offer stays (they can decline it)."""
    if not registration.live:
        raise BookingError(_("This registration has ended and can no longer be changed."))
    Registration.objects.filter(pk=registration.pk).update(
        needs=[[need.service.pk, need.persons] for need in wish.needs],
        first_day=wish.first_day,
        last_day=wish.last_day,
        weekdays=sorted(set(wish.weekdays)),
        parts=sorted(set(wish.parts)),
        updated_at=now,
    )
    registration.offices.set(wish.offices)
    registration.refresh_from_db()
    return registration


@transaction.atomic
def registration_withdraw(*, registration: Registration, now: datetime.datetime) -> Registration:
    """The citizen no longer waits; a time offered to them passes on at once."""
    changed = Registration.objects.filter(pk=registration.pk, status__in=LIVE).update(
        status=Registration.Status.WITHDRAWN, updated_at=now
    )
    if changed:
        for offer in Offer.objects.filter(registration=registration, status=Offer.Status.OPEN):
            _offer_close(offer, status=Offer.Status.WITHDRAWN, now=now)
    registration.refresh_from_db()
    return registration


def registration_resume(*, registration: Registration, now: datetime.datetime) -> Registration:
    """A paused registration (offers lapsed) waits again, at its old place, once the citizen says so."""
    Registration.objects.filter(pk=registration.pk, status=Registration.Status.PAUSED).update(
        status=Registration.Status.WAITING, lapsed_offers=0, updated_at=now
    )
    registration.refresh_from_db()
    return registration


# Offers ----------------------------------------------------------------------------------------------------------


def offer_window(*, start: datetime.datetime, now: datetime.datetime) -> datetime.datetime:
    """Until when an offer of a time starting at ``start`` stays open: ``WAITLIST_OFFER_MINUTES`` (2 hours), less
    when the time is soon (half the time left), never less than ``WAITLIST_OFFER_MIN_MINUTES``."""
    window = min(datetime.timedelta(minutes=settings.WAITLIST_OFFER_MINUTES), (start - now) / 2)
    return now + max(window, datetime.timedelta(minutes=settings.WAITLIST_OFFER_MIN_MINUTES))


def _earliest_offerable(now: datetime.datetime) -> datetime.datetime:
    """No time is offered that starts before the shortest offer window twice over: time to read and book it."""
    return now + 2 * datetime.timedelta(minutes=settings.WAITLIST_OFFER_MIN_MINUTES)


def _offer(
    *,
    registration: Registration,
    office: Office,
    start: datetime.datetime,
    needs: list[Need],
    now: datetime.datetime,
    replacing: Hold | None = None,
) -> Offer | None:
    """Keep ``start`` for ``registration`` and tell them; None when it was claimed or taken meanwhile."""
    try:
        with transaction.atomic():
            # The claim: from waiting to offered, once (a second sweep finds it offered and leaves it).
            if not Registration.objects.filter(pk=registration.pk, status=Registration.Status.WAITING).update(
                status=Registration.Status.OFFERED, updated_at=now
            ):
                return None
            if replacing is not None:
                # The claim of a freed hold: under its slots' locks it must still be there (another sweep took it).
                slots_lock([(replacing.office_id, replacing.start, replacing.end)])
                if not Hold.objects.filter(pk=replacing.pk, holder=FREED_HOLDER).exists():
                    raise _Taken  # rolls the registration's claim back
            hold = hold_place(office=office, start=start, needs=needs, now=now, replacing=replacing)
            expires_at = offer_window(start=start, now=now)
            # The hold outlives the offer by a little, so the sweep hands it on before an expiry frees it.
            grace = datetime.timedelta(minutes=settings.WAITLIST_PASS_ON_MINUTES)
            Hold.objects.filter(pk=hold.pk).update(expires_at=expires_at + grace, holder=OFFER_HOLDER)
            offer = Offer.objects.create(
                registration=registration,
                office=office,
                start=hold.start,
                end=hold.end,
                hold_token=hold.token,
                expires_at=expires_at,
                created_at=now,
            )
            registration_message_record(registration=registration, kind=Kind.OFFER, now=now, offer=offer)
            return offer
    except (BookingError, _Taken):  # taken meanwhile, or no longer bookable: the next pass looks again
        return None


class _Taken(Exception):
    """The freed hold was handed on by another sweep meanwhile."""


def _offer_close(offer: Offer, *, status: str, now: datetime.datetime) -> bool:
    """Decide an open offer (declined, lapsed, withdrawn) and hand its time on; False when it was decided already."""
    if not Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN).update(status=status, decided_at=now):
        return False
    # The time passes on: the next registration in line gets it first (the sweep's freed pass), the open calendar
    # only when nobody waiting wants it within WAITLIST_PASS_ON_MINUTES.
    Hold.objects.filter(token=offer.hold_token).update(
        holder=FREED_HOLDER, expires_at=now + datetime.timedelta(minutes=settings.WAITLIST_PASS_ON_MINUTES)
    )
    return True


@transaction.atomic
def offer_accept(*, offer: Offer, now: datetime.datetime) -> Appointment:
    """Book the offered time with one click: the offer's hold becomes the appointment (final at once: the address
    was confirmed when registering). Raises BookingError when the offer is no longer open."""
    registration = Registration.objects.select_for_update().get(pk=offer.registration_id)  # the lock order
    if not Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN, expires_at__gt=now).update(
        status=Offer.Status.ACCEPTED, decided_at=now
    ):
        raise BookingError(NO_LONGER_OPEN)
    if not Hold.objects.filter(token=offer.hold_token, holder=OFFER_HOLDER).exists():
        raise BookingError(TIME_GONE)  # given way to a change of the office's capacity: never fresh units
    needs = registration_needs(registration)
    if needs is None:
        raise BookingError(_("One of these services is no longer offered."))
    appointment = appointment_book(
        office=offer.office,
        start=offer.start,
        needs=needs,
        contact=Contact(name=registration.name, email=registration.email, language=registration.language),
        now=now,
        hold_token=offer.hold_token,
        email_known=True,
    )
    Registration.objects.filter(pk=registration.pk).update(
        status=Registration.Status.BOOKED, appointment=appointment, updated_at=now
    )
    return appointment


@transaction.atomic
def offer_decline(*, offer: Offer, now: datetime.datetime) -> Offer:
    """The citizen cannot come then: the time passes on, and they wait for the next one at their old place."""
    Registration.objects.select_for_update().get(pk=offer.registration_id)  # the lock order: the registration first
    if not _offer_close(offer, status=Offer.Status.DECLINED, now=now):
        raise BookingError(NO_LONGER_OPEN)
    Registration.objects.filter(pk=offer.registration_id, status=Registration.Status.OFFERED).update(
        status=Registration.Status.WAITING, updated_at=now
    )
    offer.refresh_from_db()
    return offer


# The sweep -------------------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    lapsed: int = 0
    paused: int = 0
    offered: int = 0
    ended: int = 0
    invited: int = 0


def offers_sweep(*, now: datetime.datetime, limit: int = 200) -> SweepResult:
    """Beat, every minute: lapse offers whose window ran out (their times pass on), end registrations whose last
    day passed, invite urgent cases to the urgent contingent (``waitlist.urgent``), offer freed times first
    (held from a cancellation or passed on), then any free time that fits, to
    the waiting registrations in ``in_order``. Safe to run from several workers at once."""
    result = SweepResult()
    _given_way(now=now)
    _lapse(now=now, result=result)
    today = timezone.localtime(now, BERLIN).date()
    for offer in Offer.objects.filter(status=Offer.Status.OPEN, registration__last_day__lt=today):
        _offer_close(offer, status=Offer.Status.WITHDRAWN, now=now)  # its registration ends: the time passes on
    result.ended = Registration.objects.filter(status__in=LIVE, last_day__lt=today).update(
        status=Registration.Status.ENDED, updated_at=now
    )
    result.invited = urgent_invitations(now=now)  # the urgent contingent first, deadline first
    _offer_freed(now=now, result=result)
    not_before = _earliest_offerable(now)
    for registration in in_order(now=now)[:limit]:
        needs = registration_needs(registration)
        if not needs or served_by_contingent(registration, needs, now=now) or _at_limit(registration, now=now):
            continue
        found = earliest_fitting(registration, needs, now=now, not_before=not_before)
        if found is not None and _offer(
            registration=registration, office=found[0], start=found[1], needs=needs, now=now
        ):
            result.offered += 1
    return result


def _given_way(*, now: datetime.datetime) -> None:
    """Open offers whose hold a change of capacity took away (a block, an absence): withdrawn, and their
    registrations wait again at their place, no lapse counted (it was not their doing)."""
    gone = Offer.objects.filter(status=Offer.Status.OPEN).exclude(
        hold_token__in=Hold.objects.filter(holder=OFFER_HOLDER).values("token")
    )
    for offer in gone:
        with transaction.atomic():
            Registration.objects.select_for_update().get(pk=offer.registration_id)
            if Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN).update(
                status=Offer.Status.WITHDRAWN, decided_at=now
            ):
                Registration.objects.filter(pk=offer.registration_id, status=Registration.Status.OFFERED).update(
                    status=Registration.Status.WAITING, updated_at=now
                )


def _lapse(*, now: datetime.datetime, result: SweepResult) -> None:
    for offer in Offer.objects.filter(status=Offer.Status.OPEN, expires_at__lte=now).select_related("registration"):
        with transaction.atomic():
            registration = Registration.objects.select_for_update().get(pk=offer.registration_id)  # the lock order
            if not _offer_close(offer, status=Offer.Status.LAPSED, now=now):
                continue
            result.lapsed += 1
            if registration.status != Registration.Status.OFFERED:
                continue  # withdrawn meanwhile
            registration.lapsed_offers += 1
            paused = registration.lapsed_offers >= settings.WAITLIST_LAPSES_TO_PAUSE
            registration.status = Registration.Status.PAUSED if paused else Registration.Status.WAITING
            Registration.objects.filter(pk=registration.pk).update(
                lapsed_offers=registration.lapsed_offers, status=registration.status, updated_at=now
            )
            if paused:
                result.paused += 1
                registration_message_record(registration=registration, kind=Kind.PAUSED, now=now)


def _at_limit(registration: Registration, *, now: datetime.datetime) -> bool:
    """Someone who could not book it (the per-person limit), or cannot be sent an offer (a caller's case without
    an e-mail address: it is invited, not offered), is not offered a time: it would be kept for nothing."""
    return not registration.email or person_limit_reached(email_key=registration.email_key, now=now)


def _offer_freed(*, now: datetime.datetime, result: SweepResult) -> None:
    """Times a cancellation freed, or an offer passed on, go to the first registration in line they fit."""
    not_before = _earliest_offerable(now)
    freed = Hold.objects.filter(holder=FREED_HOLDER, expires_at__gt=now, start__gte=not_before).select_related("office")
    for hold in freed.order_by("created_at", "pk"):
        local_day = timezone.localtime(hold.start, BERLIN).date()
        candidates = in_order(now=now).filter(first_day__lte=local_day, last_day__gte=local_day)
        for registration in candidates[:500]:
            if not fits(registration, hold.start) or (hold.office_id, hold.start) in offered_before(registration):
                continue  # not when they can come, or they declined or let lapse this very time
            needs = registration_needs(registration)
            if not needs or served_by_contingent(registration, needs, now=now) or _at_limit(registration, now=now):
                continue
            minutes = offices_for(registration, needs, now=now).get(hold.office)
            if minutes is None or hold.start + datetime.timedelta(minutes=minutes) > hold.end:
                continue  # not an office they can go to, or the freed time is too short for their needs
            if _offer(
                registration=registration, office=hold.office, start=hold.start, needs=needs, now=now, replacing=hold
            ):
                result.offered += 1
                break
