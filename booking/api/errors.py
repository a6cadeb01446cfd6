"""The API's refusals: one 422 shape for bad input (pydantic's and the booking rules'), 409 for conflicts."""

import datetime
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import ValidationError

from booking.availability import nearest_free_starts
from booking.errors import BookingError, SlotTaken
from offices.models import Office

BODY = "payload"  # the name of every endpoint's body parameter, left out of loc

# Pydantic's messages are English only; these say the same through gettext (most are Django's own
# texts, so Django's catalogues translate them already).
_MESSAGES: dict[str, Any] = {
    "missing": gettext_lazy("This field is required."),
    "string_type": gettext_lazy("Enter text."),
    "string_too_short": gettext_lazy("This field cannot be blank."),
    "string_too_long": gettext_lazy("Enter at most %(max_length)s characters."),
    "int_type": gettext_lazy("Enter a whole number."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_from_float": gettext_lazy("Enter a whole number."),
    "greater_than_equal": gettext_lazy("Ensure this value is greater than or equal to %(limit_value)s."),
    "less_than_equal": gettext_lazy("Ensure this value is less than or equal to %(limit_value)s."),
    "bool_type": gettext_lazy("Enter true or false."),
    "bool_parsing": gettext_lazy("Enter true or false."),
    "date_type": gettext_lazy("Enter a valid date."),
    "date_parsing": gettext_lazy("Enter a valid date."),
    "date_from_datetime_parsing": gettext_lazy("Enter a valid date."),
    "date_from_datetime_inexact": gettext_lazy("Enter a valid date."),
    "datetime_type": gettext_lazy("Enter a valid date/time."),
    "datetime_parsing": gettext_lazy("Enter a valid date/time."),
    "datetime_from_date_parsing": gettext_lazy("Enter a valid date/time."),
    "timezone_aware": gettext_lazy("Give the time with its offset from UTC, for example 2026-11-23T08:00:00+01:00."),
    "literal_error": gettext_lazy("Choose one of %(expected)s."),
    "list_type": gettext_lazy("Enter a list of values."),
    "model_type": gettext_lazy("Enter an object."),
    "model_attributes_type": gettext_lazy("Enter an object."),
    "dict_type": gettext_lazy("Enter an object."),
}


def refusal(loc: list[str | int], msg: str, kind: str = "booking_rule") -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg}


def _message(error: dict[str, Any], ctx: dict[str, Any]) -> str:
    if error["type"] == "value_error":  # our validators' messages are translated already
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    text = _MESSAGES.get(error["type"])
    if text is None:
        return error["msg"]
    try:
        return str(text) % ctx
    except (KeyError, TypeError, ValueError):  # a translation naming another placeholder: not a 500
        return error["msg"]


def _translated(error: dict[str, Any]) -> dict[str, Any]:
    """One of ninja's validation errors in our shape: the body parameter's name left out of loc, msg in gettext."""
    loc = list(error["loc"])
    if loc[:2] == ["body", BODY]:
        del loc[1]
    ctx = dict(error.get("ctx") or {})
    ctx.setdefault("limit_value", ctx.get("ge", ctx.get("le")))  # the name in Django's texts
    return refusal(loc, _message(error, ctx), error["type"])


def _invalid(request: HttpRequest, exc: ValidationError, *, api: NinjaAPI) -> HttpResponse:
    return api.create_response(request, {"detail": [_translated(error) for error in exc.errors]}, status=422)


def _refused(request: HttpRequest, exc: BookingError, *, api: NinjaAPI) -> HttpResponse:
    """A rule refused: 422 where an input is at fault, 409 where the appointment's or hold's state is (no field)."""
    if isinstance(exc, SlotTaken):  # endpoints answer these themselves, with the nearest free times
        return api.create_response(request, {"detail": str(exc.message), "nearest": []}, status=409)
    if exc.field is None:
        return api.create_response(request, {"detail": str(exc.message)}, status=409)
    source = "query" if request.method == "GET" else "body"
    return api.create_response(request, {"detail": [refusal([source, exc.field], str(exc.message))]}, status=422)


def install_error_handlers(api: NinjaAPI) -> None:
    api.add_exception_handler(ValidationError, partial(_invalid, api=api))
    api.add_exception_handler(BookingError, partial(_refused, api=api))


def taken(
    error: SlotTaken, *, office: Office, minutes: int, around: datetime.datetime, now: datetime.datetime
) -> dict[str, Any]:
    """The 409 of a time someone else was faster to, with the free starts closest to it.

    No look for expired holds of its own: the free starts read release the office's expired holds before they
    are computed, and a kept answer ends when the office's next hold runs out (``booking.availability``).
    """
    nearest = nearest_free_starts(office=office, minutes=minutes, around=around, now=now)
    return {"detail": str(error.message), "nearest": nearest}
