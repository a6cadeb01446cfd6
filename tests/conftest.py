import os
import shutil
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client

from tests.support.factories import UserFactory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` skip on SQLite locally; in CI (REQUIRE_POSTGRES=1) nothing may skip them."""
    engine = settings.DATABASES["default"]["ENGINE"]
    on_postgres = "postgresql" in engine
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not on_postgres:
        raise pytest.UsageError(f"REQUIRE_POSTGRES=1 but DATABASE_URL points to {engine}.")
    if not on_postgres:
        skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
        for item in items:
            if item.get_closest_marker("postgres"):
                item.add_marker(skip)
    redis_error = _redis_unreachable()
    if redis_error and os.environ.get("REQUIRE_REDIS") == "1":
        raise pytest.UsageError(f"REQUIRE_REDIS=1 but Redis is not usable: {redis_error}")
    if redis_error:
        skip = pytest.mark.skip(reason=f"needs Redis: {redis_error}")
        for item in items:
            if item.get_closest_marker("redis"):
                item.add_marker(skip)
    if os.environ.get("REQUIRE_BROWSER") != "1" and not shutil.which(CHROMIUM):
        skip = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}: apt-get install chromium")
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(skip)


def _redis_unreachable() -> str:
    """Why tests marked ``redis`` cannot run ("" when they can)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return "set REDIS_URL=redis://..."
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"{url}: {error}"
    return ""


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """The machine's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls of the
    # test itself are still synchronous, so Django's guard against async use is lifted.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, locale="de-DE")
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def administrator(db: None) -> AbstractBaseUser:
    """The persona who configures offices, hours and services in the admin."""
    return UserFactory(username="administrator", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client: Client, administrator: AbstractBaseUser) -> Client:
    client.force_login(administrator)
    return client


@pytest.fixture
def citizen_user(db: None) -> AbstractBaseUser:
    """Someone with an account but no staff rights (citizens need no account at all)."""
    return UserFactory(username="citizen")


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Every test starts with an empty cache: answers reused until a version changes (buergerservice.versions)
    would otherwise outlive the test database they were computed from (ids are used again)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in German: a request to an /en/ page leaves English active in the thread."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def world(db: None):  # type: ignore[no-untyped-def]
    """The clerks' desk world of tests/support/desk_steps.py: offices A and B, their clerks and manager."""
    from tests.support.desk_steps import desk_world

    return desk_world()
