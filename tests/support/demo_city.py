"""The demo city for tests: seeding it, and a snapshot of everything it writes."""

import datetime
import io
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import call_command

from booking.models import Appointment, Slot
from offices.models import (
    Absence,
    Category,
    Closure,
    Membership,
    Office,
    OfficeService,
    OpeningHours,
    PublicHoliday,
    Service,
    Shift,
    SpecialOpening,
    WalkInWindow,
    WeeklyShift,
)

SEEDED_MODELS = [
    Appointment,
    Category,
    Service,
    Office,
    OfficeService,
    OpeningHours,
    SpecialOpening,
    Closure,
    PublicHoliday,
    WalkInWindow,
    Membership,
    WeeklyShift,
    Shift,
    Absence,
    Slot,
]
TODAY = datetime.datetime(2026, 11, 21, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


def snapshot() -> str:
    objects = [obj for model in SEEDED_MODELS for obj in model.objects.order_by("pk")]
    return serializers.serialize("json", [*objects, *get_user_model().objects.order_by("pk")])
