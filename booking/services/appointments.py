"""Holds and appointments: placing, confirming, cancelling and moving them.

Every write here follows the one lock order of ``booking.services.locks``:
the per-address lock, the slots of every range it touches, holds,
appointments, their messages.
"""

import datetime
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from access.identity import email_key, phone_key
from booking.days import local_day
from booking.errors import BookingError, HoldAlreadyBooked
from booking.grid import BERLIN
from booking.messages import Kind as MessageKind
from booking.messages import appointment_messages_record
from booking.models import FREED_HOLDER, SYSTEM_HOLDERS, Appointment, AppointmentService, Hold
from booking.needs import Need, appointment_needs, lines_needs, needs_minutes, office_durations
from booking.selectors import hold_by_token
from booking.services.confirmation import confirm_by_after_move, confirmation_fields
from booking.services.locks import address_lock, slots_lock
from booking.services.slots import released_until, slots_keep, slots_release, slots_take
from buergerservice import versions
from buergerservice.celery import after_commit
from offices.models import Office
from offices.validators import minutes_of

logger = logging.getLogger(__name__)

CHANGED_MEANWHILE = _("This appointment was changed in the meantime. Please look at it again.")
ALREADY_CANCELLED = _("This appointment is already cancelled.")


def appointment_from_hold(token: str) -> Appointment | None:
    """The appointment a hold became, once it has been confirmed."""
    return Appointment.objects.filter(hold_token=token).first() if token else None


@dataclass(frozen=True)
class Contact:
    name: str
    email: str = ""
    phone: str = ""
    language: str = "de"
    reminders_consent: bool = False
    interpreter_language: str = ""
    step_free_access: bool = False


def check_start(*, office: Office, start: datetime.datetime, now: datetime.datetime, channel: str) -> None:
    """Refuse a start time that is past, too soon, not on the office's grid or not yet released."""
    local = start.astimezone(BERLIN)
    if minutes_of(local.time()) % office.slot_minutes or local.second or local.microsecond:
        raise BookingError(
            _("Appointments start every %(minutes)s minutes; %(time)s is not one of those times.")
            % {"minutes": office.slot_minutes, "time": local.strftime("%H:%M")},
            field="start",
        )
    if start <= now:
        raise BookingError(_("This time has already passed."), field="start")
    if channel == Appointment.Channel.ONLINE:
        if start < now + datetime.timedelta(minutes=office.min_notice_minutes):
            raise BookingError(
                _("Online, appointments can be booked up to %(minutes)s minutes before they start.")
                % {"minutes": office.min_notice_minutes},
                field="start",
            )
        if local_day(start) > released_until(office=office, now=now):
            raise BookingError(_("This day is not open for booking yet."), field="start")


def needs_durations(*, office: Office, needs: list[Need], now: datetime.datetime) -> dict[int, int]:
    """``booking.needs.office_durations``, reused from the shared cache until the catalogue changes.

    Every hold and booking needs them; they change only with an office's offers
    (a ``catalogue`` version bump), so asking PostgreSQL each time is a query for nothing.
    """
    services = ",".join(str(need.service.pk) for need in needs)
    return versions.reuse(
        f"durations:{office.pk}:{services}",
        [versions.CATALOGUE],
        lambda: (office_durations(office=office, needs=needs), None),
        now=now,
    )


def needs_minutes_at(*, office: Office, needs: list[Need], now: datetime.datetime) -> int:
    """The office's time for these needs (``booking.needs.office_needs_minutes``) from ``needs_durations``."""
    durations = needs_durations(office=office, needs=needs, now=now)
    return needs_minutes(needs=needs, durations=durations, slot_minutes=office.slot_minutes)


def person_keys(*, email: str, phone: str) -> tuple[str, str]:
    """The e-mail and phone keys the per-person limit compares; the phone's only with ``BOOKING_LIMIT_BY_PHONE``."""
    return email_key(email), phone_key(phone) if settings.BOOKING_LIMIT_BY_PHONE else ""


def _needs_json(needs: list[Need]) -> list[list[int]]:
    return [[need.service.pk, need.persons] for need in needs]


_TOO_MANY = {
    "email": _(
        "This e-mail address already has %(count)s upcoming appointments, the most one address can have. "
        "Cancel one of them first, or use the links in their confirmations to move them."
    ),
    "phone": _(
        "This phone number already has %(count)s upcoming appointments, the most one person can have. "
        "Cancel one of them first, or use the links in their confirmations to move them."
    ),
}


def person_limit_reached(*, now: datetime.datetime, email_key: str = "", phone_key: str = "") -> bool:
    """Whether this person (the compared e-mail address, or phone number) has the most upcoming appointments one
    may have: the one count behind the booking's refusal and the waitlist's "offer nothing"."""
    key = {"email_key": email_key} if email_key else {"phone_key": phone_key}
    upcoming = Appointment.objects.filter(status=Appointment.Status.BOOKED, end__gt=now, **key)
    return upcoming.count() >= settings.BOOKING_MAX_ACTIVE_PER_EMAIL


