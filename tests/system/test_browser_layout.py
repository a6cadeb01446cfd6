"""The citizen layout in a real browser: keyboard, visible focus, phone width, only our own host."""

import datetime
import itertools
from dataclasses import dataclass

import pytest
import time_machine

from booking.grid import BERLIN
from offices.models import Office
from tests.support.factories import (
    OfficeFactory,
    OfficeServiceFactory,
    PublicHolidayFactory,
    SpecialOpeningFactory,
    bookable_office,
    offer,
    office_with_week,
)
from tickets.models import Kiosk, Ticket
from tickets.services import ticket_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A Thursday: its row in the week's hours is the longest ("Donnerstag", two ranges) and bold as today's, the
# holiday on Wednesday 18 November is in the same week. What the office page shows depends on the date, so the
# clock is fixed: the live server runs in this process and sees it too (the browser's own clock is not moved).
NOW = datetime.datetime(2026, 11, 19, 10, 0, tzinfo=BERLIN)
PHONE_WIDTHS = (320, 360)  # 320 CSS pixels is the reflow width of WCAG 1.4.10


@pytest.fixture(autouse=True)
def _fixed_clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    office = office_with_week(
        slug="buergerbuero-mitte",
        name_de="Bürgerbüro Mitte",
        name_en="Citizen office Centre",
        accessibility_notes_de="Aufzug am Seiteneingang, barrierefreies WC und eine Induktionsschleife am Schalter 3",
    )
    OfficeServiceFactory(
        office=office,
        service__name_de="Anmeldung einer Wohnung (Hauptwohnsitz oder Nebenwohnsitz) mit Wohnungsgeberbestätigung",
        service__what_to_bring_de="Personalausweis\nWohnungsgeberbestätigung",
    )
    PublicHolidayFactory()
    return office


def test_the_first_tab_reaches_a_visible_skip_link_that_moves_focus_to_the_content(page, office) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Zum Inhalt springen"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["width"] > 40 and box["height"] > 10, "the focused skip link must be visible"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith("#main")


def test_keyboard_focus_is_clearly_visible(page, office) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the brand link after the skip link
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert outline == ["solid", "3px"]


def test_the_language_switch_works_by_keyboard(page, office) -> None:  # type: ignore[no-untyped-def]
    page.goto("/offices/buergerbuero-mitte/")
    page.get_by_role("link", name="English").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/offices/buergerbuero-mitte/")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.get_by_role("heading", name="Opening hours this week").is_visible()


@dataclass
class City:
    """The pages a citizen may open on a phone, with the longest names and addresses of a real city."""

    paths: dict[str, str]


_numbers = itertools.count(1)


def _history(office: Office) -> None:
    """Four weeks of finished tickets, so the office's status page has its "usually busy" chart."""
    for days_ago in range(1, 29):
        day = NOW.date() - datetime.timedelta(days=days_ago)
        if day.weekday() < 5:
            for hour in (8, 9, 9, 11):
                Ticket.objects.create(
                    office=office,
                    day=day,
                    queue=Ticket.Queue.WALK_IN,
                    number=next(_numbers),
                    status=Ticket.Status.DONE,
                    issued_at=datetime.datetime.combine(day, datetime.time(hour, 10), tzinfo=BERLIN),
                )


@pytest.fixture
def city(office):  # type: ignore[no-untyped-def]
    Office.objects.filter(pk=office.pk).update(
        email="buergerbuero.auenpark-lindenhof@musterstadt.example", phone="0341 555-1000"
    )
    mobile = OfficeFactory(
        slug="buergerkoffer-rosental",
        kind=Office.Kind.MOBILE_SITE,
        name_de="Bürgerkoffer Seniorenzentrum Rosental",
        name_en="Mobile citizen office Rosental senior centre",
    )
    for weeks in (0, 2, 4):  # today's special opening with its note, and the next ones under "coming up"
        SpecialOpeningFactory(
            office=mobile,
            date=NOW.date() + datetime.timedelta(weeks=weeks),
            opens=datetime.time(9),
            closes=datetime.time(12),
            note_de="Bürgerkoffer im Veranstaltungsraum des Seniorenzentrums",
            note_en="Mobile citizen office in the senior centre's event room",
        )
    immigration = bookable_office(
        first=NOW.date(),
        last=NOW.date() + datetime.timedelta(days=13),
        slug="auslaenderbehoerde",
        kind=Office.Kind.IMMIGRATION_OFFICE,
        name_de="Ausländerbehörde Musterstadt",
        name_en="Musterstadt Immigration Office",
        street="Bahnhofstraße 120–124, Eingang Aufenthaltsangelegenheiten",
        email="auslaenderbehoerde.aufenthalt@musterstadt.example",
    )
    name = {"name_de": "Personalausweis beantragen", "name_en": "Apply for an identity card"}
    for place in (office, mobile, immigration):
        offer(place, "personalausweis", 15, **name)
    pickup = offer(office, "abholung-ausweis", 5, pickup=True, name_de="Abholung Ausweis", name_en="ID pickup")
    kiosk = Kiosk.objects.create(office=office, name="Eingang")
    ticket = ticket_issue(office=office, queue=Ticket.Queue.PICKUP, service=pickup.service, now=NOW, kiosk=kiosk)
    _history(office)
    services = "?services=personalausweis%3A1"
    return City(
        paths={
            "home": "/",
            "office": f"/offices/{office.slug}/",
            "mobile site": f"/offices/{mobile.slug}/",
            "immigration office": f"/offices/{immigration.slug}/",
            "service": "/services/personalausweis/",
            "status": "/status/",
            "office status": f"/status/{office.slug}/",
            "needs": f"/book/{services}&persons-personalausweis=2&preview=1",
            "where": f"/book/where/{services}",
            "times": f"/book/at/{immigration.slug}/{services}&date={NOW.date() + datetime.timedelta(days=1)}",
            "kiosk": f"/kiosk/{kiosk.key}/",
            "drawn ticket": f"/kiosk/{kiosk.key}/ticket/{ticket.token}/",
            "ticket on the phone": f"/w/{ticket.token}/",
        }
    )


