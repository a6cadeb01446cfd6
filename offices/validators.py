"""Validation rules for time ranges, shared by the models and the admin formsets."""

import datetime
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SLOT_MINUTES_CHOICES = (5, 10, 15, 20, 30)


def minutes_of(time: datetime.time) -> int:
    return time.hour * 60 + time.minute


def validate_time_range(
    opens: datetime.time | None,
    closes: datetime.time | None,
    slot_minutes: int,
    *,
    fields: tuple[str, str] = ("opens", "closes"),
) -> None:
    """A range opens before it closes, and both ends lie on the office's slot grid."""
    errors: dict[str, list[str]] = {}
    for field, value in zip(fields, (opens, closes), strict=True):
        if value is not None and (value.second or value.microsecond or minutes_of(value) % slot_minutes):
            errors.setdefault(field, []).append(
                _("%(time)s is not on this office's %(minutes)s-minute grid.")
                % {"time": value.strftime("%H:%M"), "minutes": slot_minutes}
            )
    if opens is not None and closes is not None and closes <= opens:
        errors.setdefault(fields[1], []).append(_("The closing time must be after the opening time."))
    if errors:
        raise ValidationError(errors)


def validate_duration(minutes: int | None, slot_minutes: int, *, field: str = "duration_minutes") -> None:
    if minutes is None:
        return
    if minutes <= 0:
        raise ValidationError({field: _("The duration must be a positive number of minutes.")})
    if minutes % slot_minutes:
        raise ValidationError(
            {
                field: _("%(duration)s minutes is not a multiple of this office's slot length of %(minutes)s minutes.")
                % {"duration": minutes, "minutes": slot_minutes}
            }
        )


@dataclass(frozen=True)
class TimeRange:
    day: Hashable  # a weekday number or a date
    opens: datetime.time
    closes: datetime.time


def find_overlaps(ranges: Iterable[TimeRange]) -> list[tuple[TimeRange, TimeRange]]:
    """Pairs of ranges on the same day that share at least one minute (touching ends are fine)."""
    by_day: dict[Hashable, list[TimeRange]] = {}
    for item in ranges:
        by_day.setdefault(item.day, []).append(item)
    overlaps = []
    for day_ranges in by_day.values():
        day_ranges.sort(key=lambda r: (r.opens, r.closes))
        latest = day_ranges[0]
        for current in day_ranges[1:]:
            if current.opens < latest.closes:
                overlaps.append((latest, current))
            if current.closes > latest.closes:
                latest = current
    return overlaps


MAX_COUNTER = 99  # counters are numbered 1 to 99 (the desk and the call display show them)


def counter_numbers(text: str) -> frozenset[int]:
    """The counter numbers in a list like "1, 2" (what ``validate_counter_list`` accepted)."""
    return frozenset(int(part) for part in text.replace(";", ",").split(",") if part.strip().isdigit())


def validate_counter_list(text: str) -> None:
    """Counter numbers from 1 to 99, separated by commas."""
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if part and not (part.isdigit() and 1 <= int(part) <= MAX_COUNTER):
            raise ValidationError(
                _("“%(part)s” is not a counter number from 1 to %(max)s.") % {"part": part, "max": MAX_COUNTER}
            )


def release_times(text: str) -> list[datetime.time]:
    """The times in a list like "12:00, 16:00" (what ``validate_release_times`` accepted), in order."""
    return sorted(
        datetime.time.fromisoformat(part.strip()) for part in text.replace(";", ",").split(",") if part.strip()
    )


def validate_release_times(text: str) -> None:
    """Times of day (HH:MM) separated by commas, each at most once."""
    try:
        times = release_times(text)
    except ValueError:
        raise ValidationError(_("Enter times of day like 12:00, 16:00, separated by commas.")) from None
    if len(set(times)) != len(times):
        raise ValidationError(_("Each time may be given once."))