def _check_person_limit(*, email_key: str, phone_key: str, now: datetime.datetime) -> None:
    """At most ``BOOKING_MAX_ACTIVE_PER_EMAIL`` upcoming appointments per person: per e-mail address in its
    compared form (``access.identity``), and per phone number too where ``BOOKING_LIMIT_BY_PHONE`` is on."""
    limit = settings.BOOKING_MAX_ACTIVE_PER_EMAIL
    for field, key in (("email", email_key), ("phone", phone_key)):
        if key and person_limit_reached(now=now, **{f"{field}_key": key}):
            raise BookingError(_TOO_MANY[field] % {"count": limit}, field=field)


@dataclass(frozen=True)
class Holder:
    """Who places a hold, for the caps against hoarding (issue: a script kept a whole day held).

    ``address`` is the client address or API key (``access.limits.identity``),
    with at most ``holds`` live holds; ``session`` a hash of the browser's
    session key (empty through the API), with at most one. A time this holder
    gave back (released, replaced or expired) cannot be held again by its
    session or its address for ``BOOKING_HOLD_COOLDOWN_MINUTES`` (an API key's
    callers are many people: none for them).
    """

    address: str
    holds: int
    session: str = ""


def _cooldown_keys(*, address: str, session: str, office_id: int, start: datetime.datetime) -> list[str]:
    """Where a given-back time is remembered for its holder: by its session and by its address (a script that
    drops its cookie is still the same address). An integrator's key has none: its callers are many people."""
    at = f"{office_id}:{start.astimezone(datetime.UTC):%Y%m%d%H%M}"
    whos = [f"session:{session}"] if session else []
    if not address.startswith("key:"):
        whos.append(address)
    return [f"hold-cooldown:{who}:{at}" for who in whos]


def _given_back_later(hold: Hold, *, released: bool = False) -> None:
    """After the transaction that gave ``hold`` back commits: its holder waits before taking the time again.

    ``released``: given back on purpose (released, or another time chosen), not run out: ``hold_renew`` does not
    take it back either (its token is remembered for as long).
    """
    if not hold.holder or not settings.BOOKING_HOLD_COOLDOWN_MINUTES:
        return
    keys = _cooldown_keys(address=hold.holder, session=hold.session, office_id=hold.office_id, start=hold.start)
    if released and hold.holder not in SYSTEM_HOLDERS:
        keys.append(_released_key(hold.token))
    timeout = settings.BOOKING_HOLD_COOLDOWN_MINUTES * 60
    after_commit(cache.set_many, dict.fromkeys(keys, 1), timeout)


def _released_key(token: str) -> str:
    return f"hold-released:{token}"


def _cooldown_refusal() -> BookingError:
    return BookingError(
        _(
            "You gave this time back a moment ago. So that others get a chance, you can choose it again "
            "in %(minutes)s minutes; until then please choose another time."
        )
        % {"minutes": settings.BOOKING_HOLD_COOLDOWN_MINUTES},
        field="start",
    )


# A renewed hold's extensions (``hold_renew``): beyond every limit (the most the field holds on every database), so
# it is never extended and is known as renewed, also once it has been handed on to the waitlist.
RENEWED = 32767
RENEWED_ONCE = _(
    "You have already taken this time back once after it ran out. So that others get a chance, please choose "
    "another time."
)
NOT_YOUR_HOLD = _("Only the browser that held this time can hold it again.")


def _renewed_key(*, session: str, office_id: int, start: datetime.datetime) -> str:
    """Where a renewal is remembered: by the session and the time, whatever token its hold has now or had."""
    return f"hold-renewed:session:{session}:{office_id}:{start.astimezone(datetime.UTC):%Y%m%d%H%M}"


def _renewed_later(hold: Hold) -> None:
    """After the renewal commits: its session cannot take the time back a second time while the renewed hold, its
    handing on and the cool-down after it can last (``BOOKING_HOLD_TOTAL_MINUTES`` at least), and the cool-down
    of its expiry no longer stands (choosing the same time again with other services must not be refused)."""
    at = {"office_id": hold.office_id, "start": hold.start}
    after_commit(cache.delete_many, _cooldown_keys(address=hold.holder, session=hold.session, **at))
    minutes = max(
        settings.BOOKING_HOLD_TOTAL_MINUTES,
        settings.BOOKING_HOLD_MINUTES + settings.BOOKING_FREED_FIRST_MINUTES + settings.BOOKING_HOLD_COOLDOWN_MINUTES,
    )
    after_commit(cache.set, _renewed_key(session=hold.session, **at), 1, minutes * 60)


