"""The clerks' queue: today's tickets of an office, "call next", the steps of one ticket, urgent cases.

Like the desk's day (``desk.views.day``), the list is a partial
(templates/desk/_queue.html) that htmx reloads every ``DESK_REFRESH_SECONDS``
and after each action; the counter, "call next" and the urgent case's form stay
outside it, so nothing a clerk is choosing is replaced. Without JavaScript every
action is a plain form that redirects back (to ``next`` when it points into this
site). The clerk's counter is the desk's: the same session value as the day page.
Who is called next is ``tickets.policy``'s decision, taken by ``desk.queue``.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from booking.days import local_day
from booking.errors import BookingError
from desk.access import office_for_staff, ticket_for_staff
from desk.forms.queue import UrgentForm
from desk.queue import queue_call_next, queue_step, queue_steps_allowed
from desk.views import staff_context
from desk.views.day import call_counter, next_url, session_counter
from offices.models import Office
from tickets.models import Ticket
from tickets.policy import Lane, queue_order
from tickets.selectors import closed_counts, open_tickets
from tickets.services import TICKET_STEPS, ticket_issue

Status = Ticket.Status
AT_COUNTER = (Status.CALLED, Status.IN_SERVICE)

# The buttons of a ticket at the clerk's counter, in the order of TICKET_STEPS.
STEP_BUTTONS = {
    "call": gettext_lazy("Call again"),
    "start": gettext_lazy("Start"),
    "finish": gettext_lazy("Finish"),
    "no_show": gettext_lazy("No-show"),
}
# What a step that was taken says; %(label)s is the ticket's number, %(counter)s the counter.
STEP_DONE = {
    "call": gettext_lazy("%(label)s called again to counter %(counter)s."),
    "start": gettext_lazy("%(label)s: service started."),
    "finish": gettext_lazy("%(label)s: finished."),
    "no_show": gettext_lazy("%(label)s: recorded as not come."),
}


def _queue_url(office: Office) -> str:
    return reverse("desk:queue", args=[office.slug])


# The page ---------------------------------------------------------------------------------------


@dataclass
class Row:
    ticket: Ticket
    waiting_minutes: int
    steps: list[tuple[str, str]]  # (step, button label): for the tickets at the clerk's counter


def _steps(ticket: Ticket, *, now: datetime.datetime, counter: int | None) -> list[tuple[str, str]]:
    """The buttons the rules allow now (desk.queue checks again when one is pressed)."""
    return [(step, str(STEP_BUTTONS[step])) for step in queue_steps_allowed(ticket=ticket, now=now, counter=counter)]


def _row(ticket: Ticket, *, now: datetime.datetime, counter: int | None, mine: bool) -> Row:
    minutes = int((now - ticket.issued_at).total_seconds() // 60)
    return Row(ticket, max(minutes, 0), _steps(ticket, now=now, counter=counter) if mine else [])


def _queue_context(request: HttpRequest, office: Office, now: datetime.datetime) -> dict[str, object]:
    """Today's queue as the clerk at their counter sees it (two queries besides the session's)."""
    day = local_day(now)
    counter = session_counter(request, office)
    tickets = open_tickets(office=office, day=day)
    lane = Lane.of(counter=counter, pickup_counters=office.pickup_counter_numbers)
    at_counters = sorted(
        (ticket for ticket in tickets if ticket.status in AT_COUNTER),
        key=lambda ticket: (ticket.counter or 0, ticket.called_at or ticket.issued_at),
    )
    mine = [ticket for ticket in at_counters if counter is not None and ticket.counter == counter]
    counts = closed_counts(office=office, day=day)
    return {
        "day": day,
        "now": now,
        "counter": counter,
        "waiting": [
            _row(ticket, now=now, counter=counter, mine=False) for ticket in queue_order(tickets, lane=lane, now=now)
        ],
        "mine": [_row(ticket, now=now, counter=counter, mine=True) for ticket in mine],
        "others": [ticket for ticket in at_counters if ticket not in mine],
        "done_count": counts[Status.DONE],
        "no_show_count": counts[Status.NO_SHOW],
        "queue_url": _queue_url(office),
        "refresh_seconds": settings.DESK_REFRESH_SECONDS,
    }


def _queue_response(request: HttpRequest, office: Office, role: str) -> HttpResponse:
    now = timezone.now()
    context = _queue_context(request, office, now)
    if request.htmx:
        return render(request, "desk/_queue.html", {**context, "office": office, "partial": True})
    context = staff_context(request, office, role, **context, urgent_form=UrgentForm(office=office))
    return render(request, "desk/queue.html", context)


def _answer(request: HttpRequest, office: Office, role: str) -> HttpResponse:
    """After an action, done or refused: the list for htmx (with the messages, as the day page), else back (PRG)."""
    if request.htmx:
        return _queue_response(request, office, role)
    return HttpResponseRedirect(next_url(request, _queue_url(office)))


@require_GET
@login_required
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    """Today's queue of the office: the clerk's counter, "call next", who waits in which order, who is where."""
    office, role = office_for_staff(user=request.user, slug=slug)
    return _queue_response(request, office, role)


# The actions ------------------------------------------------------------------------------------


def _clerk_counter(request: HttpRequest, office: Office) -> int:
    """The clerk's counter (one sent with the button is remembered); BookingError when none is set."""
    counter = call_counter(request, office)
    if counter is None:
        raise BookingError(_("Set your counter number first (above the queue), then call."), field="counter")
    return counter


