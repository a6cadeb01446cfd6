"""How long personal data is kept: the city's period (``settings.RETENTION_DAYS``) and an office's longer one.

Each app erases its own rows (``<entity>_erase_personal_data``) with the cut-offs computed here; the desk's
``desk.retention.personal_data_erase`` runs them all. Feedback from the form is erased here.
"""

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

from offices.models import Feedback, Office

RETENTION_DAYS_DEFAULT = 30
BATCH_SIZE = 500


def retention_days() -> int:
    """The city's period: ``settings.RETENTION_DAYS`` (default 30) days after the appointment or ticket."""
    value = getattr(settings, "RETENTION_DAYS", RETENTION_DAYS_DEFAULT)
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"RETENTION_DAYS must be a whole number of days, not {value!r}.") from None
    if days < 0:
        raise ImproperlyConfigured(f"RETENTION_DAYS must not be negative, not {days}.")
    return days


def offices_keeping_longer() -> list[Office]:
    """The offices that keep personal data longer than the city's period (a law requires it), by name."""
    return list(Office.objects.filter(retention_days__gt=retention_days()).order_by("name"))


@dataclass(frozen=True)
class Cutoffs:
    """What ended before ``before`` is erased; an office in ``office_before`` keeps its rows until its own cut-off."""

    before: datetime.datetime
    office_before: Mapping[int, datetime.datetime] = field(default_factory=dict)

    def due(self, time_field: str, office_field: str = "office") -> Q:
        """Rows whose ``time_field`` lies before the cut-off of their office (``office_field`` its id)."""
        longer = list(self.office_before)
        due = Q(**{f"{time_field}__lt": self.before}) & ~Q(**{f"{office_field}__in": longer})
        for office_id, cutoff in self.office_before.items():
            due |= Q(**{office_field: office_id, f"{time_field}__lt": cutoff})
        return due

    def earliest(self, office_ids: Iterable[int]) -> datetime.datetime:
        """The cut-off of a row linked to several offices: the longest period among them (the earliest time)."""
        return min([self.before, *(self.office_before[pk] for pk in office_ids if pk in self.office_before)])


def retention_cutoffs(now: datetime.datetime) -> Cutoffs:
    """The cut-offs at ``now``: the city's period, and each office's where it is longer (max of both)."""
    days = retention_days()
    longer = Office.objects.filter(retention_days__gt=days).values_list("pk", "retention_days")
    return Cutoffs(
        before=now - datetime.timedelta(days=days),
        office_before={pk: now - datetime.timedelta(days=office_days) for pk, office_days in longer},
    )


def erase_in_batches(
    queryset: QuerySet, values: Mapping[str, object] | Callable[[list[int]], None], *, dry_run: bool, batch_size: int
) -> int:
    """Erase the rows of ``queryset`` batch by batch (one UPDATE each); their count. A dry run only counts.

    ``values`` are the fields' new values, or a function erasing the rows of a list of ids (for values that differ
    per row, such as fresh tokens). The rows must leave ``queryset`` once erased, so a second pass finds none.
    """
    if dry_run:
        return queryset.count()
    erased = 0
    while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        if callable(values):
            values(ids)
        else:
            queryset.model.objects.filter(pk__in=ids).update(**values)
        erased += len(ids)
    return erased


def feedback_erase_personal_data(*, cutoffs: Cutoffs, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> int:
    """Forget who sent a feedback (name and e-mail) after the city's period; the message and the page stay."""
    due = Feedback.objects.filter(created_at__lt=cutoffs.before).exclude(name="", email="")
    return erase_in_batches(due, {"name": "", "email": ""}, dry_run=dry_run, batch_size=batch_size)