def _check_holder(  # noqa: PLR0913 - keyword-only, each one named
    *,
    holder: Holder,
    office: Office,
    start: datetime.datetime,
    now: datetime.datetime,
    replacing: Hold | None,
    renewing: bool = False,
) -> None:
    """The caps, under the holder's lock (two holds from one address at once are counted one after the other).

    ``renewing`` (``hold_renew``): the cool-down of this very time does not apply, once per session and time.
    """
    address_lock(holder.address)
    keys = _cooldown_keys(address=holder.address, session=holder.session, office_id=office.pk, start=start)
    expired_same = replacing is not None and replacing.expires_at <= now and replacing.start == start
    if renewing:
        if cache.get(_renewed_key(session=holder.session, office_id=office.pk, start=start)):
            raise BookingError(RENEWED_ONCE, field="start")
    elif expired_same or (keys and cache.get_many(keys)):  # an expired hold of this very time was given back too
        raise _cooldown_refusal()
    live = Hold.objects.filter(expires_at__gt=now)
    if replacing is not None:
        live = live.exclude(pk=replacing.pk)
    if holder.session and live.filter(session=holder.session).exists():
        raise BookingError(
            _("You are already holding a time in another window. Please finish that booking first."), field="hold"
        )
    if live.filter(holder=holder.address).count() >= holder.holds:
        raise BookingError(
            _(
                "%(count)s times are already being held from your connection. Please finish or give back one "
                "of them first."
            )
            % {"count": holder.holds},
            field="hold",
        )


@transaction.atomic
def hold_place(  # noqa: PLR0913 - keyword-only, each one named
    *,
    office: Office,
    start: datetime.datetime,
    needs: list[Need],
    now: datetime.datetime,
    channel: str = Appointment.Channel.ONLINE,
    replacing: Hold | None = None,
    holder: Holder | None = None,
    renewing: bool = False,
) -> Hold:
    """Keep a time for ``BOOKING_HOLD_MINUTES`` while the citizen types: its units are taken now.

    ``replacing`` is the citizen's previous hold, released in the same
    transaction (someone who picks another time does not keep two).
    ``holder`` (citizens' holds; staff holds have none) is capped: see Holder.
    ``renewing``: ``hold_renew``'s new hold of a time whose hold is gone (no cool-down, no extensions).
    Raises BookingError for a bad time or a cap and SlotTaken when the units are gone.
    """
    minutes = needs_minutes_at(office=office, needs=needs, now=now)
    check_start(office=office, start=start, now=now, channel=channel)
    start = start.astimezone(datetime.UTC)  # elapsed time: in Berlin's repeated autumn hour, wall-clock sums go wrong
    end = start + datetime.timedelta(minutes=minutes)
    if holder is not None:
        _check_holder(holder=holder, office=office, start=start, now=now, replacing=replacing, renewing=renewing)
    # The same time chosen again (a second click, other services): the new hold keeps the old one's clock, so
    # choosing again never renews a hold beyond its extensions and total time.
    same = None
    if replacing is not None and (replacing.office_id, replacing.start) == (office.pk, start):
        same = replacing if replacing.expires_at > now else None
    if replacing is not None:
        # Both ranges' slots before the old hold's row: the lock order. Without one, slots_take's lock is the first.
        slots_lock([(office.pk, start, end), (replacing.office_id, replacing.start, replacing.end)])
        _hold_delete_and_release(replacing, given_back=same is None)
    slots_take(office=office, start=start, end=end, channel=channel, now=now)
    hold = Hold.objects.create(
        office=office,
        start=start,
        end=end,
        channel=channel,
        needs=_needs_json(needs),
        expires_at=same.expires_at
        if same is not None
        else now + datetime.timedelta(minutes=settings.BOOKING_HOLD_MINUTES),
        extensions=RENEWED if renewing else same.extensions if same is not None else 0,
        holder=holder.address if holder is not None else "",
        session=holder.session if holder is not None else "",
    )
    if same is not None:
        Hold.objects.filter(pk=hold.pk).update(created_at=same.created_at)  # auto_now_add: set after the insert
        hold.created_at = same.created_at
    if renewing:
        _renewed_later(hold)
    return hold


