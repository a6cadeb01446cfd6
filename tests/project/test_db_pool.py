"""Under load, gunicorn with gunicorn.conf.py stays within workers x pool size PostgreSQL connections.

A real gunicorn (4 workers x 8 threads, a pool of 3 connections per process, so
fewer connections than threads) serves the test database while 64 clients ask
for pages that read it; pg_stat_activity is sampled meanwhile. Without the pool
every thread keeps a connection of its own: up to 32.
"""

import http.client
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from buergerservice import settings as project_settings
from tests.support.desk_steps import desk_world

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("TEST_GUNICORN_PORT", "8301"))
WORKERS, THREADS, POOL_MAX = 4, 8, 3
CLIENTS = 64
SECONDS = 6.0
PAGES = ["/", "/en/", "/offices/mitte/", "/status/", "/api/v1/offices", "/api/v1/services", "/api/v1/offices/status"]


def database_settings(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict:
    """DATABASES["default"] as buergerservice/settings.py builds it from this environment."""
    for name in ("WEB_THREADS", "DATABASE_POOL", "DATABASE_POOL_MAX_SIZE", "DATABASE_CONN_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"SECRET_KEY": "tests-only-not-secret", **environment}.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(project_settings.__file__)["DATABASES"]["default"]


def test_postgresql_gets_a_pool_as_large_as_the_threads_of_one_process(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    database = database_settings(monkeypatch, DATABASE_URL="postgres://bs@db:5432/bs", WEB_THREADS="6")
    assert database["OPTIONS"]["pool"]["max_size"] == 6
    assert database["CONN_MAX_AGE"] == 0  # Django refuses persistent connections with a pool


def test_the_pool_size_can_be_set_apart_from_the_threads(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    database = database_settings(
        monkeypatch, DATABASE_URL="postgres://bs@db:5432/bs", WEB_THREADS="8", DATABASE_POOL_MAX_SIZE="3"
    )
    assert database["OPTIONS"]["pool"]["max_size"] == 3


def test_without_the_pool_connections_are_kept_per_thread_as_before(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    database = database_settings(monkeypatch, DATABASE_URL="postgres://bs@db:5432/bs", DATABASE_POOL="0")
    assert "pool" not in database.get("OPTIONS", {})
    assert database["CONN_MAX_AGE"] == 60


def test_sqlite_stays_without_a_pool(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = database_settings(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert "pool" not in database["OPTIONS"]


def _get(path: str) -> int:
    client = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        client.request("GET", path)
        response = client.getresponse()
        response.read()
        return response.status
    finally:
        client.close()


COUNT = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"


def _server_connections(dsn: str, database: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as probe:
        row = probe.execute(COUNT, [database]).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings_dict = connection.settings_dict
    database = settings_dict["NAME"]
    host, port, user = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432, settings_dict["USER"]
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_CONN_MAX_AGE"}} | {
        "DJANGO_SETTINGS_MODULE": "buergerservice.test_settings",
        "DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{database}",
        "WEB_WORKERS": str(WORKERS),
        "WEB_THREADS": str(THREADS),
        "DATABASE_POOL_MAX_SIZE": str(POOL_MAX),
    }
    # Earlier tests' threads leave idle connections in this process's pool: close it, so the count starts small.
    connection.close_pool()
    connection.ensure_connection()
    dsn = f"host={host} port={port} user={user} dbname=postgres"
    own = _server_connections(dsn, database)  # the test process's own (its connection, its pool's idle ones)
    assert own <= 3, "another process uses the test database; the count would be wrong"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "buergerservice.wsgi",
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{PORT}",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get("/healthz") == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield {"dsn": dsn, "database": database, "log": log, "own": own}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_of_eight_threads_stay_within_their_pools_under_load(server) -> None:  # type: ignore[no-untyped-def]
    desk_world()  # committed: the server's connections see the offices
    # Warm-up: every worker has imported its views and opened its pool before the count begins.
    for path in PAGES * WORKERS * 2:
        assert _get(path) == 200, path
    samples: list[int] = []
    outcomes: list[int | str] = []
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(server["dsn"], autocommit=True) as probe:  # on another database: not counted
            while not stop.is_set():
                row = probe.execute(COUNT, [server["database"]]).fetchone()
                samples.append(int(row[0]) if row else 0)
                time.sleep(0.01)

    def load(start: int) -> None:
        n = start
        while not stop.is_set():
            try:
                outcomes.append(_get(PAGES[n % len(PAGES)]))
            except OSError as error:
                outcomes.append(f"{type(error).__name__}: {error}")
            n += 1

    sampler = threading.Thread(target=sample)
    clients = [threading.Thread(target=load, args=(n,)) for n in range(CLIENTS)]
    sampler.start()
    for client in clients:
        client.start()
    time.sleep(SECONDS)
    stop.set()
    for client in [*clients, sampler]:
        client.join(timeout=60)

    limit = WORKERS * POOL_MAX + server["own"]
    failed = [outcome for outcome in outcomes if outcome != 200]
    report = (
        f"{len(outcomes)} requests, {len(failed)} failed; connections: max {max(samples)} in {len(samples)} "
        f"samples, limit {limit} ({WORKERS} workers x pool of {POOL_MAX} + {server['own']} of the test itself)"
    )
    print(report, "\nsamples:", samples)
    assert not failed, f"{report}; first failures: {failed[:5]}\n{server['log'].read_text()[-3000:]}"
    assert len(outcomes) >= CLIENTS, report
    assert max(samples) <= limit, report
    # Not vacuous: the load did spread over the workers' pools.
    assert max(samples) > WORKERS, report
