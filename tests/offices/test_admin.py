"""Administrators configure offices, hours, services, closures and holidays in the admin."""

import datetime

import pytest
import time_machine
from django.test import Client

from offices.models import Office, OfficeService, OpeningHours, PublicHoliday
from tests.support.factories import OfficeServiceFactory, ServiceFactory, office_with_week

pytestmark = pytest.mark.django_db

INLINES = ("hours", "offered_services", "special_openings", "closures", "walk_in_windows", "memberships")


def office_form(service_id: int | None = None, **changes: object) -> dict[str, object]:
    """A complete POST for the office add page: the office, one service, and the given inline rows."""
    data: dict[str, object] = {
        "name_de": "Bürgerbüro Hafen",
        "name_en": "Citizen office Harbour",
        "slug": "buergerbuero-hafen",
        "kind": "citizen_office",
        "active": "on",
        "street": "Hafenstraße 3",
        "postal_code": "04103",
        "city": "Musterstadt",
        "step_free": "on",
        "slot_minutes": "5",
        "horizon_days": "60",
        "release_time": "07:00",
        "release_first_percent": "100",
        "release_more_at": "",
        "phone_share_percent": "20",
        "phone_release_hours": "48",
        "min_notice_minutes": "30",
        "confirm_within_minutes": "60",
        "urgent_counters": "0",
        "urgent_invite_time": "07:30",
        "urgent_release_hours": "24",
        "walkin_cutoff_minutes": "30",
        "pickup_counters": "",
    }
    for prefix in INLINES:
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    if service_id is not None:
        data |= {"offered_services-TOTAL_FORMS": "1", "offered_services-0-service": str(service_id)}
    return data | changes


def hours_rows(*rows: tuple[int, str, str]) -> dict[str, object]:
    data: dict[str, object] = {"hours-TOTAL_FORMS": str(len(rows))}
    for index, (weekday, opens, closes) in enumerate(rows):
        data |= {f"hours-{index}-weekday": str(weekday), f"hours-{index}-opens": opens, f"hours-{index}-closes": closes}
    return data


def test_the_office_list_shows_offices_with_search_and_filters(admin_client: Client) -> None:
    office_with_week(name_de="Bürgerbüro Nord", slug="nord")
    office_with_week(name_de="Trauzimmer im Rathaus", slug="trauzimmer", kind="civil_registry")
    page = admin_client.get("/admin/offices/office/").content.decode()
    assert "Bürgerbüro Nord" in page and "Trauzimmer im Rathaus" in page
    assert "Standort zur Änderung auswählen" in page
    searched = admin_client.get("/admin/offices/office/", {"q": "Nord"}).content.decode()
    assert "Bürgerbüro Nord" in searched and "Trauzimmer im Rathaus" not in searched
    filtered = admin_client.get("/admin/offices/office/", {"kind__exact": "civil_registry"}).content.decode()
    assert "Trauzimmer im Rathaus" in filtered and "Bürgerbüro Nord" not in filtered


def test_the_admin_reads_in_english_under_en(admin_client: Client) -> None:
    page = admin_client.get("/en/admin/offices/office/add/").content.decode()
    assert "Add office" in page
    for heading in ("Opening hours", "Offered services", "Special openings", "Closures", "Step-free access"):
        assert heading in page
    german = admin_client.get("/admin/offices/office/add/").content.decode()
    for heading in ("Standort hinzufügen", "Öffnungszeiten", "Angebotene Dienstleistungen", "Schließtage"):
        assert heading in german


