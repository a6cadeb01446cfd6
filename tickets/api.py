"""The live status as JSON for city portals and apps: /api/v1/offices/status and /api/v1/offices/{slug}/status.

The same figures as the status page (``tickets.selectors.offices_status``),
kept for ``QUEUE_STATUS_CACHE_SECONDS`` on the server (``tickets.live``: one
process computes, the others answer with the previous figures meanwhile) and
allowed to be cached by anyone for what is left of that period: the answer is
the same for everybody asking in the same language at the same address. The
answer's bytes are kept too, per language and address (the links are absolute),
with an ETag, so a client that has them gets a 304. ``word`` follows
Accept-Language (de, en); the keys (``band``, ``walk_in``) do not. An unknown
office is 404 ``{"detail": msg}`` like the booking API's unknown tokens.
"""

import datetime
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import NinjaJSONEncoder
from pydantic import TypeAdapter

from booking.api.schemas import ConflictOut
from tickets.live import Kept, kept
from tickets.selectors import BAND_LIMITS, SLUG, Band, OfficeStatus, WalkIn, offices_status_kept

router = Router(tags=["live status"])

BAND_HELP = ", ".join(band.value for band in Band)
WALK_IN_HELP = ", ".join(state.value for state in WalkIn)
LIMITS_HELP = "; ".join(f"{band.value}: up to {limit} minutes" for limit, band in BAND_LIMITS)


class WaitOut(Schema):
    low: int = Field(description="Optimistic minutes.")
    mid: int = Field(description="Expected minutes: what the band is chosen by.")
    high: int = Field(description="Pessimistic minutes.")


class StatusLinksOut(Schema):
    status: str = Field(description="The office's status page, with its usual busy hours.")
    display: str = Field(description="The call display of its waiting room.")


class OfficeStatusOut(Schema):
    slug: str
    name: str
    band: str = Field(
        description=f"The traffic light: one of {BAND_HELP} ({LIMITS_HELP}; very_long above that, by the "
        "expected wait of a walk-in ticket drawn now)."
    )
    word: str = Field(description="The band in words, in the language of Accept-Language.")
    walk_in: str = Field(description=f"Whether a walk-in ticket can be drawn now: one of {WALK_IN_HELP}.")
    pickup_tickets: bool = Field(
        description="Whether a ticket for collecting a finished document can be drawn now: while the office is "
        "open, also after walk-in tickets have stopped (band pickup_only then)."
    )
    waiting: int = Field(description="Tickets waiting, all queues.")
    counters_open: int = Field(
        description="The clerks on shift now, or the counters serving now where more are; 0 while closed."
    )
    opens: datetime.datetime | None = Field(
        description="Today's first opening, UTC; null on a day the office is closed."
    )
    closes: datetime.datetime | None = Field(description="Today's last closing, UTC; null on a closed day.")
    wait_minutes: WaitOut | None = Field(
        description="The wait of a walk-in ticket drawn now, in whole minutes; null when none can be drawn."
    )
    next_free_appointment: datetime.datetime | None = Field(
        description="The earliest appointment bookable online for the office's shortest matter, UTC; null when "
        "there is none in the next weeks."
    )
    links: StatusLinksOut


def _minutes(value: float) -> int:
    return math.floor(value + 0.5)


def _out(request: HttpRequest, status: OfficeStatus) -> dict[str, object]:
    office = status.office
    wait = status.wait.minutes if status.wait else None
    return {
        "slug": office.slug,
        "name": office.name,
        "band": status.band.value,
        "word": str(status.word),
        "walk_in": status.walkin.value,
        "pickup_tickets": status.pickup,
        "waiting": status.waiting,
        "counters_open": status.counters_open,
        "opens": status.hours.opens.astimezone(datetime.UTC) if status.hours.opens else None,
        "closes": status.hours.closes.astimezone(datetime.UTC) if status.hours.closes else None,
        "wait_minutes": {"low": _minutes(wait.low), "mid": _minutes(wait.mid), "high": _minutes(wait.high)}
        if wait
        else None,
        "next_free_appointment": status.next_free.astimezone(datetime.UTC) if status.next_free else None,
        "links": {
            "status": request.build_absolute_uri(reverse("tickets:office-status", args=[office.slug])),
            "display": request.build_absolute_uri(reverse("tickets:display", args=[office.slug])),
        },
    }


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str


ONE = TypeAdapter(OfficeStatusOut)
EVERY = TypeAdapter(list[OfficeStatusOut])


def _answer(request: HttpRequest, name: str, build: Callable[[list[OfficeStatus]], object]) -> HttpResponse:
    """The JSON of ``build(statuses)`` as kept for this language and address, or a 304 for an ETag still current.

    ``build`` gives what the schema of the path validates and dumps, as ninja does with what an endpoint returns.
    """
    now = timezone.now()
    seconds = settings.QUEUE_STATUS_CACHE_SECONDS

    def compute() -> Kept[Answer]:
        statuses = offices_status_kept(now=now)
        body = json.dumps(build(statuses.value), cls=NinjaJSONEncoder).encode()
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        return Kept(Answer(body, etag), statuses.computed_at)

    origin = f"{request.scheme}://{request.get_host()}"
    answer = kept(f"tickets:status-json:{name}:{get_language()}:{origin}", compute, now=now, seconds=seconds)
    response = HttpResponse(answer.value.body, content_type="application/json; charset=utf-8")
    response["ETag"] = answer.value.etag
    if seconds > 0:
        patch_cache_control(response, public=True, max_age=max(0, math.floor(answer.fresh_for(now, seconds))))
    else:
        patch_cache_control(response, no_cache=True)
    patch_vary_headers(response, ["Accept-Language"])
    return get_conditional_response(request, etag=answer.value.etag, response=response) or response


@router.get(
    "/offices/status",
    response=list[OfficeStatusOut],
    summary="The live waiting-time status of every active office",
)
def list_office_statuses(request: HttpRequest) -> HttpResponse:
    return _answer(
        request,
        "every",
        lambda statuses: EVERY.dump_python(EVERY.validate_python([_out(request, status) for status in statuses])),
    )


@router.get(
    "/offices/{slug}/status",
    response={200: OfficeStatusOut, 404: ConflictOut},
    summary="The live waiting-time status of one office",
)
def read_office_status(request: HttpRequest, slug: str) -> HttpResponse:
    def build(statuses: list[OfficeStatus]) -> object:
        found = [status for status in statuses if status.office.slug == slug]
        if not found:
            raise Http404("No such office.")
        return ONE.dump_python(ONE.validate_python(_out(request, found[0])))

    if not SLUG.fullmatch(slug):  # what cannot be a slug (a NUL byte: PostgreSQL refuses it) asks nothing
        raise HttpError(404, _("There is no office “%(value)s”.") % {"value": slug[:60]})
    try:
        return _answer(request, f"office:{slug}", build)
    except Http404:
        raise HttpError(404, _("There is no office “%(value)s”.") % {"value": slug[:60]}) from None
