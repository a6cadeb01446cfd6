"""axe-core over every page a citizen, a kiosk, a waiting room and a clerk see, in German and English, at desktop
and phone width: no violation of WCAG 2.0/2.1 A and AA and 2.2 AA (issue 19, point 5). And no citizen page
scrolls sideways at 320 CSS pixels (WCAG 1.4.10 reflow).

One world per test (the office's week, its services, a kiosk, tickets drawn and one called, a booked, a cancelled
and a browser-booked appointment, a waitlist registration, a manager); one browser tab for the whole module.
"""

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import time_machine

from booking.models import Appointment
from booking.needs import Need
from booking.services.appointments import appointment_cancel
from tests.support.axe import axe_violations, describe
from tests.support.factories import TEST_PASSWORD
from tests.support.queue_steps import QueueWorld, at, queue_world
from tickets.models import Ticket
from tickets.services import ticket_draw_at_kiosk, ticket_step
from waitlist.services import Wish, registration_confirm, registration_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Monday 23 November 2026, 09:00: the office is open, the walk-in counter serves, the kiosk issues tickets. The
# live server runs in this process and sees the frozen clock (tick=True: it runs on from there).
NOW = at("09:00")
TUESDAY = NOW.date() + datetime.timedelta(days=1)  # online booking: Monday's walk-in counter leaves only phone units
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PREFIX = {"de": "", "en": "/en"}
BOOK = {"de": "Diesen Termin buchen", "en": "Book this appointment"}
SIGN_IN = {"de": "Anmelden", "en": "Sign in"}


