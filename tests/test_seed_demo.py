"""`manage.py seed_demo` builds a realistic demo city, and running it twice changes nothing."""

import datetime
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import CommandError, call_command
from django.test import override_settings

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
from offices.selectors import DayKind, opening_days
from offices.validators import TimeRange, find_overlaps

pytestmark = pytest.mark.django_db

SEEDED_MODELS = [Category, Service, Office, OfficeService, OpeningHours, SpecialOpening, Closure, PublicHoliday]
TODAY = datetime.datetime(2026, 11, 21, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture(autouse=True)
def demo_var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    with override_settings(VAR_DIR=tmp_path), time_machine.travel(TODAY, tick=False):
        yield tmp_path


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


def snapshot() -> str:
    objects = [obj for model in SEEDED_MODELS for obj in model.objects.order_by("pk")]
    return serializers.serialize("json", [*objects, *get_user_model().objects.order_by("pk")])


def test_running_it_twice_changes_nothing() -> None:
    first_output = seed()
    first = snapshot()
    second_output = seed()
    assert snapshot() == first
    assert first_output == second_output


def test_the_city_has_citizen_offices_mobile_sites_a_civil_registry_and_an_immigration_office() -> None:
    seed()
    kinds = [office.kind for office in Office.objects.all()]
    assert len(kinds) >= 12
    assert kinds.count(Office.Kind.MOBILE_SITE) == 2
    assert kinds.count(Office.Kind.CIVIL_REGISTRY) == 1
    assert kinds.count(Office.Kind.IMMIGRATION_OFFICE) == 1


def test_mobile_sites_open_only_on_a_few_dates_a_month() -> None:
    seed()
    today = TODAY.date()
    for site in Office.objects.filter(kind=Office.Kind.MOBILE_SITE):
        assert not site.hours.exists()
        days = opening_days(office=site, first=today, last=today + datetime.timedelta(days=59))
        open_days = [day for day in days if day.is_open]
        assert 2 <= len(open_days) <= 8, (site.slug, [day.date for day in open_days])
        assert all(day.kind == DayKind.SPECIAL for day in open_days)


def test_the_services_are_realistic_and_include_the_common_matters() -> None:
    seed()
    assert Service.objects.count() >= 20
    expected = {
        "personalausweis",
        "reisepass",
        "reisepass-kind",
        "anmeldung",
        "meldebescheinigung",
        "ummeldung-fahrzeug",
        "abholung-ausweis",
        "fuehrungszeugnis",
        "geburtsurkunde",
        "aufenthaltstitel-verlaengerung",
    }
    assert expected <= set(Service.objects.values_list("slug", flat=True))
    for service in Service.objects.all():
        assert 5 <= service.default_duration_minutes <= 90, service.slug
    assert OfficeService.objects.get(office__slug="standesamt", service__slug="geburtsurkunde")


def test_offices_have_a_late_evening_and_the_main_offices_an_extra_saturday() -> None:
    seed()
    for office in Office.objects.filter(kind=Office.Kind.CITIZEN_OFFICE):
        assert office.hours.filter(closes__gte=datetime.time(18)).exists(), office.slug
    saturdays = [opening for opening in SpecialOpening.objects.all() if opening.date.weekday() == 5]
    assert saturdays
    assert {opening.note_en for opening in saturdays} == {"Extra Saturday"}


def test_this_and_next_years_holidays_are_loaded() -> None:
    seed()
    assert PublicHoliday.objects.filter(date=datetime.date(2026, 11, 18), name_de="Buß- und Bettag").exists()
    assert PublicHoliday.objects.filter(date=datetime.date(2027, 12, 25)).exists()


def test_every_seeded_row_passes_validation_and_no_hours_overlap() -> None:
    seed()
    for model in (Office, Service, OfficeService, OpeningHours, SpecialOpening, Closure):
        for obj in model.objects.all():
            obj.full_clean()
    for office in Office.objects.prefetch_related("hours", "special_openings"):
        weekly = [TimeRange(h.weekday, h.opens, h.closes) for h in office.hours.all()]
        dated = [TimeRange(o.date, o.opens, o.closes) for o in office.special_openings.all()]
        assert find_overlaps(weekly) == find_overlaps(dated) == [], office.slug


def test_every_citizen_facing_text_exists_in_german_and_english() -> None:
    seed()
    checks = {
        Category: ["name"],
        Service: ["name", "description", "what_to_bring"],
        Office: ["name", "directions", "accessibility_notes"],
        Closure: ["reason"],
        SpecialOpening: ["note"],
        PublicHoliday: ["name"],
    }
    for model, fields in checks.items():
        for obj in model.objects.all():
            for field in fields:
                german, english = getattr(obj, f"{field}_de"), getattr(obj, f"{field}_en")
                assert bool(german) == bool(english), (model.__name__, obj.pk, field)
    assert Service.objects.get(slug="reisepass").what_to_bring_items


def test_an_administrator_login_is_printed_and_works(client) -> None:  # type: ignore[no-untyped-def]
    output = seed()
    line = next(line for line in output.splitlines() if line.startswith("Administrator login:"))
    password = line.rsplit("password ", 1)[1]
    assert client.login(username="admin", password=password)
    assert get_user_model().objects.get(username="admin").is_superuser
    assert seed().splitlines()[-1] == line, "a second run prints the same login"


def test_the_admin_password_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, client) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "a demo password for the council")
    assert seed().splitlines()[-1].endswith("password a demo password for the council")
    assert client.login(username="admin", password="a demo password for the council")


def test_a_changed_password_is_not_printed_and_not_reset() -> None:
    seed()
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed by the administrator")
    admin.save()
    assert "password changed since the demo was created" in seed()
    admin.refresh_from_db()
    assert admin.check_password("changed by the administrator")


def test_it_refuses_to_run_on_a_production_site_without_force() -> None:
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Office.objects.exists()
