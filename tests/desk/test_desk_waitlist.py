"""The office's waitlist at the clerks' desk (issue 18, point 4): counts, the next in line, open offers, outcomes."""

import datetime
import re

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse as django_reverse
from django.utils import translation

from booking.needs import Need
from booking.templatetags.local_time import clock
from offices.models import Office, Service
from tests.support.desk_steps import LAST, TODAY, at
from tests.support.factories import offer
from waitlist.models import Offer, Registration
from waitlist.services import (
    Wish,
    offer_accept,
    offer_decline,
    offers_sweep,
    registration_confirm,
    registration_create,
    registration_withdraw,
)

NOW = at("09:00", TODAY - datetime.timedelta(days=3))  # the Friday before the Monday the offices open
LATER = NOW + datetime.timedelta(hours=3)  # the first offers (open two hours) have lapsed
FAR = LAST + datetime.timedelta(days=5)  # days no sweep of these tests looks at


def reverse(name: str, args: list[object] | None = None) -> str:
    """The German address (an /en/ request leaves English active in the test's thread)."""
    with translation.override("de"):
        return django_reverse(name, args=args)


def en(url: str) -> str:
    return "/en" + url


def waitlist_url(slug: str = "mitte") -> str:
    return reverse("desk:waitlist", args=[slug])


def signed_in(client: Client, user: object) -> Client:
    client.force_login(user)
    return client


def register(
    name: str,
    *,
    offices: list[Office],
    when: datetime.datetime,
    service: str = "personalausweis",
    first_day: datetime.date = FAR,
    deadline: datetime.date | None = None,
    confirm: bool = True,
) -> Registration:
    """A citizen on the waitlist, registered (and by default confirmed) at ``when``, the real way."""
    with time_machine.travel(when, tick=False):
        registration = registration_create(
            wish=Wish(
                needs=[Need(Service.objects.get(slug=service), 1)],
                offices=offices,
                first_day=first_day,
                last_day=first_day,
                weekdays=[],
                parts=[],
            ),
            name=name,
            email=f"{name.split()[0].lower()}@example.org",
            language="en",
            now=when,
            deadline=deadline,
        )
        return registration_confirm(registration=registration, now=when) if confirm else registration


def sweep(when: datetime.datetime) -> None:
    with time_machine.travel(when, tick=False):
        offers_sweep(now=when)


def open_offer(registration: Registration) -> Offer:
    return Offer.objects.get(registration=registration, status=Offer.Status.OPEN)


def offers_with_every_outcome(world) -> dict[str, Registration]:  # type: ignore[no-untyped-def]
    """Four citizens for Monday at office A: one books, one declines, one withdraws, one lets the offer lapse; the
    one who declined and the one whose offer lapsed get a second offer, still open."""
    people = {
        key: register(name, offices=[world.office_a], when=NOW, first_day=TODAY)
        for key, name in [
            ("books", "Ben Bucher"),
            ("declines", "Dana Nein"),
            ("withdraws", "Will Weg"),
            ("lapses", "Lars Later"),
        ]
    }
    sweep(NOW)
    offer_accept(offer=open_offer(people["books"]), now=NOW + datetime.timedelta(minutes=5))
    offer_decline(offer=open_offer(people["declines"]), now=NOW + datetime.timedelta(minutes=6))
    registration_withdraw(registration=people["withdraws"], now=NOW + datetime.timedelta(minutes=7))
    sweep(LATER)  # Lars's offer lapses; Dana and Lars get the next times
    return people


def waiting_at_office_a(world) -> None:  # type: ignore[no-untyped-def]
    """Registrations after the sweeps, for days no sweep here looks at: they wait."""
    offer(world.office_b, "reisepass", 20, name_en="Passport")  # offered at B only
    minute = datetime.timedelta(minutes=1)
    register("Anna Anfang", offices=[world.office_a], when=LATER + minute)
    register("Bert Beliebig", offices=[], when=LATER + 2 * minute)  # any office offering the identity card
    register("Dora Nord", offices=[world.office_b], when=LATER + 3 * minute)
    register("Paul Pass", offices=[], service="reisepass", when=LATER + 4 * minute)  # A does not offer it
    register("Emil Unbestätigt", offices=[world.office_a], when=LATER + 5 * minute, confirm=False)
    register("Cora Dringend", offices=[world.office_a], when=LATER + 6 * minute, deadline=FAR)
    paused = register("Pia Pause", offices=[world.office_a], when=LATER + 7 * minute)
    # As after WAITLIST_LAPSES_TO_PAUSE offers that lapsed (three more sweeps and lapses would say the same).
    Registration.objects.filter(pk=paused.pk).update(status=Registration.Status.PAUSED)


def page(client: Client, url: str) -> tuple[int, str]:
    with time_machine.travel(LATER + datetime.timedelta(minutes=30), tick=False):
        response = client.get(url)
    return response.status_code, response.content.decode()


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">(.*?)</dd>', html, re.DOTALL)
    assert match, element_id
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# What the clerks see ----------------------------------------------------------------------------