def test_an_office_is_created_with_its_hours_and_services_in_one_save(admin_client: Client) -> None:
    passport = ServiceFactory(default_duration_minutes=20)
    data = office_form(passport.pk) | hours_rows((0, "08:00", "12:00"), (0, "13:00", "16:00"), (3, "13:00", "19:30"))
    response = admin_client.post("/admin/offices/office/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    office = Office.objects.get(slug="buergerbuero-hafen")
    assert (office.name_de, office.name_en) == ("Bürgerbüro Hafen", "Citizen office Harbour")
    assert [str(h) for h in office.hours.all()] == [
        "Montag 08:00–12:00",
        "Montag 13:00–16:00",
        "Donnerstag 13:00–19:30",
    ]
    assert OfficeService.objects.get(office=office).duration_minutes == 20  # the service's default


def test_overlapping_hours_are_refused_with_a_message_and_nothing_is_saved(admin_client: Client) -> None:
    data = office_form() | hours_rows((0, "08:00", "12:00"), (0, "11:30", "16:00"))
    response = admin_client.post("/admin/offices/office/add/", data)
    assert response.status_code == 200
    assert "Montag 08:00–12:00 und Montag 11:30–16:00 überschneiden sich" in response.content.decode()
    assert not Office.objects.exists()


def test_hours_off_the_grid_and_backwards_are_refused(admin_client: Client) -> None:
    data = office_form(slot_minutes="15") | hours_rows((1, "08:05", "12:00"), (2, "14:00", "13:00"))
    response = admin_client.post("/en/admin/offices/office/add/", data)
    page = response.content.decode()
    assert "08:05 is not on this office&#x27;s 15-minute grid." in page
    assert "The closing time must be after the opening time." in page
    assert not Office.objects.exists()


def test_a_duration_that_does_not_fit_the_grid_is_refused(admin_client: Client) -> None:
    service = ServiceFactory()
    data = office_form(service.pk, slot_minutes="10") | {"offered_services-0-duration_minutes": "15"}
    page = admin_client.post("/en/admin/offices/office/add/", data).content.decode()
    assert "15 minutes is not a multiple of this office&#x27;s slot length of 10 minutes." in page
    assert not Office.objects.exists()


def test_overlapping_special_openings_on_one_date_are_refused(admin_client: Client) -> None:
    data = office_form() | {
        "special_openings-TOTAL_FORMS": "2",
        "special_openings-0-date": "2030-12-07",
        "special_openings-0-opens": "09:00",
        "special_openings-0-closes": "13:00",
        "special_openings-1-date": "2030-12-07",
        "special_openings-1-opens": "12:00",
        "special_openings-1-closes": "14:00",
    }
    page = admin_client.post("/en/admin/offices/office/add/", data).content.decode()
    assert "07.12.2030 09:00–13:00 and 07.12.2030 12:00–14:00 overlap on the same day." in page
    assert not Office.objects.exists()


def test_the_change_page_edits_an_existing_office_and_its_hours(admin_client: Client) -> None:
    office = office_with_week(slug="buergerbuero-hafen")
    offer = OfficeServiceFactory(office=office)
    page = admin_client.get(f"/admin/offices/office/{office.pk}/change/")
    assert page.status_code == 200
    hours = list(office.hours.all())
    data = office_form(name_de="Bürgerbüro Hafen (neu)") | {
        "hours-TOTAL_FORMS": str(len(hours)),
        "hours-INITIAL_FORMS": str(len(hours)),
        "offered_services-TOTAL_FORMS": "1",
        "offered_services-INITIAL_FORMS": "1",
        "offered_services-0-id": str(offer.pk),
        "offered_services-0-office": str(office.pk),
        "offered_services-0-service": str(offer.service_id),
        "offered_services-0-duration_minutes": "30",
    }
    for index, row in enumerate(hours):
        data |= {
            f"hours-{index}-id": str(row.pk),
            f"hours-{index}-office": str(office.pk),
            f"hours-{index}-weekday": str(row.weekday),
            f"hours-{index}-opens": row.opens.strftime("%H:%M"),
            f"hours-{index}-closes": row.closes.strftime("%H:%M"),
        }
    data["hours-0-DELETE"] = "on"  # Monday morning goes
    response = admin_client.post(f"/admin/offices/office/{office.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    office.refresh_from_db()
    assert office.name_de == "Bürgerbüro Hafen (neu)"
    assert OpeningHours.objects.filter(office=office).count() == len(hours) - 1
    offer.refresh_from_db()
    assert offer.duration_minutes == 30


def test_services_and_holidays_have_their_own_pages(admin_client: Client) -> None:
    ServiceFactory(name_de="Reisepass beantragen")
    assert "Reisepass beantragen" in admin_client.get("/admin/offices/service/").content.decode()
    assert admin_client.get("/admin/offices/service/add/").status_code == 200
    assert admin_client.get("/admin/offices/category/").status_code == 200
    assert admin_client.get("/admin/offices/publicholiday/").status_code == 200


def test_the_holiday_import_button_fills_this_and_next_year(client: Client, administrator) -> None:  # type: ignore[no-untyped-def]
    # New Year's Eve 23:30 UTC is already New Year's Day in Berlin: "this year" is Berlin's, whenever the test runs
    # (signed in at that time too, or the session would have expired by then).
    with time_machine.travel(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC), tick=False):
        client.force_login(administrator)
        response = client.post("/admin/offices/publicholiday/import/", follow=True)
        assert client.get("/admin/offices/publicholiday/import/").status_code == 403
    assert response.status_code == 200
    assert sorted({day.year for day in PublicHoliday.objects.values_list("date", flat=True)}) == [2027, 2028]


def test_people_without_staff_rights_are_sent_to_the_login(client: Client, citizen_user) -> None:
    client.force_login(citizen_user)
    response = client.get("/admin/offices/office/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.post("/admin/offices/publicholiday/import/").status_code == 302
    assert not PublicHoliday.objects.exists()


def test_a_new_slot_length_is_checked_against_every_offered_duration(admin_client: Client) -> None:
    office = office_with_week(slug="buergerbuero-hafen")
    offer = OfficeServiceFactory(office=office, duration_minutes=25)
    data = office_form(slot_minutes="10") | {
        "offered_services-TOTAL_FORMS": "1",
        "offered_services-INITIAL_FORMS": "1",
        "offered_services-0-id": str(offer.pk),
        "offered_services-0-office": str(office.pk),
        "offered_services-0-service": str(offer.service_id),
        "offered_services-0-duration_minutes": "25",
    }
    page = admin_client.post(f"/en/admin/offices/office/{office.pk}/change/", data).content.decode()
    assert "25 minutes is not a multiple of this office&#x27;s slot length of 10 minutes." in page
    office.refresh_from_db()
    assert office.slot_minutes == 5
    # Fixing the duration in the same save is accepted.
    fixed = admin_client.post(
        f"/en/admin/offices/office/{office.pk}/change/", data | {"offered_services-0-duration_minutes": "30"}
    )
    assert fixed.status_code == 302
    office.refresh_from_db()
    assert office.slot_minutes == 10
