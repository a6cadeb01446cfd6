"""The staff pages wear a layout of their own (issue 19, point 2): no citizen navigation or footer, a compact header
with the product's name, the clerk and sign-out, German and English only, the office switcher and the tabs."""

import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse as django_reverse
from django.utils import translation

from offices.models import Membership
from tests.support.desk_steps import TODAY, at
from tests.support.factories import MembershipFactory

CITIZEN_TEXTS = ("No internet at home?", "Waiting times", "Main navigation", 'href="/en/#services"')
ASSETS = (
    "/static/vendor/bootstrap/css/bootstrap.min.css",
    "/static/css/site.css",
    "/static/css/staff.css",
    "/static/vendor/htmx/htmx.min.js",
    "/static/img/favicon.svg",
)


def reverse(name: str, args: list[object] | None = None) -> str:
    with translation.override("de"):
        return django_reverse(name, args=args)


def en(url: str) -> str:
    return "/en" + url


def page(client: Client, url: str, **params: str) -> str:
    with time_machine.travel(at("08:30"), tick=False):
        response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tab_labels(html: str) -> list[str]:
    tabs = html.split('class="nav nav-tabs staff-tabs"', 1)[1].split("</nav>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", label).strip()
        for label in re.findall(r'<a class="nav-link[^"]*" href="[^"]+"[^>]*>(.*?)</a>', tabs)
    ]


def more_labels(html: str) -> list[str]:
    more = html.split('class="nav-item dropdown staff-more"', 1)[1].split("</details>", 1)[0]
    return re.findall(r'class="dropdown-item[^"]*" href="[^"]+"[^>]*>([^<]+)</a>', more)


def switcher_links(html: str) -> list[tuple[str, str]]:
    switch = html.split('class="staff-office-switch"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a class="dropdown-item[^"]*" href="([^"]+)"[^>]*>([^<]+)</a>', switch)


# The layout --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "name", "args"),
    [
        ("clerk_a", "desk:day", ["mitte"]),
        ("clerk_a", "desk:queue", ["mitte"]),
        ("clerk_a", "desk:book", ["mitte"]),
        ("clerk_a", "desk:waitlist", ["mitte"]),
        ("clerk_a", "desk:urgent-cases", ["mitte"]),
        ("manager_a", "desk:rebook", ["mitte"]),
        ("manager_a", "desk:absences", ["mitte"]),
        ("manager_a", "desk:blocks", ["mitte"]),
        ("manager_a", "desk:audit", ["mitte"]),
        ("manager_a", "desk:capacity", ["mitte"]),
        ("manager_a", "desk:office-messages", ["mitte"]),
        ("administrator", "desk:home", []),
    ],
)
def test_every_desk_page_wears_the_staff_layout_without_the_citizen_navigation_and_footer(
    world, user: str, name: str, args: list[str]
) -> None:
    staff = getattr(world, user)
    html = page(signed_in(staff), en(reverse(name, args=args)))
    for text in CITIZEN_TEXTS:
        assert text not in html, (name, text)
    assert '<a class="site-brand staff-brand fw-semibold text-decoration-none" href="/en/staff/">' in html
    assert "Bürgerservice – Desk</a>" in html
    assert re.search(r"<title>.+ – Bürgerservice – Desk</title>", html)
    assert '<a class="visually-hidden-focusable skip-link" href="#main">Skip to main content</a>' in html
    assert '<main id="main"' in html
    for asset in ASSETS:
        assert f'"{asset}"' in html, asset
    signed = html.split('action="/en/staff/logout/"', 1)[1].split("</form>", 1)[0]
    assert f"<span>{staff.get_full_name() or staff.get_username()}</span>" in signed
    assert ">Sign out</button>" in signed


def test_the_appointment_page_and_the_slip_wear_it_too(world) -> None:
    appointment = world.book("09:00", name="Anna Albers")
    client = signed_in(world.clerk_a)
    for url in (
        reverse("desk:appointment", args=[appointment.pk]),
        reverse("desk:move", args=[appointment.pk]),
        reverse("desk:slip", args=[appointment.pk]),
    ):
        html = page(client, en(url))
        assert "Bürgerservice – Desk</a>" in html
        assert "No internet at home?" not in html and "Waiting times" not in html
        assert "Clara Kern" in html


