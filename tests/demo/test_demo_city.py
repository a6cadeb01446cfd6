"""The demo city `seed_demo` builds is realistic: offices, services, hours, staff, contingents, the grid."""

import datetime

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings

from booking.models import Slot
from offices.models import (
    Absence,
    Category,
    Closure,
    Office,
    OfficeService,
    OpeningHours,
    PublicHoliday,
    Service,
    SpecialOpening,
    WeeklyShift,
)
from offices.selectors import DayKind, opening_days
from offices.validators import TimeRange, find_overlaps
from tests.support.demo_city import TODAY, seed

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo city, seeded once for the tests that only read it; rolled back afterwards.

    Each test still runs in its own savepoint inside this transaction.
    """
    var_dir = tmp_path_factory.mktemp("var")
    with django_db_blocker.unblock(), override_settings(VAR_DIR=var_dir), time_machine.travel(TODAY, tick=False):
        try:
            with transaction.atomic():
                yield seed()
                raise _Rollback
        except _Rollback:
            pass


def test_the_city_has_citizen_offices_mobile_sites_a_civil_registry_and_an_immigration_office(city: str) -> None:
    kinds = [office.kind for office in Office.objects.all()]
    assert len(kinds) >= 12
    assert kinds.count(Office.Kind.MOBILE_SITE) == 2
    assert kinds.count(Office.Kind.CIVIL_REGISTRY) == 1
    assert kinds.count(Office.Kind.IMMIGRATION_OFFICE) == 1


def test_the_immigration_office_alone_asks_for_e_mail_confirmation_and_keeps_an_urgent_contingent(city: str) -> None:
    asking = Office.objects.filter(confirm_email=True)
    assert [office.kind for office in asking] == [Office.Kind.IMMIGRATION_OFFICE]
    assert [office.kind for office in Office.objects.filter(urgent_counters__gt=0)] == [Office.Kind.IMMIGRATION_OFFICE]
    assert list(Service.objects.filter(urgent_within_days=14).values_list("slug", flat=True)) == [
        "aufenthaltstitel-verlaengerung"
    ]


def test_mobile_sites_open_only_on_a_few_dates_a_month(city: str) -> None:
    today = TODAY.date()
    for site in Office.objects.filter(kind=Office.Kind.MOBILE_SITE):
        assert not site.hours.exists()
        days = opening_days(office=site, first=today, last=today + datetime.timedelta(days=59))
        open_days = [day for day in days if day.is_open]
        assert 2 <= len(open_days) <= 8, (site.slug, [day.date for day in open_days])
        assert all(day.kind == DayKind.SPECIAL for day in open_days)


def test_the_services_are_realistic_and_include_the_common_matters(city: str) -> None:
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


def test_offices_have_a_late_evening_and_the_main_offices_an_extra_saturday(city: str) -> None:
    for office in Office.objects.filter(kind=Office.Kind.CITIZEN_OFFICE):
        assert office.hours.filter(closes__gte=datetime.time(18)).exists(), office.slug
    saturdays = [opening for opening in SpecialOpening.objects.all() if opening.date.weekday() == 5]
    assert saturdays
    assert {opening.note_en for opening in saturdays} == {"Extra Saturday"}


def test_this_and_next_years_holidays_are_loaded(city: str) -> None:
    assert PublicHoliday.objects.filter(date=datetime.date(2026, 11, 18), name_de="Buß- und Bettag").exists()
    assert PublicHoliday.objects.filter(date=datetime.date(2027, 12, 25)).exists()


def test_every_seeded_row_passes_validation_and_no_hours_overlap(city: str) -> None:
    for model in (Office, Service, OfficeService, OpeningHours, SpecialOpening, Closure):
        for obj in model.objects.all():
            obj.full_clean()
    for office in Office.objects.prefetch_related("hours", "special_openings"):
        weekly = [TimeRange(h.weekday, h.opens, h.closes) for h in office.hours.all()]
        dated = [TimeRange(o.date, o.opens, o.closes) for o in office.special_openings.all()]
        assert find_overlaps(weekly) == find_overlaps(dated) == [], office.slug


def test_every_citizen_facing_text_exists_in_german_and_english(city: str) -> None:
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


def test_every_office_has_clerks_with_weekly_patterns_and_a_manager(city: str) -> None:
    for office in Office.objects.all():
        clerks = office.memberships.count()
        expected = range(2, 3) if office.kind == Office.Kind.MOBILE_SITE else range(3, 9)
        assert clerks in expected, (office.slug, clerks)
        assert office.memberships.filter(role="manager").count() == 1
        assert WeeklyShift.objects.filter(office=office).values("user").distinct().count() == clerks
    assert Absence.objects.count() >= 3


def test_citizen_offices_keep_weekday_mornings_for_walk_ins_and_the_grid_covers_the_horizon(city: str) -> None:
    today = TODAY.date()
    for office in Office.objects.filter(kind=Office.Kind.CITIZEN_OFFICE):
        assert sorted(office.walk_in_windows.values_list("weekday", flat=True)) == [0, 1, 2, 3, 4]
        morning = Slot.objects.filter(office=office, start__time=datetime.time(9, 0)).first()  # Berlin, in 08-10
        assert morning is not None and morning.walkin_capacity == 2 and morning.capacity == morning.counters - 2
    last_day = Slot.objects.order_by("-local_date").values_list("local_date", flat=True).first()
    assert today + datetime.timedelta(days=55) <= last_day <= today + datetime.timedelta(days=60)
    # Before today only the four weeks of history (demo.history) have slots.
    assert not Slot.objects.filter(local_date__lt=today - datetime.timedelta(days=28)).exists()


def test_a_sick_clerk_lowers_the_capacity_of_their_days(city: str) -> None:
    absence = Absence.objects.filter(kind="sick").select_related("user").first()
    office = absence.user.memberships.get().office
    on_duty = Slot.objects.filter(office=office, local_date__range=(absence.start_date, absence.end_date))
    usual = Slot.objects.filter(office=office).exclude(local_date__range=(absence.start_date, absence.end_date))
    assert on_duty.exists()
    assert max(on_duty.values_list("counters", flat=True)) < max(usual.values_list("counters", flat=True))
