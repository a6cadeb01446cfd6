"""The citizen's way: needs → office → time (held) → contact → check → booked; and the private manage link.

Plain HTML forms first; htmx only swaps parts (the needs summary, the hold
timer). Writes go through booking.services.appointments; every refusal
there comes back as a message on the page the citizen was on.
"""

import calendar
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.limits import limited
from access.proof import FIELD as PROOF_FIELD
from access.proof import QUESTION_FIELDS, proof_given, proof_needed, question_create, widget_settings
from booking.availability import (
    nearest_free_starts,
    office_free_starts,
    office_free_starts_until,
    offices_by_earliest_until,
)
from booking.days import local_day, parse_day
from booking.errors import BookingError, HoldAlreadyBooked, SlotTaken
from booking.forms import TICKED, ContactForm, NeedsForm, StartForm
from booking.grid import BERLIN
from booking.holders import holder_of
from booking.ics import appointment_ics
from booking.models import Appointment, Hold
from booking.needs import (
    Need,
    appointment_needs,
    hold_needs,
    needs_from_param,
    needs_load,
    needs_param,
    needs_parse,
    office_needs_minutes,
    what_to_bring,
)
from booking.needs_choice import needs_catalogue, needs_list, recent_service_counts, summary_data
from booking.selectors import hold_by_token
from booking.services.appointments import (
    Change,
    Contact,
    appointment_book,
    appointment_cancel,
    appointment_changes_allowed,
    appointment_from_hold,
    appointment_move,
    hold_extend,
    hold_place,
    hold_renew,
    hold_renewable,
)
from booking.services.confirmation import appointment_confirm, confirmation_asked
from booking.services.retention import appointment_erase_personal_data, appointment_is_over
from booking.services.slots import released_until
from booking.templatetags.local_time import clock
from booking.views.shared import Note, SharedPage, shared_key, shared_render, shared_response, shared_reuse
from buergerservice import versions
from offices.models import Office
from offices.selectors import public_office

SESSION_HOLD = "booking-hold"  # the token of this browser's current hold: one at a time
SESSION_BOOKED = "booking-just-booked"
# The time this browser holds and what its citizen typed, kept in the session (never in an address) until a while
# after the hold ends: to carry the typed details to the next time chosen, and to offer the same time again.
SESSION_DRAFT = "booking-draft"


def _contact_key(token: str) -> str:
    return f"booking-contact-{token}"


def _book_url(name: str, *args: object, **query: object) -> str:
    url = reverse(f"booking:{name}", args=args)
    query = {key: value for key, value in query.items() if value}
    return f"{url}?{urlencode(query)}" if query else url


def _needs_or_message(request: HttpRequest, value: str) -> list[Need] | None:
    try:
        return needs_from_param(value)
    except BookingError as error:
        messages.error(request, error.message)
        return None


# Step 1: what do you need?


@require_GET
@limited("read")
def needs(request: HttpRequest) -> HttpResponse:
    if TICKED in request.GET or any(key.startswith("persons-") for key in request.GET):  # the form sent
        return _needs_sent(request)
    pairs: list[tuple[str, int]] = []
    if request.GET.get("services"):
        try:
            pairs = needs_parse(request.GET["services"])
        except BookingError as error:
            messages.error(request, error.message)
    try:
        page = _needs_page(pairs)
    except BookingError as error:  # a service that is not (or no longer) offered
        messages.error(request, error.message)
        page = _needs_page([])
    return shared_response(request, page)


def _pairs_key(pairs: list[tuple[str, int]]) -> str:
    return ",".join(f"{slug}:{persons}" for slug, persons in pairs)


def _needs_page(pairs: list[tuple[str, int]]) -> SharedPage:
    """The form with these needs chosen, the same for everyone until the catalogue changes.

    The services most often booked come first (``booking.needs_choice``): their ranking is read when the page
    is computed, so a kept page shows the ranking of its time.
    """

    def compute() -> tuple[SharedPage, None]:
        chosen = needs_load(pairs) if pairs else []
        categories, services = needs_catalogue()
        form = NeedsForm(categories=categories, services=services, initial_needs=chosen)
        return shared_render("booking/needs.html", _needs_context(form, chosen)), None

    return shared_reuse(f"book:needs:{_pairs_key(pairs)}", [versions.CATALOGUE], compute, now=timezone.now())


