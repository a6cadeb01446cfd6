"""HEAD is answered as GET is, without the body (issue 19, point 7): monitors and link checkers use it, and a
view written for GET and POST must neither refuse it nor take it for a POST."""

import pytest
from django.test import Client
from django.utils import timezone

from booking.models import Appointment
from booking.needs import needs_from_param
from booking.services.appointments import hold_place
from tests.support.factories import next_weekday_at_nine, office_from_today

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/en/",
        "/book/",
        "/en/book/?services=personalausweis",
        "/book/where/?services=personalausweis",
        "/book/at/mitte/?services=personalausweis",
        "/waitlist/?services=personalausweis",
        "/api/v1/offices",
        "/api/v1/services",
        "/healthz",
    ],
)
def test_head_gives_the_get_s_status_and_headers_without_a_body(client: Client, path: str) -> None:
    office_from_today()
    get = client.get(path)
    head = client.head(path)
    assert get.status_code == 200, path
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Type"] == get["Content-Type"]
    assert int(head["Content-Length"]) == len(get.content) > 0


def test_head_on_a_page_that_books_on_post_books_nothing(client: Client) -> None:
    import datetime

    office = office_from_today()
    start = datetime.datetime.fromisoformat(next_weekday_at_nine())
    hold = hold_place(office=office, start=start, needs=needs_from_param("personalausweis"), now=timezone.now())
    session = client.session
    session["booking-hold"] = hold.token
    session[f"booking-contact-{hold.token}"] = {
        "name": "Erika",
        "email": "erika@example.org",
        "phone": "",
        "language": "de",
        "reminders_consent": False,
        "interpreter_language": "",
        "step_free_access": False,
    }
    session.save()
    response = client.head(f"/book/hold/{hold.token}/check/")
    assert response.status_code == 200 and response.content == b""  # the check page, as a GET shows it
    assert not Appointment.objects.exists()


def test_head_on_a_post_only_address_is_refused_as_get_is(client: Client) -> None:
    office_from_today()
    assert (
        client.head("/waitlist/some-token/withdraw/").status_code
        == client.get("/waitlist/some-token/withdraw/").status_code
    )


def test_the_site_has_an_icon_of_its_own(client: Client) -> None:
    office_from_today()
    page = client.get("/book/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/img/favicon.svg"
    icon = client.get("/static/img/favicon.svg")
    assert icon.status_code == 200 and b"<svg" in b"".join(icon.streaming_content)