@transaction.atomic
def hold_renew(  # noqa: PLR0913 - keyword-only, each one named
    *,
    token: str,
    holder: Holder,
    office: Office,
    start: datetime.datetime,
    needs: list[Need],
    now: datetime.datetime,
) -> Hold:
    """The citizen whose hold just ran out takes exactly that time back at once, once, if nobody else has it.

    ``token`` is the expired hold's, from the browser's own session (having it there is the authorisation: never
    take it from a form or an address alone); ``office``, ``start`` and ``needs`` are what it held. Its row, while
    it still keeps the units (the holder's expired hold, or the freed hold the expiry made of it for the
    waitlist), is given back to the holder for ``BOOKING_HOLD_MINUTES``, never to be extended. A row gone (the
    expiry released it, or the waitlist offered it) leaves a new hold of the same time through ``hold_place``,
    the cool-down of this time skipped: SlotTaken if its units are gone. Either way only once per session and
    time (``RENEWED_ONCE``); the caps (one live hold per session, holds per address) apply as to any hold.
    """
    if not token or not holder.session:
        raise BookingError(NOT_YOUR_HOLD, field="hold")
    minutes = needs_minutes_at(office=office, needs=needs, now=now)
    check_start(office=office, start=start, now=now, channel=Appointment.Channel.ONLINE)
    start = start.astimezone(datetime.UTC)  # elapsed time: in Berlin's repeated autumn hour, wall-clock sums go wrong
    end = start + datetime.timedelta(minutes=minutes)
    row = _hold_matching(
        token=token, office=office, start=start, end=end, needs=needs, channel=Appointment.Channel.ONLINE
    )
    if row is None:
        return _hold_renew_gone(token=token, holder=holder, office=office, start=start, needs=needs, now=now)
    ours = (row.holder, row.session) == (holder.address, holder.session)
    if ours and row.expires_at > now:
        return row  # held already (the same form sent twice): nothing to renew
    if row.extensions == RENEWED:
        raise BookingError(RENEWED_ONCE, field="start")
    if not ours and row.holder != FREED_HOLDER:
        raise BookingError(NOT_YOUR_HOLD, field="hold")
    _check_holder(holder=holder, office=office, start=start, now=now, replacing=row, renewing=True)
    slots_lock([(office.pk, start, end)])
    # The claim, under the slots' locks as the waitlist's offer of a freed hold and the expiry take them: the row
    # must still be this holder's expired hold or the freed hold it became. Of the three one wins; its units never
    # leave the row, so nobody else can hold them meanwhile.
    expires_at = now + datetime.timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    renewed = (
        Hold.objects.filter(pk=row.pk)
        .filter(Q(holder=holder.address, session=holder.session, expires_at__lte=now) | Q(holder=FREED_HOLDER))
        .exclude(extensions=RENEWED)
        .update(holder=holder.address, session=holder.session, expires_at=expires_at, extensions=RENEWED)
    )
    if not renewed:
        now_row = Hold.objects.filter(pk=row.pk).first()
        if now_row is None:  # released or offered meanwhile: the time again, if its units are still free
            return _hold_renew_gone(token=token, holder=holder, office=office, start=start, needs=needs, now=now)
        if (now_row.holder, now_row.session) == (holder.address, holder.session) and now_row.expires_at > now:
            return now_row  # renewed by the same form sent twice at once
        raise BookingError(RENEWED_ONCE, field="start")
    row.holder, row.session, row.expires_at, row.extensions = holder.address, holder.session, expires_at, RENEWED
    _renewed_later(row)
    return row


def _hold_renew_gone(  # noqa: PLR0913 - keyword-only, each one named
    *,
    token: str,
    holder: Holder,
    office: Office,
    start: datetime.datetime,
    needs: list[Need],
    now: datetime.datetime,
) -> Hold:
    """``hold_renew`` of a row that is gone: a new hold of the same time, unless it was given back on purpose."""
    if cache.get(_released_key(token)):
        raise _cooldown_refusal()
    return hold_place(office=office, start=start, needs=needs, now=now, holder=holder, renewing=True)


def hold_renewable(*, token: str, holder: Holder) -> bool:
    """Whether ``hold_renew`` would give this holder the row behind ``token`` back (it still keeps the units, so
    the time does not read as free): for the page of a hold that ran out."""
    row = hold_by_token(token) if holder.session else None
    return (
        row is not None
        and row.extensions != RENEWED
        and (row.holder == FREED_HOLDER or (row.holder, row.session) == (holder.address, holder.session))
        and not cache.get(_renewed_key(session=holder.session, office_id=row.office_id, start=row.start))
    )


def hold_extend(*, hold: Hold, now: datetime.datetime) -> Hold:
    """Give the citizen another ``BOOKING_HOLD_MINUTES`` from now, at most ``BOOKING_HOLD_EXTENSIONS`` times
    and never beyond ``BOOKING_HOLD_TOTAL_MINUTES`` after the hold was placed.

    A conditional update: a hold that expired and was released in the
    meantime is not brought back.
    """
    latest = hold.created_at + datetime.timedelta(minutes=settings.BOOKING_HOLD_TOTAL_MINUTES)
    if hold.extensions >= settings.BOOKING_HOLD_EXTENSIONS or hold.expires_at >= latest:
        raise BookingError(_("This time cannot be kept any longer. Please choose it again."), field="hold")
    expires_at = min(now + datetime.timedelta(minutes=settings.BOOKING_HOLD_MINUTES), latest)
    extended = Hold.objects.filter(pk=hold.pk, expires_at__gt=now, extensions=hold.extensions).update(
        expires_at=expires_at, extensions=hold.extensions + 1
    )
    if not extended:
        raise BookingError(_("Your reserved time has run out. Please choose a time again."), field="hold")
    hold.expires_at, hold.extensions = expires_at, hold.extensions + 1
    return hold


@transaction.atomic
def hold_release(*, hold: Hold) -> bool:
    """Give a hold's units back. Returns False if it was gone already (confirmed, expired or released)."""
    slots_lock([(hold.office_id, hold.start, hold.end)])
    return _hold_delete_and_release(hold)