def test_the_sign_in_page_wears_it_without_a_signed_in_clerk() -> None:
    html = page(Client(), "/en/staff/login/")
    assert "Bürgerservice – Desk</a>" in html
    assert "<title>Staff sign-in – Bürgerservice – Desk</title>" in html
    assert "No internet at home?" not in html and "Waiting times" not in html
    assert "/staff/logout/" not in html and "Sign out" not in html
    assert '<h1 class="h3">Staff sign-in</h1>' in html and 'name="username"' in html


def test_the_sign_in_page_is_german_by_default() -> None:
    html = page(Client(), "/staff/login/")
    assert "Bürgerservice – Sachbearbeitung</a>" in html
    assert '<html lang="de"' in html
    assert 'hreflang="de" aria-current="true">Deutsch</a>' in html


def test_the_staff_side_offers_german_and_english_only(world, settings) -> None:
    settings.LANGUAGES = [("de", "Deutsch"), ("en", "English"), ("tr", "Türkçe"), ("uk", "Українська")]
    citizen = page(Client(), "/en/")
    assert 'hreflang="tr"' in citizen  # the citizen's switch has them all
    html = page(signed_in(world.clerk_a), en(reverse("desk:day", args=["mitte"])))
    switch = html.split('class="language-switch"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'hreflang="(\w+)"', switch) == ["de", "en"]
    assert re.findall(r'hreflang="\w+"( aria-current="true")?>([^<]+)</a>', switch) == [
        ("", "Deutsch"),
        (' aria-current="true"', "English"),
    ]


# The tabs ----------------------------------------------------------------------------------------


def test_a_clerk_sees_the_five_tabs_of_the_desk_and_no_more(world) -> None:
    html = page(signed_in(world.clerk_a), en(reverse("desk:queue", args=["mitte"])))
    assert tab_labels(html) == ["Day", "Queue", "Book for a caller", "Waitlist", "Urgent cases"]
    assert "staff-more" not in html
    assert '<a class="nav-link active" href="/en/staff/desk/mitte/queue/" aria-current="page">Queue</a>' in html
    assert html.count('aria-current="page"') == 1


def test_a_manager_s_further_pages_sit_behind_more(world) -> None:
    html = page(signed_in(world.manager_a), en(reverse("desk:day", args=["mitte"])))
    assert tab_labels(html) == ["Day", "Queue", "Book for a caller", "Waitlist", "Urgent cases", "To rebook"]
    assert more_labels(html) == ["Absences", "Blocked times", "Audit log", "Capacity", "Messages"]
    assert '<summary class="nav-link dropdown-toggle">More</summary>' in html
    assert '<a class="nav-link active" href="/en/staff/desk/mitte/" aria-current="page">Day</a>' in html


def test_a_page_behind_more_is_named_on_it_and_marked_current(world) -> None:
    html = page(signed_in(world.manager_a), en(reverse("desk:absences", args=["mitte"])))
    assert (
        '<summary class="nav-link dropdown-toggle active"><span class="visually-hidden">More: </span>Absences</summary>'
        in html
    )
    assert (
        '<a class="dropdown-item active" href="/en/staff/desk/mitte/absences/" aria-current="page">Absences</a>' in html
    )
    assert html.count('aria-current="page"') == 1
    capacity = page(signed_in(world.manager_a), en(reverse("desk:capacity", args=["mitte"])))
    assert 'href="/en/staff/capacity/mitte/" aria-current="page">Capacity</a>' in capacity
    assert tab_labels(capacity)[0] == "Day"  # the capacity page has the desk's tabs now


def test_the_booking_steps_keep_the_booking_tab_current(world) -> None:
    html = page(signed_in(world.clerk_a), en(reverse("desk:book-time", args=["mitte"])), services="personalausweis")
    assert (
        '<a class="nav-link active" href="/en/staff/desk/mitte/book/" aria-current="page">Book for a caller</a>' in html
    )


def test_the_count_to_rebook_stays_on_its_tab(world) -> None:
    appointment = world.book("09:00")
    appointment.status = appointment.Status.NEEDS_REBOOKING
    appointment.save(update_fields=["status"])
    html = page(signed_in(world.manager_a), en(reverse("desk:day", args=["mitte"])))
    assert 'href="/en/staff/desk/mitte/rebook/">To rebook <span class="badge text-bg-danger">1</span></a>' in html


# The office switcher -----------------------------------------------------------------------------


def test_someone_with_one_office_sees_its_name_and_no_switcher(world) -> None:
    html = page(signed_in(world.clerk_a), en(reverse("desk:day", args=["mitte"])))
    assert (
        '<p class="staff-office-switch mb-0"><span class="text-body-secondary">Office:</span> '
        '<span class="staff-office-name">Citizen office Mitte</span></p>'
    ) in html
    assert "<details" not in html


def test_the_switcher_leads_to_the_same_page_of_each_office(world) -> None:
    html = page(signed_in(world.administrator), en(reverse("desk:queue", args=["nord"])))
    assert (
        '<summary class="btn btn-sm btn-light border dropdown-toggle"><span class="text-body-secondary">'
        'Office:</span> <span class="staff-office-name">Citizen office Nord</span></summary>'
    ) in html
    assert switcher_links(html) == [
        ("/en/staff/desk/mitte/queue/", "Citizen office Mitte"),
        ("/en/staff/desk/nord/queue/", "Citizen office Nord"),
    ]
    assert 'href="/en/staff/desk/nord/queue/" aria-current="page">Citizen office Nord</a>' in html
    assert "Other offices" not in html  # the old list of links under the tabs is gone


def test_the_switcher_keeps_the_day_shown(world) -> None:
    html = page(signed_in(world.administrator), en(reverse("desk:day", args=["mitte"])), date="2026-11-24")
    assert switcher_links(html)[1] == ("/en/staff/desk/nord/?date=2026-11-24", "Citizen office Nord")


def test_from_a_manager_s_page_the_switcher_leads_to_the_day_where_the_user_is_a_clerk(world) -> None:
    MembershipFactory(user=world.manager_a, office=world.office_b, role=Membership.Role.CLERK)
    client = signed_in(world.manager_a)
    html = page(client, en(reverse("desk:blocks", args=["mitte"])))
    assert switcher_links(html) == [
        ("/en/staff/desk/mitte/blocks/", "Citizen office Mitte"),
        ("/en/staff/desk/nord/", "Citizen office Nord"),
    ]
    # and a clerk's page of either office is the same page
    assert [url for url, _name in switcher_links(page(client, en(reverse("desk:waitlist", args=["mitte"]))))] == [
        "/en/staff/desk/mitte/waitlist/",
        "/en/staff/desk/nord/waitlist/",
    ]
    # the appointment's own page has no counterpart: the switcher leads to the other office's day
    appointment = world.book("09:00", day=TODAY)
    html = page(client, en(reverse("desk:appointment", args=[appointment.pk])))
    assert [url for url, _name in switcher_links(html)] == [
        "/en/staff/desk/mitte/",
        "/en/staff/desk/nord/",
    ]


def test_the_switcher_reads_the_offices_once_and_an_htmx_refresh_of_the_day_not_at_all(world) -> None:
    client = signed_in(world.administrator)
    url = en(reverse("desk:day", args=["mitte"]))

    def office_reads(**headers: str) -> tuple[str, int]:
        with time_machine.travel(at("08:30"), tick=False), CaptureQueriesContext(connection) as queries:
            html = client.get(url, **headers).content.decode()
        return html, sum('FROM "offices_office"' in query["sql"] for query in queries.captured_queries)

    full, full_reads = office_reads()
    partial, partial_reads = office_reads(HTTP_HX_REQUEST="true")
    assert "staff-office-switch" in full and "staff-office-switch" not in partial and "<html" not in partial
    assert full_reads == partial_reads + 1  # the page's office, then (full page only) the switcher's offices