def _needs_sent(request: HttpRequest) -> HttpResponse:
    categories, services = needs_catalogue()
    form = NeedsForm(request.GET, categories=categories, services=services)
    chosen: list[Need] = []
    if form.is_valid():
        chosen = form.cleaned_data["needs"]
        if "preview" not in request.GET:
            return redirect(_book_url("offices", services=needs_param(chosen)))
    return render(request, "booking/needs.html", _needs_context(form, chosen))


def _needs_context(form: NeedsForm, chosen: list[Need]) -> dict:
    estimate = sum(need.service.default_duration_minutes * need.persons for need in chosen)
    return {
        "form": form,
        "chosen": chosen,
        "estimate": estimate,
        "what_to_bring": what_to_bring(chosen),
        "needs_list": needs_list(form, recent_service_counts()),
        "summary_data": summary_data(form),
    }


# Step 2: where?


@require_GET
@limited("read")
def offices(request: HttpRequest) -> HttpResponse:
    try:
        pairs = needs_parse(request.GET.get("services", ""))
        page = _offices_page(pairs, now=timezone.now())
    except BookingError as error:
        messages.error(request, error.message)
        return redirect("booking:needs")
    return shared_response(request, page)


def _offices_page(pairs: list[tuple[str, int]], *, now: datetime.datetime) -> SharedPage:
    """The offices offering the needs, earliest free time first: the same for everyone until one of them changes.

    Kept under the catalogue and the city-wide grid version (any office's grid
    written), until the first of their earliest times would change by time alone:
    one round trip to the cache to find it.
    """
    key = _pairs_key(pairs)

    def page() -> tuple[SharedPage, datetime.datetime | None]:
        chosen = needs_load(pairs)
        choices, until = offices_by_earliest_until(needs=chosen, now=now)
        best = choices[0] if choices and choices[0].earliest else None
        context = {"chosen": chosen, "services": needs_param(chosen), "choices": choices, "best": best}
        return shared_render("booking/offices.html", context), until

    return versions.reuse(shared_key(f"book:where:{key}"), [versions.CATALOGUE, versions.ALL_GRIDS], page, now=now)


# Step 3: when? (shared with moving an appointment)


# Parts of the day the free times are grouped in (Berlin's clock): each starts at its hour, until the next.
PARTS_OF_DAY = ((0, "Morning"), (11, "Midday"), (14, "Afternoon"))
ALL_OPEN_UP_TO = 16  # a day with this many free times or fewer shows them all at once


@dataclass(frozen=True)
class DayPart:
    label: str
    starts: list[datetime.datetime]
    hours: list[tuple[int, list[datetime.datetime]]]  # (Berlin hour, its starts)
    open: bool  # shown opened: the part with the day's first time, or every part of a day with few times


def day_parts(times: list[datetime.datetime]) -> list[DayPart]:
    """Free starts (in order) by part of the day, and within each part by hour; parts without a time left out.

    So a day never shows a wall of buttons: only the part with its earliest time is opened, unless the day
    has so few times that they all fit.
    """
    labels = {"Morning": _("Morning"), "Midday": _("Midday"), "Afternoon": _("Afternoon")}
    grouped: dict[str, dict[int, list[datetime.datetime]]] = {}
    for start in times:
        hour = start.astimezone(BERLIN).hour
        part = next(name for first, name in reversed(PARTS_OF_DAY) if hour >= first)
        grouped.setdefault(part, {}).setdefault(hour, []).append(start)
    parts = []
    for _first, name in PARTS_OF_DAY:
        if name not in grouped:
            continue
        hours = list(grouped[name].items())
        starts = [start for _hour, in_hour in hours for start in in_hour]
        parts.append(DayPart(str(labels[name]), starts, hours, len(times) <= ALL_OPEN_UP_TO or not parts))
    return parts


@dataclass(frozen=True)
class DayCell:
    date: datetime.date
    in_month: bool
    free: bool
    selected: bool


@dataclass
class Picker:
    month: datetime.date  # its first day
    weeks: list[list[DayCell]]
    free_days: list[datetime.date]
    day: datetime.date | None
    times: list[datetime.datetime]  # the chosen day's free starts, in order
    previous_month: datetime.date | None
    next_month: datetime.date | None
    nearest: list[datetime.datetime]
    earliest: datetime.datetime | None  # the first free start of the month shown (from today on)

    @property
    def parts(self) -> list[DayPart]:
        """The chosen day's free times by part of the day (``day_parts``)."""
        return day_parts(self.times)


