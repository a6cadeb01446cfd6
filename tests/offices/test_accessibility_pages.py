"""The accessibility statement, the feedback form that reaches the administrators, booking in Leichte Sprache."""

import re
import secrets
from collections.abc import Iterator

import pytest
from django.core import mail
from django.test import Client, override_settings

from access import limits
from offices.models import Feedback
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh_address() -> str:
    """An address no other test counted (the counters may live in a Redis shared by the whole run)."""
    return f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}::1"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture(autouse=True)
def _limits_reachable() -> Iterator[None]:
    limits._down.clear()
    yield
    limits._down.clear()


# The statement


def test_the_statement_names_its_status_the_barriers_the_checks_the_date_and_the_contact(client):
    page = text(client.get("/en/accessibility/"))
    assert "<h1>Accessibility statement</h1>" in page
    assert "This website is partially compliant with BITV 2.0" in page
    for barrier in (
        "The call display in the waiting room plays a sound",
        "Printed slips",
        "Texts entered by the offices",
        "German Sign Language",
        "is a page for developers",
    ):
        assert barrier in page
    assert "This statement was prepared on 7 December 2026." in page
    assert "Automated tests with axe-core in every build" in page
    assert "with the keyboard alone" in page
    assert '<a class="btn btn-primary" href="/en/feedback/?page=/en/accessibility/">Report a barrier</a>' in page
    assert 'href="/en/easy/"' in page


def test_the_statement_in_german_gives_the_federal_conciliation_body_and_its_address(client):
    page = text(client.get("/accessibility/"))
    assert "Mauerstraße 53<br> 10117 Berlin" in page
    assert '<a href="https://www.schlichtungsstelle-bgg.de">www.schlichtungsstelle-bgg.de</a>' in page
    assert "§ 16" in page


@override_settings(
    ACCESSIBILITY_STATEMENT_DATE="2027-03-01",
    ACCESSIBILITY_CONCILIATION_BODY="Ombudsstelle für barrierefreie IT des Landes\nMusterweg 1\n12345 Musterstadt",
)
def test_a_city_sets_its_own_date_and_its_lands_conciliation_body(client):
    page = text(client.get("/en/accessibility/"))
    assert "This statement was prepared on 1 March 2027." in page
    assert "Ombudsstelle für barrierefreie IT des Landes<br>Musterweg 1<br>12345 Musterstadt" in page
    assert "Mauerstraße" not in page


# The feedback form


def post_feedback(client: Client, **fields: str):  # type: ignore[no-untyped-def]
    data = {"kind": "barrier", "page": "/book/", "message": "Der Kalender lässt sich nicht mit Tab bedienen."}
    return client.post("/en/feedback/", data | fields)


def test_the_form_is_prefilled_with_the_page_the_person_came_from(client):
    page = text(client.get("/en/feedback/?page=/en/offices/mitte/"))
    assert 'name="page" value="/en/offices/mitte/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    from_referer = text(client.get("/en/feedback/", headers={"Referer": "http://testserver/en/book/?services=x"}))
    assert 'name="page" value="/en/book/"' in from_referer


def test_an_address_on_another_site_is_dropped(client):
    page = text(client.get("/en/feedback/?page=https://evil.example/phish"))
    assert 'name="page" value=' not in page
    referer = text(client.get("/en/feedback/", headers={"Referer": "https://evil.example/en/book/"}))
    assert 'name="page" value=' not in referer
    response = post_feedback(client, page="//evil.example/x")
    assert response.status_code == 302
    assert Feedback.objects.get().page == ""


