"""A cancelled appointment's pages read as cancelled (issue 19, point 1, in part): no "what to bring", no
directions, a link to book again; its cancel page says it is cancelled instead of asking again."""

import pytest
import time_machine
from django.test import Client

from booking.services.appointments import appointment_cancel
from tests.support.messages import MONDAY, NOW, at, book, leipzig_office

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_a_booked_appointment_s_page_tells_what_to_bring_and_the_way(client: Client) -> None:
    appointment = book(leipzig_office(), at(MONDAY, "09:00"))
    page = client.get(f"/appointment/{appointment.manage_token}/").content.decode()
    assert "Bitte mitbringen" in page and "Straßenbahn 4 bis Markt" in page and 'id="cancelled-note"' not in page


def test_a_cancelled_appointment_s_page_reads_as_cancelled_with_a_way_to_book_again(client: Client) -> None:
    appointment = appointment_cancel(appointment=book(leipzig_office(), at(MONDAY, "09:00")), now=NOW)
    page = client.get(f"/appointment/{appointment.manage_token}/").content.decode()
    assert "Dieser Termin ist abgesagt." in page and 'href="/book/"' in page
    assert "Bitte mitbringen" not in page and "Straßenbahn 4 bis Markt" not in page
    assert "Biometrisches Passfoto" not in page


def test_the_cancel_page_of_a_cancelled_appointment_says_so_and_asks_nothing(client: Client) -> None:
    appointment = appointment_cancel(appointment=book(leipzig_office(), at(MONDAY, "09:00")), now=NOW)
    page = client.get(f"/appointment/{appointment.manage_token}/cancel/").content.decode()
    assert "<h1>Dieser Termin ist abgesagt.</h1>" in page
    assert "Ja, absagen" not in page and 'href="/book/"' in page
