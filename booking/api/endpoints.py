"""The endpoints: parse, call a service or selector, answer."""

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.responses import NinjaJSONEncoder

from access.keys import books_for_callers
from access.limits import limited
from access.proof import HEADER as PROOF_HEADER
from access.proof import proof_needed, solution_spend
from booking.api.errors import taken
from booking.api.schemas import (
    AppointmentIn,
    AppointmentOut,
    AvailabilityQuery,
    ConflictOut,
    HoldIn,
    HoldOut,
    InvalidOut,
    MoveIn,
    NeedIn,
    OfficeOut,
    OfficesEarliestOut,
    OfficeTimesOut,
    ServiceOut,
    TakenOut,
)
from booking.availability import office_free_starts_until, offices_by_earliest_until
from booking.days import local_day
from booking.errors import BookingError, HoldAlreadyBooked, SlotTaken
from booking.grid import BERLIN
from booking.holders import holder_of
from booking.models import Appointment, Hold
from booking.needs import Need, needs_check, needs_from_param, needs_load, office_needs_minutes
from booking.selectors import hold_by_token
from booking.services.appointments import (
    Contact,
    appointment_book,
    appointment_cancel,
    appointment_from_hold,
    appointment_move,
    hold_extend,
    hold_place,
    hold_release,
    holds_expire_due,
    needs_minutes_at,
)
from buergerservice import versions
from offices.models import Office, Service
from offices.selectors import active_offers, public_offices, public_services

DEFAULT_DAYS = 30  # date_to when not given: date_from + this
MAX_DAYS = 92  # date_to may lie at most this many days after date_from

router = Router()


# Lookups


def _office(slug: str) -> Office:
    """An active office by slug; unknown ones are refused as input (they are named in the request)."""
    office = public_offices().filter(slug=slug).first()
    if office is None:
        raise BookingError(_("There is no office “%(value)s”.") % {"value": slug[:60]}, field="office")
    return office


def _needs(lines: list[NeedIn]) -> list[Need]:
    """The services asked for, checked like the web flow's ``services`` parameter (one set of rules)."""
    return needs_load(needs_check([(line.service, line.persons) for line in lines]))


def _hold(token: str) -> Hold:
    hold = hold_by_token(token)
    if hold is None:
        raise HttpError(404, _("There is no reserved time with this token. It may have run out."))
    return hold


def _appointment(token: str) -> Appointment:
    appointment = (
        Appointment.objects.filter(manage_token=token)
        .select_related("office")
        .prefetch_related("lines__service")
        .first()
    )
    if appointment is None:
        raise HttpError(404, _("There is no appointment with this token."))
    return appointment


# Catalogue


@router.get("/services", response=list[ServiceOut], tags=["catalogue"], summary="The services citizens can book")
@decorate_view(limited("read"))
def list_services(request: HttpRequest) -> QuerySet[Service]:
    return public_services().select_related("category")


@router.get("/offices", response=list[OfficeOut], tags=["catalogue"], summary="The active offices and what they offer")
@decorate_view(limited("read"))
def list_offices(request: HttpRequest) -> QuerySet[Office]:
    return public_offices().prefetch_related(Prefetch("offered_services", queryset=active_offers()))


# Free times


