"""Reads of the waitlist: the one order in which registrations are served, and what fits a registration."""

import datetime

from django.db.models import F, QuerySet
from django.utils import timezone

from booking.availability import office_free_starts, offices_for_needs
from booking.grid import BERLIN
from booking.needs import Need
from offices.models import Office, Service
from waitlist.models import Offer, Registration, part_of


def in_order(*, now: datetime.datetime) -> QuerySet[Registration]:
    """THE ORDER in which freed times are offered, the one policy (issue 18; docs in README "Waitlist"):

    1. urgent cases first, the earliest deadline first (``deadline``; Stuttgart's immigration office);
    2. then first come, first served by the time of registration (``created_at``, then ``pk``).

    Only registrations that wait: confirmed, without a live offer (one live offer per registration), not paused
    (after ``WAITLIST_LAPSES_TO_PAUSE`` offers that lapsed), whose last day has not passed.
    """
    today = timezone.localtime(now, BERLIN).date()
    return Registration.objects.filter(status=Registration.Status.WAITING, last_day__gte=today).order_by(
        F("deadline").asc(nulls_last=True), "created_at", "pk"
    )


def registration_needs(registration: Registration) -> list[Need] | None:
    """What the registration waits for, in its order; None when one of its services no longer exists."""
    services = Service.objects.in_bulk([service_id for service_id, _persons in registration.needs])
    if len(services) != len(registration.needs):
        return None
    return [Need(services[service_id], persons) for service_id, persons in registration.needs]


def fits(registration: Registration, start: datetime.datetime) -> bool:
    """Whether a time starting at ``start`` is on a day, weekday and part of the day the citizen said they can come."""
    local = start.astimezone(BERLIN)
    if not registration.first_day <= local.date() <= registration.last_day:
        return False
    if registration.weekdays and local.weekday() not in registration.weekdays:
        return False
    return not registration.parts or part_of(local.time()) in registration.parts


def offices_for(registration: Registration, needs: list[Need], *, now: datetime.datetime) -> dict[Office, int]:
    """The offices that offer all the needs and the citizen can go to, each with its minutes for them."""
    chosen = {office.pk for office in registration.offices.all()}
    return {
        office: minutes
        for office, minutes in offices_for_needs(needs=needs, now=now).items()
        if not chosen or office.pk in chosen
    }


def offered_before(registration: Registration) -> set[tuple[int, datetime.datetime]]:
    """The times (office id, start) this registration declined or let lapse: never offered to it again (one the
    office took away, or that it withdrew with, may come again)."""
    declined = registration.offers.filter(status__in=[Offer.Status.DECLINED, Offer.Status.LAPSED])
    return set(declined.values_list("office_id", "start"))


def earliest_fitting(
    registration: Registration,
    needs: list[Need],
    *,
    now: datetime.datetime,
    not_before: datetime.datetime,
    only: Office | None = None,
) -> tuple[Office, datetime.datetime] | None:
    """The earliest free online time, at any office the citizen can go to, that fits the registration and was not
    offered to it before."""
    before = offered_before(registration)
    first = max(registration.first_day, timezone.localtime(not_before, BERLIN).date())
    if first > registration.last_day:
        return None
    best: tuple[Office, datetime.datetime] | None = None
    for office, minutes in offices_for(registration, needs, now=now).items():
        if only is not None and office.pk != only.pk:
            continue
        days = office_free_starts(office=office, minutes=minutes, now=now, first=first, last=registration.last_day)
        for day in sorted(days):
            start = next(
                (
                    start
                    for start in days[day]
                    if start >= not_before and fits(registration, start) and (office.pk, start) not in before
                ),
                None,
            )
            if start is not None:
                if best is None or start < best[1]:
                    best = (office, start)
                break
    return best