def test_feedback_is_stored_and_mailed_to_the_admins_and_every_active_superuser(
    client, django_capture_on_commit_callbacks
):
    UserFactory(username="root", is_superuser=True, is_staff=True, email="root@stadt.example")
    UserFactory(username="gone", is_superuser=True, is_active=False, email="gone@stadt.example")
    UserFactory(username="clerk", is_staff=True, email="clerk@stadt.example")
    with (
        override_settings(ADMINS=[("IT", "it@stadt.example"), ("Root again", "ROOT@stadt.example")]),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post_feedback(client, name="Erika", email="erika@example.org")
    assert response.status_code == 302
    assert response["Location"] == "/en/feedback/thanks/"
    feedback = Feedback.objects.get()
    assert (feedback.kind, feedback.page, feedback.name, feedback.email, feedback.handled) == (
        "barrier",
        "/book/",
        "Erika",
        "erika@example.org",
        False,
    )
    assert feedback.message == "Der Kalender lässt sich nicht mit Tab bedienen."
    [sent] = mail.outbox
    assert sent.to == ["it@stadt.example", "ROOT@stadt.example"]  # the superuser once, as ADMINS spells it
    assert "Der Kalender lässt sich nicht mit Tab bedienen." in sent.body
    assert "erika@example.org" in sent.body
    assert f"/admin/offices/feedback/{feedback.pk}/change/" in sent.body
    thanks = text(client.get(response["Location"]))
    assert "<h1>Thank you for your feedback</h1>" in thanks


def test_a_failing_mail_server_loses_no_feedback(client, django_capture_on_commit_callbacks, monkeypatch):
    UserFactory(username="root", is_superuser=True, email="root@stadt.example")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr("offices.services.send_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_feedback(client)
    assert response.status_code == 302
    assert Feedback.objects.count() == 1
    assert mail.outbox == []


def test_a_missing_or_too_long_message_is_refused_with_the_error_summary(client):
    page = text(post_feedback(client, message=""))
    assert 'id="error-summary"' in page
    assert '<a href="#id_message">Your message: This field is required.</a>' in page
    too_long = text(post_feedback(client, message="x" * 5001))
    assert "Ensure this value has at most 5000 characters (it has 5001)." in too_long
    assert Feedback.objects.count() == 0


def test_feedback_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = post_feedback(client)
    assert response.status_code == 403
    assert Feedback.objects.count() == 0


def test_feedback_over_the_clients_budget_is_refused_with_429():
    client = Client(REMOTE_ADDR=fresh_address())
    with override_settings(
        RATE_LIMITS={"read": "100/minute", "hold": "2/minute", "book": "2/minute", "move": "2/hour", "cancel": "2/hour"}
    ):
        statuses = [post_feedback(client, message=f"Nachricht {n}").status_code for n in range(3)]
        refused = post_feedback(client, message="noch eine")
    assert statuses == [302, 302, 429]
    assert refused.status_code == 429
    assert "Too many requests" in text(refused)
    assert sorted(Feedback.objects.values_list("message", flat=True)) == ["Nachricht 0", "Nachricht 1"]


# Leichte Sprache


def test_the_easy_language_page_has_the_six_steps_with_links_cancelling_and_the_phone(client):
    page = text(client.get("/easy/"))
    assert "<h1>Termin-Buchung in Leichter Sprache</h1>" in page
    steps = re.findall(r'<li class="mb-3" id="step-\d"><strong>([^<]+)</strong>', page)
    assert steps == [
        "Dienstleistung wählen.",
        "Ort wählen.",
        "Zeit wählen.",
        "Name und E-Mail schreiben.",
        "Buchen.",
        "E-Mail bekommen.",
    ]
    assert '<a href="/book/">Hier fängt die Termin-Buchung an.</a>' in page
    assert '<a href="/#offices">Hier sehen Sie alle Orte.</a>' in page
    assert "Klicken Sie dann auf: Termin absagen." in page
    assert '<a href="tel:115">115</a>' in page
    assert 'id="easy-language-note"' not in page


def test_the_easy_language_page_stays_german_under_english_with_a_note_in_english(client):
    page = text(client.get("/en/easy/"))
    assert '<html lang="en"' in page
    assert '<div lang="de" class="easy-language' in page
    assert "Dienstleistung wählen." in page
    assert "This page explains in easy-to-read German (Leichte Sprache) how to book an appointment." in page
    assert '<a href="/en/book/">Book an appointment</a>' in page
    # The German steps link to the German pages they describe.
    assert '<a href="/book/">Hier fängt die Termin-Buchung an.</a>' in page


def test_the_admin_lists_feedback_filtered_by_kind_and_handled(admin_client):
    Feedback.objects.create(kind="barrier", page="/book/", message="Kontrast zu schwach")
    Feedback.objects.create(kind="other", message="Danke!", handled=True)
    page = text(admin_client.get("/en/admin/offices/feedback/?kind__exact=barrier&handled__exact=0"))
    assert "/book/" in page
    assert "An accessibility barrier" in page
    assert "Something else" in page  # the filter's choice
    assert page.count('name="_selected_action"') == 1  # only the open barrier, not the handled thanks
