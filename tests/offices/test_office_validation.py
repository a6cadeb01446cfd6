"""The rules an administrator's input must satisfy, with clear messages, enforced by the database too."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from offices.models import Closure, OfficeService, OpeningHours, SpecialOpening
from offices.validators import TimeRange, find_overlaps
from tests.support.factories import OfficeFactory, OfficeServiceFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def messages_of(error: ValidationError) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}


def test_opening_hours_that_close_before_they_open_are_rejected_with_a_message() -> None:
    hours = OpeningHours(office=OfficeFactory(), weekday=0, opens=datetime.time(12), closes=datetime.time(8))
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        hours.full_clean()
    assert messages_of(caught.value) == {"closes": ["The closing time must be after the opening time."]}


def test_opening_hours_of_zero_length_are_rejected() -> None:
    hours = OpeningHours(office=OfficeFactory(), weekday=0, opens=datetime.time(8), closes=datetime.time(8))
    with pytest.raises(ValidationError) as caught:
        hours.full_clean()
    assert "closes" in caught.value.message_dict


def test_opening_hours_off_the_slot_grid_are_rejected_in_german_by_default() -> None:
    office = OfficeFactory(slot_minutes=15)
    hours = OpeningHours(office=office, weekday=0, opens=datetime.time(8, 10), closes=datetime.time(12))
    with translation.override("de"), pytest.raises(ValidationError) as caught:
        hours.full_clean()
    assert messages_of(caught.value) == {"opens": ["08:10 liegt nicht im 15-Minuten-Raster dieses Standorts."]}


def test_valid_opening_hours_pass() -> None:
    hours = OpeningHours(office=OfficeFactory(), weekday=3, opens=datetime.time(13), closes=datetime.time(19, 30))
    hours.full_clean()


def test_a_special_opening_that_ends_before_it_starts_is_rejected() -> None:
    opening = SpecialOpening(
        office=OfficeFactory(), date=datetime.date(2026, 12, 5), opens=datetime.time(13), closes=datetime.time(9)
    )
    with translation.override("de"), pytest.raises(ValidationError) as caught:
        opening.full_clean()
    assert messages_of(caught.value)["closes"] == ["Die Schließzeit muss nach der Öffnungszeit liegen."]


def test_a_closure_that_ends_before_it_starts_is_rejected_in_english_too() -> None:
    closure = Closure(
        office=OfficeFactory(),
        start_date=datetime.date(2026, 12, 31),
        end_date=datetime.date(2026, 12, 24),
        reason_de="Umbau",
        reason_en="Renovation",
    )
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        closure.full_clean()
    assert messages_of(caught.value) == {"end_date": ["The last day cannot be before the first day."]}


@pytest.mark.parametrize("minutes", [0, -5])
def test_an_offered_service_needs_a_positive_duration(minutes: int) -> None:
    offer = OfficeService(office=OfficeFactory(), service=ServiceFactory(), duration_minutes=minutes)
    with pytest.raises(ValidationError) as caught:
        offer.full_clean()
    assert "duration_minutes" in caught.value.message_dict


def test_an_offered_service_duration_must_fit_the_office_grid() -> None:
    offer = OfficeService(office=OfficeFactory(slot_minutes=10), service=ServiceFactory(), duration_minutes=15)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        offer.full_clean()
    assert messages_of(caught.value) == {
        "duration_minutes": ["15 minutes is not a multiple of this office's slot length of 10 minutes."]
    }


def test_an_offered_service_without_duration_takes_the_service_default() -> None:
    offer = OfficeService(office=OfficeFactory(), service=ServiceFactory(default_duration_minutes=20))
    offer.full_clean()
    assert offer.duration_minutes == 20


def test_a_service_needs_a_positive_default_duration_and_at_least_one_person() -> None:
    service = ServiceFactory.build(default_duration_minutes=0, max_persons=0, category=ServiceFactory().category)
    with pytest.raises(ValidationError) as caught:
        service.full_clean()
    assert set(caught.value.message_dict) >= {"default_duration_minutes", "max_persons"}


def test_the_database_refuses_hours_that_close_before_they_open_even_without_validation() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningHours.objects.create(office=OfficeFactory(), weekday=0, opens=datetime.time(12), closes=datetime.time(8))


def test_the_database_refuses_a_closure_ending_before_it_starts() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Closure.objects.create(
            office=OfficeFactory(),
            start_date=datetime.date(2026, 12, 31),
            end_date=datetime.date(2026, 12, 1),
            reason="x",
        )


def test_the_database_refuses_a_non_positive_office_duration() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        OfficeService.objects.create(office=OfficeFactory(), service=ServiceFactory(), duration_minutes=0)


def test_the_database_refuses_a_slot_length_off_the_allowed_grid() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        OfficeFactory(slot_minutes=7)


def test_the_same_service_cannot_be_offered_twice_at_one_office() -> None:
    offer = OfficeServiceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        OfficeService.objects.create(office=offer.office, service=offer.service, duration_minutes=15)


def time_range(day: int, opens: str, closes: str) -> TimeRange:
    return TimeRange(day, datetime.time.fromisoformat(opens), datetime.time.fromisoformat(closes))


def test_overlapping_ranges_on_the_same_day_are_found() -> None:
    morning, late_morning = time_range(0, "08:00", "12:00"), time_range(0, "11:30", "13:00")
    assert find_overlaps([morning, late_morning, time_range(1, "11:00", "12:00")]) == [(morning, late_morning)]


def test_a_range_inside_another_is_an_overlap() -> None:
    day, lunch = time_range(2, "08:00", "16:00"), time_range(2, "12:00", "13:00")
    assert find_overlaps([lunch, day]) == [(day, lunch)]


def test_identical_ranges_overlap() -> None:
    assert len(find_overlaps([time_range(0, "08:00", "12:00"), time_range(0, "08:00", "12:00")])) == 1


def test_ranges_that_touch_do_not_overlap() -> None:
    assert find_overlaps([time_range(0, "08:00", "12:00"), time_range(0, "12:00", "16:00")]) == []


def test_an_overlap_after_a_long_range_is_found() -> None:
    long, short, late = (
        time_range(0, "08:00", "16:00"),
        time_range(0, "09:00", "10:00"),
        time_range(0, "15:00", "17:00"),
    )
    assert (long, late) in find_overlaps([long, short, late])


@pytest.mark.parametrize("model", ["WalkInWindow", "WeeklyShift", "Shift"])
def test_shifts_and_walk_in_windows_must_end_after_they_start_and_fit_the_grid(model: str) -> None:
    from offices import models

    office = OfficeFactory(slot_minutes=10)
    extra = {"weekday": 0} if model != "Shift" else {"date": datetime.date(2026, 11, 23)}
    if model != "WalkInWindow":
        extra["user"] = UserFactory()
    backwards = getattr(models, model)(office=office, starts=datetime.time(12), ends=datetime.time(8), **extra)
    off_grid = getattr(models, model)(office=office, starts=datetime.time(8, 5), ends=datetime.time(12), **extra)
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            backwards.full_clean()
        assert messages_of(caught.value) == {"ends": ["The closing time must be after the opening time."]}
        with pytest.raises(ValidationError) as caught:
            off_grid.full_clean()
        assert messages_of(caught.value) == {"starts": ["08:05 is not on this office's 10-minute grid."]}
