"""Turkish, Arabic, Ukrainian and Russian for citizens: the switch remembers the choice, Arabic reads right to
left, texts stored in the database fall back to German, messages and calendar files come in the booking's
language, the staff side stays German and English, and each language writes its dates one way."""

import re
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import translation

from booking.models import Appointment
from notifications import sms
from offices.admin_translations import missing_languages
from offices.models import Service
from tests.support.messages import MONDAY, at, book, event_of, ics_of, leipzig_office, sent_now

pytestmark = pytest.mark.django_db

CITIZEN_LANGUAGES = ["de", "en", "tr", "ar", "uk", "ru"]


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    return leipzig_office()


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_switch_offers_every_citizen_language_by_its_own_name(client: Client, office) -> None:
    html = client.get("/").content.decode()
    names = re.findall(
        r'<a class="nav-link" href="/i18n/use/(\w+)/\?next=[^"]*" lang="\1" hreflang="\1"[^>]*>([^<]+)</a>', html
    )
    assert names == [
        ("de", "Deutsch"),
        ("en", "English"),
        ("tr", "Türkçe"),
        ("ar", "العربيّة"),
        ("uk", "Українська"),
        ("ru", "Русский"),
    ]


@pytest.mark.parametrize(
    ("code", "greeting"),
    [
        ("tr", "Randevu"),
        ("ar", "موعد"),
        ("uk", "запис"),
        ("ru", "запис"),
    ],
)
def test_each_language_shows_the_pages_in_it(client: Client, office, code: str, greeting: str) -> None:
    response = client.get(f"/{code}/")
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == code
    assert f'<html lang="{code}" dir="{"rtl" if code == "ar" else "ltr"}">' in html
    with translation.override(code):
        assert translation.gettext("Skip to main content") in html
        assert translation.gettext("Skip to main content") != "Skip to main content"
    assert greeting.lower() in text_of(html).lower()


def test_arabic_reads_right_to_left_with_bootstraps_rtl_build(client: Client, office) -> None:
    arabic = client.get("/ar/").content.decode()
    turkish = client.get("/tr/").content.decode()
    assert 'dir="rtl"' in arabic and "bootstrap.rtl.min.css" in arabic and "bootstrap.min.css" not in arabic
    assert 'dir="ltr"' in turkish and "bootstrap.min.css" in turkish and "rtl" not in turkish


def test_the_choice_is_remembered_until_another_is_chosen(client: Client, office) -> None:
    assert client.get("/").status_code == 200  # nothing chosen yet: German
    response = client.get(f"/i18n/use/tr/?next={quote('/offices/mitte/?x=1')}")
    assert (response.status_code, response["Location"]) == (302, "/tr/offices/mitte/?x=1")
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "tr" and int(cookie["max-age"]) >= 300 * 24 * 3600
    # Later, an unprefixed address (a bookmark, the home page typed in) opens in Turkish.
    response = client.get("/book/?services=x")
    assert (response.status_code, response["Location"]) == (302, "/tr/book/?services=x")
    # Choosing German again in the switch is remembered too.
    response = client.get(f"/i18n/use/de/?next={quote('/tr/book/')}")
    assert response["Location"] == "/book/"
    page = client.get("/")
    assert page.status_code == 200 and page["Content-Language"] == "de"


def test_the_switch_goes_nowhere_but_this_site(client: Client) -> None:
    hostile = ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", "x", "/a\r\nSet-Cookie: x", "/\x00")
    for target in hostile:
        response = client.get("/i18n/use/ru/", {"next": target})
        if "\x00" in target:  # the input guard refuses a NUL before any view
            assert response.status_code == 400
            continue
        assert response["Location"] == "/ru/", target
    unknown = client.get("/i18n/use/xx/", {"next": "/book/"})
    assert unknown["Location"] == "/book/" and unknown.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"