def _date_range(
    date_from: datetime.date | None, date_to: datetime.date | None, *, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    first = date_from or today
    last = date_to or first + datetime.timedelta(days=DEFAULT_DAYS)
    if last < first:
        raise BookingError(_("The end date lies before the start date."), field="date_to")
    if (last - first).days > MAX_DAYS:
        raise BookingError(
            _("The end date may lie at most %(days)s days after the start date.") % {"days": MAX_DAYS},
            field="date_to",
        )
    return first, last


def _office_times(
    *, office: Office, minutes: int, first: datetime.date, last: datetime.date, now: datetime.datetime
) -> tuple[dict[str, Any], datetime.datetime]:
    days, until = office_free_starts_until(office=office, minutes=minutes, now=now, first=first, last=last)
    answer = {
        "office": office.slug,
        "duration_minutes": minutes,
        "days": [
            {"date": day, "times": [start.astimezone(BERLIN).strftime("%H:%M") for start in starts]}
            for day, starts in sorted(days.items())
            if starts
        ],
    }
    return answer, until


def _offices_earliest(*, needs: list[Need], now: datetime.datetime) -> tuple[dict[str, Any], datetime.datetime | None]:
    ranked, until = offices_by_earliest_until(needs=needs, now=now)
    best = ranked[0] if ranked and ranked[0].earliest else None
    answer = {
        "duration_minutes": None,
        "offices": [
            {
                "office": choice.office.slug,
                "name": choice.office.name,
                "kind": choice.office.kind,
                "duration_minutes": choice.minutes,
                "earliest": choice.earliest,
            }
            for choice in ranked
        ],
        "earliest": {"office": best.office.slug, "start": best.earliest} if best else None,
    }
    return answer, until


def _rendered(schema: type[Schema], answer: dict[str, Any]) -> tuple[bytes, str]:
    """The answer as ninja renders it for ``schema`` (validated, then JSON), and its ETag."""
    body = json.dumps(schema.model_validate(answer).model_dump(), cls=NinjaJSONEncoder).encode()
    return body, '"' + hashlib.blake2s(body, digest_size=12).hexdigest() + '"'


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}\Z")


def _availability_entry(request: HttpRequest, now: datetime.datetime) -> tuple[str, list[str]] | None:
    """Where the answer to exactly this request is kept, and the versions it depends on.

    The key is the raw query string (with the language and today, which the
    defaults depend on), so a kept answer is found before ninja parses anything,
    and only requests that were answered 200 ever have one. None where nothing
    is kept: an office named twice or not like a slug (answered, never kept).
    """
    offices = request.GET.getlist("office")
    language = translation.get_language_from_request(request)
    asked = f"{request.META.get('QUERY_STRING', '')}|{language}|{local_day(now)}"
    key = hashlib.blake2s(asked.encode(), digest_size=16).hexdigest()
    if not offices:
        return f"api:earliest:{key}", [versions.CATALOGUE, versions.ALL_GRIDS]
    if len(offices) == 1 and SLUG.match(offices[0]):
        return f"api:availability:{key}", [versions.CATALOGUE, versions.grid(offices[0])]
    return None


def _availability_answer(request: HttpRequest, body: bytes, etag: str) -> HttpResponse:
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "public, no-cache"  # the same for everyone, but asked again every time: it changes
    return response


