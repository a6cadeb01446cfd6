"""The citizen-facing base: home, office and service pages in German and English."""

import datetime
import re
from html.parser import HTMLParser
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.test import Client

from tests.support.factories import (
    ClosureFactory,
    OfficeFactory,
    OfficeServiceFactory,
    PublicHolidayFactory,
    ServiceFactory,
    SpecialOpeningFactory,
    office_with_week,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday in the week of Buß- und Bettag (Wednesday 18 November 2026, a holiday in Saxony).
TUESDAY_MORNING = datetime.datetime(2026, 11, 17, 9, 30, tzinfo=BERLIN)


@pytest.fixture
def city():  # type: ignore[no-untyped-def]
    office = office_with_week(
        slug="buergerbuero-mitte",
        name_de="Bürgerbüro Mitte",
        name_en="Citizen office Centre",
        street="Marktplatz 1",
        postal_code="04109",
        phone="0341 555-1000",
        accessibility_notes_de="Aufzug am Seiteneingang",
        accessibility_notes_en="Lift at the side entrance",
    )
    passport = ServiceFactory(
        slug="reisepass",
        name_de="Reisepass beantragen",
        name_en="Apply for a passport",
        category__slug="ausweise",
        category__name_de="Ausweise und Pässe",
        category__name_en="ID cards and passports",
        what_to_bring_de="Biometrisches Passfoto\nbisheriger Pass",
        what_to_bring_en="Biometric passport photo\nprevious passport",
        max_persons=5,
    )
    OfficeServiceFactory(office=office, service=passport, duration_minutes=20)
    site = OfficeFactory(
        slug="buergerkoffer", name_de="Bürgerkoffer Bibliothek", name_en="Mobile office Library", kind="mobile_site"
    )
    OfficeServiceFactory(office=site, service=passport, duration_minutes=25)
    PublicHolidayFactory(
        date=datetime.date(2026, 11, 18), name_de="Buß- und Bettag", name_en="Repentance and Prayer Day"
    )
    return {"office": office, "passport": passport, "site": site}


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page's visible text with whitespace folded, for assertions on content."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    return re.sub(r" ([,.:;])", r"\1", text)  # a tag before punctuation is not a space


def test_the_home_page_lists_services_by_category_and_offices_in_german(client: Client, city) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    text = text_of(response)
    assert "Bürgerbüros: Dienstleistungen und Standorte" in text
    assert "Ausweise und Pässe Reisepass beantragen" in text
    assert "Bürgerbüro Mitte" in text
    assert "Mobiler Standort Bürgerkoffer Bibliothek" in text
    assert '<html lang="de" dir="ltr">' in response.content.decode()


def test_the_home_page_in_english(client: Client, city) -> None:
    response = client.get("/en/")
    text = text_of(response)
    assert response["Content-Language"] == "en"
    assert "Citizen offices: services and locations" in text
    assert "ID cards and passports Apply for a passport" in text
    assert "Mobile site Mobile office Library" in text
    assert "Reisepass" not in text


def test_the_layout_has_a_skip_link_landmarks_and_a_language_switch(client: Client, city) -> None:
    html = client.get("/").content.decode()
    assert re.search(r'<a class="[^"]*visually-hidden-focusable[^"]*" href="#main">Zum Inhalt springen</a>', html)
    assert '<main id="main"' in html and "<header" in html and "<footer" in html
    assert '<nav aria-label="Hauptnavigation">' in html
    assert '<nav class="language-switch" aria-label="Sprache">' in html


@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_the_office_page_shows_address_hours_and_services_in_german(client: Client, city) -> None:
    text = text_of(client.get("/offices/buergerbuero-mitte/"))
    assert "Marktplatz 1 04109 Musterstadt" in text
    assert "Aufzug am Seiteneingang" in text
    assert "Montag, 16.11.2026 08:00–12:00, 13:00–16:00" in text
    assert "Dienstag, 17.11.2026 (heute) 08:00–12:00" in text
    assert "Donnerstag, 19.11.2026 08:00–12:00, 13:00–19:30" in text
    assert "Samstag, 21.11.2026 Geschlossen" in text
    assert "Reisepass beantragen Etwa 20 Minuten pro Person · bis zu 5 Personen pro Termin" in text
    assert "Was mitbringen Biometrisches Passfoto bisheriger Pass" in text


@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_a_holiday_shows_as_closed_with_its_name(client: Client, city) -> None:
    assert "Mittwoch, 18.11.2026 Geschlossen – Feiertag: Buß- und Bettag" in text_of(
        client.get("/offices/buergerbuero-mitte/")
    )
    assert "Wednesday, 18/11/2026 Closed – public holiday: Repentance and Prayer Day" in text_of(
        client.get("/en/offices/buergerbuero-mitte/")
    )


@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_the_office_page_in_english_and_coming_closures_and_openings(client: Client, city) -> None:
    office = city["office"]
    ClosureFactory(office=office, start_date=datetime.date(2026, 12, 24), end_date=datetime.date(2026, 12, 24))
    SpecialOpeningFactory(office=office, date=datetime.date(2026, 12, 5))
    text = text_of(client.get("/en/offices/buergerbuero-mitte/"))
    assert "Citizen office Centre" in text
    assert "Lift at the side entrance" in text
    assert "Tuesday, 17/11/2026 (today) 08:00–12:00" in text
    assert "Apply for a passport About 20 minutes per person · up to 5 persons per appointment" in text
    assert "Saturday, 05/12/2026: 09:00–13:00 special opening Extra Saturday" in text
    assert "Thursday, 24/12/2026: Closed – Christmas Eve" in text


@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_a_mobile_site_shows_its_dates(client: Client, city) -> None:
    SpecialOpeningFactory(
        office=city["site"],
        date=datetime.date(2026, 11, 19),
        opens=datetime.time(10),
        closes=datetime.time(14),
        note_de="Im Lesesaal",
        note_en="In the reading room",
    )
    text = text_of(client.get("/offices/buergerkoffer/"))
    assert "Mobiler Standort" in text
    assert "Donnerstag, 19.11.2026 10:00–14:00 Sonderöffnung Im Lesesaal" in text
    assert "Montag, 16.11.2026 Geschlossen" in text


def test_the_service_page_lists_where_it_is_offered(client: Client, city) -> None:
    text = text_of(client.get("/en/services/reisepass/"))
    assert "Apply for a passport" in text
    assert "One appointment can cover up to 5 persons." in text
    assert "Citizen office Centre Marktplatz 1, 04109 Musterstadt 20 minutes" in text
    assert "Mobile office Library Mobile site" in text


@pytest.mark.parametrize("path", ["/offices/nowhere/", "/en/offices/nowhere/", "/services/nothing/", "/nope/"])
def test_unknown_pages_answer_404_in_the_citizens_language(client: Client, city, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert ("Page not found" if path.startswith("/en/") else "Seite nicht gefunden") in text_of(response)


def test_a_service_no_active_office_offers_is_not_listed(client: Client, city) -> None:
    ServiceFactory(slug="fischereischein", name_de="Fischereischein", category=city["passport"].category)
    assert "Fischereischein" not in text_of(client.get("/"))
    assert client.get("/services/fischereischein/").status_code == 404


def test_an_inactive_office_is_hidden(client: Client, city) -> None:
    city["office"].active = False
    city["office"].save()
    assert client.get("/offices/buergerbuero-mitte/").status_code == 404
    assert "Bürgerbüro Mitte" not in text_of(client.get("/"))


@pytest.mark.parametrize(
    ("path", "german", "english"),
    [
        ("/offices/buergerbuero-mitte/", "/offices/buergerbuero-mitte/", "/en/offices/buergerbuero-mitte/"),
        ("/en/offices/buergerbuero-mitte/", "/offices/buergerbuero-mitte/", "/en/offices/buergerbuero-mitte/"),
        ("/en/?x=1", "/?x=1", "/en/?x=1"),
    ],
)
def test_the_language_switch_links_to_the_same_page(client: Client, city, path: str, german: str, english: str) -> None:
    html = client.get(path).content.decode()
    current = ' aria-current="true"'
    german_link = f"/i18n/use/de/?next={quote(german, safe='')}"
    english_link = f"/i18n/use/en/?next={quote(english, safe='')}"
    assert (
        f'href="{german_link}" lang="de" hreflang="de"{current if not path.startswith("/en/") else ""}>Deutsch</a>'
        in html
    )
    assert (
        f'href="{english_link}" lang="en" hreflang="en"{current if path.startswith("/en/") else ""}>English</a>' in html
    )
    # The switch remembers the choice and goes on to the page in that language.
    response = client.get(english_link)
    assert (response.status_code, response["Location"]) == (302, english)
    assert response.cookies["django_language"].value == "en"


class _Loads(HTMLParser):
    """Collects every address a browser would load on its own (not links a person follows)."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "srcset", "poster", "data"):
            if attributes.get(name):
                self.addresses.append(attributes[name])  # type: ignore[arg-type]
        if tag == "link" and attributes.get("href"):
            self.addresses.append(attributes["href"])  # type: ignore[arg-type]
        if tag == "form" and attributes.get("action"):
            self.addresses.append(attributes["action"])  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["/", "/en/", "/offices/buergerbuero-mitte/", "/en/services/reisepass/", "/x/"])
def test_no_page_loads_anything_from_another_host(client: Client, city, path: str) -> None:
    response = client.get(path)
    parser = _Loads()
    parser.feed(response.content.decode())
    assert parser.addresses, "the page should load its own styles and scripts"
    for address in parser.addresses:
        assert address.startswith("/") and not address.startswith("//"), address
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_bootstrap_and_htmx_are_served_from_the_installed_packages(client: Client, city) -> None:
    html = client.get("/").content.decode()
    for asset in ("vendor/bootstrap/css/bootstrap.min.css", "vendor/htmx/htmx.min.js"):
        assert f'"/static/{asset}"' in html
        assert finders.find(asset), f"{asset} missing: run npm ci"


@time_machine.travel(TUESDAY_MORNING, tick=False)
def test_the_office_page_needs_a_fixed_number_of_queries(client: Client, city, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        OfficeServiceFactory(office=city["office"], service__category=city["passport"].category)
    with django_assert_num_queries(6):
        client.get("/offices/buergerbuero-mitte/")


def test_the_home_page_needs_a_fixed_number_of_queries(client: Client, city, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        OfficeServiceFactory(service__category__slug=f"extra-{n}")
    with django_assert_num_queries(3):
        client.get("/")
