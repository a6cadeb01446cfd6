"""docker-compose.yml and the Dockerfile agree with what the settings read (no Docker engine here)."""

import re
from pathlib import Path

import dj_database_url
import pytest
import yaml

from buergerservice import env as settings_env

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(value: str) -> str:
    """Compose's ${NAME:-default} and ${NAME:?message}, with defaults or a placeholder."""
    return re.sub(r"\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}", lambda m: m.group(2) or f"<{m.group(1)}>", str(value))


def test_compose_runs_web_worker_beat_postgresql_and_redis(compose: dict) -> None:
    assert set(compose["services"]) == {"migrate", "web", "worker", "beat", "db", "redis"}
    assert compose["services"]["web"]["command"][:2] == ["gunicorn", "buergerservice.wsgi"]
    assert compose["services"]["worker"]["command"][:4] == ["celery", "-A", "buergerservice", "worker"]
    assert compose["services"]["beat"]["command"][:4] == ["celery", "-A", "buergerservice", "beat"]
    assert compose["services"]["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


@pytest.mark.parametrize("service", ["web", "worker", "beat", "db", "redis"])
def test_every_long_running_service_has_a_health_check(compose: dict, service: str) -> None:
    check = compose["services"][service]["healthcheck"]
    assert check["test"][0] in {"CMD", "CMD-SHELL"} and len(check["test"]) > 1
    assert check["interval"] and check["retries"] >= 1


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_app_health_checks_use_the_projects_own_checker(compose: dict, service: str) -> None:
    assert compose["services"][service]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "buergerservice.healthcheck",
        service,
    ]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_set_only_variables_the_settings_read(compose: dict, service: str) -> None:
    environment = compose["services"][service]["environment"]
    assert set(environment) <= settings_env.READ, set(environment) - settings_env.READ
    assert {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"} <= set(environment)
    assert environment["DEBUG"] == "0"
    assert ":?" in environment["SECRET_KEY"], "a missing SECRET_KEY must stop compose, not fall back"


def test_the_app_reaches_the_compose_database_and_redis(compose: dict) -> None:
    environment = compose["services"]["web"]["environment"]
    database = dj_database_url.parse(interpolate(environment["DATABASE_URL"]))
    db_env = compose["services"]["db"]["environment"]
    assert (database["HOST"], database["PORT"]) == ("db", 5432)
    assert (database["NAME"], database["USER"]) == (db_env["POSTGRES_DB"], db_env["POSTGRES_USER"])
    assert interpolate(environment["REDIS_URL"]).startswith("redis://redis:6379/")


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_app_services_wait_for_healthy_dependencies_and_migrations(compose: dict, service: str) -> None:
    depends = compose["services"][service]["depends_on"]
    assert depends["db"]["condition"] == depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_the_image_builds_assets_catalogues_and_static_files_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    assert "npm ci" in dockerfile
    assert "pip install --no-cache-dir --disable-pip-version-check -r requirements.txt" in dockerfile
    assert "pybabel -q compile -d locale -D django" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert re.search(r"^USER app$", dockerfile, re.M)


def test_every_variable_read_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in settings_env.READ if f"`{name}`" not in readme)
    assert not missing, f"README.md does not explain: {missing}"
