"""The catalogue pages kept whole until the catalogue changes (buergerservice/shared_pages.py, offices/views.py)."""

import datetime

import pytest
import time_machine
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory

from buergerservice.shared_pages import shared_page
from tests.support.factories import ClosureFactory, OfficeServiceFactory, ServiceFactory, office_with_week

pytestmark = pytest.mark.django_db

# The home page rendered: the offices, the categories with their services (two, the prefetch).
HOME_QUERIES = 3
# An office's page rendered: the office with its hours and offers (three), the closures, special openings and
# holidays of its calendar.
OFFICE_QUERIES = 6


@pytest.fixture
def mitte():  # type: ignore[no-untyped-def]
    office = office_with_week(slug="mitte", name_de="Bürgerbüro Mitte", name_en="Citizen office Mitte")
    OfficeServiceFactory(office=office, service=ServiceFactory(slug="anmeldung", name_en="Registration"))
    return office


def _rename(office, name: str, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    """As the admin does: saved, and the catalogue's version bumped once the transaction commits."""
    with django_capture_on_commit_callbacks(execute=True):
        office.name_en = name
        office.save()


def _message_cookie(text: str) -> tuple[str, str]:
    """The messages cookie a redirect after a form would leave with this one message."""
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(messages.SUCCESS, text)
    response = HttpResponse()
    storage.update(response)
    return storage.cookie_name, response.cookies[storage.cookie_name].value


def test_the_home_page_is_rendered_once_then_served_without_a_query(  # type: ignore[no-untyped-def]
    client, mitte, django_assert_num_queries
) -> None:
    with django_assert_num_queries(HOME_QUERIES):
        first = client.get("/en/")
    with django_assert_num_queries(0):
        again = Client().get("/en/")
    assert first.status_code == again.status_code == 200
    assert "Citizen office Mitte" in first.content.decode()
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == first["Cache-Control"] == "public, max-age=60"
    assert "Cookie" in again["Vary"]


def test_the_kept_home_page_is_the_page_rendered_afresh(client, mitte) -> None:  # type: ignore[no-untyped-def]
    client.get("/en/")
    kept = client.get("/en/")
    cache.clear()
    fresh = client.get("/en/")
    assert kept.content == fresh.content
    assert kept["ETag"] == fresh["ETag"]


def test_each_language_has_its_own_page(client, mitte) -> None:  # type: ignore[no-untyped-def]
    english = client.get("/en/").content.decode()
    german = client.get("/").content.decode()
    assert '<html lang="en" dir="ltr">' in english and "Citizen office Mitte" in english
    assert '<html lang="de" dir="ltr">' in german and "Bürgerbüro Mitte" in german


def test_a_renamed_office_is_on_the_next_read_of_the_home_and_office_pages(  # type: ignore[no-untyped-def]
    client, mitte, django_capture_on_commit_callbacks
) -> None:
    assert "Citizen office Mitte" in client.get("/en/").content.decode()
    assert "Citizen office Mitte" in client.get("/en/offices/mitte/").content.decode()
    _rename(mitte, "Citizen office Centre", django_capture_on_commit_callbacks)
    home = client.get("/en/").content.decode()
    office = client.get("/en/offices/mitte/").content.decode()
    assert "Citizen office Centre" in home and "Citizen office Mitte" not in home
    assert "Citizen office Centre" in office and "Citizen office Mitte" not in office


def test_an_unchanged_page_is_a_304_for_its_etag_and_a_changed_one_is_not(  # type: ignore[no-untyped-def]
    client, mitte, django_assert_num_queries, django_capture_on_commit_callbacks
) -> None:
    etag = client.get("/en/")["ETag"]
    with django_assert_num_queries(0):
        not_modified = client.get("/en/", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    _rename(mitte, "Citizen office Centre", django_capture_on_commit_callbacks)
    changed = client.get("/en/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_one_visitors_message_is_never_shown_to_another(mitte) -> None:  # type: ignore[no-untyped-def]
    name, value = _message_cookie("Your appointment is cancelled.")
    with_message, other = Client(), Client()
    with_message.cookies[name] = value
    # The visitor with a message first: the page rendered for them is not kept.
    mine = with_message.get("/en/")
    assert "Your appointment is cancelled." in mine.content.decode()
    assert "public" not in mine.get("Cache-Control", "") and not mine.has_header("ETag")
    assert "Your appointment is cancelled." not in other.get("/en/").content.decode()
    # The other way round: the kept page does not take the place of a visitor's message.
    with_message.cookies[name] = value
    assert "Your appointment is cancelled." in with_message.get("/en/").content.decode()
    assert "Your appointment is cancelled." not in other.get("/en/").content.decode()


def test_a_page_with_a_csrf_token_is_rendered_for_each_visitor(rf) -> None:  # type: ignore[no-untyped-def]
    def page(request):  # type: ignore[no-untyped-def]
        return lambda: HttpResponse(f"<input name=csrfmiddlewaretoken value={get_token(request)}>")

    first_request, second_request = rf.get("/form/"), rf.get("/form/")
    first = shared_page(first_request, "form", page(first_request))
    second = shared_page(second_request, "form", page(second_request))
    assert first.content != second.content  # each its own token, the first not kept for the second
    assert not first.has_header("ETag") and not second.has_header("ETag")
    assert "public" not in second.get("Cache-Control", "")


def test_an_address_with_a_query_string_is_rendered_not_kept(  # type: ignore[no-untyped-def]
    client, mitte, django_assert_num_queries
) -> None:
    for _read in range(2):
        with django_assert_num_queries(HOME_QUERIES):
            response = client.get("/en/?utm_source=poster")
        # the language links keep it
        assert 'href="/i18n/use/de/?next=%2F%3Futm_source%3Dposter"' in response.content.decode()
        assert not response.has_header("ETag")


def test_an_office_page_is_rendered_once_and_its_week_moves_on_at_midnight(  # type: ignore[no-untyped-def]
    client, mitte, django_assert_num_queries
) -> None:
    monday = datetime.datetime(2026, 11, 23, 10, tzinfo=datetime.UTC)
    with time_machine.travel(monday, tick=False):
        with django_assert_num_queries(OFFICE_QUERIES):
            first = client.get("/en/offices/mitte/")
        with django_assert_num_queries(0):
            again = client.get("/en/offices/mitte/")
        assert again.content == first.content
    ClosureFactory(office=mitte, start_date=datetime.date(2026, 12, 1), end_date=datetime.date(2026, 12, 1))
    with time_machine.travel(monday + datetime.timedelta(days=1), tick=False):
        # A new day: the page is rendered again (the closure, saved without its version bump, shows because of it).
        with django_assert_num_queries(OFFICE_QUERIES):
            tuesday = client.get("/en/offices/mitte/")
    assert tuesday.content != first.content


def test_an_unknown_office_is_404_and_nothing_is_kept(client, mitte) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/en/offices/nowhere/").status_code == 404
    assert client.get("/en/offices/nowhere/").status_code == 404