def _reused_first(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a GET from the kept answer before ninja parses and validates the query (the hot path of the release)."""

    @wraps(run)
    def reused_first(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "GET":
            now = timezone.now()
            entry = _availability_entry(request, now)
            kept = versions.reused(*entry, now=now) if entry is not None else None
            if kept is not None:
                return _availability_answer(request, *kept)
        return run(request, *args, **kwargs)

    return reused_first


@router.get(
    "/availability",
    response={200: OfficeTimesOut | OfficesEarliestOut, 422: InvalidOut},
    tags=["catalogue"],
    summary="Free times at one office, or the earliest time at every office offering the services",
)
@decorate_view(_reused_first, limited("read"))  # the limit first: a reused answer is counted too
def read_availability(request: HttpRequest, query: Query[AvailabilityQuery]) -> HttpResponse:
    """``services`` is ``slug[:persons],...``. With ``office``: its free start times from ``date_from``
    (default today) to ``date_to`` (default 30 days later, at most 92). Without: each office offering all
    the services with its earliest start from now (the dates are not used then).

    The answer is the same for everyone and is reused until a booking, hold, cancellation or capacity change
    at the office (or a change of the offices and services) commits, or until time changes it
    (``booking.availability``); it carries an ETag, and ``If-None-Match`` with it is answered 304."""
    now = timezone.now()
    first, last = _date_range(query.date_from, query.date_to, today=local_day(now))

    asked = hashlib.blake2s(f"{query.office}|{query.services}".encode(), digest_size=16).hexdigest()

    def office_times() -> tuple[tuple[bytes, str], datetime.datetime]:
        def office_minutes() -> tuple[tuple[Office, int], None]:
            office = _office(query.office or "")
            return (office, office_needs_minutes(office=office, needs=needs_from_param(query.services))), None

        # The office and its time for the needs change only with the catalogue: a new booking costs no lookup.
        office, minutes = versions.reuse(f"api:office-minutes:{asked}", [versions.CATALOGUE], office_minutes, now=now)
        answer, until = _office_times(office=office, minutes=minutes, first=first, last=last, now=now)
        return _rendered(OfficeTimesOut, answer), until

    def offices_earliest() -> tuple[tuple[bytes, str], datetime.datetime | None]:
        needs = versions.reuse(
            f"api:needs:{asked}", [versions.CATALOGUE], lambda: (needs_from_param(query.services), None), now=now
        )
        answer, until = _offices_earliest(needs=needs, now=now)
        return _rendered(OfficesEarliestOut, answer), until

    compute = office_times if query.office is not None else offices_earliest
    entry = _availability_entry(request, now)
    body, etag = versions.reuse(*entry, compute, now=now) if entry is not None else compute()[0]
    return _availability_answer(request, body, etag)


# Holds

T = TypeVar("T")


def _office_and_needs(slug: str, lines: list[NeedIn], *, now: datetime.datetime) -> tuple[Office, list[Need]]:
    """``_office`` and ``_needs`` of a hold or a booking, reused from the shared cache until the catalogue changes.

    Every POST names them, and they change only with the offices and services (a ``catalogue`` version
    bump), so a POST does not ask PostgreSQL for them each time. A refusal is not kept: it is raised afresh.
    """
    asked = json.dumps([slug, [(line.service, line.persons) for line in lines]])
    key = "api:office-needs:" + hashlib.blake2s(asked.encode(), digest_size=12).hexdigest()
    return versions.reuse(key, [versions.CATALOGUE], lambda: ((_office(slug), _needs(lines)), None), now=now)


def _taking(attempt: Callable[[], T], *, now: datetime.datetime) -> T:
    """``attempt()``, once more if its units were taken by holds that have expired but were not released yet.

    Expired holds are released where they are in the way, not with a query before every POST.
    """
    try:
        return attempt()
    except SlotTaken:
        if not holds_expire_due(now=now):
            raise
    return attempt()


def proof_missing(request: HttpRequest, *, now: datetime.datetime) -> Status[Any] | None:
    """403 unless the request brings a fresh proof of work (header ``Altcha``) or an API key (``access.proof``)."""
    if not proof_needed(request) or solution_spend(request.headers.get(PROOF_HEADER, ""), now=now):
        return None
    return Status(
        403,
        {
            "detail": _(
                "A proof of work is needed: solve a challenge from %(url)s and send the solution in the header "
                "“Altcha”."
            )
            % {"url": reverse("api-v1:read_challenge")}
        },
    )


def _hold_paid(token: str) -> bool:
    return hold_by_token(token) is not None or appointment_from_hold(token) is not None


@router.post(
    "/holds",
    response={201: HoldOut, 403: ConflictOut, 409: TakenOut, 422: InvalidOut},
    tags=["holds"],
    summary="Keep a time for a few minutes while the citizen types",
)
@decorate_view(limited("hold"))
def create_hold(request: HttpRequest, payload: HoldIn) -> Status[Any]:
    now = timezone.now()
    office, needs = _office_and_needs(payload.office, payload.services, now=now)
    missing = proof_missing(request, now=now)
    if missing is not None:
        return missing
    try:
        holder = holder_of(request, browser=False)
        hold = _taking(
            lambda: hold_place(office=office, start=payload.start, needs=needs, now=now, holder=holder), now=now
        )
    except SlotTaken as error:
        minutes = needs_minutes_at(office=office, needs=needs, now=now)
        return Status(409, taken(error, office=office, minutes=minutes, around=payload.start, now=now))
    return Status(201, hold)


@router.post(
    "/holds/{token}/extend",
    response={200: HoldOut, 404: ConflictOut, 409: ConflictOut},
    tags=["holds"],
    summary="Keep the time a few minutes longer",
)
@decorate_view(limited("hold"))
def extend_hold(request: HttpRequest, token: str) -> Status[Any]:
    hold = _hold(token)
    try:
        return Status(200, hold_extend(hold=hold, now=timezone.now()))
    except BookingError as error:  # ran out, or extended too often: nothing the request could fix
        return Status(409, {"detail": str(error.message)})


@router.delete("/holds/{token}", response={204: None, 404: ConflictOut}, tags=["holds"], summary="Give the time back")
@decorate_view(limited("hold"))
def delete_hold(request: HttpRequest, token: str) -> Status[None]:
    hold_release(hold=_hold(token))
    return Status(204, None)


# Appointments


@router.post(
    "/appointments",
    response={200: AppointmentOut, 201: AppointmentOut, 403: ConflictOut, 409: TakenOut, 422: InvalidOut},
    tags=["appointments"],
    summary="Book an appointment",
)
@decorate_view(limited("book"))
def create_appointment(request: HttpRequest, payload: AppointmentIn) -> Status[Any]:
    """With ``hold``, the held time becomes the appointment (it must be for exactly this office, start
    and services); without, the time is taken now if it is still free. 201 with the new appointment;
    200 with the existing one when the same ``hold`` was booked before (a repeated request books nothing)."""
    now = timezone.now()
    office, needs = _office_and_needs(payload.office, payload.services, now=now)
    # A hold was paid for when it was placed (or became an appointment already); any other token is no hold.
    # Looked up only where a proof is asked for at all.
    if proof_needed(request) and not (payload.hold and _hold_paid(payload.hold)):
        missing = proof_missing(request, now=now)
        if missing is not None:
            return missing
    contact = Contact(
        name=payload.name,
        email=payload.email,
        phone=payload.phone,
        language=payload.language,
        reminders_consent=payload.reminders_consent,
    )

    def book() -> Appointment:
        return appointment_book(
            office=office,
            start=payload.start,
            needs=needs,
            contact=contact,
            now=now,
            hold_token=payload.hold,
            email_known=books_for_callers(request),
        )

    try:
        # With a hold, no expiry: it would release the very hold being confirmed.
        appointment = book() if payload.hold else _taking(book, now=now)
    except HoldAlreadyBooked as repeated:  # the same hold sent again: the appointment it became, not a second one
        return Status(200, _appointment(repeated.appointment.manage_token))
    except SlotTaken as error:
        minutes = needs_minutes_at(office=office, needs=needs, now=now)
        return Status(409, taken(error, office=office, minutes=minutes, around=payload.start, now=now))
    return Status(201, appointment)  # with its office and lines as written: what GET answers, without a read


@router.get(
    "/appointments/{token}",
    response={200: AppointmentOut, 404: ConflictOut},
    tags=["appointments"],
    summary="An appointment, by its manage token",
)
@decorate_view(limited("read"))
def read_appointment(request: HttpRequest, token: str) -> Appointment:
    return _appointment(token)


@router.delete(
    "/appointments/{token}",
    response={200: AppointmentOut, 404: ConflictOut, 409: ConflictOut},
    tags=["appointments"],
    summary="Cancel an appointment; its time returns to the open calendar after a pause",
)
@decorate_view(limited("cancel"))
def cancel_appointment(request: HttpRequest, token: str) -> Appointment:
    """409 when it is already cancelled or has begun."""
    appointment_cancel(appointment=_appointment(token), now=timezone.now())
    return _appointment(token)


@router.post(
    "/appointments/{token}/move",
    response={200: AppointmentOut, 404: ConflictOut, 409: TakenOut | ConflictOut, 422: InvalidOut},
    tags=["appointments"],
    summary="Move an appointment to another time at the same office",
)
@decorate_view(limited("move"))
def move_appointment(request: HttpRequest, token: str, payload: MoveIn) -> Status[Any]:
    """409 when the new time was just taken (with the nearest free ones), or the appointment is cancelled
    or has begun; the old time is kept then."""
    appointment = _appointment(token)
    now = timezone.now()

    def move() -> Appointment:
        return appointment_move(appointment=appointment, start=payload.start, now=now, hold_token=payload.hold)

    try:
        if payload.hold:  # no expiry: it would release the very hold being used (see create_appointment)
            move()
        else:
            _taking(move, now=now)
    except SlotTaken as error:
        minutes = appointment.duration_minutes
        return Status(409, taken(error, office=appointment.office, minutes=minutes, around=payload.start, now=now))
    return Status(200, _appointment(token))
