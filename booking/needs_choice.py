"""What step 1 of the citizen's booking shows: the services most often booked first, the rest by category.

The ranking counts the services of the latest booked lines (``RECENT_LINES``
of them, in one query over the newest rows of ``AppointmentService``), kept in
the shared cache for ``RANKING_SECONDS``. Ties, and a city without bookings yet,
fall back to the catalogue's own order taken across the categories: each
category's first service, then each one's second, and so on.
"""

from collections import Counter
from dataclasses import dataclass

from django import forms
from django.core.cache import cache
from django.utils.translation import gettext as _

from booking.forms import NeedsForm
from booking.models import AppointmentService
from offices.models import Category, Service
from offices.selectors import public_services

COMMON_COUNT = 6  # services shown first
RECENT_LINES = 2000  # the latest booked lines that decide what is common
RANKING_SECONDS = 3600
_RANKING_KEY = "booking:needs:recent-services"


def recent_service_counts() -> dict[int, int]:
    """Per service id, how often it is among the latest ``RECENT_LINES`` booked lines (one query, kept an hour)."""
    counts = cache.get(_RANKING_KEY)
    if counts is None:
        latest = AppointmentService.objects.order_by("-pk").values_list("service_id", flat=True)[:RECENT_LINES]
        counts = dict(Counter(latest))
        cache.set(_RANKING_KEY, counts, RANKING_SECONDS)
    return counts


def needs_catalogue() -> tuple[list[Category], list[Service]]:
    """The public services with their categories, and those categories in their order: one query."""
    services = list(
        public_services()
        .select_related("category")
        .order_by("category__position", "category__slug", "position", "slug")
    )
    categories = list({service.category_id: service.category for service in services}.values())
    return categories, services


@dataclass(frozen=True)
class Choice:
    """One service as step 1 offers it: its box, and its persons when more than one may come."""

    service: Service
    ticked: bool
    persons: forms.BoundField
    persons_shown: str  # the value selected in the persons control

    @property
    def options(self) -> list[tuple[int, str, bool]]:
        """The persons control's options, 1 to the service's maximum: (value, text, selected)."""
        return [
            (value, text, str(value) == self.persons_shown)
            for value, text in self.persons.field.choices
            if value  # 0 ("not needed") is the unticked box here
        ]

    @property
    def has_error(self) -> bool:
        return bool(self.persons.errors)


@dataclass(frozen=True)
class NeedsList:
    common: list[Choice]
    more: list[tuple[Category, list[Choice]]]  # the rest, by category; empty categories left out

    @property
    def more_count(self) -> int:
        return sum(len(choices) for _category, choices in self.more)

    @property
    def groups(self) -> list[tuple[str, list[Choice], bool]]:
        """Each group as the page shows it: its heading, its services, and whether it is among the others."""
        common_label = _("Frequently booked") if self.more else _("Services")
        return [(str(common_label), self.common, False)] + [
            (category.name, choices, True) for category, choices in self.more
        ]

    @property
    def more_open(self) -> bool:
        """Open the other services when one of them is chosen or at fault: nothing chosen is ever hidden."""
        return any(choice.ticked or choice.has_error for _category, choices in self.more for choice in choices)


def needs_list(form: NeedsForm, counts: dict[int, int]) -> NeedsList:
    """The form's services in the order step 1 shows them: the ``COMMON_COUNT`` most booked, then the others."""
    choices: dict[int, Choice] = {}
    order: dict[int, tuple[int, int, int]] = {}
    for category_index, (_category, entries) in enumerate(form.entries):
        for index, (service, field) in enumerate(entries):
            choices[service.pk] = Choice(service, form.is_ticked(service), field, form.persons_shown(service))
            order[service.pk] = (-counts.get(service.pk, 0), index, category_index)
    common_ids = set(sorted(order, key=order.__getitem__)[:COMMON_COUNT])
    common = [choices[pk] for pk in sorted(common_ids, key=order.__getitem__)]
    more = [
        (category, [choices[service.pk] for service, _field in entries if service.pk not in common_ids])
        for category, entries in form.entries
    ]
    return NeedsList(common=common, more=[(category, rest) for category, rest in more if rest])


def summary_data(form: NeedsForm) -> dict[str, dict[str, object]]:
    """Per service slug, what the live summary adds up: minutes per person and what to bring."""
    return {
        service.slug: {"minutes": service.default_duration_minutes, "bring": service.what_to_bring_items}
        for _category, entries in form.entries
        for service, _field in entries
    }
