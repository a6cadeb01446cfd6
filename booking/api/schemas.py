"""What the API reads and answers. Times are answered in Europe/Berlin, with their offset."""

import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from booking.days import checked_day
from booking.grid import BERLIN
from booking.models import Appointment, AppointmentService, Hold
from booking.services.appointments import appointment_changes_allowed
from offices.models import Office, OfficeService, Service


def _local(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(BERLIN).replace(microsecond=0)


LocalDateTime = Annotated[datetime.datetime, AfterValidator(_local)]
# A day someone may ask for (booking.days: within ten years of today, so its neighbours can be computed).
Day = Annotated[datetime.date, AfterValidator(checked_day)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError as error:
        raise ValueError(error.messages[0]) from None
    return value


class ErrorOut(Schema):
    type: str
    loc: list[str | int]
    msg: str


class InvalidOut(Schema):
    detail: list[ErrorOut]


class ConflictOut(Schema):
    detail: str


class TakenOut(Schema):
    detail: str
    nearest: list[LocalDateTime] = Field(description="The free starts closest to the one asked for.")


class ServiceOut(Schema):
    slug: str
    name: str
    category: str = Field(description="The slug of the service's category.")
    description: str
    what_to_bring: list[str]
    max_persons: int
    default_duration_minutes: int = Field(description="Per person; offices may take longer or shorter.")

    @staticmethod
    def resolve_category(service: Service) -> str:
        return service.category.slug

    @staticmethod
    def resolve_what_to_bring(service: Service) -> list[str]:
        return service.what_to_bring_items


class OfferOut(Schema):
    slug: str
    duration_minutes: int = Field(description="This office's time per person.")

    @staticmethod
    def resolve_slug(offer: OfficeService) -> str:
        return offer.service.slug


class OfficeOut(Schema):
    slug: str
    name: str
    kind: str
    street: str
    postal_code: str
    city: str
    step_free: bool
    services: list[OfferOut]

    @staticmethod
    def resolve_services(office: Office) -> list[OfficeService]:
        return list(office.offered_services.all())


class AvailabilityQuery(Schema):
    services: str = Field(description="slug[:persons],... e.g. personalausweis:2,anmeldung")
    office: str | None = Field(None, description="An office's slug: its free times. Without: every office's earliest.")
    date_from: Day | None = Field(None, description="With office: the first day (default today).")
    date_to: Day | None = Field(None, description="With office: the last day (default +30, at most +92).")


class DayOut(Schema):
    date: datetime.date
    times: list[str] = Field(description="Free starts, HH:MM in Europe/Berlin.")


class OfficeTimesOut(Schema):
    office: str
    duration_minutes: int = Field(description="What the services for these persons take at this office.")
    days: list[DayOut] = Field(description="Only the days with free times.")


class OfficeEarliestOut(Schema):
    office: str
    name: str
    kind: str
    duration_minutes: int
    earliest: LocalDateTime | None


class EarliestOut(Schema):
    office: str
    start: LocalDateTime


class OfficesEarliestOut(Schema):
    duration_minutes: None = Field(description="Differs by office: see each office's.")
    offices: list[OfficeEarliestOut] = Field(description="The offices offering all the services, earliest first.")
    earliest: EarliestOut | None


class NeedIn(Schema):
    service: str = Field(description="The service's slug.")
    persons: int = Field(1, ge=1, le=99)


class HoldIn(Schema):
    office: str = Field(description="The office's slug.")
    start: AwareDatetime = Field(description="ISO 8601 with offset, on the office's grid.")
    services: list[NeedIn]


class HoldOut(Schema):
    token: str
    office: str
    start: LocalDateTime
    end: LocalDateTime
    expires_at: LocalDateTime

    @staticmethod
    def resolve_office(hold: Hold) -> str:
        return hold.office.slug


class AppointmentIn(Schema):
    office: str = Field(description="The office's slug.")
    start: AwareDatetime = Field(description="ISO 8601 with offset, on the office's grid.")
    services: list[NeedIn]
    name: Text
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = ""
    language: Literal["de", "en", "tr", "ar", "uk", "ru"] = Field(
        "de", description="For the confirmation and reminders."
    )
    reminders_consent: bool = False
    hold: str | None = Field(None, description="The token of a hold for exactly this booking.")


class MoveIn(Schema):
    start: AwareDatetime = Field(description="ISO 8601 with offset, on the office's grid.")
    hold: str | None = Field(None, description="The token of a hold for the new time.")


class LineOut(Schema):
    service: str
    persons: int

    @staticmethod
    def resolve_service(line: AppointmentService) -> str:
        return line.service.slug


class AppointmentOut(Schema):
    booking_code: str
    manage_token: str
    office: str
    start: LocalDateTime
    end: LocalDateTime
    status: str = Field(description="booked, needs_rebooking or cancelled.")
    confirm_by: LocalDateTime | None = Field(
        description="Where the office asks citizens to confirm their e-mail address: the booking is final only "
        "once the link sent to it is opened by this time, and cancelled (its time freed) otherwise. Null when "
        "no confirmation is asked, or once it is given."
    )
    services: list[LineOut]
    changes_allowed: list[str] = Field(
        description="What may still be done to it now: cancel, move (none once it has begun, the citizen has "
        "checked in, or it is cancelled); the rule the manage page and the desk follow too."
    )

    @staticmethod
    def resolve_office(appointment: Appointment) -> str:
        return appointment.office.slug

    @staticmethod
    def resolve_confirm_by(appointment: Appointment) -> datetime.datetime | None:
        return appointment.confirm_by if appointment.awaiting_confirmation else None

    @staticmethod
    def resolve_changes_allowed(appointment: Appointment) -> list[str]:
        return sorted(appointment_changes_allowed(appointment=appointment, now=timezone.now()))

    @staticmethod
    def resolve_services(appointment: Appointment) -> list[AppointmentService]:
        return list(appointment.lines.all())
