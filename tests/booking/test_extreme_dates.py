"""Extreme and malformed days on every page that takes one: a clear message and the default day, never a 500.

One rule decides (booking.days): a real day within ten years of today. The
values below were 500s before it on some pages (the capacity overview's week
of 9999-12-31, the API's 30 days after it) and silently different rules on
others.
"""

import pytest
import time_machine
from django.test import Client

from booking.days import parse_day
from tests.support.desk_steps import TODAY, at

EXTREMES = ["0001-01-01", "9999-12-31", "2026-02-30", "99999-01-01", "-1", ""]
REFUSED = [value for value in EXTREMES if value]
SHOWN = TODAY.strftime("%d/%m/%Y")  # the English pages write a date as English does everywhere on the site
NOW = at("09:00")


def _refusal(value: str, shown: str = SHOWN) -> str:
    """The day page's message."""
    return f"“{value}” is not a valid day; showing {shown}."


def _manager(client: Client, world) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(world.manager_a)
    return client


# The staff pages that show a day: the day page's message and its default day.
DAY_PAGES = {
    "day": "/en/staff/desk/mitte/",
    "print list": "/en/staff/desk/mitte/print/",
    "capacity overview": "/en/staff/capacity/mitte/",
}


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("page", DAY_PAGES)
def test_a_staff_page_with_an_extreme_day_shows_the_default_day_with_the_message(
    client: Client, world, page: str, value: str
) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = _manager(client, world).get(DAY_PAGES[page], {"date": value})
    html = response.content.decode()
    assert response.status_code == 200
    if value:
        assert _refusal(value) in html
    else:
        assert "is not a valid day" not in html


@pytest.mark.parametrize("value", EXTREMES)
def test_the_audit_log_with_an_extreme_day_shows_all_days_with_the_message(client: Client, world, value: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = _manager(client, world).get("/en/staff/desk/mitte/audit/", {"date": value})
    html = response.content.decode()
    assert response.status_code == 200
    assert (f"“{value}” is not a valid day; showing all days." in html) is bool(value)


@pytest.mark.parametrize("value", EXTREMES)
def test_the_csv_export_with_an_extreme_day_exports_today_and_says_why_on_the_next_page(
    client: Client, world, value: str
) -> None:  # type: ignore[no-untyped-def]
    client = _manager(client, world)
    with time_machine.travel(NOW, tick=False):
        response = client.get("/en/staff/desk/mitte/day.csv", {"date": value})
        assert response.status_code == 200
        assert TODAY.isoformat() in response["Content-Disposition"]
        after = client.get("/en/staff/desk/mitte/").content.decode()
    assert (_refusal(value) in after) is bool(value)


@pytest.mark.parametrize("value", EXTREMES)
def test_the_move_page_with_an_extreme_day_shows_the_appointment_s_day_with_the_message(
    client: Client, world, value: str
) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("10:00")
    with time_machine.travel(NOW, tick=False):
        response = _manager(client, world).get(f"/en/staff/appointments/{appointment.pk}/move/", {"date": value})
    assert response.status_code == 200
    assert (_refusal(value) in response.content.decode()) is bool(value)


@pytest.mark.parametrize("value", EXTREMES)
def test_booking_for_a_caller_with_an_extreme_day_shows_the_first_free_day_with_the_message(
    client: Client, world, value: str
) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = _manager(client, world).get(
            "/en/staff/desk/mitte/book/time/", {"services": "personalausweis", "date": value}
        )
    assert response.status_code == 200
    assert (_refusal(value) in response.content.decode()) is bool(value)


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("page", ["/en/staff/desk/mitte/queue/", "/en/staff/desk/mitte/rebook/"])
def test_pages_of_today_only_ignore_a_day(client: Client, world, page: str, value: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        assert _manager(client, world).get(page, {"date": value}).status_code == 200


@pytest.mark.parametrize("value", EXTREMES)
def test_an_absence_with_an_extreme_day_is_refused_at_the_field(client: Client, world, value: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = _manager(client, world).post(
            "/en/staff/desk/mitte/absences/",
            {"clerk": world.sick.pk, "kind": "sick", "first": value, "last": value},
        )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["first"] and form.errors["last"]
    assert not world.sick.absences.exists()


@pytest.mark.parametrize("value", EXTREMES)
def test_a_block_with_an_extreme_day_is_refused_at_the_field(client: Client, world, value: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = _manager(client, world).post(
            "/en/staff/desk/mitte/blocks/", {"date": value, "starts": "10:00", "ends": "11:00", "reason": "Meeting"}
        )
    assert response.status_code == 400
    assert response.context["form"].errors["date"]
    assert not world.office_a.blocks.exists()


@pytest.mark.parametrize("value", EXTREMES)
def test_the_staff_api_refuses_an_extreme_or_empty_day_with_422(client: Client, world, value: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = _manager(client, world).get("/api/v1/staff/offices/mitte/day", {"date": value})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "date"]


# Citizens


@pytest.mark.parametrize("value", EXTREMES)
def test_the_booking_calendar_with_an_extreme_day_shows_the_calendar_with_a_message(
    client: Client, world, value: str
) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = client.get("/en/book/at/mitte/", {"services": "personalausweis", "date": value})
    assert response.status_code == 200
    assert (f"“{value}” is not a date." in response.content.decode()) is bool(value)


@pytest.mark.parametrize("value", ["0001-01", "9999-12", "2026-13", "99999-01", "-1", "2026-1-1", ""])
def test_the_booking_calendar_with_an_extreme_month_shows_a_month_it_can(client: Client, world, value: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = client.get("/en/book/at/mitte/", {"services": "personalausweis", "month": value})
    html = response.content.decode()
    assert response.status_code == 200
    assert (f"“{value}” is not a month (YYYY-MM)." in html) is bool(value)
    assert "November 2026" in html or "December 2026" in html


@pytest.mark.parametrize("value", EXTREMES)
def test_moving_an_appointment_with_an_extreme_day_shows_the_calendar_with_a_message(
    client: Client, world, value: str
) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("15:00", email="erika@example.org")
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/en/appointment/{appointment.manage_token}/move/", {"date": value})
    assert response.status_code == 200
    assert (f"“{value}” is not a date." in response.content.decode()) is bool(value)


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", REFUSED)
def test_the_public_api_refuses_an_extreme_day_with_422(client: Client, world, field: str, value: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = client.get("/api/v1/availability", {"services": "personalausweis", "office": "mitte", field: value})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


# The rule itself


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2026-11-23", TODAY),
        ("2036-11-20", TODAY.replace(year=2036, day=20)),
        ("2016-11-26", TODAY.replace(year=2016, day=26)),
        ("2046-11-23", None),
        ("0001-01-01", None),
        ("9999-12-31", None),
        ("2026-02-30", None),
        ("99999-01-01", None),
        ("-1", None),
        ("", None),
        ("\x00", None),
    ],
)
def test_a_day_is_a_real_date_within_ten_years_of_today(value: str, day: object) -> None:
    with time_machine.travel(NOW, tick=False):
        assert parse_day(value) == day
