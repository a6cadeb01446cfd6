"""Writes to the offices' supply that are more than a form save."""

import datetime
from collections import defaultdict

import holidays as holiday_calendars
from django.conf import settings
from django.db import transaction

from offices.models import Office, PublicHoliday, Shift, WeeklyShift


@transaction.atomic
def public_holidays_import(*, years: list[int]) -> int:
    """Replace the imported holidays of these years with the holidays package's, in German and English.

    Holidays added by hand are kept; an imported holiday on the same date as a
    hand-made one leaves the hand-made one alone. Returns how many imported
    holidays the years now have.
    """
    subdivision = settings.HOLIDAYS_SUBDIVISION
    german = holiday_calendars.Germany(subdiv=subdivision, years=years, language="de")
    english = holiday_calendars.Germany(subdiv=subdivision, years=years, language="en_US")
    manual_dates = set(
        PublicHoliday.objects.filter(date__year__in=years, imported=False).values_list("date", flat=True)
    )
    wanted = {day: name for day, name in german.items() if day not in manual_dates}
    PublicHoliday.objects.filter(date__year__in=years, imported=True).exclude(date__in=wanted).delete()
    for day, name in wanted.items():
        PublicHoliday.objects.update_or_create(
            date=day,
            defaults={"name_de": name, "name_en": english.get(day, name), "imported": True},
        )
    return len(wanted)


@transaction.atomic
def shifts_derive(*, office: Office, first: datetime.date, last: datetime.date) -> int:
    """Make the office's pattern shifts from first to last follow the weekly pattern.

    A clerk's day at the office that has a shift changed by hand (``from_pattern``
    off) is left alone. Returns how many shift rows were created or deleted.
    """
    patterns: dict[tuple[int, int], set[tuple[datetime.time, datetime.time]]] = defaultdict(set)
    for weekly in WeeklyShift.objects.filter(office=office):
        patterns[(weekly.user_id, weekly.weekday)].add((weekly.starts, weekly.ends))
    existing: dict[tuple[int, datetime.date], list[Shift]] = defaultdict(list)
    for shift in Shift.objects.filter(office=office, date__range=(first, last)):
        existing[(shift.user_id, shift.date)].append(shift)
    users = {user for user, _weekday in patterns} | {user for user, _date in existing}

    to_create: list[Shift] = []
    to_delete: list[int] = []
    day = first
    while day <= last:
        for user in users:
            shifts = existing.get((user, day), [])
            if any(not shift.from_pattern for shift in shifts):
                continue  # changed by hand: the manager's word stands
            wanted = patterns.get((user, day.weekday()), set())
            have = {(shift.starts, shift.ends): shift for shift in shifts}
            to_delete += [shift.pk for key, shift in have.items() if key not in wanted]
            to_create += [
                Shift(user_id=user, office=office, date=day, starts=starts, ends=ends, from_pattern=True)
                for starts, ends in sorted(wanted - have.keys())
            ]
        day += datetime.timedelta(days=1)
    Shift.objects.filter(pk__in=to_delete).delete()
    Shift.objects.bulk_create(to_create)
    return len(to_create) + len(to_delete)


def shift_change_by_hand(*, shift: Shift) -> Shift:
    """Save a shift a manager changed: it no longer follows the weekly pattern (nor does that day)."""
    shift.from_pattern = False
    shift.full_clean()
    shift.save()
    return shift
