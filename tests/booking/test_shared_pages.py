"""The booking flow's pages rendered once for everyone (booking/views/shared.py): what they read, that the kept
page equals a fresh one, that a change shows on the next read, and that nothing of one citizen reaches another."""

import datetime
import re
from urllib.parse import quote

import pytest
import time_machine
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.test import Client, RequestFactory
from django.urls import resolve

from booking.availability import offices_by_earliest_until
from booking.forms import NeedsForm
from booking.grid import BERLIN
from booking.needs import needs_from_param, needs_param
from booking.services.appointments import Contact, appointment_book
from booking.views.citizen import _needs_context, _times_page
from offices.models import Office, Service
from offices.selectors import public_categories, public_office
from tests.support.factories import CategoryFactory, bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
SERVICES = "personalausweis:2,anmeldung:1"
NEEDS = "/book/"
WHERE = f"/book/where/?services={SERVICES}"
AT = f"/book/at/mitte/?services={SERVICES}"
AT_DAY = f"{AT}&date={MONDAY}"


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(counters=1, first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte")
    documents = CategoryFactory(slug="documents", position=1)
    registration = CategoryFactory(slug="registration", position=2)
    offer(office, "personalausweis", 15, max_persons=4, category=documents, name_de="Personalausweis")
    offer(office, "anmeldung", 10, category=registration, name_de="Anmeldung einer Wohnung")
    other = bookable_office(first=MONDAY, last=MONDAY, slug="nord", name_de="Bürgerbüro Nord")
    offer(other, "personalausweis", 15)
    offer(other, "anmeldung", 10)
    return office


def text(response: HttpResponse) -> str:
    assert response.status_code == 200
    return response.content.decode()


CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def without_csrf(html: str) -> str:
    """Every CSRF token is masked afresh; the rest of the page must be the same."""
    return CSRF_VALUE.sub('name="csrfmiddlewaretoken" value="…"', html)


def fresh_request(path: str) -> HttpRequest:
    """A request as the middleware leaves it (session, messages, the resolved view), for a fresh render."""
    request = RequestFactory().get(path, secure=True)
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    MessageMiddleware(lambda r: HttpResponse()).process_request(request)
    request.resolver_match = resolve(request.path)
    return request


@pytest.mark.parametrize("path", [NEEDS, WHERE, AT, AT_DAY])
def test_a_kept_page_is_read_without_a_query(client: Client, office, path, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    first = text(client.get(path))
    with django_assert_max_num_queries(0):
        again = text(client.get(path))
    assert without_csrf(again) == without_csrf(first)


@pytest.mark.parametrize(("path", "most"), [(NEEDS, 2), (WHERE, 7), (AT, 8), (AT_DAY, 8)])
def test_a_page_computed_afresh_reads_a_few_queries(client, office, path, most, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(most):
        text(client.get(path))


def test_the_kept_needs_page_equals_a_fresh_one(client: Client, office) -> None:
    for path, services in [(NEEDS, ""), (f"{NEEDS}?services={SERVICES}", SERVICES)]:
        kept = text(client.get(path)) and text(client.get(path))
        chosen = needs_from_param(services) if services else []
        form = NeedsForm(categories=list(public_categories()), initial_needs=chosen)
        fresh = render(fresh_request(path), "booking/needs.html", _needs_context(form, chosen))
        assert kept == text(fresh)
        assert ("selected>2 Personen</option>" in kept) == bool(services)


def test_the_kept_office_choice_equals_a_fresh_one(client: Client, office) -> None:
    kept = text(client.get(WHERE)) and text(client.get(WHERE))
    chosen = needs_from_param(SERVICES)
    choices, _until = offices_by_earliest_until(needs=chosen, now=NOW)
    context = {"chosen": chosen, "services": needs_param(chosen), "choices": choices, "best": choices[0]}
    assert kept == text(render(fresh_request(WHERE), "booking/offices.html", context))
    assert kept.count("Frühestens:") == 2


@pytest.mark.parametrize("path", [AT, AT_DAY, f"{AT}&month=2026-12", f"{AT}&date=2026-11-28"])
def test_the_kept_calendar_equals_a_fresh_one(client: Client, office, path) -> None:
    text(client.get(path))
    kept = text(client.get(path))
    fresh = _times_page(fresh_request(path), office=public_office("mitte"), chosen=needs_from_param(SERVICES))
    assert without_csrf(kept) == without_csrf(text(fresh))


def test_a_day_without_free_times_is_said_on_every_read_of_the_kept_page(client: Client, office) -> None:
    saturday = f"{AT}&date=2026-11-28"
    for _read in range(2):
        assert "Am Samstag, 28. November 2026 gibt es keine freien Zeiten." in text(client.get(saturday))


def mitte_choice(client: Client) -> str:
    """The office choice's entry of Bürgerbüro Mitte."""
    (entry,) = re.findall(r'<a href="/book/at/mitte/.*?</li>', text(client.get(WHERE)), flags=re.S)
    return entry


def test_a_booking_shows_on_the_next_read_of_the_calendar_and_the_office_choice(client: Client, office) -> None:
    assert 'value="2026-11-23T08:00"' in text(client.get(AT_DAY))
    assert "Mo, 23.11.2026, 08:00" in mitte_choice(client)
    needs = needs_from_param(SERVICES)
    appointment_book(
        office=office, start=datetime.datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN), needs=needs,
        contact=Contact(name="Erika Mustermann", email="erika@example.org"), now=NOW,
    )  # fmt: skip
    page = text(client.get(AT_DAY))
    assert 'value="2026-11-23T08:00"' not in page
    assert 'value="2026-11-23T08:40"' in page  # 2 × 15 + 10 minutes from 08:00 are taken
    assert "Mo, 23.11.2026, 08:40" in mitte_choice(client)


def test_a_change_of_an_office_or_a_service_shows_on_the_next_read(client: Client, office) -> None:
    for path in [NEEDS, WHERE, AT]:
        text(client.get(path))
    mitte = Office.objects.get(slug="mitte")
    mitte.name_de = "Bürgerbüro Altstadt"
    mitte.save()
    assert "Bürgerbüro Altstadt" in text(client.get(WHERE))
    assert "Bürgerbüro Altstadt" in text(client.get(AT))
    service = Service.objects.get(slug="anmeldung")
    service.name_de = "Wohnsitz anmelden"
    service.save()
    assert "Wohnsitz anmelden" in text(client.get(NEEDS))
    assert "Wohnsitz anmelden" in text(client.get(AT))
    mitte.active = False
    mitte.save()
    assert client.get(AT).status_code == 404
    assert "Bürgerbüro Altstadt" not in text(client.get(WHERE))


def test_no_csrf_token_reaches_another_citizen(office) -> None:
    tokens = []
    for _citizen in range(2):
        citizen = Client()
        page = text(citizen.get(AT_DAY))
        (token,) = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
        tokens.append((token, citizen.cookies["csrftoken"].value))
    (first, first_cookie), (second, second_cookie) = tokens
    assert first != second and first_cookie != second_cookie
    # Each citizen's token is one of its own secret: the hold is accepted with it, and refused with the other's.
    for token, cookie, accepted in [(first, first_cookie, True), (second, first_cookie, False)]:
        citizen = Client(enforce_csrf_checks=True)
        citizen.cookies["csrftoken"] = cookie
        answer = citizen.post(
            "/book/at/mitte/hold/",
            {"services": SERVICES, "start": "2026-11-23T08:00", "csrfmiddlewaretoken": token},
        )
        assert (answer.status_code == 302) is accepted, answer.status_code


def test_no_message_of_one_citizen_reaches_another(office) -> None:
    erika, max_ = Client(), Client()
    assert erika.get("/book/where/?services=reisepass").status_code == 302  # a message for Erika
    assert "Die Dienstleistung" not in text(max_.get(NEEDS))
    assert "Die Dienstleistung „reisepass“ gibt es nicht." in text(erika.get(NEEDS))
    assert "Die Dienstleistung" not in text(erika.get(NEEDS))  # shown once
    assert "Die Dienstleistung" not in text(max_.get(NEEDS))


def test_the_language_links_are_those_of_the_address_asked(client: Client, office) -> None:
    text(client.get(AT_DAY))
    page = text(client.get(f"{AT_DAY}&utm=x"))
    assert f'href="/i18n/use/en/?next={quote(f"/en{AT_DAY}&utm=x", safe="")}"' in page
    english = text(client.get(f"/en{AT_DAY}"))
    assert 'lang="en"' in english and "Free times on Monday" in english


def test_an_office_that_starts_offering_the_needs_is_listed_and_its_bookings_show(client: Client, office) -> None:
    text(client.get(WHERE))
    sued = bookable_office(first=MONDAY, last=MONDAY, slug="sued", name_de="Bürgerbüro Süd")
    offer(sued, "personalausweis", 15)
    offer(sued, "anmeldung", 10)
    page = text(client.get(WHERE))
    assert page.count("Frühestens:") == 3 and "Bürgerbüro Süd" in page
    appointment_book(
        office=sued, start=datetime.datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN), needs=needs_from_param(SERVICES),
        contact=Contact(name="Erika Mustermann", email="erika@example.org"), now=NOW,
    )  # fmt: skip
    (entry,) = re.findall(r'<a href="/book/at/sued/.*?</li>', text(client.get(WHERE)), flags=re.S)
    assert "Mo, 23.11.2026, 08:40" in entry  # its grid is among the page's versions


def test_the_kept_office_choice_is_read_in_one_round_trip_to_the_cache(client: Client, office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache.backends.locmem import LocMemCache

    text(client.get(WHERE))
    calls = []
    get_many = LocMemCache.get_many
    monkeypatch.setattr(LocMemCache, "get_many", lambda self, *a, **k: calls.append(a) or get_many(self, *a, **k))
    text(client.get(WHERE))
    assert len(calls) == 1
