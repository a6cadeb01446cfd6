"""The citizen layout in a real browser: keyboard, visible focus, phone width, only our own host."""

import pytest

from tests.factories import OfficeServiceFactory, PublicHolidayFactory, office_with_week

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


@pytest.mark.parametrize("path", ["/", "/offices/buergerbuero-mitte/"])
def test_pages_fit_a_phone_without_sideways_scrolling(browser, live_server, office, path: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(path)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    context.close()
    assert overflow <= 0


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
    from tests.factories import TEST_PASSWORD, UserFactory

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
