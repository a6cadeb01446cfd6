"""The privacy page (issue 20, point 6) is generated from the retention settings: it cannot drift from them."""

import pytest
from django.test import Client

from tests.support.factories import OfficeFactory

pytestmark = pytest.mark.django_db


def test_the_privacy_page_names_the_city_s_period(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RETENTION_DAYS = 30
    page = client.get("/en/privacy/").content.decode()
    assert "Your personal data is erased 30 days after your appointment" in page
    assert 'id="retention-offices"' not in page
    settings.RETENTION_DAYS = 45
    page = client.get("/en/privacy/").content.decode()
    assert "Your personal data is erased 45 days after your appointment" in page and "erased 30 days" not in page


def test_the_privacy_page_names_the_offices_that_keep_data_longer(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RETENTION_DAYS = 30
    OfficeFactory(name_en="Registry office", retention_days=90)
    OfficeFactory(name_en="Citizen office West", retention_days=20)  # shorter than the city's: the city's counts
    page = client.get("/en/privacy/").content.decode()
    assert "<li>Registry office: 90 days</li>" in page and "Citizen office West" not in page
    settings.RETENTION_DAYS = 100
    assert "Registry office" not in client.get("/en/privacy/").content.decode()


def test_the_privacy_page_says_who_to_ask(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/en/privacy/").content.decode()
    assert "Please write to the data protection officer of the city administration" in page
    settings.PRIVACY_CONTACT = "Datenschutzbeauftragte der Stadt\ndatenschutz@example.org"
    page = client.get("/en/privacy/").content.decode()
    assert "Datenschutzbeauftragte der Stadt<br>datenschutz@example.org" in page


def test_the_privacy_page_is_there_in_german_too(client: Client) -> None:
    response = client.get("/privacy/")
    assert response.status_code == 200 and '<html lang="de"' in response.content.decode()
