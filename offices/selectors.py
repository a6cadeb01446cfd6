"""Reads of the offices' supply: lists for citizens and the opening calendar."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from offices.models import (
    Category,
    Closure,
    Office,
    OfficeService,
    OpeningHours,
    PublicHoliday,
    Service,
    SpecialOpening,
)


class DayKind(StrEnum):
    REGULAR = "regular"
    SPECIAL = "special"  # special opening hours replace the weekly ones
    HOLIDAY = "holiday"
    CLOSURE = "closure"
    CLOSED = "closed"  # no hours on this weekday


@dataclass(frozen=True)
class OpeningDay:
    date: datetime.date
    kind: DayKind
    ranges: list[tuple[datetime.time, datetime.time]] = field(default_factory=list)
    reason: str = ""  # holiday name, closure reason or special opening note

    @property
    def is_open(self) -> bool:
        return bool(self.ranges)


def opening_days(*, office: Office, first: datetime.date, last: datetime.date) -> list[OpeningDay]:
    """The office's hours for each date from first to last inclusive, in four queries.

    Precedence: a closure closes the day; special openings replace the weekly
    hours (even on a public holiday); a public holiday closes the day; otherwise
    the weekly hours apply.
    """
    return offices_opening_days(offices=[office], first=first, last=last)[office.pk]


def offices_opening_days(
    *, offices: Sequence[Office], first: datetime.date, last: datetime.date
) -> dict[int, list[OpeningDay]]:
    """``opening_days`` of each office, by office id: four queries whatever their number (three if every
    office's hours are prefetched)."""
    ids = [office.pk for office in offices]
    weekly: dict[int, dict[int, list[tuple[datetime.time, datetime.time]]]] = {pk: {} for pk in ids}
    if all("hours" in getattr(office, "_prefetched_objects_cache", {}) for office in offices):
        all_hours = [hours for office in offices for hours in office.hours.all()]
    else:
        all_hours = list(OpeningHours.objects.filter(office_id__in=ids))
    for hours in all_hours:
        weekly[hours.office_id].setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    for by_weekday in weekly.values():
        for ranges in by_weekday.values():
            ranges.sort()
    closures: dict[int, list[Closure]] = {pk: [] for pk in ids}
    for closure in Closure.objects.filter(office_id__in=ids, start_date__lte=last, end_date__gte=first).order_by(
        "start_date"
    ):
        closures[closure.office_id].append(closure)
    special: dict[int, dict[datetime.date, list[SpecialOpening]]] = {pk: {} for pk in ids}
    for opening in SpecialOpening.objects.filter(office_id__in=ids, date__range=(first, last)).order_by("opens"):
        special[opening.office_id].setdefault(opening.date, []).append(opening)
    holidays = {holiday.date: holiday for holiday in PublicHoliday.objects.filter(date__range=(first, last))}
    return {
        pk: _days(first, last, weekly=weekly[pk], closures=closures[pk], special=special[pk], holidays=holidays)
        for pk in ids
    }


def _days(
    first: datetime.date,
    last: datetime.date,
    *,
    weekly: dict[int, list[tuple[datetime.time, datetime.time]]],
    closures: list[Closure],
    special: dict[datetime.date, list[SpecialOpening]],
    holidays: dict[datetime.date, PublicHoliday],
) -> list[OpeningDay]:
    days = []
    day = first
    while day <= last:
        closure = next((c for c in closures if c.start_date <= day <= c.end_date), None)
        if closure is not None:
            days.append(OpeningDay(day, DayKind.CLOSURE, reason=closure.reason))
        elif day in special:
            openings = special[day]
            note = next((o.note for o in openings if o.note), "")
            days.append(OpeningDay(day, DayKind.SPECIAL, [(o.opens, o.closes) for o in openings], note))
        elif day in holidays:
            days.append(OpeningDay(day, DayKind.HOLIDAY, reason=holidays[day].name))
        elif weekly.get(day.weekday()):
            days.append(OpeningDay(day, DayKind.REGULAR, weekly[day.weekday()]))
        else:
            days.append(OpeningDay(day, DayKind.CLOSED))
        day += datetime.timedelta(days=1)
    return days


def office_calendar(
    *, office: Office, today: datetime.date, weeks: int = 9
) -> tuple[list[OpeningDay], list[OpeningDay]]:
    """This week (Monday to Sunday) and the notable days of the following weeks, for the office page.

    Notable are special openings, closures, and holidays that fall on a day the
    office is usually open.
    """
    monday = today - datetime.timedelta(days=today.weekday())
    days = opening_days(office=office, first=monday, last=monday + datetime.timedelta(days=7 * weeks - 1))
    open_weekdays = {hours.weekday for hours in office.hours.all()}
    notable = [
        day
        for day in days[7:]
        if day.kind in (DayKind.SPECIAL, DayKind.CLOSURE)
        or (day.kind == DayKind.HOLIDAY and day.date.weekday() in open_weekdays)
    ]
    return days[:7], notable


def active_offers() -> QuerySet[OfficeService]:
    """Offers of services still active, with their service: the one place that says which offers count."""
    return OfficeService.objects.filter(service__active=True).select_related("service")


def public_offices() -> QuerySet[Office]:
    return Office.objects.filter(active=True).order_by("kind", "name")


def public_services() -> QuerySet[Service]:
    """Active services that at least one active office offers: what a citizen can actually get done."""
    offered = OfficeService.objects.filter(service=OuterRef("pk"), office__active=True)
    return Service.objects.filter(Exists(offered), active=True)


def public_categories() -> QuerySet[Category]:
    """Categories with their public services, for the home page; empty categories are left out."""
    services = public_services()
    return (
        Category.objects.filter(services__in=services)
        .distinct()
        .prefetch_related(Prefetch("services", queryset=services))
    )


def public_office(slug: str) -> Office:
    """An active office with its hours and offered services prefetched; 404 otherwise."""
    offers = active_offers().select_related("service__category")
    office = (
        Office.objects.filter(active=True, slug=slug)
        .prefetch_related("hours", Prefetch("offered_services", queryset=offers))
        .first()
    )
    if office is None:
        raise Http404("No such office.")
    return office


def public_service(slug: str) -> tuple[Service, QuerySet[OfficeService]]:
    """A public service and the active offices offering it; 404 otherwise."""
    service = public_services().filter(slug=slug).select_related("category").first()
    if service is None:
        raise Http404("No such service.")
    offers = (
        OfficeService.objects.filter(service=service, office__active=True)
        .select_related("office")
        .order_by("office__kind", "office__name")
    )
    return service, offers
