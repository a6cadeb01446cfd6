"""The day on paper and in a spreadsheet: the printable day list and the CSV export."""

import csv
import io

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import Appointment
from desk.services import appointment_note, desk_cancel, visit_call, visit_check_in
from tests.support.desk_steps import EARLY, TODAY, at

DAY = TODAY.isoformat()


def _print(client: Client, slug: str = "mitte", **params: str) -> object:
    return client.get(reverse("desk:print", args=[slug]), {"date": DAY, **params})


def _csv(client: Client, slug: str = "mitte", **params: str) -> object:
    return client.get(reverse("desk:csv", args=[slug]), {"date": DAY, **params})


def _rows(response: object) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def test_the_print_page_lists_the_day_in_time_order_with_the_print_stylesheet(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    late = world.book("11:00", name="Zora Spät")
    early = world.book("08:30", name="Anton Früh", service="anmeldung", persons=2)
    world.book("09:00", office=world.office_b, name="Nora Nord")
    client.force_login(world.clerk_a)
    with time_machine.travel(at("08:00"), tick=False):
        response = _print(client)
    assert response.status_code == 200
    html = response.content.decode()
    assert "css/print.css" in html
    assert html.index(early.booking_code) < html.index(late.booking_code)
    assert "Anton Früh" in html and "Zora Spät" in html
    assert "Nora Nord" not in html
    assert "× 2" in html
    assert "08:30" in html and "08:50" in html  # anmeldung 10 min × 2


def test_the_print_page_shows_needs_notes_and_statuses(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30", name="Ida Dolmetsch", interpreter_language="Arabisch", step_free_access=True)
    cancelled = world.book("10:00", name="Carl Storno")
    with time_machine.travel(at("08:20"), tick=False):
        appointment_note(appointment=appointment, by=world.clerk_a, note="Unterlagen unvollständig", now=at("08:20"))
        visit_check_in(appointment=appointment, by=world.clerk_a, now=at("08:20"))
        desk_cancel(appointment=cancelled, by=world.clerk_a, reason="Drucker defekt", now=at("08:20"))
    client.force_login(world.clerk_a)
    with time_machine.travel(at("08:25"), tick=False):
        response = client.get(f"/en{reverse('desk:print', args=['mitte'])}", {"date": DAY})
    html = response.content.decode()
    assert "Arabisch" in html
    assert "Step-free access" in html
    assert "Unterlagen unvollständig" in html
    assert "Arrived" in html
    assert "Carl Storno" in html and "Cancelled" in html


def test_the_csv_of_the_day_is_for_german_excel(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    world.book("11:00", name="Zora Spät", phone="+49 170 1234567", email="zora@example.org")
    first = world.book("08:30", name="Anton Früh", service="anmeldung", persons=2, step_free_access=True)
    second = world.book("08:30", name="Berta Telefon", channel=Appointment.Channel.PHONE)
    client.force_login(world.clerk_a)
    with time_machine.travel(at("08:00"), tick=False):
        response = client.get(f"/en{reverse('desk:csv', args=['mitte'])}", {"date": DAY})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="appointments-mitte-2026-11-23.csv"'
    rows = _rows(response)
    assert rows[0][:5] == ["Date", "Start", "End", "Booking code", "Name"]
    assert [row[4] for row in rows[1:]] == ["Anton Früh", "Berta Telefon", "Zora Spät"]
    assert rows[1][:4] == ["2026-11-23", "08:30", "08:50", first.booking_code]
    assert rows[2][3] == second.booking_code
    assert rows[1][7] == "Registration × 2"
    assert rows[1][9] == "yes" and rows[2][9] == "no"
    assert rows[1][11] == "Booked"
    assert rows[3][5] == "'+49 170 1234567"  # a leading + would be read as a formula
    assert rows[3][6] == "zora@example.org"
    assert all(len(row) == len(rows[0]) for row in rows)


def test_the_german_csv_is_named_after_the_office_and_day(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.clerk_a)
    response = _csv(client)
    filename = response["Content-Disposition"].removeprefix('attachment; filename="').removesuffix('"')
    assert filename.endswith("-mitte-2026-11-23.csv")
    assert _rows(response)[0][0]  # the header row, even for an empty day
    assert len(_rows(response)) == 1


def test_the_csv_joins_several_services_of_one_appointment(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    from booking.needs import Need
    from booking.services.appointments import Contact, appointment_book

    appointment = appointment_book(
        office=world.office_a,
        start=at("09:00"),
        needs=[Need(world.service("personalausweis"), 2), Need(world.service("anmeldung"), 1)],
        contact=Contact(name="Familie Beispiel"),
        now=EARLY,
    )
    client.force_login(world.clerk_a)
    with time_machine.travel(at("08:00"), tick=False):
        rows = _rows(client.get(f"/en{reverse('desk:csv', args=['mitte'])}", {"date": DAY}))
    assert rows[1][3] == appointment.booking_code
    assert rows[1][7] == "Identity card × 2; Registration × 1"


def test_a_hostile_name_comes_out_of_the_csv_as_text_not_a_formula(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    world.book("08:30", name='=HYPERLINK("http://evil.example","Klick")')
    world.book("09:00", name="@SUM(A1:A9)")
    world.book("09:30", name="-2+3")
    appointment = world.book("10:00", name="Normal Name")
    with time_machine.travel(at("08:00"), tick=False):
        appointment_note(appointment=appointment, by=world.clerk_a, note="+1 Begleitperson", now=at("08:00"))
    client.force_login(world.clerk_a)
    rows = _rows(_csv(client))
    names = [row[4] for row in rows[1:]]
    assert names == ['\'=HYPERLINK("http://evil.example","Klick")', "'@SUM(A1:A9)", "'-2+3", "Normal Name"]
    assert rows[4][10] == "'+1 Begleitperson"


def test_the_csv_keeps_cancelled_appointments_and_the_visit_times(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    cancelled = world.book("10:00", name="Carl Storno")
    called = world.book("08:30", name="Anton Früh")
    with time_machine.travel(at("08:20"), tick=False):
        desk_cancel(appointment=cancelled, by=world.clerk_a, reason="Drucker defekt", now=at("08:20"))
        visit_check_in(appointment=called, by=world.clerk_a, now=at("08:20"))
        visit_call(appointment=called, by=world.clerk_a, counter=3, now=at("08:31"))
    client.force_login(world.clerk_a)
    with time_machine.travel(at("08:40"), tick=False):
        rows = _rows(client.get(f"/en{reverse('desk:csv', args=['mitte'])}", {"date": DAY}))
    header = rows[0]
    anton, carl = (dict(zip(header, row, strict=True)) for row in rows[1:])
    assert anton["Status"] == "Called"
    assert anton["Counter"] == "3"
    assert anton["Arrived at"] == "08:20" and anton["Called at"] == "08:31"
    assert carl["Name"] == "Carl Storno" and carl["Status"] == "Cancelled"


def _csv_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = _csv(client)
    assert response.status_code == 200
    return len(queries)


def test_the_csv_needs_the_same_number_of_queries_for_2_and_8_appointments(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.clerk_a)
    for hhmm in ("08:00", "08:30"):
        world.book(hhmm, name=f"Person {hhmm}")
    two = _csv_queries(client)
    assert len(_rows(_csv(client))) == 3
    for hhmm in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30"):
        world.book(hhmm, name=f"Person {hhmm}", service="anmeldung", persons=2)
    eight = _csv_queries(client)
    assert len(_rows(_csv(client))) == 9
    assert two == eight


def test_a_clerk_of_another_office_gets_404_for_the_print_page_and_the_csv(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    world.book("08:30", name="Anton Früh")
    client.force_login(world.clerk_b)
    assert _print(client).status_code == 404
    assert _csv(client).status_code == 404
    assert _print(client, slug="nord").status_code == 200
    assert _print(client, slug="no-such-office").status_code == 404


def test_anonymous_visitors_are_sent_to_the_staff_sign_in(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    for response in (_print(client), _csv(client)):
        assert response.status_code == 302
        assert reverse("desk:staff-login") in response["Location"]


def test_a_bad_date_shows_today_and_never_a_server_error(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    today = world.book("08:30", name="Anton Früh")
    client.force_login(world.clerk_a)
    with time_machine.travel(at("08:00"), tick=False):
        for value in ("2026-13-45", "gestern", "<script>", "9999999-01-01", "0000-00-00", "2026-11-23T08:00"):
            page = _print(client, date=value)
            assert page.status_code == 200
            assert today.booking_code in page.content.decode()
            assert "&lt;script&gt;" in page.content.decode() or value != "<script>"
            export = _csv(client, date=value)
            assert export.status_code == 200
            assert _rows(export)[1][3] == today.booking_code
        assert _print(client, date="").status_code == 200
        assert _print(client, date="9999-12-31").status_code == 200
        assert _print(client, date="0001-01-01").status_code == 200
        assert _csv(client, date="9999-12-31").status_code == 200
