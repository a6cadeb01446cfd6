"""The server as shipped (README, "Serving"): gthread, a process per core (at least two), 8 threads each, and a
database pool per process as large as its threads; docker-compose's web service leaves them at these defaults."""

import os
import runpy
from pathlib import Path

import pytest
import yaml

from buergerservice import serving
from buergerservice import settings as project_settings

ROOT = Path(__file__).resolve().parents[2]
SIZING = ("WEB_WORKERS", "WEB_THREADS", "DATABASE_POOL", "DATABASE_POOL_MAX_SIZE")


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SIZING:
        monkeypatch.setenv(name, "")  # so that the undo also removes what gunicorn.conf.py exports
        monkeypatch.delenv(name)
    monkeypatch.setenv("SECRET_KEY", "tests-only-not-secret")
    return monkeypatch


def test_gunicorn_runs_gthread_workers_one_per_core_with_eight_threads(shipped: pytest.MonkeyPatch) -> None:
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["worker_class"] == "gthread"
    assert config["workers"] == max(2, serving.cores())
    assert config["threads"] == 8
    assert os.environ["WEB_THREADS"] == "8"  # what the workers' settings size their pool by


def test_each_process_pools_as_many_postgresql_connections_as_it_has_threads(shipped: pytest.MonkeyPatch) -> None:
    shipped.setenv("DATABASE_URL", "postgres://bs@db:5432/bs")
    database = runpy.run_path(project_settings.__file__)["DATABASES"]["default"]
    assert database["OPTIONS"]["pool"]["max_size"] == serving.web_threads() == 8
    assert database["CONN_HEALTH_CHECKS"] is True  # the pool checks a connection before handing it out


def test_docker_compose_leaves_the_web_server_at_these_defaults() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    assert not set(SIZING) & set(web["environment"])
    assert web["command"][:4] == ["gunicorn", "buergerservice.wsgi", "--config", "gunicorn.conf.py"]