@require_POST
@login_required
def call_next(request: HttpRequest, slug: str) -> HttpResponse:
    """Call the ticket the queue order gives the clerk's counter."""
    office, role = office_for_staff(user=request.user, slug=slug)
    try:
        counter = _clerk_counter(request, office)
        ticket = queue_call_next(office=office, counter=counter, by=request.user, now=timezone.now())
    except BookingError as error:
        messages.error(request, error.message)
        return _answer(request, office, role)
    if ticket is None:
        messages.info(request, _("Nobody is waiting."))
    else:
        messages.success(
            request, _("%(label)s called to counter %(counter)s.") % {"label": ticket.label, "counter": ticket.counter}
        )
    return _answer(request, office, role)


@require_POST
@login_required
def step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """One step of a ticket: call again, start, finish, no-show."""
    ticket, role = ticket_for_staff(user=request.user, pk=pk)
    if step not in TICKET_STEPS:
        raise Http404("No such step.")
    office = ticket.office
    try:
        counter = _clerk_counter(request, office) if step == "call" else call_counter(request, office)
        done = queue_step(ticket=ticket, step=step, by=request.user, now=timezone.now(), counter=counter)
    except BookingError as error:
        messages.error(request, error.message)
        return _answer(request, office, role)
    messages.success(request, STEP_DONE[step] % {"label": done.label, "counter": done.counter})
    return _answer(request, office, role)


@require_POST
@login_required
def urgent(request: HttpRequest, slug: str) -> HttpResponse:
    """Register an urgent case: an N ticket, which the queue order calls before everyone else."""
    office, role = office_for_staff(user=request.user, slug=slug)
    form = UrgentForm(request.POST, office=office)
    if not form.is_valid():
        messages.error(request, form.errors["service"][0])
        return _answer(request, office, role)
    try:
        ticket = ticket_issue(
            office=office,
            queue=Ticket.Queue.URGENT,
            service=form.cleaned_data["service"],
            by=request.user,
            now=timezone.now(),
        )
    except BookingError as error:
        messages.error(request, error.message)
        return _answer(request, office, role)
    messages.success(
        request,
        _("Urgent case registered: ticket %(label)s. Please give the citizen this number.") % {"label": ticket.label},
    )
    return _answer(request, office, role)