@pytest.mark.parametrize(
    "path", ["/kiosk/some-key/", "/offices/mitte/display/", "/staff/login/", "/api/v1/services", "/healthz"]
)
def test_shared_screens_the_staff_side_and_machines_are_not_sent_to_a_remembered_language(
    client: Client, office, path: str
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    assert client.get(path).status_code != 302


def test_the_staff_side_stays_german_and_english(client: Client, office) -> None:
    response = client.get("/tr/staff/login/?next=/staff/")
    assert (response.status_code, response["Location"]) == (302, "/staff/login/?next=/staff/")
    assert client.get("/en/staff/login/").status_code == 200
    html = client.get("/staff/login/").content.decode()
    offered = re.findall(r'href="/i18n/use/(\w+)/', html)
    assert offered == ["de", "en"]


def test_texts_in_the_database_fall_back_to_german_where_a_translation_is_missing(client: Client, office) -> None:
    service = Service.objects.get(slug="personalausweis")
    service.name_tr = "Kimlik kartı (Personalausweis)"
    service.save()
    turkish = text_of(client.get(f"/tr/services/{service.slug}/").content.decode())
    arabic = text_of(client.get(f"/ar/services/{service.slug}/").content.decode())
    assert "Kimlik kartı (Personalausweis)" in turkish
    assert service.name_de in arabic  # no Arabic name: the German one, never an empty heading
    assert "tr" not in missing_languages(service) or service.description_de or service.what_to_bring_de
    assert "ar" in missing_languages(service)


def test_the_admin_names_and_filters_the_missing_translations(admin_client: Client, office) -> None:
    service = Service.objects.get(slug="personalausweis")
    for code in ("en", "tr", "ar", "uk", "ru"):
        for field in ("name", "description", "what_to_bring"):
            if getattr(service, f"{field}_de"):
                setattr(service, f"{field}_{code}", f"{field} in {code}")
    service.save()
    service.name_uk = ""
    service.save()
    assert missing_languages(service) == ["uk"]
    page = text_of(admin_client.get("/admin/offices/service/").content.decode())
    assert "translations missing" in page.lower() or "übersetzungen fehlen" in page.lower()
    missing_uk = admin_client.get("/admin/offices/service/", {"missing": "uk"}).content.decode()
    missing_tr = admin_client.get("/admin/offices/service/", {"missing": "tr"}).content.decode()
    assert f"/admin/offices/service/{service.pk}/change/" in missing_uk
    assert f"/admin/offices/service/{service.pk}/change/" not in missing_tr


@pytest.mark.parametrize("code", ["tr", "ar", "uk", "ru"])
def test_a_booking_in_a_citizen_language_gets_its_email_and_calendar_file_in_it(  # type: ignore[no-untyped-def]
    office, django_capture_on_commit_callbacks, settings, code: str
) -> None:
    settings.SITE_URL = "https://termine.example.de"
    appointment = sent_now(django_capture_on_commit_callbacks, lambda: book(office, at(MONDAY, "09:00"), language=code))
    (email,) = mail.outbox
    with translation.override(code):
        hello = translation.gettext("Hello %(name)s,") % {"name": "Erika Mustermann"}
    assert hello != "Hello Erika Mustermann," and hello in email.body
    assert f"https://termine.example.de/{code}/appointment/{appointment.manage_token}/" in email.body
    html = email.alternatives[0][0]
    assert f'lang="{code}" dir="{"rtl" if code == "ar" else "ltr"}"' in html
    summary = str(event_of(ics_of(email))["SUMMARY"])
    with translation.override(code):
        assert translation.gettext("Appointment at %(office)s") % {"office": office.name_de} == summary


def test_an_sms_in_turkish_for_a_caller_who_chose_it(office, django_capture_on_commit_callbacks, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = "https://termine.leipzig.de"
    sms.outbox.clear()
    appointment = sent_now(
        django_capture_on_commit_callbacks,
        lambda: book(
            office, at(MONDAY, "09:00"), email="", phone="0151 2345 6789", channel=Appointment.Channel.PHONE,
            language="tr",
        ),
    )  # fmt: skip
    (sent,) = sms.outbox
    assert sent.text == (
        f"Bürgerbüro Mitte: randevu Pzt 23.11. 09:00, kod {appointment.booking_code}. "
        f"Değiştirme veya iptal: https://termine.leipzig.de/tr/t/{appointment.manage_token}/"
    )


@pytest.mark.parametrize(
    ("code", "short", "long"),
    [
        ("de", "23.11.2026", "23. November 2026"),
        ("en", "23/11/2026", "23 November 2026"),
        ("tr", "23.11.2026", "23 Kasım 2026"),
        ("ar", "23/11/2026", "23 نوفمبر 2026"),
        ("uk", "23.11.2026", "23 листопада 2026"),
        ("ru", "23.11.2026", "23 ноября 2026"),
    ],
)
def test_each_language_writes_a_date_one_way_and_the_clock_in_24_hours(code: str, short: str, long: str) -> None:
    import datetime

    from django.utils.formats import date_format, time_format

    day = datetime.date(2026, 11, 23)
    with translation.override(code):
        assert date_format(day, "SHORT_DATE_FORMAT") == short
        assert date_format(day, "DATE_FORMAT") == long
        assert time_format(datetime.time(9, 5), "TIME_FORMAT") == "09:05"


def test_a_missing_page_under_make_run_is_the_sites_own(client: Client, office, settings) -> None:
    settings.DEBUG = True
    response = client.get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Seite nicht gefunden" in html and "URLconf" not in html and "DEBUG = True" not in html
    english = client.get("/en/offices/nowhere/").content.decode()
    assert "Page not found" in english and "URLconf" not in english
    api = client.get("/api/v1/offices/nowhere/status")
    assert api["Content-Type"].startswith("application/json")


def test_the_forms_name_each_language_of_our_messages_in_itself() -> None:
    from booking.forms import ContactForm
    from waitlist.forms import RegistrationForm

    expected = [
        ("de", "Deutsch"), ("en", "English"), ("tr", "Türkçe"),
        ("ar", "العربيّة"), ("uk", "Українська"), ("ru", "Русский"),
    ]  # fmt: skip
    for code in ("de", "ar"):
        with translation.override(code):
            assert list(ContactForm().fields["language"].choices) == expected
            assert list(RegistrationForm(offices=[]).fields["language"].choices) == expected
