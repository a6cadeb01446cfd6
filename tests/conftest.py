import os

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory


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


@pytest.fixture
def administrator(db: None) -> UserFactory:
    """The persona who configures offices, hours and services in the admin."""
    return UserFactory(username="administrator", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client: Client, administrator: UserFactory) -> Client:
    client.force_login(administrator)
    return client


@pytest.fixture
def citizen_user(db: None) -> UserFactory:
    """Someone with an account but no staff rights (citizens need no account at all)."""
    return UserFactory(username="citizen")