def _hold_delete_and_release(hold: Hold, *, given_back: bool = True, expired: bool = False, **still: object) -> bool:
    """With the hold's slots locked: delete the hold (if it still matches ``still``) and give its units back;
    ``expired``: it ran out (the expiry's), not given back on purpose."""
    # Deleting is the claim: of a release, an expiry and a confirmation of the same hold, one finds the row.
    deleted, _detail = Hold.objects.filter(pk=hold.pk, **still).delete()
    if deleted:
        slots_release(office=hold.office, start=hold.start, end=hold.end, channel=hold.channel)
        if given_back:  # given back, not booked: the same holder waits before taking it again
            _given_back_later(hold, released=not expired)
    return bool(deleted)


def holds_expire(*, now: datetime.datetime, limit: int = 500) -> int:
    """Release the units of holds whose time ran out; returns how many. Safe to run from many places at once.

    The lock order: all their slots at once, in (office, start) order, then
    each hold, deleted only if it is still expired (an extension or a
    confirmation in the meantime keeps it, or has taken it).
    """
    with transaction.atomic():
        due = list(Hold.objects.filter(expires_at__lte=now).select_related("office").order_by("pk")[:limit])
        slots_lock([(hold.office_id, hold.start, hold.end) for hold in due])
        return sum(
            _hand_on(hold, now=now)
            if _handed_on_first(hold)
            else _hold_delete_and_release(hold, expired=True, expires_at__lte=now)
            for hold in due
        )


def _handed_on_first(hold: Hold) -> bool:
    """A citizen's online hold that ran out: its time goes to the waitlist first (``freed_hold_until``)."""
    return bool(settings.BOOKING_FREED_FIRST_MINUTES) and (
        hold.channel == Appointment.Channel.ONLINE and hold.holder not in SYSTEM_HOLDERS
    )


def freed_hold_until(now: datetime.datetime) -> datetime.datetime:
    """Until when a freed time is held for the waitlist (its sweep hands it on) before the open calendar."""
    return now + datetime.timedelta(minutes=settings.BOOKING_FREED_FIRST_MINUTES)


def _hand_on(hold: Hold, *, now: datetime.datetime) -> bool:
    """With the hold's slots locked: it keeps its units for nobody for ``BOOKING_FREED_FIRST_MINUTES``."""
    changed = Hold.objects.filter(pk=hold.pk, expires_at__lte=now).update(
        holder=FREED_HOLDER, session="", expires_at=freed_hold_until(now)
    )
    if changed:
        _given_back_later(hold)  # its citizen waits before taking it again, as after any hold given back
    return bool(changed)


def expired_holds_exist(*, now: datetime.datetime) -> bool:
    return Hold.objects.filter(expires_at__lte=now).exists()


def holds_expire_due(*, now: datetime.datetime) -> int:
    """Before reading free times: release expired holds if there are any (one cheap query when there are none)."""
    if not expired_holds_exist(now=now):
        return 0
    return holds_expire(now=now)


def _hold_matching(
    *, token: str, office: Office, start: datetime.datetime, end: datetime.datetime, needs: list[Need], channel: str
) -> Hold | None:
    """The hold if it is still there and matches what is being booked; None if it is gone; BookingError if not."""
    hold = hold_by_token(token)
    if hold is None:
        return None
    if (hold.office_id, hold.start, hold.end, hold.channel, sorted(map(tuple, hold.needs))) != (
        office.pk,
        start,
        end,
        channel,
        sorted(map(tuple, _needs_json(needs))),
    ):
        raise BookingError(_("The reserved time does not match this booking."), field="hold")
    return hold


def _hold_claim(hold: Hold | None) -> bool:
    """Turn a hold's units into the booking's; False when it is gone (confirmed, expired, given way meanwhile).

    The hold's slots are locked first (the lock order), then deleting the row
    is the claim: of two confirmations, an expiry and a rebuild, one wins and
    the others find nothing.
    """
    if hold is None:
        return False
    slots_lock([(hold.office_id, hold.start, hold.end)])
    deleted, _detail = Hold.objects.filter(pk=hold.pk).delete()
    return bool(deleted)


def _refuse_if_booked_before(hold_token: str) -> None:
    """A hold that became an appointment already is answered with that appointment: one hold, one booking."""
    appointment = appointment_from_hold(hold_token)
    if appointment is not None:
        raise HoldAlreadyBooked(appointment)


BOOKING_CODE_ATTEMPTS = 5


class _CodeTaken(Exception):
    """The appointment's insert hit a unique value (its random booking code, or a hold booked meanwhile)."""


