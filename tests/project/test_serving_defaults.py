"""The server as shipped (README, "Serving"): gthread, a process per core (at least two), 16 threads each, one
write at a time per process, and a database pool of 8 per process (never more than its threads); docker-compose's
web service leaves them at these defaults."""

import os
import runpy
from pathlib import Path

import pytest
import yaml

from buergerservice import serving
from buergerservice import settings as project_settings

ROOT = Path(__file__).resolve().parents[2]
SIZING = (
    "WEB_WORKERS",
    "WEB_THREADS",
    "DATABASE_POOL",
    "DATABASE_POOL_MAX_SIZE",
    "WEB_WRITES",
    "WEB_WRITE_LINE",
    "WEB_WRITE_WAIT",
)


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SIZING:
        monkeypatch.setenv(name, "")  # so that the undo also removes what gunicorn.conf.py exports
        monkeypatch.delenv(name)
    monkeypatch.setenv("SECRET_KEY", "tests-only-not-secret")
    return monkeypatch


def test_gunicorn_runs_gthread_workers_one_per_core_with_sixteen_threads(shipped: pytest.MonkeyPatch) -> None:
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["worker_class"] == "gthread"
    assert config["workers"] == max(2, serving.cores())
    assert config["threads"] == 16
    assert os.environ["WEB_THREADS"] == "16"  # what the workers' settings cap their pool by


def test_each_process_writes_one_at_a_time_and_pools_eight_postgresql_connections(shipped: pytest.MonkeyPatch) -> None:
    shipped.setenv("DATABASE_URL", "postgres://bs@db:5432/bs")
    shipped_settings = runpy.run_path(project_settings.__file__)
    database = shipped_settings["DATABASES"]["default"]
    assert database["OPTIONS"]["pool"]["max_size"] == 8
    assert database["CONN_HEALTH_CHECKS"] is True  # the pool checks a connection before handing it out
    assert (shipped_settings["WEB_WRITES"], shipped_settings["WEB_WRITE_WAIT"]) == (1, 10)
    assert shipped_settings["WEB_WRITE_LINE"] == 12  # all threads but 4 may wait: those stay for reads


def test_the_pool_is_never_larger_than_the_threads_that_use_it(shipped: pytest.MonkeyPatch) -> None:
    shipped.setenv("DATABASE_URL", "postgres://bs@db:5432/bs")
    shipped.setenv("WEB_THREADS", "4")
    assert runpy.run_path(project_settings.__file__)["DATABASES"]["default"]["OPTIONS"]["pool"]["max_size"] == 4
    shipped.setenv("DATABASE_POOL_MAX_SIZE", "12")  # said explicitly: as said
    assert runpy.run_path(project_settings.__file__)["DATABASES"]["default"]["OPTIONS"]["pool"]["max_size"] == 12


def test_docker_compose_leaves_the_web_server_at_these_defaults() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    assert not set(SIZING) & set(web["environment"])
    assert web["command"][:4] == ["gunicorn", "buergerservice.wsgi", "--config", "gunicorn.conf.py"]
