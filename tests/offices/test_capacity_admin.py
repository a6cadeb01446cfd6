"""Changes an administrator or manager makes in the admin reach the slot grid at once."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from booking.models import Appointment, Slot
from booking.services.slots import capacity_refresh, slots_take
from offices.models import Shift
from tests.support.factories import OfficeFactory, OpeningHoursFactory, clerk_at

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
MONDAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    office = OfficeFactory(slug="hafen", horizon_days=14)
    OpeningHoursFactory(office=office, weekday=0, opens=datetime.time(8), closes=datetime.time(12))
    return office


def capacities(office, day: datetime.date = MONDAY) -> set[int]:  # type: ignore[no-untyped-def]
    return set(Slot.objects.filter(office=office, local_date=day).values_list("capacity", flat=True))


def test_an_absence_recorded_in_the_admin_lowers_capacity_and_lists_the_appointment_to_rebook(
    admin_client: Client, office, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    clerk_at(office, (0, "08:00", "12:00"))
    sick = clerk_at(office, (0, "08:00", "12:00"), username="erkaeltet")
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    start = datetime.datetime.combine(MONDAY, datetime.time(9), tzinfo=BERLIN)
    for _ in range(2):
        slots_take(office=office, start=start, end=start + datetime.timedelta(minutes=5), channel="online", now=NOW)
        Appointment.objects.create(office=office, start=start, end=start + datetime.timedelta(minutes=5))
    assert capacities(office) == {2}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/offices/absence/add/",
            {"user": sick.pk, "kind": "sick", "start_date": "23.11.2026", "end_date": "23.11.2026", "note": ""},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert capacities(office) == {1}
    listed = admin_client.get("/admin/booking/appointment/", {"status__exact": "needs_rebooking"}).content.decode()
    assert "Muss umgebucht werden" in listed
    assert Appointment.objects.filter(status="needs_rebooking").count() == 1


def test_walk_in_windows_and_booking_rules_are_set_on_the_office_and_rebuild_the_grid(
    admin_client: Client, office, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    clerk_at(office, (0, "08:00", "12:00"))
    clerk_at(office, (0, "08:00", "12:00"))
    hours = office.hours.get()
    data = {
        "name_de": office.name_de,
        "name_en": office.name_en,
        "slug": office.slug,
        "kind": office.kind,
        "active": "on",
        "street": office.street,
        "postal_code": office.postal_code,
        "city": office.city,
        "slot_minutes": "5",
        "horizon_days": "14",
        "release_time": "07:00",
        "release_first_percent": "100",
        "release_more_at": "",
        "phone_share_percent": "50",
        "phone_release_hours": "48",
        "min_notice_minutes": "30",
        "confirm_within_minutes": "60",
        "urgent_counters": "0",
        "urgent_invite_time": "07:30",
        "urgent_release_hours": "24",
        "walkin_cutoff_minutes": "30",
        "pickup_counters": "",
        "hours-TOTAL_FORMS": "1",
        "hours-INITIAL_FORMS": "1",
        "hours-0-id": str(hours.pk),
        "hours-0-office": str(office.pk),
        "hours-0-weekday": "0",
        "hours-0-opens": "08:00",
        "hours-0-closes": "12:00",
        "walk_in_windows-TOTAL_FORMS": "1",
        "walk_in_windows-INITIAL_FORMS": "0",
        "walk_in_windows-0-weekday": "0",
        "walk_in_windows-0-starts": "08:00",
        "walk_in_windows-0-ends": "10:00",
        "walk_in_windows-0-counters": "1",
    }
    for prefix in ("offered_services", "special_openings", "closures", "memberships"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    data["memberships-INITIAL_FORMS"] = "0"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/offices/office/{office.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    eight = Slot.objects.get(office=office, start=datetime.datetime.combine(MONDAY, datetime.time(8), tzinfo=BERLIN))
    ten = Slot.objects.get(office=office, start=datetime.datetime.combine(MONDAY, datetime.time(10), tzinfo=BERLIN))
    assert (eight.counters, eight.walkin_capacity, eight.capacity, eight.phone_reserve) == (2, 1, 1, 1)
    assert (ten.counters, ten.walkin_capacity, ten.capacity, ten.phone_reserve) == (2, 0, 2, 1)
    # Today (16 November) to the end of the 14-day horizon: three Mondays.
    assert set(Slot.objects.filter(office=office).values_list("local_date", flat=True)) == {
        datetime.date(2026, 11, 16),
        datetime.date(2026, 11, 23),
        datetime.date(2026, 11, 30),
    }


def test_a_shift_changed_in_the_admin_leaves_the_pattern_and_changes_that_day(
    admin_client: Client, office, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    clerk = clerk_at(office, (0, "08:00", "12:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    shift = Shift.objects.get(user=clerk, date=MONDAY)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/offices/shift/{shift.pk}/change/",
            {
                "user": clerk.pk,
                "office": office.pk,
                "date": "23.11.2026",
                "starts": "08:00",
                "ends": "10:00",
                "active": "on",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    shift.refresh_from_db()
    assert shift.from_pattern is False
    nine, eleven = (datetime.datetime.combine(MONDAY, datetime.time(h), tzinfo=BERLIN) for h in (9, 11))
    assert Slot.objects.get(office=office, start=nine).capacity == 1
    assert Slot.objects.get(office=office, start=eleven).capacity == 0
    # Pattern shifts cannot be deleted (they would come back); hand-made ones can.
    assert admin_client.get(f"/admin/offices/shift/{shift.pk}/delete/").status_code == 200


def test_pattern_shifts_cannot_be_deleted_only_taken_off_duty(admin_client: Client, office) -> None:  # type: ignore[no-untyped-def]
    clerk = clerk_at(office, (0, "08:00", "12:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    shift = Shift.objects.get(user=clerk, date=MONDAY)
    assert admin_client.get(f"/admin/offices/shift/{shift.pk}/delete/").status_code == 403


def test_weekly_shifts_and_the_appointments_list_have_admin_pages(admin_client: Client, office) -> None:  # type: ignore[no-untyped-def]
    clerk_at(office, (0, "08:00", "12:00"), username="m.schulz")
    assert "m.schulz" in admin_client.get("/admin/offices/weeklyshift/").content.decode()
    assert admin_client.get("/admin/booking/appointment/").status_code == 200
    assert admin_client.get("/admin/booking/appointment/add/").status_code == 403


def test_an_appointment_an_admin_change_no_longer_fits_gets_an_audit_entry_in_the_administrator_s_name(
    admin_client: Client, office, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from desk.models import AuditEntry

    clerk_at(office, (0, "08:00", "12:00"))
    sick = clerk_at(office, (0, "08:00", "12:00"), username="erkaeltet")
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    start = datetime.datetime.combine(MONDAY, datetime.time(9), tzinfo=BERLIN)
    for name in ("Erste", "Zweite"):
        slots_take(office=office, start=start, end=start + datetime.timedelta(minutes=5), channel="online", now=NOW)
        Appointment.objects.create(office=office, start=start, end=start + datetime.timedelta(minutes=5), name=name)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/offices/absence/add/",
            {"user": sick.pk, "kind": "sick", "start_date": "23.11.2026", "end_date": "23.11.2026", "note": ""},
        )
    assert response.status_code == 302
    flagged = Appointment.objects.get(status="needs_rebooking")
    [entry] = AuditEntry.objects.all()
    administrator = response.wsgi_request.user
    assert (entry.appointment, entry.action, entry.actor, entry.office) == (flagged, "flag", administrator, office)
    assert administrator.get_username() in entry.actor_name
    assert entry.reason  # the absence's kind, as on the desk
    assert entry.before["status"] == "booked" and entry.after["status"] == "needs_rebooking"


def test_deleting_absences_with_the_list_action_rebuilds_their_days_too(
    admin_client: Client, office, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from offices.models import Absence

    clerk_at(office, (0, "08:00", "12:00"))
    sick = clerk_at(office, (0, "08:00", "12:00"), username="erkaeltet")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/offices/absence/add/",
            {"user": sick.pk, "kind": "sick", "start_date": "23.11.2026", "end_date": "23.11.2026", "note": ""},
        )
    assert capacities(office) == {1}
    absence = Absence.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/offices/absence/",
            {"action": "delete_selected", "_selected_action": [absence.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert not Absence.objects.exists()
    assert capacities(office) == {2}