def appointment_book(
    *,
    office: Office,
    start: datetime.datetime,
    needs: list[Need],
    contact: Contact,
    now: datetime.datetime,
    channel: str = Appointment.Channel.ONLINE,
    hold_token: str | None = None,
    email_known: bool = False,
) -> Appointment:
    """Book an appointment, all in one transaction; raises BookingError or SlotTaken and changes nothing then.

    With ``hold_token`` the hold's units become the appointment's (also after
    the hold's time ran out, as long as no expiry has released it); without
    a hold, or when it is gone, the units are taken now. A hold becomes at
    most one appointment: confirming it again raises HoldAlreadyBooked with
    the appointment it became (the database's unique ``hold_token`` has the
    last word). Where the office or a service asks for it, an online booking
    waits for the citizen to confirm the e-mail address
    (``booking.services.confirmation``), unless the address is ``email_known``
    (staff booking for a caller, as the phone channel always is; a waitlist
    registration whose address was confirmed). The appointment comes back with its
    lines (and their services) as if prefetched, so answering with it needs no query.
    """
    durations = needs_durations(office=office, needs=needs, now=now)
    minutes = needs_minutes(needs=needs, durations=durations, slot_minutes=office.slot_minutes)
    start = start.astimezone(datetime.UTC)  # elapsed time: in Berlin's repeated autumn hour, wall-clock sums go wrong
    end = start + datetime.timedelta(minutes=minutes)
    for attempt in range(BOOKING_CODE_ATTEMPTS):
        try:
            return _book(
                office=office,
                start=start,
                end=end,
                needs=needs,
                durations=durations,
                contact=contact,
                now=now,
                channel=channel,
                hold_token=hold_token,
                email_known=email_known,
            )
        except _CodeTaken:
            # The whole transaction again, not a savepoint around the insert: a savepoint costs every booking
            # two round trips, while two equal codes of 8 random characters are drawn once in ages.
            logger.warning("booking code collision, attempt %s", attempt + 1)
    raise IntegrityError(f"no free booking code after {BOOKING_CODE_ATTEMPTS} attempts")


def _book(
    *,
    office: Office,
    start: datetime.datetime,
    end: datetime.datetime,
    needs: list[Need],
    durations: dict[int, int],
    contact: Contact,
    now: datetime.datetime,
    channel: str,
    hold_token: str | None,
    email_known: bool,
) -> Appointment:
    """One attempt of ``appointment_book``: its transaction, in the lock order."""
    email = contact.email.strip().lower()
    keys = person_keys(email=email, phone=contact.phone)
    with transaction.atomic():
        for key in sorted(filter(None, keys)):  # the same order everywhere: two bookers never wait for each other
            address_lock(key)
        claimed = False
        if hold_token:
            hold = _hold_matching(token=hold_token, office=office, start=start, end=end, needs=needs, channel=channel)
            claimed = _hold_claim(hold)
            if not claimed:
                # Before the address limit: a repeated confirmation gets its appointment, not "too many".
                # Also what a second attempt after a clash on ``hold_token`` ends in.
                _refuse_if_booked_before(hold_token)
        if channel == Appointment.Channel.ONLINE:
            _check_person_limit(email_key=keys[0], phone_key=keys[1], now=now)
        if not claimed:
            check_start(office=office, start=start, now=now, channel=channel)
            slots_take(office=office, start=start, end=end, channel=channel, now=now)
        appointment = _create_with_unique_code(
            office=office,
            start=start,
            end=end,
            channel=channel,
            name=contact.name.strip(),
            email=email,
            phone=contact.phone.strip(),
            email_key=keys[0],
            phone_key=phone_key(contact.phone),  # stored always; compared only with BOOKING_LIMIT_BY_PHONE
            language=contact.language,
            reminders_consent=contact.reminders_consent,
            interpreter_language=contact.interpreter_language.strip(),
            step_free_access=contact.step_free_access,
            hold_token=hold_token or None,
            **confirmation_fields(
                office=office,
                needs=needs,
                channel=Appointment.Channel.PHONE if email_known else channel,
                email=email,
                start=start,
                now=now,
            ),
        )
        lines = AppointmentService.objects.bulk_create(
            AppointmentService(
                appointment=appointment,
                service=need.service,
                persons=need.persons,
                minutes=durations[need.service.pk] * need.persons,
            )
            for need in needs
        )
        _lines_known(appointment, lines)
        # Not final yet where the e-mail address must be confirmed: the message asks for that first.
        kind = MessageKind.ACTIVATION if appointment.awaiting_confirmation else MessageKind.CONFIRMATION
        appointment_messages_record(appointment=appointment, kind=kind, now=now)
    return appointment


def _create_with_unique_code(**fields: object) -> Appointment:
    """Create the appointment; a unique value taken (its random booking code) raises _CodeTaken.

    That leaves the transaction, which is rolled back, and ``appointment_book`` tries it all again.
    """
    try:
        return Appointment.objects.create(**fields)
    except IntegrityError as error:
        raise _CodeTaken from error


def _lines_known(appointment: Appointment, lines: list[AppointmentService]) -> None:
    """Keep the lines just written as the appointment's prefetched ``lines`` (as Django's prefetch keeps them)."""
    queryset = appointment.lines.all()  # lazy: not run
    queryset._result_cache = lines
    queryset._prefetch_done = True
    appointment._prefetched_objects_cache = {"lines": queryset}