# Every element's box, not only the page's width: a table in a sideways scrolling box leaves the page as wide
# as the screen and still hides its columns. Compared with the screen's width as configured, because a mobile
# browser widens the layout viewport (window.innerWidth) to content that does not fit.
OVERFLOW = """(width) => {
  const sticking = [];
  for (const element of document.querySelectorAll('body *')) {
    const box = element.getBoundingClientRect();
    const hidden = element.closest('.visually-hidden, .visually-hidden-focusable:not(:focus)');
    if (box.width === 0 || box.height === 0 || hidden) continue;
    if (box.right > width + 0.5 || box.left < -0.5) {
      const text = (element.innerText || '').trim().slice(0, 40).replace(/\\s+/g, ' ');
      const where = `${Math.round(box.left)}..${Math.round(box.right)}`;
      sticking.push(`<${element.tagName.toLowerCase()} class="${element.className}"> ${where} ${text}`);
    }
  }
  const scrollWidth = document.documentElement.scrollWidth;
  return {scrollWidth: scrollWidth, innerWidth: window.innerWidth, sticking: sticking.slice(0, 5)};
}"""


def _sideways(page, width: int) -> list[str]:  # type: ignore[no-untyped-def]
    # A page reached by a form's redirect may be measured before its stylesheet has loaded (under load, its
    # text-break rules not yet applied): wait for the load event, which stylesheets hold up.
    page.wait_for_load_state("load")
    found = page.evaluate(OVERFLOW, width)
    if found["scrollWidth"] <= width and found["innerWidth"] == width and not found["sticking"]:
        return []
    return [f"{page.url} at {width} px: page {found['scrollWidth']} px wide", *found["sticking"]]


@pytest.mark.parametrize("width", PHONE_WIDTHS)
@pytest.mark.parametrize(
    "name",
    [
        "home",
        "office",
        "mobile site",
        "immigration office",
        "service",
        "status",
        "office status",
        "needs",
        "where",
        "times",
        "kiosk",
        "drawn ticket",
        "ticket on the phone",
    ],
)
def test_pages_fit_a_phone_without_sideways_scrolling(browser, live_server, city, name: str, width: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 740}, is_mobile=True)
    page = context.new_page()
    problems: list[str] = []
    for language in ("", "/en"):
        response = page.goto(language + city.paths[name])
        assert response is not None and response.ok, page.url
        problems += _sideways(page, width)
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", PHONE_WIDTHS)
def test_the_booking_flow_fits_a_phone_up_to_the_booked_appointment(browser, live_server, city, width: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(city.paths["times"])
    page.locator("button.time-button").first.click()
    page.wait_for_url("**/book/hold/**")
    problems = _sideways(page, width)
    page.get_by_label("Ihr Name").fill("Maximiliane Mustermann-Lüdenscheid")
    page.get_by_label("E-Mail-Adresse").fill("maximiliane.mustermann-luedenscheid@beispiel-verwaltung.example")
    page.get_by_role("button", name="Weiter: Angaben prüfen").click()
    page.wait_for_url("**/check/")
    problems += _sideways(page, width)
    page.get_by_role("button", name="Diesen Termin buchen").click()
    page.get_by_role("heading", name="Ihr Termin ist gebucht").wait_for()
    manage = page.url
    problems += _sideways(page, width)
    for step in ("cancel/", "move/"):
        page.goto(manage + step)
        problems += _sideways(page, width)
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/", "/en/offices/buergerbuero-mitte/"])
def test_the_browser_requests_nothing_from_another_host(page, live_server, office, path: str) -> None:  # type: ignore[no-untyped-def]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert any(url.endswith("bootstrap.min.css") for url in requested)
    assert any(url.endswith("htmx.min.js") for url in requested)
    assert all(url.startswith(live_server.url) for url in requested), requested
    assert page.evaluate("typeof htmx") == "object", "htmx is loaded and runs under the CSP"


def test_the_admin_works_under_the_content_security_policy(page, office, live_server) -> None:  # type: ignore[no-untyped-def]
    from tests.support.factories import TEST_PASSWORD, UserFactory

    UserFactory(username="administrator", is_staff=True, is_superuser=True)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto("/en/admin/login/?next=/en/admin/offices/office/")
    page.get_by_label("Username").fill("administrator")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Citizen office Centre").click()
    page.locator("#hours-group").wait_for()
    rows = page.locator("#hours-group tbody tr.form-row:not(.empty-form)")
    before = rows.count()
    assert before == 7  # the office's weekly ranges
    page.locator("#hours-group .add-row a").click()  # the admin's own JavaScript adds a row
    assert rows.count() == before + 1
    assert violations == []
