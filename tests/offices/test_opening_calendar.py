"""Which days an office is open, and why not: weekly hours, special openings, holidays, closures."""

import datetime

import pytest
from django.test import override_settings

from offices.models import PublicHoliday
from offices.selectors import DayKind, office_calendar, opening_days
from offices.services import public_holidays_import
from tests.support.factories import (
    ClosureFactory,
    OfficeFactory,
    PublicHolidayFactory,
    SpecialOpeningFactory,
    office_with_week,
)

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 16)  # the week of Buß- und Bettag (Wednesday 18 November) in Saxony
T = datetime.time


def week_of(office, monday=MONDAY):  # type: ignore[no-untyped-def]
    return opening_days(office=office, first=monday, last=monday + datetime.timedelta(days=6))


def test_weekly_hours_give_each_weekday_its_ranges_in_order() -> None:
    days = week_of(office_with_week())
    assert [day.date.weekday() for day in days] == list(range(7))
    assert days[0].ranges == [(T(8), T(12)), (T(13), T(16))]
    assert days[3].ranges == [(T(8), T(12)), (T(13), T(19, 30))]
    assert days[4].ranges == [(T(8), T(12))]
    assert [days[5].kind, days[6].kind] == [DayKind.CLOSED, DayKind.CLOSED]
    assert not days[6].is_open


def test_a_public_holiday_closes_the_office_and_carries_its_name() -> None:
    PublicHolidayFactory(date=datetime.date(2026, 11, 18), name_de="Buß- und Bettag")
    wednesday = week_of(office_with_week())[2]
    assert wednesday.kind == DayKind.HOLIDAY
    assert wednesday.ranges == []
    assert wednesday.reason == "Buß- und Bettag"


def test_a_closure_range_closes_every_day_in_it_with_its_reason() -> None:
    office = office_with_week()
    ClosureFactory(office=office, start_date=MONDAY, end_date=MONDAY + datetime.timedelta(days=1), reason_de="Umbau")
    days = week_of(office)
    assert [(d.kind, d.reason) for d in days[:2]] == [(DayKind.CLOSURE, "Umbau"), (DayKind.CLOSURE, "Umbau")]
    assert days[2].kind == DayKind.REGULAR


def test_another_offices_closure_does_not_close_this_one() -> None:
    office = office_with_week()
    ClosureFactory(office=OfficeFactory(), start_date=MONDAY, end_date=MONDAY)
    assert week_of(office)[0].kind == DayKind.REGULAR


def test_an_extra_saturday_opens_a_day_without_weekly_hours() -> None:
    office = office_with_week()
    SpecialOpeningFactory(office=office, date=MONDAY + datetime.timedelta(days=5), opens=T(9), closes=T(13))
    saturday = week_of(office)[5]
    assert (saturday.kind, saturday.ranges, saturday.reason) == (
        DayKind.SPECIAL,
        [(T(9), T(13))],
        "Zusätzlicher Samstag",
    )


def test_special_openings_replace_the_weekly_hours_of_their_date() -> None:
    office = office_with_week()
    SpecialOpeningFactory(office=office, date=MONDAY, opens=T(10), closes=T(12), note_de="")
    assert week_of(office)[0].ranges == [(T(10), T(12))]


def test_a_special_opening_on_a_holiday_opens_but_a_closure_still_wins() -> None:
    office = office_with_week()
    holiday = PublicHolidayFactory(date=MONDAY + datetime.timedelta(days=2))
    SpecialOpeningFactory(office=office, date=holiday.date, opens=T(9), closes=T(12))
    assert week_of(office)[2].kind == DayKind.SPECIAL
    ClosureFactory(office=office, start_date=holiday.date, end_date=holiday.date, reason_de="Brandschutzübung")
    assert (week_of(office)[2].kind, week_of(office)[2].reason) == (DayKind.CLOSURE, "Brandschutzübung")


def test_a_mobile_site_is_open_only_on_its_dates() -> None:
    site = OfficeFactory(kind="mobile_site")
    SpecialOpeningFactory(office=site, date=MONDAY + datetime.timedelta(days=1), opens=T(10), closes=T(14))
    assert [day.is_open for day in week_of(site)] == [False, True, False, False, False, False, False]


def test_the_calendar_of_a_week_takes_four_queries(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    office = office_with_week()
    with django_assert_num_queries(4):
        week_of(office)


def test_the_office_calendar_is_this_week_and_the_notable_days_after_it() -> None:
    office = office_with_week()
    PublicHolidayFactory(date=datetime.date(2026, 11, 18), name_de="Buß- und Bettag")  # this week: not repeated
    PublicHolidayFactory(date=datetime.date(2026, 11, 25), name_de="Stadtfeiertag")  # a Wednesday
    PublicHolidayFactory(date=datetime.date(2026, 11, 29), name_de="Sonntagsfeiertag")  # a Sunday: closed anyway
    ClosureFactory(office=office, start_date=datetime.date(2026, 11, 27), end_date=datetime.date(2026, 11, 27))
    SpecialOpeningFactory(office=office, date=datetime.date(2026, 11, 28))
    week, notable = office_calendar(office=office, today=MONDAY + datetime.timedelta(days=2), weeks=2)
    assert [day.date for day in week] == [MONDAY + datetime.timedelta(days=n) for n in range(7)]
    assert [(d.date.day, d.kind) for d in notable] == [
        (25, DayKind.HOLIDAY),
        (27, DayKind.CLOSURE),
        (28, DayKind.SPECIAL),
    ]


def test_importing_holidays_takes_the_configured_states_days_in_german_and_english() -> None:
    count = public_holidays_import(years=[2026])
    repentance = PublicHoliday.objects.get(date=datetime.date(2026, 11, 18))
    assert (repentance.name_de, repentance.name_en, repentance.imported) == (
        "Buß- und Bettag",
        "Repentance and Prayer Day",
        True,
    )
    assert count == PublicHoliday.objects.count() == 11
    assert not PublicHoliday.objects.filter(date=datetime.date(2026, 1, 6)).exists()  # Epiphany is not Saxon


@override_settings(HOLIDAYS_SUBDIVISION="BY")
def test_importing_holidays_for_bavaria_includes_epiphany() -> None:
    public_holidays_import(years=[2026])
    assert PublicHoliday.objects.get(date=datetime.date(2026, 1, 6)).name_de == "Heilige Drei Könige"


def test_importing_again_keeps_hand_made_holidays_and_changes_nothing_else() -> None:
    PublicHolidayFactory(date=datetime.date(2026, 7, 1), name_de="Stadtfest", name_en="City festival")
    PublicHolidayFactory(date=datetime.date(2026, 10, 31), name_de="Reformationstag (Stadt)", name_en="Reformation")
    public_holidays_import(years=[2026])
    first = list(PublicHoliday.objects.order_by("date").values())
    public_holidays_import(years=[2026])
    assert list(PublicHoliday.objects.order_by("date").values()) == first
    assert PublicHoliday.objects.get(date=datetime.date(2026, 7, 1)).imported is False
    assert PublicHoliday.objects.get(date=datetime.date(2026, 10, 31)).name_de == "Reformationstag (Stadt)"


def test_an_imported_holiday_the_package_no_longer_has_is_removed() -> None:
    PublicHoliday.objects.create(date=datetime.date(2026, 3, 3), name_de="Alt", name_en="Old", imported=True)
    public_holidays_import(years=[2026])
    assert not PublicHoliday.objects.filter(date=datetime.date(2026, 3, 3)).exists()
