"""Writes to the offices' supply that are more than a form save."""

import holidays as holiday_calendars
from django.conf import settings
from django.db import transaction

from offices.models import PublicHoliday


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