def _lock_unchanged(appointment: Appointment) -> Appointment:
    """Lock the appointment's row; refuse if it changed since it was read (someone moved or cancelled it)."""
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    seen = (appointment.office_id, appointment.start, appointment.end, appointment.status, appointment.visit)
    if (locked.office_id, locked.start, locked.end, locked.status, locked.visit) != seen:
        if locked.status == Appointment.Status.CANCELLED:
            raise BookingError(ALREADY_CANCELLED)
        raise BookingError(CHANGED_MEANWHILE)
    return locked


class CancelledBy:
    CITIZEN = "citizen"
    OFFICE = "office"


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, now: datetime.datetime, by: str = CancelledBy.CITIZEN, reason: str = ""
) -> Appointment:
    """Cancel before the start (or, for one to rebook, at any time).

    A citizen's cancellation gives the units back to the open calendar only
    after ``BOOKING_CANCEL_PAUSE_MINUTES`` (against trading: a seller cannot
    cancel at the moment a buyer is ready to book): until then a hold with no
    holder keeps them, released by the expiry as any hold. The office's
    cancellations free them at once. The citizen is told in the same
    transaction (through the outbox), with ``reason`` when the office cancels.
    """
    _check_change(appointment=appointment, change=Change.CANCEL, now=now)
    holds_units = appointment.status == Appointment.Status.BOOKED
    if holds_units:
        slots_lock([(appointment.office_id, appointment.start, appointment.end)])
    # Under the slots' locks, before giving anything back: a second click finds it cancelled and changes nothing.
    locked = _lock_unchanged(appointment)
    paused = (
        by == CancelledBy.CITIZEN
        and holds_units
        and _pause_hold(appointment=locked, start=locked.start, end=locked.end, now=now)
    )
    if holds_units and not paused:
        slots_release(office=locked.office, start=locked.start, end=locked.end, channel=locked.channel)
    locked.status = Appointment.Status.CANCELLED
    locked.cancelled_at = now
    locked.save(update_fields=["status", "cancelled_at", "updated_at"])
    kind = MessageKind.CANCELLED_BY_OFFICE if by == CancelledBy.OFFICE else MessageKind.CANCELLED_BY_CITIZEN
    appointment_messages_record(appointment=locked, kind=kind, now=now, reason=reason)
    return locked