def _parse_month(value: str) -> datetime.date | None:
    """The first day of a ``YYYY-MM`` month (booking.days' rule for its first day), or None."""
    return parse_day(f"{value}-01") if len(value) == 7 and value[4:5] == "-" else None


def _picker(
    *,
    office: Office,
    minutes: int,
    now: datetime.datetime,
    asked_day: str = "",
    asked_month: str = "",
    lost: datetime.datetime | None = None,
) -> tuple[Picker, list[Note], datetime.datetime]:
    """The month calendar with the days that have free times, and the free times of the chosen day.

    Also what to tell the citizen about the day or month asked for, and the
    instant from which the free times may differ with no change to the grid.
    """
    notes: list[Note] = []
    today = local_day(now)
    last = released_until(office=office, now=now)
    first_month, last_month = today.replace(day=1), last.replace(day=1)
    day = parse_day(asked_day) if asked_day else None
    if asked_day and day is None:
        notes.append((messages.ERROR, _("“%(value)s” is not a date.") % {"value": asked_day[:20]}))
    past = day is not None and day < today and lost is None
    if past:  # an old link or a typed date: said, and the calendar from today with the first free day chosen
        text = _("This day is in the past: %(date)s. Here are the next free days.") % {"date": _long_date(day)}
        notes.append((messages.WARNING, text))
        day = None
    if lost is not None:
        day = local_day(lost)
    month = day.replace(day=1) if day else None
    if month is None and asked_month:
        month = _parse_month(asked_month)
        if month is None:
            notes.append((messages.ERROR, _("“%(value)s” is not a month (YYYY-MM).") % {"value": asked_month[:20]}))
    month = month or first_month
    month = min(max(month, first_month), last_month)
    month_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    first, last = max(month, today), min(month_end, last)
    free, until = office_free_starts_until(office=office, minutes=minutes, now=now, first=first, last=last)
    if past and free:
        day = min(free)
    if day is not None and day not in free and lost is None:
        notes.append((messages.INFO, _("There are no free times on %(date)s.") % {"date": _long_date(day)}))
    times = free.get(day, []) if day else []
    weeks = [
        [DayCell(date, date.month == month.month, date in free, date == day) for date in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    ]
    previous_month = (month - datetime.timedelta(days=1)).replace(day=1)
    next_month = month_end + datetime.timedelta(days=1)
    nearest = []
    if lost is not None:
        nearest = nearest_free_starts(office=office, minutes=minutes, around=lost, now=now)
    picker = Picker(
        month=month,
        weeks=weeks,
        free_days=sorted(free),
        day=day if times else None,
        times=times,
        previous_month=previous_month if previous_month >= first_month else None,
        next_month=next_month if next_month <= last_month else None,
        nearest=nearest,
        earliest=free[min(free)][0] if free else None,
    )
    return picker, notes, until


def _picker_for(request: HttpRequest, *, office: Office, minutes: int, lost: datetime.datetime | None = None) -> Picker:
    """``_picker`` for the day or month the request asks for; what to tell the citizen becomes messages."""
    picker, notes, _until = _picker(
        office=office,
        minutes=minutes,
        now=timezone.now(),
        asked_day=request.GET.get("date", "").strip(),
        asked_month=request.GET.get("month", "").strip(),
        lost=lost,
    )
    for level, text in notes:
        messages.add_message(request, level, text)
    return picker


def _long_date(day: datetime.date) -> str:
    return f"{date_format(day, 'l')}, {date_format(day, 'DATE_FORMAT')}"


PROOF_ANSWER = QUESTION_FIELDS[1]


def release_note(office: Office) -> str:
    """When the next times are released, as the times page says it (``Office.release_steps``)."""
    steps = office.release_steps
    text = _("Every day at %(time)s the day %(days)s days ahead opens for booking.") % {
        "time": office.release_time.strftime("%H:%M"),
        "days": office.horizon_days,
    }
    if len(steps) > 1:
        parts = ", ".join(
            _("%(percent)s %% from %(time)s") % {"percent": percent, "time": time.strftime("%H:%M")}
            for time, percent in steps
        )
        text += " " + _("It opens in portions, so that nobody has to be first: %(parts)s.") % {"parts": parts}
    return text


def _times_context(*, office: Office, chosen: list[Need], minutes: int, picker: Picker) -> dict:
    services = needs_param(chosen)
    return {
        "office": office,
        "chosen": chosen,
        "services": services,
        "minutes": minutes,
        "picker": picker,
        "action": reverse("booking:hold", args=[office.slug]),
        "page_url": reverse("booking:times", args=[office.slug]),
        "query": {"services": services},
        "proof": widget_settings() if settings.PROOF_OF_WORK else None,
        "release_note": release_note(office),
    }


def _times_page(
    request: HttpRequest,
    *,
    office: Office,
    chosen: list[Need],
    lost: datetime.datetime | None = None,
    status: int = 200,
) -> HttpResponse:
    """The calendar rendered for this request: after a refused hold or booking (with the nearest free times)."""
    minutes = office_needs_minutes(office=office, needs=chosen)
    picker = _picker_for(request, office=office, minutes=minutes, lost=lost)
    context = _times_context(office=office, chosen=chosen, minutes=minutes, picker=picker)
    return render(request, "booking/times.html", context, status=status)


@require_GET
@limited("read")
def times(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        pairs = needs_parse(request.GET.get("services", ""))
    except BookingError as error:
        public_office(slug)  # an unknown office is not found, whatever else is wrong
        messages.error(request, error.message)
        return redirect("booking:needs")
    asked_day, asked_month = request.GET.get("date", "").strip(), request.GET.get("month", "").strip()
    if (asked_day and parse_day(asked_day) is None) or (asked_month and _parse_month(asked_month) is None):
        # Not kept: every malformed value would be a page of its own.
        office = public_office(slug)
        try:
            return _times_page(request, office=office, chosen=needs_load(pairs))
        except BookingError as error:
            return _times_refused(request, error, pairs)
    try:
        page = _times_shared(slug, pairs, asked_day=asked_day, asked_month=asked_month, now=timezone.now())
    except BookingError as error:
        return _times_refused(request, error, pairs)
    return shared_response(request, page)


def _times_refused(request: HttpRequest, error: BookingError, pairs: list[tuple[str, int]]) -> HttpResponse:
    """Back to the needs (a service not offered at all) or to the offices (one this office does not offer)."""
    messages.error(request, error.message)
    if error.field == "office":
        return redirect(_book_url("offices", services=_pairs_key(pairs)))
    return redirect("booking:needs")


def _times_shared(
    slug: str, pairs: list[tuple[str, int]], *, asked_day: str, asked_month: str, now: datetime.datetime
) -> SharedPage:
    """The office's calendar for these needs and that day or month, the same for everyone until the office's
    grid or the catalogue changes, or its free times change by time alone (``booking.availability``)."""

    def compute() -> tuple[SharedPage, datetime.datetime]:
        office = public_office(slug)
        chosen = needs_load(pairs)
        minutes = office_needs_minutes(office=office, needs=chosen)
        picker, notes, until = _picker(
            office=office, minutes=minutes, now=now, asked_day=asked_day, asked_month=asked_month
        )
        context = _times_context(office=office, chosen=chosen, minutes=minutes, picker=picker)
        return shared_render("booking/times.html", context, notes=notes), until

    key = f"book:at:{slug}:{_pairs_key(pairs)}:{asked_day}:{asked_month}"
    return shared_reuse(key, [versions.CATALOGUE, versions.grid(slug)], compute, now=now)


def _session_hold(request: HttpRequest) -> Hold | None:
    return hold_by_token(request.session.get(SESSION_HOLD))


# The draft: which time this browser holds, and the details typed for it that are not valid (yet). Valid details
# are kept under ``_contact_key(token)``. Both go with the citizen to the next hold of this browser, are kept until
# ``BOOKING_HOLD_MINUTES`` after the hold runs out (to hold the same time again), and are forgotten after booking.


def _draft(request: HttpRequest) -> dict | None:
    """This browser's draft while it may still be used; one kept too long is forgotten, details and all."""
    draft = request.session.get(SESSION_DRAFT)
    if not draft:
        return None
    if datetime.datetime.fromisoformat(draft["kept_until"]) <= timezone.now():
        _draft_forget(request)
        return None
    return draft


def _draft_forget(request: HttpRequest) -> None:
    draft = request.session.pop(SESSION_DRAFT, None)
    if draft:
        request.session.pop(_contact_key(draft["token"]), None)


def _draft_keep(request: HttpRequest, hold: Hold, chosen: list[Need], *, typed: dict | None = None) -> None:
    """Remember the browser's hold (its time, office and needs) and what was typed for it (``typed``: the same)."""
    draft = request.session.get(SESSION_DRAFT) or {}
    if typed is None:
        typed = draft.get("typed", {}) if draft.get("token") == hold.token else {}
    kept_until = hold.expires_at + datetime.timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    kept = {
        "token": hold.token,
        "office": hold.office.slug,
        "start": hold.start.isoformat(),
        "services": needs_param(chosen),
        "kept_until": kept_until.isoformat(),
        "typed": typed,
    }
    if kept != draft:  # a page shown again writes no session
        request.session[SESSION_DRAFT] = kept


def _draft_move(request: HttpRequest, hold: Hold, chosen: list[Need]) -> bool:
    """The details typed for the browser's previous hold now belong to ``hold``; whether they were complete."""
    previous = _draft(request)  # a new hold has a new token: the previous one's details move over
    contact = request.session.pop(_contact_key(previous["token"]), None) if previous else None
    typed = previous["typed"] if previous else {}
    if contact:
        request.session[_contact_key(hold.token)] = contact
    _draft_keep(request, hold, chosen, typed=typed)
    return bool(contact)


@require_POST
@limited("hold")
def hold(request: HttpRequest, slug: str) -> HttpResponse:
    """Keep the chosen time for the citizen while they type (the previous hold of this browser is released)."""
    office = public_office(slug)
    chosen = _needs_or_message(request, request.POST.get("services", ""))
    if chosen is None:
        return redirect("booking:needs")
    form = StartForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["start"][0])
        return _times_page(request, office=office, chosen=chosen, status=422)
    start = form.cleaned_data["start"]
    now = timezone.now()
    if proof_needed(request) and not proof_given(request, now=now):
        # No JavaScript (no solution), or a solution or answer that is wrong, expired or used: the question.
        attempted = any(request.POST.get(name) for name in (PROOF_FIELD, PROOF_ANSWER))
        context = {"office": office, "chosen": chosen, "services": needs_param(chosen), "start": start}
        context |= {"question": question_create(now=now), "action": reverse("booking:hold", args=[office.slug])}
        context["wrong"] = attempted
        return render(request, "booking/proof.html", context, status=422 if attempted else 200)
    again = _again_draft(request, office=office, start=start, chosen=chosen)
    try:
        if again is not None:  # "hold this time again": the hold that ran out, taken back (once) if nobody has it
            held = hold_renew(
                token=again["token"],
                holder=holder_of(request, browser=True),
                office=office,
                start=start,
                needs=chosen,
                now=now,
            )
        else:
            held = hold_place(
                office=office,
                start=start,
                needs=chosen,
                now=now,
                replacing=_session_hold(request),
                holder=holder_of(request, browser=True),
            )
    except BookingError as error:
        messages.error(request, error.message)
        draft = _draft(request)
        if request.POST.get("again") and draft is not None:  # "hold this time again": back to what it offered
            return redirect("booking:details", token=draft["token"])
        if isinstance(error, SlotTaken):
            return _times_page(request, office=office, chosen=chosen, lost=start, status=409)
        return _times_page(request, office=office, chosen=chosen, status=422)
    request.session[SESSION_HOLD] = held.token
    # Another time, office or needs chosen from the check page (or the same time again): the details typed come
    # along, and complete ones are not asked again.
    complete = _draft_move(request, held, chosen)
    return redirect("booking:check" if complete else "booking:details", token=held.token)


def _again_draft(request: HttpRequest, *, office: Office, start: datetime.datetime, chosen: list[Need]) -> dict | None:
    """With "hold this time again": this browser's draft of exactly that time (its token comes from the session
    only, never from the form)."""
    draft = _draft(request) if request.POST.get("again") else None
    if draft is None or (draft["office"], draft["services"]) != (office.slug, needs_param(chosen)):
        return None
    return draft if datetime.datetime.fromisoformat(draft["start"]) == start else None


# Steps 4 and 5: contact details and the check of the answers, while the time is held


@dataclass(frozen=True)
class _Held:
    hold: Hold
    chosen: list[Need]


def _hold_or_gone(request: HttpRequest, token: str) -> tuple[_Held | None, HttpResponse | None]:
    """The hold behind the link, still valid, and its needs; otherwise the page that says it is gone."""
    held = hold_by_token(token, live_at=timezone.now())
    chosen = hold_needs(held) if held is not None else None
    if held is None or chosen is None:
        booked = appointment_from_hold(token)
        if booked is not None:  # Back or reload after booking: the hold became this appointment
            return None, redirect("booking:manage", token=booked.manage_token)
        return None, _hold_gone(request, token)
    if token == request.session.get(SESSION_HOLD):
        _draft_keep(request, held, chosen)
    return _Held(held, chosen), None


def _hold_gone(request: HttpRequest, token: str) -> HttpResponse:
    """The page of a hold that is gone; to this browser's citizen it offers the same time again while it is free."""
    draft = _draft(request)
    context = {}
    if draft is not None and draft["token"] == token:  # only the browser that held it: the token alone is not enough
        if request.method == "POST" and any(name in request.POST for name in ContactForm.base_fields):
            # The details sent just after the time ran out: kept for holding it (or another) again.
            draft["typed"] = _typed_keep(request, token, ContactForm(request.POST))
            request.session[SESSION_DRAFT] = draft
        context = _again_context(request, draft)
    return render(request, "booking/hold_gone.html", context, status=410)


def _again_context(request: HttpRequest, draft: dict) -> dict:
    """The time the draft held, whether it is still free online, and the form that holds it again."""
    try:
        office = public_office(draft["office"])
        chosen = needs_from_param(draft["services"])
        minutes = office_needs_minutes(office=office, needs=chosen)
    except (Http404, BookingError):  # the office or a service is no longer offered: no time to offer again
        return {}
    now = timezone.now()
    start = datetime.datetime.fromisoformat(draft["start"])
    day = local_day(start)
    free = False
    if start > now:  # reading the free times also releases the expired holds (this one too)
        free = start in office_free_starts(office=office, minutes=minutes, now=now, first=day, last=day).get(day, [])
        # Its units still kept by its row (for the waitlist first): not free to others, but this browser's to renew.
        free = free or hold_renewable(token=draft["token"], holder=holder_of(request, browser=True))
    again = {
        "office": office,
        "chosen": chosen,
        "services": draft["services"],
        "start": start,
        "end": start + datetime.timedelta(minutes=minutes),
        "free": free,
        "kept": bool(draft["typed"] or request.session.get(_contact_key(draft["token"]))),
        "action": reverse("booking:hold", args=[office.slug]),
        "times_url": _book_url("times", office.slug, services=draft["services"], date=day.isoformat()),
    }
    return {"again": again, "proof": widget_settings() if settings.PROOF_OF_WORK and free else None}


def _hold_context(found: _Held) -> dict:
    held, chosen = found.hold, found.chosen
    return {
        "hold": held,
        "office": held.office,
        "chosen": chosen,
        "services": needs_param(chosen),
        "what_to_bring": what_to_bring(chosen),
        "now": timezone.now(),
    }


@require_http_methods(["GET", "POST"])
def details(request: HttpRequest, token: str) -> HttpResponse:
    held, gone = _hold_or_gone(request, token)
    if held is None:
        return gone
    if request.method == "POST":
        form = ContactForm(request.POST)
        change = request.POST.get("change")
        if change in CHANGES:
            return _leave_to_change(request, held, form, change)
        if form.is_valid():
            request.session[_contact_key(token)] = form.cleaned_data
            if token == request.session.get(SESSION_HOLD):
                _draft_keep(request, held.hold, held.chosen, typed={})  # checked details replace what was typed
            return redirect("booking:check", token=token)
    else:
        form = ContactForm(initial=request.session.get(_contact_key(token)) or _typed(request, token))
    return render(request, "booking/details.html", _hold_context(held) | {"form": form})


CHANGES = ("services", "office", "time")  # the earlier answers the details page can go back to


def _typed(request: HttpRequest, token: str) -> dict:
    draft = _draft(request)
    return draft["typed"] if draft is not None and draft["token"] == token else {}


def _typed_keep(request: HttpRequest, token: str, form: ContactForm) -> dict:
    """What the details form sent, as typed (valid or not, for the session only); valid details also as checked."""
    if form.is_valid():
        request.session[_contact_key(token)] = form.cleaned_data
    else:  # what is typed now wins over details checked before
        request.session.pop(_contact_key(token), None)
    return {name: request.POST.get(name, "")[:300] for name in ContactForm.base_fields if name in request.POST}


def _leave_to_change(request: HttpRequest, held: _Held, form: ContactForm, change: str) -> HttpResponse:
    """Keep what was typed and go to the answer to change; the next hold of this browser takes the details along."""
    _draft_keep(request, held.hold, held.chosen, typed=_typed_keep(request, held.hold.token, form))
    services = needs_param(held.chosen)
    if change == "time":
        return redirect(
            _book_url("times", held.hold.office.slug, services=services, date=local_day(held.hold.start).isoformat())
        )
    return redirect(_book_url("offices" if change == "office" else "needs", services=services))


@require_POST
@limited("hold")
def extend(request: HttpRequest, token: str) -> HttpResponse:
    """More time for the citizen who is still typing (WCAG 2.2.1)."""
    held, gone = _hold_or_gone(request, token)
    if held is None:
        return gone
    try:
        hold = hold_extend(hold=held.hold, now=timezone.now())
    except BookingError as error:
        news, level = str(error.message), messages.ERROR
    else:
        news, level = _("Your time is held until %(time)s.") % {"time": clock(hold.expires_at)}, messages.SUCCESS
        if hold.token == request.session.get(SESSION_HOLD):
            _draft_keep(request, hold, held.chosen)
    if request.htmx:  # only the timer changes; its live region says what happened (the focus stays where it was)
        return render(request, "booking/_hold_timer.html", _hold_context(held) | {"hold_news": news})
    messages.add_message(request, level, news)
    step = "check" if request.POST.get("next") == "check" else "details"
    return redirect(f"booking:{step}", token=token)


@require_http_methods(["GET", "POST"])
@limited("book")
def check(request: HttpRequest, token: str) -> HttpResponse:
    held, gone = _hold_or_gone(request, token)
    if held is None:
        return gone
    data = request.session.get(_contact_key(token))
    if not data:
        return redirect("booking:details", token=token)
    contact = Contact(**{key: data[key] for key in Contact.__dataclass_fields__})
    office = held.hold.office
    asked = confirmation_asked(office=office, needs=held.chosen, channel=held.hold.channel, email=contact.email)
    context = _hold_context(held) | {
        "contact": contact,
        "confirm_minutes": office.confirm_within_minutes if asked else 0,
    }
    if request.method == "GET":
        return render(request, "booking/check.html", context)
    try:
        appointment = appointment_book(
            office=held.hold.office,
            start=held.hold.start,
            needs=held.chosen,
            contact=contact,
            now=timezone.now(),
            hold_token=held.hold.token,
        )
    except HoldAlreadyBooked as repeated:  # the same form sent twice: the first made the appointment
        appointment = repeated.appointment
    except SlotTaken as error:
        messages.error(request, error.message)
        return _times_page(request, office=held.hold.office, chosen=held.chosen, lost=held.hold.start, status=409)
    except BookingError as error:
        messages.error(request, error.message)
        return render(request, "booking/check.html", context, status=422)
    request.session.pop(_contact_key(token), None)
    request.session.pop(SESSION_HOLD, None)
    _draft_forget(request)  # nothing typed outlives the booking
    request.session[SESSION_BOOKED] = appointment.manage_token
    return redirect("booking:manage", token=appointment.manage_token)


# The private manage link


def _appointment(token: str) -> Appointment:
    """The appointment behind a manage link; 404 for anything else (the token is the only key)."""
    return get_object_or_404(
        Appointment.objects.select_related("office").prefetch_related("lines__service"), manage_token=token
    )


@require_GET
def manage(request: HttpRequest, token: str, confirm_erase: bool = False) -> HttpResponse:
    appointment = _appointment(token)
    just_booked = request.session.get(SESSION_BOOKED) == token
    if just_booked:
        del request.session[SESSION_BOOKED]
    chosen = appointment_needs(appointment)
    now = timezone.now()
    return render(
        request,
        "booking/manage.html",
        {
            "appointment": appointment,
            "office": appointment.office,
            "chosen": chosen,
            "what_to_bring": what_to_bring(chosen),
            "just_booked": just_booked,
            "changes": appointment_changes_allowed(appointment=appointment, now=now),
            "manage_url": request.build_absolute_uri(reverse("booking:manage", args=[token])),
            # Once it is over, the citizen may erase their personal data (after a confirmation step).
            "can_erase": appointment.personal_data_erased_at is None
            and appointment_is_over(appointment=appointment, now=now),
            "confirm_erase": confirm_erase,
        },
    )


@require_http_methods(["GET", "POST"])
@limited("cancel")
def erase(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the manage page asking to confirm; POST: erase the personal data of an appointment that is over."""
    if request.method == "GET":
        return manage(request, token, confirm_erase=True)
    appointment = _appointment(token)
    try:
        appointment_erase_personal_data(appointment=appointment, now=timezone.now())
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your personal data for this appointment is erased."))
    return redirect("booking:manage", token=token)


@require_http_methods(["GET", "POST"])
@limited("read")  # not "book": a household confirming its bookings must not run out of its budget
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the e-mail that asks to confirm: a page with one button (a mail scanner that opens every
    link must not confirm for the citizen), which makes the booking final."""
    appointment = get_object_or_404(
        Appointment.objects.select_related("office").prefetch_related("lines__service"), confirm_token=token
    )
    now = timezone.now()
    waiting = appointment.status != Appointment.Status.CANCELLED and appointment.confirmed_at is None
    if request.method == "GET" and waiting and appointment.confirm_by > now:
        context = {"appointment": appointment, "office": appointment.office, "chosen": appointment_needs(appointment)}
        return render(request, "booking/confirm.html", context)
    try:  # a POST in time confirms; anything else is answered with how it stands (confirming again changes nothing)
        current = appointment_confirm(appointment=appointment, now=now)
    except BookingError as error:
        return render(
            request, "booking/confirm.html", {"appointment": appointment, "refusal": error.message}, status=410
        )
    if current.status == Appointment.Status.NEEDS_REBOOKING:
        messages.warning(request, _("Your e-mail address is confirmed. The office cannot keep the time, though."))
    else:
        messages.success(request, _("Your appointment is confirmed. It is yours."))
    return redirect("booking:manage", token=appointment.manage_token)


@require_GET
def short_link(request: HttpRequest, token: str) -> HttpResponse:
    """The short link in SMS: on to the manage page in the language the appointment was booked in."""
    appointment = get_object_or_404(Appointment.objects.only("manage_token", "language"), manage_token=token)
    with translation.override(appointment.language):
        return redirect(reverse("booking:manage", args=[appointment.manage_token]))


@require_GET
def ics(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment(token)
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="termin-{appointment.booking_code}.ics"'
    return response


@require_http_methods(["GET", "POST"])
@limited("cancel")
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment(token)
    if request.method == "POST":
        try:
            appointment_cancel(appointment=appointment, now=timezone.now())
        except BookingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your appointment is cancelled. The time is free for someone else now."))
        return redirect("booking:manage", token=token)
    return render(
        request,
        "booking/cancel.html",
        {"appointment": appointment, "office": appointment.office, "chosen": appointment_needs(appointment)},
    )


@require_http_methods(["GET", "POST"])
@limited("read")
@limited("move")
def move(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment(token)
    if Change.MOVE not in appointment_changes_allowed(appointment=appointment, now=timezone.now()):
        messages.error(request, _("This appointment can no longer be moved."))
        return redirect("booking:manage", token=token)
    lost = None
    if request.method == "POST":
        form = StartForm(request.POST)
        if form.is_valid():
            try:
                appointment_move(appointment=appointment, start=form.cleaned_data["start"], now=timezone.now())
            except SlotTaken as error:
                messages.error(request, error.message)
                lost = form.cleaned_data["start"]
            except BookingError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Your appointment has been moved. Your old time is free again."))
                return redirect("booking:manage", token=token)
        else:
            messages.error(request, form.errors["start"][0])
    picker = _picker_for(request, office=appointment.office, minutes=appointment.duration_minutes, lost=lost)
    return render(
        request,
        "booking/move.html",
        {
            "appointment": appointment,
            "office": appointment.office,
            "chosen": appointment_needs(appointment),
            "minutes": appointment.duration_minutes,
            "picker": picker,
            "action": reverse("booking:move", args=[token]),
            "page_url": reverse("booking:move", args=[token]),
            "query": {},
        },
        status=409 if lost else 200,
    )
