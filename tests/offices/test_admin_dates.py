"""The admin's date drill-down at the end of the calendar shows the list unfiltered instead of a server error."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LISTS = [
    ("/admin/booking/appointment/", "start"),
    ("/admin/desk/auditentry/", "at"),
    ("/admin/offices/block/", "date"),
    ("/admin/tickets/ticket/", "day"),
    ("/admin/notifications/message/", "created_at"),
    ("/admin/offices/absence/", "start_date"),
    ("/admin/offices/publicholiday/", "date"),
    ("/admin/offices/shift/", "date"),
]
DRILLS = ["{f}__year=9999", "{f}__year=9999&{f}__month=12", "{f}__year=9999&{f}__month=12&{f}__day=31"]


@pytest.mark.parametrize(("url", "field"), LISTS)
@pytest.mark.parametrize("drill", DRILLS)
def test_the_last_year_month_and_day_there_are_answer_the_unfiltered_list(
    admin_client: Client, url: str, field: str, drill: str
) -> None:
    response = admin_client.get(f"{url}?{drill.format(f=field)}")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert admin_client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(("url", "field"), LISTS)
def test_an_ordinary_drill_down_still_filters(admin_client: Client, url: str, field: str) -> None:
    assert admin_client.get(f"{url}?{field}__year=2026&{field}__month=11").status_code == 200