def test_a_clerk_sees_the_counts_of_the_registrations_that_can_come_to_the_office(client, world):
    offers_with_every_outcome(world)
    waiting_at_office_a(world)
    status, html = page(signed_in(client, world.clerk_a), en(waitlist_url()))
    assert status == 200
    assert text_of(html, "waitlist-count-unconfirmed") == "1"  # Emil
    assert text_of(html, "waitlist-count-waiting") == "3"  # Anna, Bert (any office), Cora; not Dora nor Paul
    assert text_of(html, "waitlist-count-offered") == "2"  # Dana and Lars, offered again
    assert text_of(html, "waitlist-count-paused") == "1"  # Pia
    assert text_of(html, "waitlist-count-total") == "7"
    assert text_of(html, "waitlist-count-urgent") == "1"  # Cora
    assert text_of(html, "waitlist-oldest").startswith("20/11/2026")  # Anna, registered on Friday


def test_the_next_in_line_are_in_the_one_order_urgent_first_then_by_registration(client, world):
    waiting_at_office_a(world)
    status, html = page(signed_in(client, world.clerk_a), en(waitlist_url()))
    assert status == 200
    rows = re.findall(r'<tr class="waitlist-next-row">(.*?)</tr>', html, re.DOTALL)
    names = [re.search(r'<th scope="row">([^<]+)', row).group(1).strip() for row in rows]
    assert names == ["Cora Dringend", "Anna Anfang", "Bert Beliebig"]
    assert "Identity card × 1" in rows[0]
    assert f"{FAR:%d/%m/%Y}" in rows[0]  # the day, and Cora's deadline
    assert "badge text-bg-danger" in rows[0] and "badge" not in rows[1]
    assert "any office offering the services" in rows[2]
    assert "Dora Nord" not in html and "Paul Pass" not in html and "Emil" not in text_of_section(html, "next")


def text_of_section(html: str, name: str) -> str:
    return html.split(f'id="waitlist-{name}"', 1)[1].split("</section>", 1)[0]


def test_a_clerk_sees_the_open_offers_and_how_the_offers_of_30_days_ended(client, world):
    people = offers_with_every_outcome(world)
    status, html = page(signed_in(client, world.clerk_a), en(waitlist_url()))
    assert status == 200
    offers = text_of_section(html, "offers")
    for key in ("declines", "lapses"):
        shown = open_offer(people[key])
        assert people[key].name in offers
        assert clock(shown.start) in offers and clock(shown.expires_at) in offers
    assert "Ben Bucher" not in offers and "Will Weg" not in offers
    assert "Offers of the last 30 days" in html
    assert text_of(html, "waitlist-outcome-offered") == "6"
    assert text_of(html, "waitlist-outcome-accepted") == "1"
    assert text_of(html, "waitlist-outcome-declined") == "1"
    assert text_of(html, "waitlist-outcome-lapsed") == "1"
    assert text_of(html, "waitlist-outcome-withdrawn") == "1"


def test_office_b_sees_none_of_office_a_s_registrations_or_offers(client, world):
    offers_with_every_outcome(world)
    waiting_at_office_a(world)
    status, html = page(signed_in(client, world.clerk_b), en(waitlist_url("nord")))
    assert status == 200
    names = re.findall(r'<tr class="waitlist-next-row">.*?<th scope="row">([^<]+)', html, re.DOTALL)
    assert [name.strip() for name in names] == ["Bert Beliebig", "Dora Nord", "Paul Pass"]
    assert "No time of this office is offered at the moment." in html
    assert text_of(html, "waitlist-outcome-offered") == "0"


def test_the_desk_links_to_the_waitlist_in_german_and_english(client, world):
    signed_in(client, world.clerk_a)
    _status, german = page(client, reverse("desk:day", args=["mitte"]))
    assert f'href="{waitlist_url()}"' in german
    status, english = page(client, en(waitlist_url()))
    assert status == 200
    assert f'href="/en{waitlist_url()}" aria-current="page">Waitlist</a>' in english


# Who may see it ---------------------------------------------------------------------------------


def test_a_clerk_of_another_office_gets_404_and_an_administrator_sees_every_office(client, world):
    assert page(signed_in(client, world.clerk_b), en(waitlist_url("mitte")))[0] == 404
    assert page(signed_in(client, world.clerk_b), en(waitlist_url("no-such-office")))[0] == 404
    assert page(signed_in(client, world.administrator), en(waitlist_url("mitte")))[0] == 200
    assert page(signed_in(client, world.manager_a), en(waitlist_url("mitte")))[0] == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    with time_machine.travel(NOW, tick=False):
        response = client.get(waitlist_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("desk:staff-login"))


# Query count ------------------------------------------------------------------------------------


def _queries(client: Client) -> int:
    with time_machine.travel(LATER + datetime.timedelta(minutes=30), tick=False):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(en(waitlist_url()))
    assert response.status_code == 200
    return len(queries)


def test_the_waitlist_page_costs_the_same_queries_for_few_and_many_registrations(client, world):
    signed_in(client, world.clerk_a)
    offers_with_every_outcome(world)
    waiting_at_office_a(world)
    few = _queries(client)
    for index in range(25):  # more than the next in line shows
        when = LATER + datetime.timedelta(minutes=20 + index)
        register(f"Person{index} Wartend", offices=[world.office_a], when=when)
    many = _queries(client)
    assert few == many
    assert many <= 15
