"""The kiosk in the office (tickets.views.kiosk): choose the matter, get a numbered ticket with its QR code and link."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tests.support.factories import offer
from tests.support.queue_steps import TODAY, at, queue_world
from tickets.models import Kiosk, Ticket
from tickets.qr import qr_svg

pytestmark = pytest.mark.django_db

# The kiosk, its matters, the five reads of queue_state (today's slots give the walk-in capacity left too) and the
# day's opening (four).
QUERIES = 11


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


def kiosk_url(kiosk: Kiosk, language: str = "de") -> str:
    with translation.override(language):
        return reverse("tickets:kiosk", args=[kiosk.key])


def draw(client: Client, qw, slug: str, hhmm: str, language: str = "de"):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(hhmm), tick=False):
        return client.post(kiosk_url(qw.kiosk, language), {"service": qw.service(slug).pk})


def buttons(html: str) -> list[str]:
    """The values of the matter buttons on the page, in order."""
    return re.findall(r'name="service" value="(\d+)"', html)


def test_drawing_a_ticket_gives_w001_and_its_page_with_the_number_the_qr_code_and_the_link(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        page = client.get(kiosk_url(qw.kiosk))
    assert page.status_code == 200
    assert str(qw.service("personalausweis").pk) in buttons(page.content.decode())

    response = draw(client, qw, "personalausweis", "09:00")

    ticket = Ticket.objects.get()
    assert (ticket.label, ticket.kiosk, ticket.language, ticket.status) == ("W001", qw.kiosk, "de", "waiting")
    drawn_url = reverse("tickets:kiosk-ticket", args=[qw.kiosk.key, ticket.token])
    assert response.status_code == 302 and response["Location"] == drawn_url
    with time_machine.travel(at("09:00"), tick=False):
        page = client.get(drawn_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'class="kiosk-number">W001<', html)
    # The QR code is the absolute address of the phone page, drawn locally as inline SVG with a text alternative.
    assert str(qr_svg(f"http://testserver/w/{ticket.token}/")) in html
    assert 'class="kiosk-qr" role="img" aria-label=' in html
    token = ticket.token
    assert f"testserver/w/{token[:4]}-{token[4:8]}-{token[8:]}/" in html
    assert "data-print" in html and "js/print.js" in html and "css/print-ticket.css" in html
    assert f'<noscript><meta http-equiv="refresh" content="60;url={kiosk_url(qw.kiosk)}"></noscript>' in html
    assert f'<meta name="kiosk-idle" content="60" data-url="{kiosk_url(qw.kiosk)}">' in html
    assert f'href="{kiosk_url(qw.kiosk)}"' in html


def test_the_drawn_ticket_says_how_many_are_ahead_and_when_it_is_expected_to_be_called(client, qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("09:00")
    qw.draw("09:00")
    draw(client, qw, "personalausweis", "09:00", language="en")
    ticket = Ticket.objects.get(number=3)
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get(reverse("tickets:kiosk-ticket", args=[qw.kiosk.key, ticket.token])).content.decode()
    # Two walk-ins of 15 minutes (¾ to 1½ of it) ahead take the two planned counters; the first free calls: after
    # 11.25–22.5 minutes, shown on whole five minutes.
    assert "2 people are ahead of you." in html
    assert "Expected call between 09:10 and 09:25." in html
    assert "Identity card" in html


def test_with_a_counter_free_the_drawn_ticket_is_called_shortly(client, qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("09:00")
    draw(client, qw, "personalausweis", "09:00", language="en")
    ticket = Ticket.objects.get(number=2)
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get(reverse("tickets:kiosk-ticket", args=[qw.kiosk.key, ticket.token])).content.decode()
    assert "1 person is ahead of you." in html
    assert "You will be called shortly." in html


def test_the_kiosk_in_english_draws_a_ticket_whose_qr_code_opens_the_english_phone_page(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        page = client.get(kiosk_url(qw.kiosk, "en"))
    html = page.content.decode()
    assert kiosk_url(qw.kiosk, "en").startswith("/en/")
    assert '<html lang="en" dir="ltr">' in html and "Draw a ticket" in html and "Identity card" in html
    # The language switch: both languages, big, the current one marked.
    assert re.search(rf'href="{kiosk_url(qw.kiosk)}" lang="de" hreflang="de"', html)
    assert re.search(r'lang="en" hreflang="en" aria-current="true"', html)
    # Left alone, the screen returns to the German start for the next person (and shows a current state).
    assert f'<noscript><meta http-equiv="refresh" content="120;url={kiosk_url(qw.kiosk)}"></noscript>' in html
    assert f'<meta name="kiosk-idle" content="120" data-url="{kiosk_url(qw.kiosk)}">' in html

    response = draw(client, qw, "personalausweis", "09:00", language="en")

    ticket = Ticket.objects.get()
    assert ticket.language == "en"
    assert response["Location"] == f"/en/kiosk/{qw.kiosk.key}/ticket/{ticket.token}/"
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get(response["Location"]).content.decode()
    assert str(qr_svg(f"http://testserver/en/w/{ticket.token}/")) in html
    assert "Your number" in html and "Print the ticket" in html
    # The screen goes back to the German start for the next person; "Done" stays in English.
    assert f'content="60;url={kiosk_url(qw.kiosk)}"' in html
    assert f'href="{kiosk_url(qw.kiosk, "en")}"' in html


def test_a_pickup_draws_an_a_ticket_and_pickups_come_first_on_the_screen(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get(kiosk_url(qw.kiosk, "en")).content.decode()
    assert html.index("Pickup of a finished document") < html.index("Pickup of an identity card")
    assert html.index("Pickup of an identity card") < html.index("Identity card")
    assert buttons(html)[0] == str(qw.pickup().pk)

    response = draw(client, qw, "abholung-ausweis", "09:00")

    ticket = Ticket.objects.get()
    assert (ticket.label, ticket.queue, ticket.service) == ("A001", "A", qw.pickup())
    assert response["Location"].endswith(f"/ticket/{ticket.token}/")


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_or_inactive_kiosk_is_not_found(client, qw, method: str) -> None:  # type: ignore[no-untyped-def]
    data = {"service": qw.service().pk} if method == "post" else {}
    with time_machine.travel(at("09:00"), tick=False):
        for key in ("no-such-key", "nul%00", "%C3%A4"):
            assert getattr(client, method)(f"/kiosk/{key}/", data).status_code == 404
        qw.kiosk.active = False
        qw.kiosk.save()
        assert getattr(client, method)(kiosk_url(qw.kiosk), data).status_code == 404
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("value", ["other-office", "garbage", "", "999999", "1 OR 1=1"])
def test_a_matter_the_office_does_not_offer_gets_a_message_and_no_ticket(client, qw, value: str) -> None:  # type: ignore[no-untyped-def]
    if value == "other-office":
        value = str(offer(qw.office_b, "fuehrerschein", 20, name_en="Driving licence").service_id)
    with time_machine.travel(at("09:00"), tick=False):
        response = client.post(kiosk_url(qw.kiosk, "en"), {"service": value})
    assert response.status_code == 400
    assert re.search(r'role="alert">This matter is not offered here', response.content.decode())
    assert not Ticket.objects.exists()


def test_no_walk_in_tickets_in_the_half_hour_before_closing_but_pickups_go_on(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("15:35"), tick=False):
        html = client.get(kiosk_url(qw.kiosk, "en")).content.decode()
    assert "No more walk-in tickets today" in html
    assert buttons(html) == [str(qw.pickup().pk)]

    response = draw(client, qw, "personalausweis", "15:35", language="en")

    assert response.status_code == 409
    assert re.search(r'role="alert">No more walk-in tickets today<', response.content.decode())
    assert not Ticket.objects.exists()
    assert draw(client, qw, "abholung-ausweis", "15:35").status_code == 302
    assert Ticket.objects.get().label == "A001"


def test_no_walk_in_tickets_when_the_walk_in_capacity_left_today_is_taken(client, qw) -> None:  # type: ignore[no-untyped-def]
    # From 11:00, one walk-in counter until 12:00 is 60 minutes: four identity cards of 15 minutes fill it.
    for _n in range(4):
        qw.draw("11:00")
    with time_machine.travel(at("11:00"), tick=False):
        html = client.get(kiosk_url(qw.kiosk, "en")).content.decode()
    assert "No more walk-in tickets today" in html
    assert str(qw.service("personalausweis").pk) not in buttons(html)

    assert draw(client, qw, "anmeldung", "11:00").status_code == 409
    assert Ticket.objects.count() == 4


@pytest.mark.parametrize("moment", [at("17:00"), at("10:00", TODAY - datetime.timedelta(days=1))])
def test_a_closed_office_offers_nothing(client, qw, moment: datetime.datetime) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(moment, tick=False):
        html = client.get(kiosk_url(qw.kiosk, "en")).content.decode()
        assert "The office is closed now." in html
        assert buttons(html) == []
        response = client.post(kiosk_url(qw.kiosk, "en"), {"service": qw.pickup().pk})
    assert response.status_code == 409
    assert 'role="alert"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_lunch_break_counts_as_open(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("12:30"), tick=False):
        html = client.get(kiosk_url(qw.kiosk, "en")).content.decode()
    assert "The office is closed now." not in html
    assert str(qw.pickup().pk) in buttons(html)


def test_the_drawn_page_shows_only_tickets_of_this_kiosk_and_of_today(client, qw) -> None:  # type: ignore[no-untyped-def]
    other = Kiosk.objects.create(office=qw.office_a, name="Obergeschoss")
    with time_machine.travel(at("09:00"), tick=False):
        client.post(kiosk_url(other), {"service": qw.service().pk})
    ticket = Ticket.objects.get()
    assert ticket.kiosk == other
    with time_machine.travel(at("09:01"), tick=False):
        assert client.get(reverse("tickets:kiosk-ticket", args=[qw.kiosk.key, ticket.token])).status_code == 404
        assert client.get(reverse("tickets:kiosk-ticket", args=[other.key, ticket.token])).status_code == 200
        assert client.get(reverse("tickets:kiosk-ticket", args=[other.key, "NOSUCHTOKEN1"])).status_code == 404
    with time_machine.travel(at("09:01", TODAY + datetime.timedelta(days=1)), tick=False):
        assert client.get(reverse("tickets:kiosk-ticket", args=[other.key, ticket.token])).status_code == 404


def test_the_kiosk_page_needs_no_javascript_and_every_button_posts_with_csrf(qw) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get(kiosk_url(qw.kiosk)).content.decode()
        # One script only, the guard against a double tap; no inline script (CSP).
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/js/kiosk.js" defer>']
        assert html.count('name="csrfmiddlewaretoken"') == html.count("<form") == 2
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        assert client.post(kiosk_url(qw.kiosk), {"service": qw.service().pk}).status_code == 403
        response = client.post(kiosk_url(qw.kiosk), {"service": qw.service().pk, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_the_kiosk_page_needs_the_same_few_queries_however_long_the_queue(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False), CaptureQueriesContext(connection) as empty:
        client.get(kiosk_url(qw.kiosk))
    for _n in range(6):
        qw.draw("09:00")
        qw.draw("09:00", queue=Ticket.Queue.PICKUP, service="abholung-ausweis")
    with time_machine.travel(at("09:00"), tick=False), CaptureQueriesContext(connection) as busy:
        assert "Draw a ticket" in client.get(kiosk_url(qw.kiosk, "en")).content.decode()
    assert len(empty) == len(busy) == QUERIES


@pytest.mark.parametrize("code", ["tr", "ar", "uk", "ru"])
def test_the_kiosk_in_each_citizen_language_draws_a_ticket_whose_phone_page_speaks_it(  # type: ignore[no-untyped-def]
    client, qw, code: str
) -> None:
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get(kiosk_url(qw.kiosk, code)).content.decode()
    with translation.override(code):
        title, number = translation.gettext("Draw a ticket"), translation.gettext("Your number")
        yours = translation.gettext("Your ticket")
    assert title != "Draw a ticket" and title in html
    assert f'<html lang="{code}" dir="{"rtl" if code == "ar" else "ltr"}">' in html
    # Every citizen language in the switch, linked directly: a shared screen remembers nobody's choice.
    assert re.findall(r'class="kiosk-language" href="([^"]+)" lang="(\w+)"', html) == [
        (kiosk_url(qw.kiosk, language), language) for language in ("de", "en", "tr", "ar", "uk", "ru")
    ]
    response = draw(client, qw, "personalausweis", "09:00", language=code)
    ticket = Ticket.objects.get()
    assert ticket.language == code
    with time_machine.travel(at("09:00"), tick=False):
        drawn = client.get(response["Location"]).content.decode()
        phone = client.get(f"/{code}/w/{ticket.token}/").content.decode()
    assert str(qr_svg(f"http://testserver/{code}/w/{ticket.token}/")) in drawn and number in drawn
    assert f'<html lang="{code}"' in phone and yours != "Your ticket" and yours in phone
