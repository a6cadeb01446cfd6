"""A citizen's declaration of needs: which services, for how many persons, and the time that takes.

One request is written ``slug[:persons],slug[:persons],...`` wherever it
travels (the web flow's addresses and the API's ``services`` parameter);
``needs_parse`` reads it, ``needs_load`` checks it against the catalogue.
What a booked appointment or a hold stands for is read back by
``appointment_needs`` and ``hold_needs``; the offices offering all of some
needs, with their durations, by ``offer_durations``.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from booking.errors import BookingError
from booking.models import Appointment, AppointmentService, Hold
from offices.models import Office, OfficeService, Service
from offices.selectors import public_services

MAX_SERVICES = 6  # different services in one appointment
_PAIR = re.compile(r"^(?P<slug>[-a-zA-Z0-9_]{1,80})(?::(?P<persons>\d{1,3}))?$")


@dataclass(frozen=True)
class Need:
    service: Service
    persons: int

    def as_param(self) -> str:
        return f"{self.service.slug}:{self.persons}"


def needs_param(needs: list[Need]) -> str:
    return ",".join(need.as_param() for need in needs)


def needs_parse(value: str) -> list[tuple[str, int]]:
    """``"personalausweis:2,anmeldung"`` → ``[("personalausweis", 2), ("anmeldung", 1)]``; raises BookingError."""
    pairs: list[tuple[str, int]] = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        match = _PAIR.match(part)
        if match is None:
            raise BookingError(_("“%(value)s” is not a service.") % {"value": part[:80]}, field="services")
        pairs.append((match["slug"], int(match["persons"] or 1)))
    return needs_check(pairs)


def needs_check(pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """At least one person per service, each service once, one to ``MAX_SERVICES`` services; raises BookingError."""
    if not pairs:
        raise BookingError(_("Choose at least one service."), field="services")
    if any(persons < 1 for _slug, persons in pairs):
        raise BookingError(_("Each service needs at least one person."), field="services")
    if len({slug for slug, _persons in pairs}) != len(pairs):
        raise BookingError(_("Each service can be chosen only once."), field="services")
    if len(pairs) > MAX_SERVICES:
        raise BookingError(
            _("At most %(count)s different services fit into one appointment.") % {"count": MAX_SERVICES},
            field="services",
        )
    return pairs


def needs_load(pairs: list[tuple[str, int]]) -> list[Need]:
    """The services asked for, in the order asked; raises BookingError for unknown ones or too many persons."""
    services = {service.slug: service for service in public_services().filter(slug__in=[s for s, _p in pairs])}
    needs = []
    for slug, persons in pairs:
        service = services.get(slug)
        if service is None:
            raise BookingError(_("There is no service “%(value)s”.") % {"value": slug}, field="services")
        if persons > service.max_persons:
            raise BookingError(
                ngettext(
                    "“%(service)s” can be booked for at most %(count)s person.",
                    "“%(service)s” can be booked for at most %(count)s persons.",
                    service.max_persons,
                )
                % {"service": service.name, "count": service.max_persons},
                field="services",
            )
        needs.append(Need(service, persons))
    return needs


def needs_from_param(value: str) -> list[Need]:
    return needs_load(needs_parse(value))


def lines_needs(lines: Iterable[AppointmentService]) -> list[Need]:
    """The needs an appointment's lines (with their services) stand for, in their order."""
    return [Need(line.service, line.persons) for line in lines]


def appointment_needs(appointment: Appointment) -> list[Need]:
    """What an appointment was booked for: the one place that reads it back from its lines.

    Lines the caller prefetched (``lines__service``) are used as they are;
    otherwise they are read with their services in one query.
    """
    if "lines" in getattr(appointment, "_prefetched_objects_cache", {}):
        return lines_needs(appointment.lines.all())
    return lines_needs(appointment.lines.select_related("service"))


def hold_needs(hold: Hold) -> list[Need] | None:
    """What a hold was placed for, in the order asked: the one place that reads ``Hold.needs`` back (one query).

    None when one of its services no longer exists: what the units were taken for cannot be booked.
    """
    services = Service.objects.in_bulk([service_id for service_id, _persons in hold.needs])
    if len(services) != len(hold.needs):
        return None
    return [Need(services[service_id], persons) for service_id, persons in hold.needs]


def round_to_grid(minutes: int, step: int) -> int:
    return math.ceil(minutes / step) * step


def offer_durations(*, needs: list[Need], offices: list[Office] | None = None) -> dict[int, dict[int, int]]:
    """Per office id, the office's minutes per person for each needed service; offices lacking one are left out.

    The one place that decides which (active) offices offer all the needs, in one query.
    """
    offers = OfficeService.objects.filter(service__in=[n.service for n in needs], office__active=True)
    if offices is not None:
        offers = offers.filter(office__in=offices)
    durations: dict[int, dict[int, int]] = {}
    for office_id, service_id, minutes in offers.values_list("office_id", "service_id", "duration_minutes"):
        durations.setdefault(office_id, {})[service_id] = minutes
    wanted = {need.service.pk for need in needs}
    return {office_id: d for office_id, d in durations.items() if set(d) == wanted}


def needs_minutes(*, needs: list[Need], durations: dict[int, int], slot_minutes: int) -> int:
    """The time an appointment takes: the sum of the office's duration × persons, rounded up to the slot grid."""
    return round_to_grid(sum(durations[need.service.pk] * need.persons for need in needs), slot_minutes)


def office_durations(*, office: Office, needs: list[Need]) -> dict[int, int]:
    """The office's minutes per person for each needed service; raises BookingError when it lacks one."""
    durations = offer_durations(needs=needs, offices=[office]).get(office.pk)
    if durations is None:
        raise BookingError(_("This office does not offer all the services you chose."), field="office")
    return durations


def office_needs_minutes(*, office: Office, needs: list[Need]) -> int:
    """The office's time for these needs; raises BookingError when the office does not offer them all."""
    durations = office_durations(office=office, needs=needs)
    return needs_minutes(needs=needs, durations=durations, slot_minutes=office.slot_minutes)


def what_to_bring(needs: list[Need]) -> list[str]:
    """What to bring for all these services, each item once, in the order of the services."""
    items: list[str] = []
    for need in needs:
        items += [item for item in need.service.what_to_bring_items if item not in items]
    return items