def _pause_hold(
    *, appointment: Appointment, start: datetime.datetime, end: datetime.datetime, now: datetime.datetime
) -> bool:
    """With the range's slots locked: hand the units of ``start``..``end`` to a hold of nobody's for
    ``BOOKING_CANCEL_PAUSE_MINUTES`` and up to a third more at random (against trading: a seller cannot give a
    time back at the moment a buyer is ready, and a buyer's script cannot wait for the exact second), at most
    until the start; released by the expiry as any hold. False (nothing done) without a pause or once begun.
    The slots' counts do not change: the caller has not given the units back (or takes them back first)."""
    pause = settings.BOOKING_CANCEL_PAUSE_MINUTES * 60
    if not pause or appointment.start <= now:
        return False
    Hold.objects.create(
        office=appointment.office,
        start=start,
        end=end,
        channel=appointment.channel,
        needs=_needs_json(appointment_needs(appointment)),
        expires_at=min(now + datetime.timedelta(seconds=pause + secrets.randbelow(pause // 3 + 1)), appointment.start),
        holder=FREED_HOLDER,  # the waitlist may hand it on before it expires
    )
    return True


class Change:
    """What a citizen or the office may still do to an appointment (``appointment_changes_allowed``)."""

    CANCEL = "cancel"
    MOVE = "move"


def _check_change(*, appointment: Appointment, change: str, now: datetime.datetime) -> None:
    """The one rule for cancelling and moving: raises BookingError when ``change`` is no longer allowed.

    Cancelled: never again. Once the citizen has arrived: no more (the desk's
    visit has begun). A booked appointment: only before its start; one to
    rebook (its units are already free): at any time.
    """
    if appointment.status == Appointment.Status.CANCELLED:
        if change == Change.CANCEL:
            raise BookingError(ALREADY_CANCELLED)
        raise BookingError(_("This appointment is cancelled and cannot be moved."))
    if appointment.visit != Appointment.Visit.EXPECTED:
        raise BookingError(_("The citizen has already arrived: this appointment can no longer be changed."))
    if appointment.status == Appointment.Status.BOOKED and appointment.start <= now:
        if change == Change.CANCEL:
            raise BookingError(_("This appointment has already begun and can no longer be cancelled."))
        raise BookingError(_("This appointment has already begun and can no longer be moved."))


def appointment_changes_allowed(*, appointment: Appointment, now: datetime.datetime) -> frozenset[str]:
    """The changes (``Change``) the rules allow now: what the manage page, the desk and the API offer.

    The services check the same rule again, under the row's lock.
    """
    allowed = set()
    for change in (Change.CANCEL, Change.MOVE):
        try:
            _check_change(appointment=appointment, change=change, now=now)
        except BookingError:
            continue
        allowed.add(change)
    return frozenset(allowed)


@transaction.atomic
def appointment_move(
    *,
    appointment: Appointment,
    start: datetime.datetime,
    now: datetime.datetime,
    hold_token: str | None = None,
    office: Office | None = None,
    reason: str = "",
    by: str = CancelledBy.CITIZEN,
) -> Appointment:
    """Move to another start, for the same needs; all or nothing.

    The new slots are taken before the old ones are released, in one
    transaction, so the citizen never ends up with neither time. With
    ``hold_token`` the new time's units come from that hold. With another
    ``office`` (the office rebooking after a loss of capacity) the time is
    that office's for the needs; ``reason`` goes into the citizen's message.
    """
    _check_change(appointment=appointment, change=Change.MOVE, now=now)
    start = start.astimezone(datetime.UTC)  # elapsed time: in Berlin's repeated autumn hour, wall-clock sums go wrong
    holds_units = appointment.status == Appointment.Status.BOOKED
    if office is not None and office.pk != appointment.office_id:
        if hold_token:
            raise BookingError(_("The reserved time does not match this booking."), field="hold")
        return _move_to_office(appointment=appointment, office=office, start=start, now=now, reason=reason)
    office = appointment.office
    end = start + (appointment.end - appointment.start)
    if start == appointment.start and holds_units:
        raise BookingError(_("This is already the time of your appointment."), field="start")
    hold = None
    if hold_token:
        hold = _hold_matching(
            token=hold_token,
            office=office,
            start=start,
            end=end,
            needs=appointment_needs(appointment),
            channel=appointment.channel,
        )
    old = (appointment.start, appointment.end) if holds_units else None
    slots_lock([(office.pk, start, end), *([(office.pk, *old)] if old else [])])  # both ranges, in order
    claimed = _hold_claim(hold)
    # Under the slots' locks, before any unit changes: a stale copy (a second click) changes nothing.
    locked = _lock_unchanged(appointment)
    confirm_by_after_move(locked, start=start, now=now)
    # The old time returns to the open calendar after the pause, as a cancelled one does: moving away is no way
    # round it. The office's moves (rebooking) give it back at once.
    pausing = by == CancelledBy.CITIZEN
    if claimed:
        if old and not (pausing and _pause_hold(appointment=locked, start=old[0], end=old[1], now=now)):
            slots_release(office=office, start=old[0], end=old[1], channel=appointment.channel)
    else:
        check_start(office=office, start=start, now=now, channel=appointment.channel)
        slots_take(office=office, start=start, end=end, channel=appointment.channel, now=now, replacing=old)
        # What the new time does not overlap was given back just now: taken back for the pause's hold.
        freed = None
        if old:
            freed = (old[0], min(old[1], start)) if start > old[0] else (max(old[0], end), old[1])
        if (
            pausing
            and freed
            and freed[0] < freed[1]
            and _pause_hold(appointment=locked, start=freed[0], end=freed[1], now=now)
        ):
            slots_keep(office=office, start=freed[0], end=freed[1], channel=appointment.channel)
    locked.start, locked.end = start, end
    locked.status = Appointment.Status.BOOKED
    locked.sequence += 1
    locked.save(update_fields=["start", "end", "status", "sequence", "confirm_by", "updated_at"])
    appointment_messages_record(appointment=locked, kind=MessageKind.MOVED, now=now, reason=reason)
    return locked


def _move_to_office(
    *, appointment: Appointment, office: Office, start: datetime.datetime, now: datetime.datetime, reason: str
) -> Appointment:
    """The move to another office: its durations for the same needs, its slots taken, the old ones given back."""
    lines = list(appointment.lines.select_related("service"))
    needs = lines_needs(lines)
    durations = office_durations(office=office, needs=needs)
    end = start + datetime.timedelta(
        minutes=needs_minutes(needs=needs, durations=durations, slot_minutes=office.slot_minutes)
    )
    check_start(office=office, start=start, now=now, channel=appointment.channel)
    holds_units = appointment.status == Appointment.Status.BOOKED
    old = [(appointment.office_id, appointment.start, appointment.end)] if holds_units else []
    slots_lock([(office.pk, start, end), *old])  # both offices' slots in (office, start) order, before any change
    locked = _lock_unchanged(appointment)
    confirm_by_after_move(locked, start=start, now=now)
    slots_take(office=office, start=start, end=end, channel=appointment.channel, now=now)
    if holds_units:
        slots_release(
            office=appointment.office, start=appointment.start, end=appointment.end, channel=appointment.channel
        )
    locked.office, locked.start, locked.end = office, start, end
    locked.status = Appointment.Status.BOOKED
    locked.sequence += 1
    locked.save(update_fields=["office", "start", "end", "status", "sequence", "confirm_by", "updated_at"])
    for line in lines:
        line.minutes = durations[line.service_id] * line.persons
    AppointmentService.objects.bulk_update(lines, ["minutes"])
    appointment_messages_record(appointment=locked, kind=MessageKind.MOVED, now=now, reason=reason)
    return locked
