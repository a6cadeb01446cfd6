"""Changing an answer keeps what was typed (issue 19, point 1): from the check page and from the details page,
only the changed answer is asked again; the details stay in the citizen's own session, never in an address,
and are gone after booking or a while after the hold ran out."""

import datetime
import html
import re

import pytest
import time_machine
from django.test import Client

from booking.grid import BERLIN
from booking.models import Appointment, Hold
from booking.views.citizen import SESSION_DRAFT, SESSION_HOLD
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
CONTACT = {
    "name": "Erika Mustermann",
    "email": "erika@example.org",
    "phone": "0341 123456",
    "language": "de",
    "reminders_consent": "on",
    "interpreter": "on",
    "interpreter_language": "Türkisch",
}


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(
        first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte", name_en="Centre office"
    )
    offer(office, "personalausweis", 15, name_en="Identity card")
    offer(office, "anmeldung", 10, name_en="Registering an address")
    return office


@pytest.fixture
def north() -> Office:
    office = bookable_office(
        first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="nord", name_en="North office"
    )
    offer(office, "personalausweis", 15)
    return office


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def hold(client: Client, start: str, services: str = "personalausweis", office: str = "mitte"):  # type: ignore[no-untyped-def]
    response = client.post(f"/en/book/at/{office}/hold/", {"services": services, "start": start})
    assert response.status_code == 302, text(response)
    token = response["Location"].rstrip("/").split("/")
    return response["Location"], Hold.objects.get(token=token[-1] if token[-1] != "check" else token[-2])


def hrefs(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', page)]


def checked(client: Client) -> str:
    """The details sent for the current hold; the check page."""
    _where, held = hold(client, "2026-11-23T08:00")
    response = client.post(f"/en/book/hold/{held.token}/", CONTACT)
    assert response["Location"] == f"/en/book/hold/{held.token}/check/"
    return held.token


def test_changing_the_time_on_the_check_page_asks_only_for_the_time(client: Client, office: Office) -> None:
    token = checked(client)
    page = text(client.get(f"/en/book/hold/{token}/check/"))
    change = next(href for href in hrefs(page) if href.startswith("/en/book/at/mitte/"))
    assert change == "/en/book/at/mitte/?services=personalausweis%3A1&date=2026-11-23"
    assert 'value="2026-11-23T10:00"' in text(client.get(change))

    where, held = hold(client, "2026-11-23T10:00")
    assert where == f"/en/book/hold/{held.token}/check/"  # the details are not asked again
    page = text(client.get(where))
    assert "10:00–10:15" in page
    for shown in ["Erika Mustermann", "erika@example.org", "0341 123456", "Interpreter for Türkisch"]:
        assert shown in page
    assert list(Hold.objects.values_list("token", flat=True)) == [held.token]  # the first time was given back
    assert f"booking-contact-{token}" not in client.session  # the details moved along, not copied

    client.post(where)
    appointment = Appointment.objects.get()
    assert (appointment.name, appointment.email, appointment.phone) == (
        "Erika Mustermann",
        "erika@example.org",
        "0341 123456",
    )
    assert appointment.reminders_consent and appointment.interpreter_language == "Türkisch"


def test_changing_the_office_on_the_check_page_keeps_the_details(client: Client, office: Office, north: Office) -> None:
    token = checked(client)
    page = text(client.get(f"/en/book/hold/{token}/check/"))
    assert "/en/book/where/?services=personalausweis%3A1" in hrefs(page)
    where, _held = hold(client, "2026-11-24T09:00", office="nord")
    page = text(client.get(where))
    assert where.endswith("/check/") and "North office" in page and "Erika Mustermann" in page


def test_changing_the_services_on_the_check_page_keeps_the_details(client: Client, office: Office) -> None:
    token = checked(client)
    page = text(client.get(f"/en/book/hold/{token}/check/"))
    assert "/en/book/?services=personalausweis%3A1" in hrefs(page)
    where, held = hold(client, "2026-11-23T08:00", services="personalausweis,anmeldung")
    page = text(client.get(where))
    assert where.endswith("/check/") and "Registering an address" in page and "Erika Mustermann" in page
    assert held.end - held.start == datetime.timedelta(minutes=25)


def test_a_change_button_on_the_details_page_keeps_what_was_typed_even_if_unfinished(
    client: Client, office: Office
) -> None:
    _where, held = hold(client, "2026-11-23T08:00")
    page = text(client.get(f"/en/book/hold/{held.token}/"))
    assert '<button class="btn btn-primary btn-lg" type="submit">Continue: check your answers</button>' in page
    # The main button comes before the change buttons: Enter in a field sends the first one.
    assert page.index("Continue: check your answers") < page.index('name="change" value="services"')
    typed = {"name": "Erika Mustermann", "email": "erika@", "phone": "0341 123456", "language": "en", "change": "time"}
    response = client.post(f"/en/book/hold/{held.token}/", typed)
    assert response.status_code == 302
    assert response["Location"] == "/en/book/at/mitte/?services=personalausweis%3A1&date=2026-11-23"
    assert "Erika" not in response["Location"] and "erika" not in response["Location"]

    where, second = hold(client, "2026-11-23T11:00")
    assert where == f"/en/book/hold/{second.token}/"  # not complete yet: the details page, filled in
    page = text(client.get(where))
    assert 'value="Erika Mustermann"' in page and 'value="erika@"' in page and 'value="0341 123456"' in page
    assert '<option value="en" selected>' in page
    assert 'id="error-summary"' not in page  # not sent yet: no errors shown


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ("office", "/en/book/where/?services=personalausweis%3A2"),
        ("services", "/en/book/?services=personalausweis%3A2"),
    ],
)
def test_the_other_change_buttons_lead_to_their_answer(
    client: Client, office: Office, change: str, location: str
) -> None:
    _where, held = hold(client, "2026-11-23T08:00", services="personalausweis:2")
    response = client.post(f"/en/book/hold/{held.token}/", CONTACT | {"change": change})
    assert response["Location"] == location
    assert client.session[f"booking-contact-{held.token}"]["name"] == "Erika Mustermann"


def test_nothing_typed_outlives_the_booking(client: Client, office: Office) -> None:
    token = checked(client)
    client.post(f"/en/book/hold/{token}/check/")
    assert Appointment.objects.get().name == "Erika Mustermann"
    session = client.session
    assert SESSION_DRAFT not in session and SESSION_HOLD not in session
    assert not [key for key in session.keys() if key.startswith("booking-contact-")]
    where, _held = hold(client, "2026-11-24T08:00")
    assert not where.endswith("/check/")
    assert "Erika" not in text(client.get(where))


def test_the_typed_details_are_forgotten_a_while_after_the_hold_ran_out(client: Client, office: Office, frozen) -> None:
    checked(client)
    frozen.shift(datetime.timedelta(minutes=10 + 10, seconds=1))  # the hold's ten minutes, then ten more
    where, _held = hold(client, "2026-11-24T08:00")
    assert not where.endswith("/check/")
    assert "Erika" not in text(client.get(where))
    assert not [key for key in client.session.keys() if key.startswith("booking-contact-")]


def test_the_details_stay_in_their_own_browser(client: Client, office: Office) -> None:
    token = checked(client)
    other = Client()
    page = text(other.get(f"/en/book/hold/{token}/"))  # the link alone, in another browser
    assert "Erika" not in page and "erika@example.org" not in page
