"""Step 1 of the citizen's booking: boxes to tick, persons for what is ticked, the common services first,
errors in the error summary, and the same addresses as before for the steps that follow."""

import datetime
import re

import pytest
import time_machine
from django.test import Client

from booking.grid import BERLIN
from booking.models import AppointmentService
from booking.needs import needs_from_param
from booking.needs_choice import COMMON_COUNT, recent_service_counts
from booking.services.appointments import Contact, appointment_book
from offices.models import Office
from tests.support.factories import CategoryFactory, bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
# Three categories, eight services: six are shown first, two are folded away under "More services".
CATALOGUE = {
    "documents": ["personalausweis", "reisepass", "kinderpass"],
    "registration": ["anmeldung", "abmeldung", "meldebescheinigung"],
    "vehicles": ["kfz-ummeldung", "parkausweis"],
}


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte", counters=2)
    for position, (category_slug, slugs) in enumerate(CATALOGUE.items(), start=1):
        category = CategoryFactory(
            slug=category_slug, position=position, name_de=category_slug.title(), name_en=category_slug.title()
        )
        for index, slug in enumerate(slugs):
            offer(
                office,
                slug,
                10 + index * 5,
                max_persons=4 if index == 0 else 1,
                category=category,
                position=index,
                name_de=f"Dienst {slug}",
                name_en=f"Service {slug}",
                what_to_bring_de=f"Unterlage für {slug}",
                what_to_bring_en=f"Paper for {slug}",
            )
    return office


def text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def groups(html: str) -> tuple[list[str], list[str]]:
    """The services shown first and those under "More services", by their boxes' values."""
    first, _sep, more = html.partition("data-needs-more")
    boxes = re.compile(r'name="service" value="([^"]+)"')
    return boxes.findall(first), boxes.findall(more)


def book(office: Office, services: str, hhmm: str) -> None:
    start = datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)
    appointment_book(
        office=office,
        start=start,
        needs=needs_from_param(services),
        contact=Contact(name="Erika Mustermann", email=f"erika{hhmm[:2]}@example.org"),
        now=NOW,
    )