@pytest.fixture(scope="module")
def tab(browser, live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """One tab for the whole module (its cookies are cleared before each test)."""
    context = browser.new_context(base_url=live_server.url, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@dataclass
class World:
    queue: QueueWorld
    booked: Appointment
    cancelled: Appointment
    drawn: Ticket
    called: Ticket
    registration_token: str


@pytest.fixture
def world() -> Iterator[World]:
    with time_machine.travel(NOW, tick=True):
        qw = queue_world()
        qw.office_a.confirm_email = True  # the browser's booking passes through the e-mail confirmation page
        qw.office_a.save()
        booked = qw.book("10:00", day=TUESDAY, email="bernd@example.org", name="Bernd Berg")
        cancelled = qw.book("11:00", day=TUESDAY, email="carla@example.org", name="Carla Clausen")
        appointment_cancel(appointment=cancelled, now=NOW)
        called = ticket_draw_at_kiosk(kiosk=qw.kiosk, service=qw.service(), now=at("08:40"), language="de")
        ticket_draw_at_kiosk(kiosk=qw.kiosk, service=qw.service(), now=at("08:50"), language="de")
        drawn = ticket_draw_at_kiosk(kiosk=qw.kiosk, service=qw.pickup(), now=at("08:55"), language="de")
        ticket_step(ticket=called, step="call", by=qw.clerk_a, now=at("08:58"), counter=1)
        wish = Wish(
            needs=[Need(qw.service(), 1)],
            offices=[qw.office_a],
            first_day=TUESDAY,
            last_day=TUESDAY,
            weekdays=[],
            parts=[],
        )
        registration = registration_create(
            wish=wish, name="Dora Dreher", email="dora@example.org", language="de", now=NOW
        )
        registration_confirm(registration=registration, now=NOW)
        yield World(qw, booked, Appointment.objects.get(pk=cancelled.pk), drawn, called, registration.token)


Check = Callable[[str], None]


def _open(page, path: str, problems: list[str], *, status: int = 200) -> bool:  # type: ignore[no-untyped-def]
    response = page.goto(path)
    if response is None or response.status != status:
        problems.append(f"{path}: HTTP {response.status if response else 'no answer'} (expected {status})")
        return False
    return True


def visit_citizen_pages(page, world: World, language: str, check: Check, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Every citizen page and every step of the booking, in ``language``; ``check(name)`` on each."""
    p = PREFIX[language]
    qw = world.queue
    simple = {
        "home": f"{p}/",
        "office": f"{p}/offices/mitte/",
        "service": f"{p}/services/personalausweis/",
        "status of the city": f"{p}/status/",
        "status of the office": f"{p}/status/mitte/",
        "kiosk": f"{p}/kiosk/{qw.kiosk.key}/",
        "kiosk: drawn ticket": f"{p}/kiosk/{qw.kiosk.key}/ticket/{world.drawn.token}/",
        "ticket on the phone": f"{p}/w/{world.drawn.token}/",
        "called ticket on the phone": f"{p}/w/{world.called.token}/",
        "booking: needs": f"{p}/book/",
        "booking: offices": f"{p}/book/where/?services=personalausweis",
        "booking: times": f"{p}/book/at/mitte/?services=personalausweis&date={TUESDAY.isoformat()}",
        "manage": f"{p}/appointment/{world.booked.manage_token}/",
        "cancel": f"{p}/appointment/{world.booked.manage_token}/cancel/",
        "move": f"{p}/appointment/{world.booked.manage_token}/move/",
        "cancelled appointment": f"{p}/appointment/{world.cancelled.manage_token}/",
        "cancel page of a cancelled appointment": f"{p}/appointment/{world.cancelled.manage_token}/cancel/",
        "waitlist form": f"{p}/waitlist/?services=personalausweis&office=mitte",
        "waitlist registration": f"{p}/waitlist/{world.registration_token}/",
        "urgent form": f"{p}/waitlist/urgent/",
        "accessibility statement": f"{p}/accessibility/",
        "feedback form": f"{p}/feedback/?page=/book/",
        "feedback sent": f"{p}/feedback/thanks/",
        "Leichte Sprache": f"{p}/easy/",
        "privacy": f"{p}/privacy/",
    }
    for name, path in simple.items():
        if _open(page, path, problems):
            check(f"{name} {path}")
    if _open(page, f"{p}/no-such-page/", problems, status=404):
        check("404 page")

    # The booking's steps as a citizen takes them (the hold, the details with and without errors, the check...).
    if not _open(page, simple["booking: times"], problems):
        return
    page.locator("button[name=start]").first.click()
    page.wait_for_url(re.compile(r"/book/hold/[^/]+/$"))
    check(f"booking: details (hold) {page.url}")
    page.locator("input[name=email]").press("Enter")  # nothing typed: the error summary
    page.locator("input[name=email]").wait_for()
    check("booking: details with errors")
    page.locator("input[name=name]").fill("Erika Mustermann")
    page.locator("input[name=email]").fill("erika@example.org")
    page.locator("input[name=email]").press("Enter")
    page.wait_for_url(re.compile(r"/check/$"))
    check("booking: check")
    page.get_by_role("button", name=BOOK[language]).click()
    page.wait_for_url(re.compile(r"/appointment/[^/]+/$"))
    check(f"booking: booked, awaiting the e-mail's confirmation {page.url}")
    appointment = Appointment.objects.get(email="erika@example.org")
    if _open(page, f"{p}/book/confirm/{appointment.confirm_token}/", problems):
        check("booking: e-mail confirmation")


def visit_staff_pages(page, world: World, language: str, check: Check, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    p = PREFIX[language]
    if not _open(page, f"{p}/staff/login/", problems):
        return
    check("staff sign-in")
    page.locator("input[name=username]").fill("manager-a")
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name=SIGN_IN[language]).click()
    page.wait_for_url(re.compile(r"/staff/desk/mitte/"))
    for name, path in {
        "desk: day": f"{p}/staff/desk/mitte/?date={TUESDAY.isoformat()}",
        "desk: queue": f"{p}/staff/desk/mitte/queue/",
        "desk: appointment": f"{p}/staff/appointments/{world.booked.pk}/",
    }.items():
        if _open(page, path, problems):
            check(f"{name} {path}")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("language", list(PREFIX))
def test_axe_finds_no_wcag_violation_on_any_page(tab, world, language: str, viewport: str) -> None:  # type: ignore[no-untyped-def]
    tab.context.clear_cookies()
    tab.set_viewport_size(VIEWPORTS[viewport])
    problems: list[str] = []
    checked: list[str] = []

    def check(name: str) -> None:
        assert tab.evaluate("document.documentElement.lang") == language, f"{name}: not in {language}"
        checked.append(name)
        violations = axe_violations(tab)
        if violations:
            problems.append(describe(f"[{language} {viewport}] {name}", violations))

    with time_machine.travel(at("09:05"), tick=True):
        visit_citizen_pages(tab, world, language, check, problems)
        if _open(tab, f"{PREFIX[language]}/offices/mitte/display/", problems):
            check("call display")
            assert world.called.label in tab.locator("main, body").first.inner_text()
        visit_staff_pages(tab, world, language, check, problems)

    assert not problems, "\n" + "\n".join(problems)
    assert len(checked) == 36, checked  # every page above was reached and checked


def test_no_citizen_page_scrolls_sideways_at_320_pixels(tab, world) -> None:  # type: ignore[no-untyped-def]
    tab.context.clear_cookies()
    tab.set_viewport_size({"width": 320, "height": 640})
    problems: list[str] = []
    checked: list[str] = []

    def check(name: str) -> None:
        checked.append(name)
        width = tab.evaluate("document.documentElement.scrollWidth")
        if width > 320:  # noqa: PLR2004 - the reflow width of WCAG 1.4.10
            problems.append(f"{name}: {width} CSS pixels wide at 320")

    with time_machine.travel(at("09:05"), tick=True):
        visit_citizen_pages(tab, world, "de", check, problems)

    assert not problems, "\n" + "\n".join(problems)
    assert len(checked) == 31, checked
