"""Writes to the offices' supply that are more than a form save."""

import datetime
import logging
from collections import defaultdict

import holidays as holiday_calendars
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from buergerservice.celery import after_commit
from offices.models import Feedback, Office, PublicHoliday, Shift, WeeklyShift


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


logger = logging.getLogger(__name__)


def feedback_recipients() -> list[str]:
    """``settings.ADMINS`` and every active superuser's e-mail, each address once."""
    addresses = []
    for admin in getattr(settings, "ADMINS", []) or []:
        addresses.append(admin if isinstance(admin, str) else admin[1])
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    addresses += superusers.order_by("pk").values_list("email", flat=True)
    seen: set[str] = set()
    unique = []
    for address in addresses:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


def feedback_notify(feedback_id: int) -> None:
    """Mail one stored feedback to the administrators. A failure is logged: the feedback stays in the admin."""
    feedback = Feedback.objects.filter(pk=feedback_id).first()
    recipients = feedback_recipients()
    if feedback is None or not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        link = settings.SITE_URL + reverse("admin:offices_feedback_change", args=[feedback.pk])
        subject = gettext("Feedback on the Bürgerservice: %(kind)s") % {"kind": feedback.get_kind_display()}
        lines = [
            gettext("About: %(kind)s") % {"kind": feedback.get_kind_display()},
            gettext("Page: %(page)s") % {"page": settings.SITE_URL + feedback.page if feedback.page else "–"},
            gettext("Name: %(name)s") % {"name": feedback.name or "–"},
            gettext("E-mail for an answer: %(email)s") % {"email": feedback.email or "–"},
            "",
            feedback.message,
            "",
            gettext("Mark it handled in the admin: %(link)s") % {"link": link},
        ]
    try:
        send_mail(subject, "\n".join(lines), None, recipients)
    except Exception:  # any mail error: the feedback is stored and listed in the admin all the same
        logger.exception("feedback %s stored, but the e-mail to the administrators failed", feedback.pk)


def feedback_receive(*, kind: str, page: str, message: str, name: str, email: str) -> Feedback:
    """Store a feedback, then, once committed, mail it to the administrators (feedback_notify)."""
    with transaction.atomic():
        feedback = Feedback.objects.create(kind=kind, page=page, message=message, name=name, email=email)
        after_commit(feedback_notify, feedback.pk)
    return feedback
