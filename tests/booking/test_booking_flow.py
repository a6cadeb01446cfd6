"""The citizen's way through the web pages: needs, office, time, hold, details, check, booked, cancel and move."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from booking.grid import BERLIN
from booking.messages import Kind as MessageKind
from booking.messages import appointment_messages
from booking.models import Appointment, Hold, Slot
from booking.needs import needs_from_param
from booking.services.appointments import Contact, appointment_book
from offices.models import Office
from tests.support.factories import CategoryFactory, bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)


def at(day: datetime.date, hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(
        counters=1,
        first=MONDAY,
        last=MONDAY + datetime.timedelta(days=4),
        name_de="Bürgerbüro Mitte",
        name_en="Citizen office Centre",
        slug="mitte",
    )
    # Identity documents listed before registration, as the catalogue's categories are ordered.
    documents = CategoryFactory(slug="documents", position=1)
    registration = CategoryFactory(slug="registration", position=2)
    offer(
        office,
        "personalausweis",
        15,
        max_persons=4,
        category=documents,
        name_de="Personalausweis",
        name_en="Identity card",
        what_to_bring_de="Altes Dokument\nBiometrisches Foto",
        what_to_bring_en="Old document\nBiometric photo",
    )
    offer(
        office,
        "anmeldung",
        10,
        category=registration,
        name_de="Anmeldung einer Wohnung",
        name_en="Registering an address",
        what_to_bring_de="Wohnungsgeberbestätigung",
        what_to_bring_en="Landlord's confirmation",
    )
    return office


def page(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def hold_via_web(
    client: Client, services: str = "personalausweis:2,anmeldung", start: str = "2026-11-23T08:00"
) -> Hold:
    response = client.post("/book/at/mitte/hold/", {"services": services, "start": start})
    assert response.status_code == 302, page(response)
    return Hold.objects.get(token=response["Location"].rstrip("/").split("/")[-1])


def booked_directly(office: Office, time: str, services: str = "personalausweis", email: str = "erika@example.org"):  # type: ignore[no-untyped-def]
    """An appointment booked without the web pages (someone else, earlier)."""
    return appointment_book(
        office=office,
        start=at(MONDAY, time),
        needs=needs_from_param(services),
        contact=Contact(name="Erika Mustermann", email=email),
        now=NOW,
    )


CONTACT = {"name": "Erika Mustermann", "email": "erika@example.org", "phone": "", "language": "de"}


def test_the_whole_way_from_needs_to_the_confirmation(client: Client, office: Office) -> None:
    response = client.get("/book/")
    assert "Was brauchen Sie?" in page(response)
    assert "Personalausweis" in page(response) and "Anmeldung einer Wohnung" in page(response)

    response = client.get("/book/", {"persons-personalausweis": "2", "persons-anmeldung": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/book/where/?services=personalausweis%3A2%2Canmeldung%3A1"

    response = client.get(response["Location"])
    text = page(response)
    assert "Frühester Termin überhaupt" in text
    assert "Bürgerbüro Mitte" in text and "Montag, 23. November 2026, 08:00" in text
    assert "Termin von 40 Minuten" in text  # 15 × 2 + 10

    response = client.get("/book/at/mitte/", {"services": "personalausweis:2,anmeldung", "date": "2026-11-23"})
    text = page(response)
    assert "Freie Zeiten am Montag, 23. November 2026" in text
    assert 'value="2026-11-23T08:00"' in text and 'value="2026-11-23T11:20"' in text
    assert 'value="2026-11-23T11:25"' not in text  # would run into the lunch break
    assert "Vormittag" in text and "Nachmittag" in text

    hold = hold_via_web(client)
    assert hold.end - hold.start == datetime.timedelta(minutes=40)
    assert Slot.objects.get(office=office, start=at(MONDAY, "08:35")).booked_online == 1

    response = client.get(f"/book/hold/{hold.token}/")
    text = page(response)
    assert "Wir halten diese Zeit für Sie bis 09:10 frei." in text
    assert "Ich brauche mehr Zeit" in text
    assert 'name="reminders_consent"' in text and 'name="reminders_consent" checked' not in text

    response = client.post(f"/book/hold/{hold.token}/", CONTACT | {"email": "erika@", "interpreter": "on"})
    text = page(response)
    assert response.status_code == 200
    assert "Bitte gültige E-Mail-Adresse eingeben." in text
    assert "Bitte nennen Sie uns die Sprache." in text

    response = client.post(
        f"/book/hold/{hold.token}/",
        CONTACT | {"reminders_consent": "on", "interpreter": "on", "interpreter_language": "Arabisch"},
    )
    assert response.status_code == 302 and response["Location"] == f"/book/hold/{hold.token}/check/"

    text = page(client.get(response["Location"]))
    assert "Prüfen Sie Ihre Angaben" in text
    assert "Erika Mustermann" in text and "erika@example.org" in text and "Dolmetschung für Arabisch" in text
    assert text.count(">Ändern<") == 4

    response = client.post(f"/book/hold/{hold.token}/check/")
    appointment = Appointment.objects.get()
    assert response["Location"] == f"/appointment/{appointment.manage_token}/"
    assert not Hold.objects.exists()
    assert appointment.reminders_consent and appointment.interpreter_language == "Arabisch"
    assert [(line.service.slug, line.persons, line.minutes) for line in appointment.lines.all()] == [
        ("personalausweis", 2, 30),
        ("anmeldung", 1, 10),
    ]

    text = page(client.get(response["Location"]))
    assert "Ihr Termin ist gebucht" in text
    assert "Eine Bestätigung mit der Kalenderdatei ist unterwegs an erika@example.org." in text
    assert "Wir erinnern Sie vor dem Termin." in text
    assert appointment_messages(appointment).filter(kind=MessageKind.CONFIRMATION).exists()
    assert appointment.booking_code[:4] in text and appointment.booking_code[4:] in text
    assert "Biometrisches Foto" in text and "Wohnungsgeberbestätigung" in text
    assert f"/appointment/{appointment.manage_token}/calendar.ics" in text
    assert f"http://testserver/appointment/{appointment.manage_token}/" in text
    # The banner is for the first view only.
    assert "Ihr Termin ist gebucht" not in page(client.get(response["Location"]))


def test_the_calendar_file_holds_the_appointment(client: Client, office: Office) -> None:
    appointment = booked_directly(office, "10:00", "personalausweis", email="erika@example.org")
    response = client.get(f"/appointment/{appointment.manage_token}/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == at(MONDAY, "10:00")
    assert event.decoded("dtend") == at(MONDAY, "10:15")
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Berlin"
    assert appointment.booking_code in str(event["description"])


def test_the_needs_summary_shows_time_and_what_to_bring_as_the_choice_changes(client: Client, office: Office) -> None:
    response = client.get("/book/", {"persons-personalausweis": "3", "preview": "1"}, HTTP_HX_REQUEST="true")
    text = page(response)
    assert "etwa 45 Minuten" in text and "Biometrisches Foto" in text
    text = page(client.get("/book/"))  # the live summary adds up what the page carries (static/js/needs.js)
    assert "/static/js/needs.js" in text and '"minutes": 15' in text


def test_choosing_nothing_or_nonsense_gets_a_message_and_no_error(client: Client, office: Office) -> None:
    text = page(client.get("/book/", {"persons-personalausweis": "0"}))
    assert "Wählen Sie mindestens eine Dienstleistung." in text
    text = page(client.get("/book/", {"persons-personalausweis": "99"}))
    assert "99 ist keine gültige Auswahl." in text
    response = client.get("/book/where/", {"services": "raumschiff"}, follow=True)
    assert "Die Dienstleistung „raumschiff“ gibt es nicht." in page(response)
    response = client.get("/book/where/", {"services": "personalausweis:9"}, follow=True)
    assert "höchstens 4 Personen" in page(response)
    response = client.get("/book/at/mitte/", {"services": "personalausweis", "date": "morgen"})
    assert response.status_code == 200 and "„morgen“ ist kein Datum." in page(response)
    response = client.get("/book/at/mitte/", {"services": "personalausweis", "month": "2026-13"})
    assert response.status_code == 200
    assert client.get("/book/at/nirgendwo/", {"services": "personalausweis"}).status_code == 404


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2026-11-23T08:03", "ist keine dieser Zeiten"),
        ("2026-11-09T08:00", "Diese Zeit ist schon vorbei."),
        ("23.11.2026 08:00", "Bitte wählen Sie eine der angebotenen Zeiten."),
        ("2026-11-23T07:00", "Zu dieser Zeit werden keine Termine angeboten."),
    ],
)
def test_a_start_that_was_not_offered_is_refused_with_a_message(client: Client, office: Office, start, message) -> None:
    response = client.post("/book/at/mitte/hold/", {"services": "personalausweis", "start": start})
    assert response.status_code in (409, 422)
    assert message in page(response)
    assert not Hold.objects.exists()
    assert not Slot.objects.filter(booked_online__gt=0).exists()


def test_losing_the_race_for_a_time_shows_the_nearest_free_times(client: Client, office: Office) -> None:
    booked_directly(office, "09:00", "personalausweis", email="fast@example.org")
    response = client.post("/book/at/mitte/hold/", {"services": "personalausweis", "start": "2026-11-23T09:00"})
    text = page(response)
    assert response.status_code == 409
    assert "Leider wurde diese Zeit gerade von jemand anderem gebucht." in text
    assert "Die nächsten freien Zeiten" in text
    assert 'value="2026-11-23T08:45"' in text and 'value="2026-11-23T09:15"' in text


def test_choosing_another_time_gives_back_the_first(client: Client, office: Office) -> None:
    first = hold_via_web(client, "personalausweis", "2026-11-23T08:00")
    second = hold_via_web(client, "personalausweis", "2026-11-23T10:00")
    assert list(Hold.objects.values_list("token", flat=True)) == [second.token]
    assert Slot.objects.get(office=office, start=at(MONDAY, "08:00")).booked_online == 0
    assert client.get(f"/book/hold/{first.token}/").status_code == 410


def test_an_expired_hold_says_so_and_its_time_is_offered_again(client: Client, office: Office, frozen) -> None:
    hold = hold_via_web(client, "personalausweis", "2026-11-23T08:00")
    times = {"services": "personalausweis", "date": "2026-11-23"}
    assert 'value="2026-11-23T08:00"' not in page(client.get("/book/at/mitte/", times))
    frozen.shift(datetime.timedelta(minutes=10, seconds=1))
    response = client.get(f"/book/hold/{hold.token}/")
    assert response.status_code == 410 and "nicht mehr verfügbar" in page(response)
    assert 'value="2026-11-23T08:00"' in page(client.get("/book/at/mitte/", times))
    assert not Hold.objects.exists()


def test_the_hold_can_be_extended_from_the_page(client: Client, office: Office, frozen) -> None:
    hold = hold_via_web(client, "personalausweis", "2026-11-23T08:00")
    frozen.shift(datetime.timedelta(minutes=8))
    response = client.post(f"/book/hold/{hold.token}/extend/", {"next": "details"})
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.expires_at == NOW + datetime.timedelta(minutes=18)
    frozen.shift(datetime.timedelta(minutes=5))
    response = client.post(f"/book/hold/{hold.token}/extend/", {"next": "check"}, HTTP_HX_REQUEST="true")
    assert "bis 09:23 frei" in page(response) and "<html" not in page(response)


def test_a_tampered_hold_link_changes_nothing(client: Client, office: Office) -> None:
    hold = hold_via_web(client, "personalausweis", "2026-11-23T08:00")
    for method in (client.get, client.post):
        response = method(f"/book/hold/{hold.token}x/check/")
        assert response.status_code == 410
    assert client.post(f"/book/hold/{hold.token[:-1]}/", CONTACT).status_code == 410
    assert Appointment.objects.count() == 0 and Hold.objects.count() == 1


def test_the_per_address_limit_is_explained_on_the_check_page(client: Client, office: Office) -> None:
    for time in ["10:00", "11:00"]:
        booked_directly(office, time, "anmeldung")
    hold = hold_via_web(client, "personalausweis", "2026-11-23T08:00")
    client.post(f"/book/hold/{hold.token}/", CONTACT)
    response = client.post(f"/book/hold/{hold.token}/check/")
    assert response.status_code == 422
    assert "bereits 2 kommende Termine" in page(response)
    assert Appointment.objects.count() == 2 and Hold.objects.count() == 1


def test_confirming_after_the_hold_ran_out_books_if_the_time_is_still_free(
    client: Client, office: Office, frozen
) -> None:
    hold = hold_via_web(client, "personalausweis", "2026-11-23T08:00")
    client.post(f"/book/hold/{hold.token}/", CONTACT)
    frozen.shift(datetime.timedelta(minutes=11))
    response = client.post(f"/book/hold/{hold.token}/check/")
    assert response.status_code == 410  # the page says the reserved time is gone; nothing booked
    assert Appointment.objects.count() == 0


def test_cancelling_through_the_manage_link(client: Client, office: Office) -> None:
    appointment = booked_directly(office, "10:00", "personalausweis", email="erika@example.org")
    url = f"/appointment/{appointment.manage_token}/"
    assert "Termin absagen?" in page(client.get(url + "cancel/"))
    response = client.post(url + "cancel/", follow=True)
    assert "Ihr Termin ist abgesagt." in page(response)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert Slot.objects.get(office=office, start=at(MONDAY, "10:00")).booked_online == 0
    assert "Termin absagen" not in page(client.get(url)).replace("Termin absagen?", "")
    response = client.post(url + "cancel/", follow=True)
    assert "bereits abgesagt" in page(response)
    assert client.get("/appointment/not-a-token/").status_code == 404


def test_moving_through_the_manage_link(client: Client, office: Office) -> None:
    appointment = booked_directly(office, "10:00", "personalausweis", email="erika@example.org")
    url = f"/appointment/{appointment.manage_token}/move/"
    text = page(client.get(url, {"date": "2026-11-24"}))
    assert "Ihr Termin jetzt: Montag, 23. November 2026, 10:00." in text
    assert 'value="2026-11-24T08:00"' in text
    response = client.post(url, {"start": "2026-11-24T08:00"}, follow=True)
    assert "Ihr Termin wurde verschoben." in page(response)
    appointment.refresh_from_db()
    assert appointment.start == at(MONDAY + datetime.timedelta(days=1), "08:00") and appointment.sequence == 1
    assert Slot.objects.get(office=office, start=at(MONDAY, "10:00")).booked_online == 0


def test_english_pages_speak_english(client: Client, office: Office) -> None:
    assert "What do you need?" in page(client.get("/en/book/"))
    text = page(client.get("/en/book/at/mitte/", {"services": "personalausweis", "date": "2026-11-23"}))
    assert "Free times on Monday, 23 November 2026" in text
    assert "Identity card" in text
    response = client.post("/en/book/at/mitte/hold/", {"services": "personalausweis", "start": "2026-11-23T08:03"})
    assert "is not one of those times" in page(response)


def test_every_citizen_page_leads_to_booking(client: Client, office: Office) -> None:
    assert 'href="/book/"' in page(client.get("/"))
    assert 'href="/book/?services=personalausweis%3A1"' in page(client.get("/services/personalausweis/"))
    assert 'href="/book/at/mitte/?services=personalausweis%3A1"' in page(client.get("/offices/mitte/"))
    response = client.get("/book/", {"services": "personalausweis:1"})
    assert '<option value="1" selected>1 Person</option>' in page(response)


def queries_for(client: Client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_the_office_choice_reads_in_the_same_number_of_queries_for_one_office_or_many(
    client: Client, office: Office
) -> None:
    params = {"services": "personalausweis,anmeldung"}
    one = queries_for(client, "/book/where/", params)
    for n in range(4):
        other = bookable_office(first=MONDAY, last=MONDAY, slug=f"other-{n}")
        offer(other, "personalausweis", 15)
        offer(other, "anmeldung", 10)
    many = queries_for(client, "/book/where/", params)  # computed afresh: the offices changed
    assert many == one <= 8
    assert queries_for(client, "/book/where/", params) <= 2  # reused: nothing changed
    assert page(client.get("/book/where/", params)).count("Frühestens:") == 5


def test_the_month_and_its_times_are_read_in_a_few_queries(client: Client, office: Office) -> None:
    params = {"services": "personalausweis:2", "date": "2026-11-23"}
    assert queries_for(client, "/book/at/mitte/", params) <= 9  # computed
    assert queries_for(client, "/book/at/mitte/", params) <= 6  # the free times reused
