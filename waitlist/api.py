"""The waitlist in the public API: register (with the booking's defences: a budget per address and a proof of work),
see and withdraw a registration by its private token, and book or decline an offered time."""

import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from pydantic import AfterValidator, Field, StringConstraints

from access.limits import limited
from booking.api.endpoints import proof_missing
from booking.api.schemas import AppointmentOut, ConflictOut, InvalidOut, LocalDateTime, NeedIn, Text
from booking.errors import BookingError
from booking.needs import needs_check, needs_load
from offices.selectors import public_offices
from waitlist.models import Offer, Part, Registration
from waitlist.selectors import registration_needs
from waitlist.services import (
    Wish,
    offer_accept,
    offer_decline,
    registration_create,
    registration_withdraw,
)

router = Router(tags=["waitlist"])


def _email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValueError("Enter a valid e-mail address.") from None
    return value.lower()


class RegistrationIn(Schema):
    services: list[NeedIn] = Field(min_length=1, max_length=10)
    offices: list[str] = Field([], max_length=50, description="Office slugs; none: any office offering the services.")
    first_day: datetime.date
    last_day: datetime.date
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field([], description="0 = Monday; none: any day.")
    parts: list[Literal["morning", "afternoon", "evening"]] = Field([], description="Parts of the day; none: any.")
    name: Text
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)]
    language: Literal["de", "en", "tr", "ar", "uk", "ru"] = "de"


class WaitlistOfferOut(Schema):
    token: str
    office: str
    start: LocalDateTime
    end: LocalDateTime
    open_until: LocalDateTime = Field(alias="expires_at")
    status: str

    @staticmethod
    def resolve_office(offer: Offer) -> str:
        return offer.office.slug


class RegistrationOut(Schema):
    token: str = Field(description="The private token: keep it; it is the only key to the registration.")
    status: str = Field(
        description="unconfirmed (the link sent by e-mail not opened yet), waiting, offered, "
        "booked, paused, withdrawn or ended. There is no position: when a time comes depends on "
        "cancellations, new times and urgent cases."
    )
    services: list[dict[str, Any]]
    offices: list[str]
    first_day: datetime.date
    last_day: datetime.date
    weekdays: list[int]
    parts: list[str]
    offer: WaitlistOfferOut | None

    @staticmethod
    def resolve_services(registration: Registration) -> list[dict[str, Any]]:
        return [
            {"service": need.service.slug, "persons": need.persons} for need in registration_needs(registration) or []
        ]

    @staticmethod
    def resolve_offices(registration: Registration) -> list[str]:
        return [office.slug for office in registration.offices.all()]

    @staticmethod
    def resolve_offer(registration: Registration) -> Offer | None:
        return registration.offers.filter(status=Offer.Status.OPEN).select_related("office").first()


def _registration(token: str) -> Registration:
    found = Registration.objects.filter(token=token).prefetch_related("offices").first()
    if found is None:
        raise HttpError(404, _("There is no waitlist registration with this token."))
    return found


def _offer(token: str) -> Offer:
    found = Offer.objects.filter(token=token).select_related("office", "registration").first()
    if found is None:
        raise HttpError(404, _("There is no offer with this token."))
    return found


@router.post(
    "/waitlist",
    response={201: RegistrationOut, 403: ConflictOut, 422: InvalidOut},
    summary="Wait for a time: offered by e-mail when one that fits becomes free",
)
@decorate_view(limited("book"))
def create_registration(request: HttpRequest, payload: RegistrationIn) -> Status[Any]:
    """The citizen confirms the address by the link sent to it; only then are times offered."""
    now = timezone.now()
    missing = proof_missing(request, now=now)
    if missing is not None:
        return missing
    needs = needs_load(needs_check([(line.service, line.persons) for line in payload.services]))
    offices = list(public_offices().filter(slug__in=payload.offices))
    if len(offices) != len(set(payload.offices)):
        raise BookingError(_("One of these offices does not exist."), field="offices")
    today = timezone.localdate()
    if payload.first_day < today or payload.last_day < payload.first_day:
        raise BookingError(_("The last day must not be before the first."), field="last_day")
    if payload.last_day > today + datetime.timedelta(days=180):
        raise BookingError(_("Please choose a day within the next six months."), field="last_day")
    wish = Wish(
        needs=needs,
        offices=offices,
        first_day=payload.first_day,
        last_day=payload.last_day,
        weekdays=payload.weekdays,
        parts=[Part(part) for part in payload.parts],
    )
    registration = registration_create(
        wish=wish, name=payload.name, email=payload.email, language=payload.language, now=now
    )
    return Status(201, registration)


@router.get("/waitlist/{token}", response={200: RegistrationOut, 404: ConflictOut}, summary="A registration")
@decorate_view(limited("read"))
def read_registration(request: HttpRequest, token: str) -> Registration:
    return _registration(token)


@router.delete(
    "/waitlist/{token}", response={200: RegistrationOut, 404: ConflictOut}, summary="No longer wait (withdraw)"
)
@decorate_view(limited("cancel"))
def withdraw_registration(request: HttpRequest, token: str) -> Registration:
    return registration_withdraw(registration=_registration(token), now=timezone.now())


@router.post(
    "/waitlist/offers/{token}/accept",
    response={201: AppointmentOut, 404: ConflictOut, 409: ConflictOut, 422: InvalidOut},
    summary="Book the offered time",
)
@decorate_view(limited("book"))
def accept_offer(request: HttpRequest, token: str) -> Status[Any]:
    appointment = offer_accept(offer=_offer(token), now=timezone.now())
    return Status(201, appointment)


@router.post(
    "/waitlist/offers/{token}/decline",
    response={200: WaitlistOfferOut, 404: ConflictOut, 409: ConflictOut, 422: InvalidOut},
    summary="Decline the offered time: it goes to the next in line",
)
@decorate_view(limited("cancel"))
def decline_offer(request: HttpRequest, token: str) -> Offer:
    return offer_decline(offer=_offer(token), now=timezone.now())
