"""The waitlist as an office's clerks see it (issue 18, point 4): who waits that could come here, who is next in
the one order (``waitlist.selectors.in_order``), the office's open offers, and what became of its recent offers.

A registration can come to an office when the citizen chose that office, or chose none and the office offers all
the services they wait for. Each part is one query (the services' names one more), however long the list is.
"""

import datetime
from dataclasses import dataclass
from itertools import islice

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.dates import WEEKDAYS_ABBR

from booking.days import local_day
from offices.models import Office, OfficeService, Service
from waitlist.models import Offer, Part, Registration
from waitlist.selectors import in_order

Status = Registration.Status
LIVE = (Status.UNCONFIRMED, Status.WAITING, Status.OFFERED, Status.PAUSED)
OUTCOMES = (Offer.Status.ACCEPTED, Offer.Status.DECLINED, Offer.Status.LAPSED, Offer.Status.WITHDRAWN)
NEXT_IN_LINE = 20
OUTCOME_DAYS = 30


@dataclass(frozen=True)
class InLine:
    """One registration next in line, as the desk lists it."""

    registration: Registration
    services: list[str]  # "Identity card × 2"
    weekdays: list[str]  # abbreviated names; empty: any day
    parts: list[str]  # parts of the day; empty: any time
    chose_office: bool  # chose this office (otherwise: any office offering the services)


@dataclass(frozen=True)
class OfficeWaitlist:
    counts: list[tuple[str, str, int]]  # (status, label, count) of the live registrations, in LIVE order
    total: int
    urgent: int  # live registrations with a deadline
    oldest_waiting: datetime.datetime | None  # the registration time of the one waiting longest
    oldest_waiting_days: int | None  # calendar days since then, in Berlin
    next_in_line: list[InLine]
    open_offers: list[Offer]
    outcomes: list[tuple[str, str, int]]  # (status, label, count) of the offers decided since ``since``
    offered: int  # offers made since ``since``
    since: datetime.datetime
    days: int  # since = now - days


def for_office(registrations: QuerySet[Registration], office: Office) -> QuerySet[Registration]:
    """The registrations that chose this office or none (the services are checked in Python: ``needs`` is JSON)."""
    chosen = Registration.offices.through.objects.filter(registration=OuterRef("pk"))
    return registrations.annotate(chose_here=Exists(chosen.filter(office=office)), chose_any=Exists(chosen)).filter(
        Q(chose_here=True) | Q(chose_any=False)
    )


def can_come(*, chose_here: bool, needs: list[list[int]], offered: set[int]) -> bool:
    return chose_here or all(service_id in offered for service_id, _persons in needs)


def offered_services(office: Office) -> set[int]:
    return set(OfficeService.objects.filter(office=office).order_by().values_list("service_id", flat=True))


def _next_in_line(office: Office, offered: set[int], *, now: datetime.datetime) -> list[InLine]:
    """The first ``NEXT_IN_LINE`` of ``in_order`` that can come here, read in one query that stops when enough."""
    waiting = for_office(in_order(now=now), office).iterator(chunk_size=100)
    here = list(
        islice((r for r in waiting if can_come(chose_here=r.chose_here, needs=r.needs, offered=offered)), NEXT_IN_LINE)
    )
    services = Service.objects.in_bulk({service_id for r in here for service_id, _persons in r.needs})
    return [
        InLine(
            registration=registration,
            services=[
                f"{services[service_id].name if service_id in services else '–'} × {persons}"
                for service_id, persons in registration.needs
            ],
            weekdays=[str(WEEKDAYS_ABBR[day]) for day in registration.weekdays],
            parts=[str(Part(part).label) for part in registration.parts],
            chose_office=registration.chose_here,
        )
        for registration in here
    ]


def office_waitlist(*, office: Office, now: datetime.datetime) -> OfficeWaitlist:
    """The office's waitlist: counts by status, urgent ones, the oldest waiting, the next in line, the open offers
    and the outcomes of the last ``OUTCOME_DAYS`` days."""
    offered_here = offered_services(office)
    live = for_office(Registration.objects.filter(status__in=LIVE, last_day__gte=local_day(now)), office)
    by_status = dict.fromkeys(LIVE, 0)
    urgent = 0
    oldest: datetime.datetime | None = None
    for status, deadline, created_at, needs, chose_here in live.values_list(
        "status", "deadline", "created_at", "needs", "chose_here"
    ):
        if not can_come(chose_here=chose_here, needs=needs, offered=offered_here):
            continue
        by_status[status] += 1
        urgent += deadline is not None
        if status == Status.WAITING and (oldest is None or created_at < oldest):
            oldest = created_at
    since = now - datetime.timedelta(days=OUTCOME_DAYS)
    decided = {status: Count("pk", filter=Q(status=status, decided_at__gte=since)) for status in OUTCOMES}
    recent = Offer.objects.filter(Q(created_at__gte=since) | Q(decided_at__gte=since), office=office)
    outcome_counts = recent.aggregate(offered=Count("pk", filter=Q(created_at__gte=since)), **decided)
    return OfficeWaitlist(
        counts=[(status, Status(status).label, by_status[status]) for status in LIVE],
        total=sum(by_status.values()),
        urgent=urgent,
        oldest_waiting=oldest,
        oldest_waiting_days=(local_day(now) - local_day(oldest)).days if oldest is not None else None,
        next_in_line=_next_in_line(office, offered_here, now=now),
        open_offers=list(
            Offer.objects.filter(office=office, status=Offer.Status.OPEN)
            .select_related("registration")
            .order_by("start", "pk")
        ),
        outcomes=[(status, Offer.Status(status).label, outcome_counts[status]) for status in OUTCOMES],
        offered=outcome_counts["offered"],
        since=since,
        days=OUTCOME_DAYS,
    )