def test_the_ticked_services_go_on_with_their_persons_and_the_others_are_ignored(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/book/",
        {
            "choose": "1",
            "service": ["personalausweis", "reisepass"],
            "persons-personalausweis": "3",
            "persons-anmeldung": "4",  # not ticked: its persons do not count
            "persons-abmeldung": "lots",  # not ticked: not even a number is asked for
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/book/where/?services=personalausweis%3A3%2Creisepass%3A1"


def test_a_ticked_service_without_persons_is_booked_for_one(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    # What a browser with JavaScript sends: the persons of an unticked service are not sent at all.
    response = client.get("/book/", {"choose": "1", "service": "anmeldung"})
    assert response["Location"] == "/book/where/?services=anmeldung%3A1"


def test_nothing_ticked_is_said_in_the_error_summary_with_a_link_to_the_services(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    # Without JavaScript every persons control is sent, set to 1: that alone chooses nothing.
    html = text(client.get("/book/", {"choose": "1", "persons-personalausweis": "1", "persons-anmeldung": "1"}))
    summary = html[html.index('id="error-summary"') :]
    assert '<a href="#div_id_service">Dienstleistungen: Wählen Sie mindestens eine Dienstleistung.</a>' in summary
    assert 'id="div_id_service"' in html
    assert 'aria-describedby="service-error"' in html
    assert not re.search(r'name="service" value="[^"]+" id="[^"]+" checked', html)


def test_too_many_persons_are_linked_to_the_persons_of_that_service(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    html = text(client.get("/book/", {"choose": "1", "service": "personalausweis", "persons-personalausweis": "9"}))
    assert (
        '<a href="#id_persons-personalausweis">Dienst personalausweis: '
        "„Dienst personalausweis“ kann für höchstens 4 Personen gebucht werden.</a>"
    ) in html
    assert re.search(r'id="id_persons-personalausweis" aria-invalid="true"', html)
    # The box stays ticked, and the details typed are still there to be corrected.
    assert 'value="personalausweis" id="need-personalausweis" checked' in html


def test_more_services_than_fit_one_appointment_are_refused(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    seven = [slug for slugs in CATALOGUE.values() for slug in slugs][:7]
    html = text(client.get("/book/", {"choose": "1", "service": seven}))
    assert "Dienstleistungen: In einen Termin passen höchstens 6 verschiedene Dienstleistungen." in html
    # Every ticked box is still ticked, so the other services are opened to show them.
    assert re.search(r"<details[^>]*data-needs-more open", html)
    assert html.count(" checked data-need-box") == 7


def test_without_javascript_show_time_adds_up_the_ticked_services(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    html = text(
        client.get(
            "/book/",
            {"choose": "1", "service": "personalausweis", "persons-personalausweis": "3", "preview": "1"},
        )
    )
    assert "Voraussichtliche Dauer: etwa 30 Minuten" in html  # 10 minutes × 3
    assert html.count("<li>Unterlage für personalausweis</li>") == 2  # the phone's and the wide screen's list
    assert '<option value="3" selected>3 Personen</option>' in html


def test_every_persons_control_is_labelled_with_its_service(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    html = text(client.get("/book/"))
    assert (
        '<label class="form-label small mb-0" for="id_persons-personalausweis"><span class="visually-hidden">'
        "Dienst personalausweis: </span>"
    ) in html
    assert 'name="persons-reisepass"' not in html  # one person only: nothing to ask
    assert '<option value="0"' not in html  # "not needed" is the unticked box
    # What the live summary adds up: each service's minutes per person and what to bring.
    assert '"personalausweis": {"minutes": 10, "bring": ["Unterlage f\\u00fcr personalausweis"]}' in html


def test_without_bookings_each_categorys_first_services_come_first(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    first, more = groups(text(client.get("/book/")))
    assert first == ["personalausweis", "anmeldung", "kfz-ummeldung", "reisepass", "abmeldung", "parkausweis"]
    assert more == ["kinderpass", "meldebescheinigung"]
    html = text(client.get("/en/book/"))
    assert '<legend class="h5">Frequently booked</legend>' in html
    assert re.search(r'<summary class="needs-more-summary">More services <span[^>]*>2</span></summary>', html)
    assert '<legend class="h6">Documents</legend>' in html  # the category of the folded passport for a child


def test_the_services_booked_most_come_first(client: Client, office, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    book(office, "meldebescheinigung", "08:00")
    book(office, "meldebescheinigung,kinderpass", "09:00")
    book(office, "kinderpass", "10:00")
    book(office, "meldebescheinigung", "11:00")
    certificate = office.offered_services.get(service__slug="meldebescheinigung").service_id
    with django_assert_num_queries(1):
        assert recent_service_counts()[certificate] == 3
    with django_assert_num_queries(0):  # kept
        recent_service_counts()
    first, more = groups(text(client.get("/book/")))
    assert first[:2] == ["meldebescheinigung", "kinderpass"]
    assert len(first) == COMMON_COUNT
    assert more == ["abmeldung", "parkausweis"]  # the last of the catalogue's order
    assert AppointmentService.objects.count() == 5


def test_a_chosen_service_among_the_others_opens_them(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    closed = text(client.get("/book/"))
    assert re.search(r"<details[^>]*data-needs-more>", closed)
    opened = text(client.get("/book/", {"services": "kinderpass"}))
    assert re.search(r"<details[^>]*data-needs-more open>", opened)
    assert 'value="kinderpass" id="need-kinderpass" checked' in opened


def test_a_fresh_page_reads_the_catalogue_and_the_ranking_once_each(
    client: Client, office, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(2):
        text(client.get("/book/"))


def test_the_addresses_of_before_still_choose_by_persons(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/book/", {"persons-personalausweis": "2", "persons-anmeldung": "0"})
    assert response["Location"] == "/book/where/?services=personalausweis%3A2"


def test_the_filter_is_offered_only_to_javascript(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    html = text(client.get("/en/book/"))
    assert re.search(r'<div class="needs-filter mb-3" data-needs-filter hidden>', html)
    assert '<label class="form-label fw-semibold" for="needs-filter">Find a service</label>' in html
    assert 'data-found="Services found: #"' in html
    assert '<span data-persons-label="Persons">Persons, if chosen</span>' in html
    assert "/static/js/needs.js" in html and "/static/css/booking-steps.css" in html
