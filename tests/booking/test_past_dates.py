"""A date in the past says so (issue 19, point 1): the times page's day in the address, and the waitlist's range."""

import datetime

import pytest
import time_machine
from django.test import Client

from booking.grid import BERLIN
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 18, 9, 0, tzinfo=BERLIN)  # a Wednesday; its office has free times from Monday
PAST_NOTE = "This day is in the past: Monday, 16 November 2026. Here are the next free days."


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte")
    offer(office, "personalausweis", 15)
    return office


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def test_a_past_day_in_the_address_says_so_and_shows_the_next_free_day(client: Client, office: Office) -> None:
    for _twice in range(2):  # the second answer comes from the page kept for everyone: the note with it
        response = client.get("/en/book/at/mitte/", {"services": "personalausweis", "date": "2026-11-16"})
        page = text(response)
        assert response.status_code == 200
        assert PAST_NOTE in page
        assert "There are no free times on" not in page
        assert 'value="2026-11-23T08:00"' in page and 'value="2026-11-23T15:45"' in page  # the first free day


def test_today_and_later_days_are_not_called_past(client: Client, office: Office) -> None:
    for day in ["2026-11-18", "2026-11-23"]:
        page = text(client.get("/en/book/at/mitte/", {"services": "personalausweis", "date": day}))
        assert "is in the past" not in page


def test_the_past_note_is_german_on_the_german_page_too(client: Client, office: Office) -> None:
    page = text(client.get("/book/at/mitte/", {"services": "personalausweis", "date": "2026-11-17"}))
    assert "Dienstag, 17. November 2026" in page  # the day named in the page's language
    assert 'value="2026-11-23T08:00"' in page


def summary(page: str) -> str:
    start = page.index('id="error-summary"')
    return page[start : page.index("</div>", start)]


def test_the_waitlist_says_when_either_end_of_its_range_is_past(client: Client, office: Office) -> None:
    wish = {"name": "Erika Mustermann", "email": "erika@example.org", "language": "en"}
    response = client.post(
        "/en/waitlist/?services=personalausweis", wish | {"first_day": "2026-11-10", "last_day": "2026-11-17"}
    )
    assert response.status_code == 422
    listed = summary(text(response))
    assert '<a href="#id_first_day">From: Please choose today or a later day.</a>' in listed
    assert '<a href="#id_last_day">Until: Please choose today or a later day.</a>' in listed
    assert "must not be before the first" not in listed

    response = client.post(
        "/en/waitlist/?services=personalausweis", wish | {"first_day": "2026-11-25", "last_day": "2026-11-20"}
    )
    assert '<a href="#id_last_day">Until: The last day must not be before the first.</a>' in summary(text(response))
