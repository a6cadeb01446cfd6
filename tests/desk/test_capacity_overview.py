"""Managers and administrators see counters on duty against bookings per hour and day, at a glance."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from booking.services.slots import capacity_refresh, slots_take
from offices.models import Membership
from tests.support.factories import (
    MembershipFactory,
    OfficeFactory,
    OpeningHoursFactory,
    UserFactory,
    WalkInWindowFactory,
    clerk_at,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 18, 9, 0, tzinfo=BERLIN)  # the Wednesday before


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    office = OfficeFactory(slug="hafen", name_de="Bürgerbüro Hafen", name_en="Citizen office Harbour")
    OpeningHoursFactory(office=office, weekday=0, opens=datetime.time(8), closes=datetime.time(12))
    clerk_at(office, (0, "08:00", "12:00"))
    clerk_at(office, (0, "08:00", "12:00"))
    WalkInWindowFactory(office=office, weekday=0, starts=datetime.time(8), ends=datetime.time(10), counters=1)
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    ten = datetime.datetime.combine(MONDAY, datetime.time(10), tzinfo=BERLIN)
    slots_take(office=office, start=ten, end=ten + datetime.timedelta(minutes=15), channel="online", now=NOW)
    return office


def cells(html: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)]


def manager_of(office) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(MembershipFactory(office=office, role=Membership.Role.MANAGER).user)
    return client


def test_the_week_shows_counters_walk_ins_and_booked_units_per_hour(office) -> None:  # type: ignore[no-untyped-def]
    html = manager_of(office).get("/staff/capacity/hafen/", {"date": "2026-11-25"}).content.decode()
    assert "Kapazität von Bürgerbüro Hafen" in html
    assert "Woche vom 23.11.2026 bis 29.11.2026" in html
    monday = [cell for cell in cells(html) if "Schalter" in cell]
    assert monday == [
        "2 Schalter (1 spontan) 0/12 · 0 % ruhig",
        "2 Schalter (1 spontan) 0/12 · 0 % ruhig",
        "2 Schalter 3/24 · 12 % ruhig",
        "2 Schalter 0/24 · 0 % ruhig",
    ]
    assert [hour for hour in re.findall(r'<th scope="row">(\d\d:00)</th>', html)] == [
        "08:00",
        "09:00",
        "10:00",
        "11:00",
    ]


def test_a_full_hour_and_a_walk_in_only_hour_say_so_in_words(office) -> None:  # type: ignore[no-untyped-def]
    WalkInWindowFactory(office=office, weekday=0, starts=datetime.time(11), ends=datetime.time(12), counters=None)
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    nine = datetime.datetime.combine(MONDAY, datetime.time(9), tzinfo=BERLIN)
    slots_take(office=office, start=nine, end=nine + datetime.timedelta(hours=1), channel="phone", now=NOW)
    html = manager_of(office).get("/en/staff/capacity/hafen/", {"date": "2026-11-23"}).content.decode()
    english = cells(html)
    assert "2 counters (1 walk-in) 12/12 · 100 % full" in english
    assert "2 counters (2 walk-in) walk-ins only" in english


def test_an_administrator_sees_every_office_and_can_switch(admin_client: Client, office) -> None:  # type: ignore[no-untyped-def]
    OfficeFactory(slug="nord", name_de="Bürgerbüro Nord")
    html = admin_client.get("/staff/capacity/nord/").content.decode()
    assert "Keine Zeitfenster in dieser Woche" in html
    assert 'href="/staff/capacity/hafen/?date=2026-11-16"' in html


@pytest.mark.parametrize("role", [Membership.Role.CLERK, None, "other office"])
def test_nobody_else_may_see_an_offices_capacity(office, role) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    user = UserFactory()
    if role == "other office":
        MembershipFactory(user=user, office=OfficeFactory(), role=Membership.Role.MANAGER)
    elif role is not None:
        MembershipFactory(user=user, office=office, role=role)
    client.force_login(user)
    assert client.get("/staff/capacity/hafen/").status_code == 404


def test_signing_in_comes_first(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/staff/capacity/hafen/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=/staff/capacity/hafen/"


def test_a_malformed_date_gets_a_message_and_this_week(office) -> None:  # type: ignore[no-untyped-def]
    response = manager_of(office).get("/en/staff/capacity/hafen/", {"date": "23.11.2026<script>"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "“23.11.2026&lt;script&gt;” is not a valid day; showing 18/11/2026." in html
    assert "Week from 16/11/2026 to 22/11/2026" in html


def test_the_overview_needs_a_fixed_number_of_queries(office, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = manager_of(office)
    for _ in range(5):
        clerk_at(office, (0, "08:00", "12:00"))
    capacity_refresh(office=office, first=MONDAY, last=MONDAY)
    with django_assert_max_num_queries(6):
        client.get("/staff/capacity/hafen/", {"date": "2026-11-23"})


def test_at_the_weekend_the_coming_week_is_shown(office) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(datetime.datetime(2026, 11, 21, 10, 0, tzinfo=BERLIN), tick=False):
        html = manager_of(office).get("/staff/capacity/hafen/").content.decode()
    assert "Woche vom 23.11.2026 bis 29.11.2026" in html


def test_the_admin_office_list_links_to_the_overview(admin_client: Client, office) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/staff/capacity/hafen/"' in admin_client.get("/admin/offices/office/").content.decode()


def test_an_office_manager_signs_in_on_the_staff_page_and_lands_on_the_overview(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    from tests.support.factories import TEST_PASSWORD

    manager = MembershipFactory(office=office, role=Membership.Role.MANAGER, user__username="leitung.hafen").user
    assert manager.is_staff is False  # no admin rights needed
    refused = client.post("/staff/login/", {"username": "leitung.hafen", "password": "wrong", "next": "/x/"})
    assert refused.status_code == 200
    assert "Bitte Benutzername und Passwort eingeben" in refused.content.decode()
    response = client.post(
        "/staff/login/",
        {"username": "leitung.hafen", "password": TEST_PASSWORD, "next": "/staff/capacity/hafen/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/staff/capacity/hafen/"
    assert "Kapazität von Bürgerbüro Hafen" in response.content.decode()
