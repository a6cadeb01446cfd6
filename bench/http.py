"""The release minute over HTTP: reads, pages and bookings against gunicorn as shipped, each read beside a floor.

Run by hand from the project root (PostgreSQL, Redis and wrk needed: ``apt-get install -y wrk``;
about 15 minutes with the defaults, of which the city takes one; ``--posts-only`` about 3):

    .venv/bin/python bench/http.py
    .venv/bin/python bench/http.py --seconds 5 --rounds 3 --connections 32
    .venv/bin/python bench/http.py --posts-only

It creates its own PostgreSQL database (``--database-url``, default ``bs_http_bench``, dropped
first and again at the end, Ctrl-C included), migrates it and builds bench/booking.py's city
there (50 offices x 60 days from today, 70 % booked, six services), with the city's last working
day emptied and not yet released. Then it starts the server as the README and docker-compose.yml
ship it (static files collected first, into ``var/http/static``),
``gunicorn buergerservice.wsgi --config gunicorn.conf.py`` (gthread, WEB_WORKERS and
WEB_THREADS at their defaults, the database pool, DEBUG off, the Redis cache in ``--redis-url``,
default database 9, emptied before and after; behind a TLS proxy: every request says
``X-Forwarded-Proto: https``), on 127.0.0.1:``--port`` (8765), its log in ``var/http/server.log``.
The only difference is ``DJANGO_SETTINGS_MODULE=bench.http_settings``: the shipped settings with
one more URL, ``/__floor__/``, a view that returns three bytes (the floor).

1. Reads, with wrk (``--threads`` 2, ``--connections`` 32, ``--seconds`` 10 per run): each read
   right after a floor run of the same length, ``--rounds`` 3 rounds: one office's 30 days of
   free times for 2 services, one office's day, earliest anywhere for 2 services, the live status
   JSON, the home page, and the booking flow's pages /book/, /book/where/ and /book/at/<office>/
   (office reads rotate over the 50 offices, the day over the working days).
2. Bookings (POST /api/v1/appointments) and holds (POST /api/v1/holds) from 16 and 64 clients
   (Python threads, one keep-alive connection each), every POST at a different free start of
   one service (15 minutes), the earliest first, and from an address of its own (another citizen:
   the per-address budgets, caps and locks are each citizen's, as in life), for ``--seconds`` each
   (a client answered 503 by
   the write gate waits its ``Retry-After`` before the next POST); then
   ``integrity_check`` on every office, and pgbench (16 clients, ``--seconds``) of a comparable
   transaction on the same database: UPDATE 3 rows of a copy of the slot table WHERE capacity >
   booked, plus one INSERT.
3. The release minute: the emptied day is released (release time a second ago); the floor with
   256 connections (what 256 waiting clients cost by themselves); then 256 readers (wrk) of that
   day at the 50 offices, reading again at once, while 16 bookers book its first times; then the
   same with the readers pausing about a second between reads (``CITIZEN_THINK_MS``, as citizens
   do; wrk leaves the pause out of the latency) while the bookers go on; then the integrity check
   again.

It prints ``name: value`` lines (req/s, p50/p95 in ms, ratios to the floor, CPU ms of the server's
processes per request), per read the ratio's min/median/max over the rounds, and a summary table.
Exit status 1 if a read answered other than 200, a POST got a 5xx other than the write gate's 503
(busy: nothing done, try again; counted among the other answers) or no answer, or the integrity
check failed.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file's name would hide the standard library's http package from everything imported below, Django too.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import datetime  # noqa: E402
import http.client  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bs_http_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
LOG_DIR = ROOT / "var" / "http"
TWO_SERVICES = "personalausweis,anmeldung"
ONE_SERVICE = "personalausweis"  # what the POSTs book: 15 minutes, three slots
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
POST_CLIENTS = (16, 64)
RELEASE_READERS = 256
RELEASE_BOOKERS = 16
BUSY = 503  # the write gate's answer when its line is full or the wait too long (buergerservice/write_gate.py)
CITIZEN_THINK_MS = 1000  # the release minute's second half: each reader reads again about a second later
PGBENCH_CLIENTS = 16

WRK_SCRIPT = """
-- Each thread walks the list of paths in the file named after --, from its own place; p50/p95 at the end.
local paths, counter = {}, 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  counter = (number * 7919) % #paths
end
function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end
function done(summary, latency, requests)
  io.write(string.format("bench_p50_us %d\\nbench_p95_us %d\\n", latency:percentile(50), latency:percentile(95)))
end
"""

# The same walk, with a citizen's pause between two reads on one connection: args[2] milliseconds on
# average (uniform between half and one and a half times it). wrk leaves the pause out of the latency.
WRK_THINK_SCRIPT = (
    WRK_SCRIPT
    + """
local walk_init = init
function init(args)
  walk_init(args)
  think = tonumber(args[2])
end
function delay()
  return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
end
"""
)

PGBENCH_SCRIPT = """
\\set id random(1, :max_id - 2)
BEGIN;
UPDATE bench_slot SET booked_online = booked_online + 1
 WHERE id BETWEEN :id AND :id + 2 AND capacity > booked_online + booked_phone;
INSERT INTO bench_booking (slot_id, booked_at) VALUES (:id, now());
END;
"""


# Set-up ------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of every wrk, POST and pgbench run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of floor + read pairs (at least 3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections for the reads")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="dropped, created and dropped again")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="the server's cache; emptied before and after")
    parser.add_argument("--only", default="", help="comma-separated read names (a quicker run); default all")
    parser.add_argument("--reads-only", action="store_true", help="the reads only: no POSTs, no release minute")
    parser.add_argument("--posts-only", action="store_true", help="no reads: the POSTs and the release minute")
    args = parser.parse_args(argv)
    name = urlsplit(args.database_url).path.lstrip("/")
    if not name.startswith("bs_http"):
        parser.error(f"the database {name!r} would be dropped: its name must start with 'bs_http'")
    if args.reads_only and args.posts_only:
        parser.error("--reads-only and --posts-only exclude each other")
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds and --seconds must be positive")
    return args


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    """docker-compose.yml's environment for web, on the bench's database, cache and settings module."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.http_settings",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=f"{HOST},localhost",
        TRUST_X_FORWARDED_PROTO="1",
        TRUSTED_PROXY_COUNT="1",
        SITE_URL=f"http://{HOST}:{args.port}",
        EMAIL_BACKEND="locmem",  # the POSTs only queue their messages in Redis; no worker sends them
        SMS_BACKEND="console",
        LOG_LEVEL="INFO",
        STATIC_ROOT=str(LOG_DIR / "static"),  # collected here as at deploy time (the manifest storage needs it)
    )
    for name in ("WEB_WORKERS", "WEB_THREADS", "DATABASE_POOL", "DATABASE_POOL_MAX_SIZE", "DATABASE_POOL_TIMEOUT"):
        env.pop(name, None)  # the defaults, as shipped
    return env


def postgres_admin(url: str, *statements: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        for statement in statements:
            conn.execute(statement)  # the name was checked in parse_args


def database_create(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def database_drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_empty(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@dataclass
class City:
    today: datetime.date
    offices: list[str]
    working_days: list[datetime.date]  # the next 30 days' with slots, for the day read
    release_day: datetime.date
    starts: list[tuple[str, str]] = field(default_factory=list)  # (office, ISO start) free for ONE_SERVICE


def city_prepare() -> City:
    """Migrate, build bench/booking.py's city, empty its last working day and hold it back until the release."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    import bench.booking as booking_bench  # sets Django up (bench/slots.py)
    from bench.slots import DAYS, city_build, refresh_all
    from booking.models import Appointment, Slot
    from booking.needs import needs_from_param, office_needs_minutes
    from booking.selectors import free_starts
    from offices.models import Office

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    last = today + datetime.timedelta(days=DAYS - 1)
    offices = city_build(today, last)
    booking_bench.city_vary_hours()
    refresh_all(offices, today, last)
    booking_bench.services_offer(offices)
    count, share = booking_bench.appointments_insert(offices, today)
    report("offices", len(offices))
    report("days", DAYS)
    report("slots", Slot.objects.count())
    report("appointments", count)
    report("capacity_booked_percent", round(100 * share))

    # A day that is not yet released has no bookings: the last working day is emptied, and the horizon
    # ends the day before it until release_now() moves the release time to a second ago.
    release_day = Slot.objects.aggregate(day=Max("local_date"))["day"]
    start = datetime.datetime.combine(release_day, datetime.time(0), tzinfo=BERLIN)
    Appointment.objects.filter(start__gte=start, start__lt=start + datetime.timedelta(days=1)).delete()
    Slot.objects.filter(local_date=release_day).update(booked_online=0, booked_phone=0)
    Office.objects.update(horizon_days=(release_day - today).days, release_time=datetime.time(23, 59, 59))

    needs = needs_from_param(ONE_SERVICE)
    now = timezone.now()
    starts: list[tuple[datetime.datetime, int, str]] = []
    for index, office in enumerate(offices):
        minutes = office_needs_minutes(office=office, needs=needs)
        days = free_starts(
            office=office, minutes=minutes, now=now, first=today, last=release_day - datetime.timedelta(1)
        )
        starts += [(start, index, office.slug) for day_starts in days.values() for start in day_starts]
    starts.sort()  # the earliest times first, the offices side by side: what citizens want
    working = (
        Slot.objects.filter(local_date__range=(today, today + datetime.timedelta(29)))
        .order_by("local_date")
        .values_list("local_date", flat=True)
        .distinct()
    )
    connection.close()
    return City(
        today=today,
        offices=[office.slug for office in offices],
        working_days=list(working),
        release_day=release_day,
        starts=[(slug, start.astimezone(BERLIN).isoformat()) for start, _index, slug in starts],
    )


def release_now(city: City) -> list[tuple[str, str]]:
    """Release ``city.release_day`` a second ago; its free starts for ONE_SERVICE, the earliest first."""
    from django.db import connection
    from django.utils import timezone

    from booking.needs import needs_from_param, office_needs_minutes
    from booking.selectors import free_starts
    from booking.services.slots import released_until
    from buergerservice import versions
    from offices.models import Office

    now = timezone.now()
    local = now.astimezone(BERLIN)
    released = max(
        (local - datetime.timedelta(seconds=1)).replace(microsecond=0),
        local.replace(hour=0, minute=0, second=0, microsecond=0),
    )
    horizon = (city.release_day - local.date()).days
    Office.objects.update(horizon_days=horizon, release_time=released.time())
    versions.bump(versions.CATALOGUE)  # update() sends no signal: tell the server's kept answers, as a save would
    needs = needs_from_param(ONE_SERVICE)
    starts: list[tuple[datetime.datetime, str]] = []
    for office in Office.objects.order_by("pk"):
        if released_until(office=office, now=timezone.now()) != city.release_day:
            raise SystemExit(f"{office.slug}: the release day {city.release_day} is not released")
        minutes = office_needs_minutes(office=office, needs=needs)
        days = free_starts(office=office, minutes=minutes, now=now, first=city.release_day, last=city.release_day)
        starts += [(start, office.slug) for start in days.get(city.release_day, [])]
    starts.sort()
    connection.close()
    return [(slug, start.astimezone(BERLIN).isoformat()) for start, slug in starts]


def integrity(city: City, name: str) -> bool:
    from django.db import connection

    from booking.integrity import integrity_check
    from offices.models import Office

    started = time.perf_counter()
    result = integrity_check(offices=Office.objects.order_by("pk"), first=city.today)
    report(f"{name}_seconds", time.perf_counter() - started)
    report(name, "clean" if result.ok else "NOT CLEAN")
    if not result.ok:
        for line in result.summary().splitlines()[:12]:
            print(f"  {line}", flush=True)
    connection.close()
    return result.ok


# The server --------------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) != 0


def get(path: str, *, port: int, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": HOST, **PROXY_HEADERS})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def server_start(args: argparse.Namespace, env: dict[str, str], log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn) if gunicorn.exists() else "gunicorn", "buergerservice.wsgi"]
    command += ["--config", "gunicorn.conf.py", "--bind", f"{HOST}:{args.port}"]
    with log.open("wb") as out:
        # A session of its own: a Ctrl-C reaches only this script, which then stops the server.
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            if get("/__floor__/", port=args.port, timeout=2)[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer /__floor__/ within 60 s; see {log}")


def process_stop(process: subprocess.Popen | None) -> None:
    """SIGTERM to gunicorn's master, then SIGKILL to its process group if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def server_cpu_seconds(master: int) -> float:
    """User + system CPU of gunicorn's master and its workers (read from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid, ppid = int(entry.name), int(fields[1])
        if pid == master or ppid == master:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


# Loads -------------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    bad: int  # non-2xx/3xx answers and socket errors
    cpu_ms: float  # the server's CPU per request


def wrk(  # noqa: PLR0913 - wrk's own options
    paths: list[str],
    *,
    port: int,
    seconds: float,
    connections: int,
    threads: int,
    tmp: Path,
    master: int,
    think_ms: int = 0,
) -> WrkResult:
    """wrk over ``paths``: every connection reads again at once, or after a citizen's pause of ``think_ms``."""
    listing = tmp / f"paths-{secrets.token_hex(4)}.txt"
    listing.write_text("\n".join(paths) + "\n")
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s", "--latency"]
    for name, value in {"Host": HOST, **PROXY_HEADERS}.items():
        command += ["-H", f"{name}: {value}"]
    script = tmp / ("think.lua" if think_ms else "paths.lua")
    command += ["-s", str(script), f"http://{HOST}:{port}", "--", str(listing), str(think_ms)]
    time.sleep(1)  # what the previous run left queued is served first, not counted in this one
    cpu = server_cpu_seconds(master)
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 120)  # noqa: S603
    cpu = server_cpu_seconds(master) - cpu
    out = done.stdout
    if done.returncode:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or out}")

    def number(pattern: str, default: str = "0") -> float:
        match = re.search(pattern, out)
        return float(match.group(1) if match else default)

    requests = int(number(r"(\d+) requests in"))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return WrkResult(
        requests=requests,
        seconds=number(r"requests in ([\d.]+)s"),
        rps=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=number(r"bench_p50_us (\d+)") / 1000,
        p95_ms=number(r"bench_p95_us (\d+)") / 1000,
        bad=int(number(r"Non-2xx or 3xx responses: (\d+)")) + errors,
        cpu_ms=1000 * cpu / max(requests, 1),
    )


class Starts:
    """The free starts handed out to the POSTing clients, each once, in order."""

    def __init__(self, starts: list[tuple[str, str]]) -> None:
        self._iterator: Iterator[tuple[str, str]] = iter(starts)
        self._lock = threading.Lock()
        self.taken = 0

    def next(self) -> tuple[str, str] | None:
        with self._lock:
            self.taken += 1
            return next(self._iterator, None)


@dataclass
class PostResult:
    statuses: Counter
    times_ms: list[float]
    seconds: float

    @property
    def created(self) -> int:
        return self.statuses.get(201, 0)

    def percentile(self, share: float) -> float:
        return percentile(self.times_ms, share)


def posts(kind: str, starts: Starts, *, clients: int, seconds: float, port: int) -> PostResult:
    """``clients`` threads, each one keep-alive connection, POST at the next free start until the time is up."""
    path = "/api/v1/appointments" if kind == "bookings" else "/api/v1/holds"
    statuses: Counter = Counter()
    times: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]
    headers = {"Host": HOST, "Content-Type": "application/json", "Accept": "application/json", **PROXY_HEADERS}
    citizens = itertools.count(1)  # every POST another citizen, from an address of its own (as behind the proxy)

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        mine: Counter = Counter()
        my_times: list[float] = []
        barrier.wait()
        while time.monotonic() < deadline[0] and (taken := starts.next()) is not None:
            office, start = taken
            body: dict = {"office": office, "start": start, "services": [{"service": ONE_SERVICE, "persons": 1}]}
            if kind == "bookings":
                body |= {"name": "Erika Mustermann", "email": f"http-{secrets.token_hex(6)}@example.org"}
            started = time.perf_counter()
            try:
                number = next(citizens)
                address = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
                citizen = headers | {"X-Forwarded-For": address}
                conn.request("POST", path, body=json.dumps(body).encode(), headers=citizen)
                response = conn.getresponse()
                response.read()
                mine[response.status] += 1
            except (OSError, http.client.HTTPException):
                mine["no answer"] += 1  # never sent again: a POST may have been carried out
                conn.close()
                response = None
            my_times.append((time.perf_counter() - started) * 1000)
            if response is not None and response.status == BUSY:
                # As a well-behaved client (and a citizen reading "try again in a few seconds"): wait as told.
                pause = float(response.getheader("Retry-After") or 1)
                time.sleep(max(0.0, min(pause, deadline[0] - time.monotonic())))
        conn.close()
        with lock:
            statuses.update(mine)
            times.extend(my_times)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    return PostResult(statuses=statuses, times_ms=times, seconds=time.perf_counter() - started)


def failed(status: int | str) -> bool:
    """No answer, or a 5xx other than 503: the write gate's "busy, try again" (nothing done) is an answer."""
    return status == "no answer" or (int(status) >= 500 and int(status) != BUSY)


def pgbench(url: str, *, seconds: float, tmp: Path) -> float:
    """Transactions per second of PGBENCH_SCRIPT on a copy of the slot table (the real grid stays consistent).

    The copy has the slot table's indexes and checks; the INSERT goes to a narrow table of its own.
    """
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connect = ["-h", parts.hostname or HOST, "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    env = dict(os.environ, PGPASSWORD=parts.password or "")
    setup = (
        "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_slot, bench_booking;"
        "CREATE TABLE bench_slot (LIKE booking_slot INCLUDING ALL);"  # its indexes and checks too
        "INSERT INTO bench_slot SELECT * FROM booking_slot;"
        "CREATE TABLE bench_booking (id bigserial PRIMARY KEY, slot_id bigint NOT NULL, booked_at timestamptz);"
        "ANALYZE bench_slot;"
    )
    subprocess.run(["psql", *connect, "-q", "-v", "ON_ERROR_STOP=1", "-c", setup, name], env=env, check=True)  # noqa: S603, S607
    max_id = subprocess.run(  # noqa: S603
        ["psql", *connect, "-tAc", "SELECT max(id) FROM bench_slot", name],  # noqa: S607
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    script = tmp / "pgbench.sql"
    script.write_text(PGBENCH_SCRIPT)
    command = ["pgbench", *connect, "-n", "-c", str(PGBENCH_CLIENTS), "-j", "2", "-T", f"{round(seconds)}"]
    command += ["-D", f"max_id={max_id}", "-f", str(script), name]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    subprocess.run(["psql", *connect, "-qc", "DROP TABLE bench_slot, bench_booking", name], env=env, check=True)  # noqa: S603, S607
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    if done.returncode or not match:
        raise SystemExit(f"pgbench failed: {done.stderr or done.stdout}")
    return float(match.group(1))


# Output ------------------------------------------------------------------------------------------


def report(name: str, value: object) -> None:
    if isinstance(value, float):
        value = f"{value:.3f}"
    print(f"{name}: {value}", flush=True)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def reads(city: City) -> dict[str, list[str]]:
    """The paths of each read; office reads rotate over the offices, the day read over the working days too."""
    first, last = city.today, city.today + datetime.timedelta(days=29)
    month = [
        f"/api/v1/availability?services={TWO_SERVICES}&office={slug}&date_from={first}&date_to={last}"
        for slug in city.offices
    ]
    days = [
        f"/api/v1/availability?services={ONE_SERVICE}&office={slug}&date_from={day}&date_to={day}"
        for n, slug in enumerate(city.offices)
        for day in [city.working_days[(n * 7) % len(city.working_days)]]
    ]
    return {
        "office_month": month,
        "office_day": days,
        "earliest_anywhere": [f"/api/v1/availability?services={TWO_SERVICES}"],
        "status_json": ["/api/v1/offices/status"],
        "home": ["/"],
        "book_needs": ["/book/"],
        "book_where": [f"/book/where/?services={TWO_SERVICES}"],
        "book_at_office": [f"/book/at/{slug}/?services={TWO_SERVICES}" for slug in city.offices],
    }


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:  # noqa: C901, PLR0912, PLR0915 - one run, told in order
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (Debian's package)")
    if shutil.which("pgbench") is None or shutil.which("psql") is None:
        raise SystemExit("pgbench and psql are needed (apt-get install -y postgresql-client)")
    if not port_free(args.port):
        raise SystemExit(f"something already listens on {HOST}:{args.port}; stop it first")
    env = server_environment(args)
    os.environ.update(env)  # this process builds the city with the server's settings
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    server_log = LOG_DIR / "server.log"
    signal.signal(signal.SIGTERM, interrupt)  # a kill stops the server and drops the database like a Ctrl-C

    commit = subprocess.run(  # noqa: S603
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    report("commit", commit or "unknown")
    report("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    report("cores", len(os.sched_getaffinity(0)))
    report("database", args.database_url)
    failures: list[str] = []
    server = None
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))  # wrk's script and path lists, pgbench's script
    try:
        started = time.monotonic()
        database_create(args.database_url)
        redis_empty(args.redis_url)
        city = city_prepare()
        report("release_day", city.release_day.isoformat())
        report("setup_seconds", time.monotonic() - started)
        if not integrity(city, "integrity_before"):
            failures.append("the city is not consistent")

        from buergerservice.serving import web_threads, web_workers

        subprocess.run(  # noqa: S603 - our own management command, as the Dockerfile runs it
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        server = server_start(args, env, server_log)
        report(
            "server",
            f"gunicorn gthread, {web_workers()} workers x {web_threads()} threads, "
            f"pool of {web_threads()} connections per worker, on {HOST}:{args.port}, log {server_log}",
        )
        report("wrk", f"{args.threads} threads, {args.connections} connections, {args.seconds:g} s per run")
        (tmp / "paths.lua").write_text(WRK_SCRIPT)
        (tmp / "think.lua").write_text(WRK_THINK_SCRIPT)

        def load(paths: list[str], connections: int = args.connections, think_ms: int = 0) -> WrkResult:
            return wrk(
                paths,
                port=args.port,
                seconds=args.seconds,
                connections=connections,
                threads=args.threads,
                tmp=tmp,
                master=server.pid,
                think_ms=think_ms,
            )

        # Every path answers 200 before it is measured (and is read once, as a warm-up).
        all_reads = reads(city)
        if args.posts_only:
            all_reads = {}
        elif args.only:
            all_reads = {name: paths for name, paths in all_reads.items() if name in args.only.split(",")}
        for name, paths in all_reads.items():
            for path in paths:
                status, body = get(path, port=args.port)
                if status != 200:
                    raise SystemExit(f"{name}: GET {path} answered {status}: {body[:300]!r}")
        floor_paths = ["/__floor__/"]
        warm = wrk(
            floor_paths,
            port=args.port,
            seconds=3,
            connections=args.connections,
            threads=args.threads,
            tmp=tmp,
            master=server.pid,
        )
        report("warm_up_floor_rps", warm.rps)

        # 1. Reads, each right after a floor run, interleaved over the rounds.
        results: dict[str, list[tuple[WrkResult, WrkResult]]] = {name: [] for name in all_reads}
        for round_number in range(1, args.rounds + 1):
            for name, paths in all_reads.items():
                floor = load(floor_paths)
                read = load(paths)
                results[name].append((floor, read))
                prefix = f"round{round_number}_{name}"
                report(f"{prefix}_floor_rps", floor.rps)
                report(f"{prefix}_rps", read.rps)
                report(f"{prefix}_p50_ms", read.p50_ms)
                report(f"{prefix}_p95_ms", read.p95_ms)
                report(f"{prefix}_ratio", ratio(read, floor))
                report(f"{prefix}_cpu_ms_per_request", read.cpu_ms)
                if read.bad or floor.bad:
                    report(f"{prefix}_bad_answers", f"{read.bad} (floor {floor.bad})")
                    failures.append(f"{name}: answers other than 2xx/3xx or socket errors")
        summary: list[list[str]] = []
        floors = [floor for pairs in results.values() for floor, _read in pairs]
        if floors:
            report("floor_rps_min_median_max", triple([floor.rps for floor in floors], 0))
            report("floor_p50_ms_median", statistics.median(floor.p50_ms for floor in floors))
            report("floor_p95_ms_median", statistics.median(floor.p95_ms for floor in floors))
            report("floor_cpu_ms_per_request_median", statistics.median(floor.cpu_ms for floor in floors))
        for name, pairs in results.items():
            ratios = [ratio(read, floor) for floor, read in pairs]
            reads_only = [read for _floor, read in pairs]
            report(f"{name}_ratio_min_median_max", triple(ratios, 3))
            report(f"{name}_rps_median", statistics.median(read.rps for read in reads_only))
            report(f"{name}_p50_ms_median", statistics.median(read.p50_ms for read in reads_only))
            report(f"{name}_p95_ms_median", statistics.median(read.p95_ms for read in reads_only))
            report(f"{name}_cpu_ms_per_request_median", statistics.median(read.cpu_ms for read in reads_only))
            summary.append(
                [
                    name,
                    f"{statistics.median(read.rps for read in reads_only):.0f}",
                    f"{statistics.median(floor.rps for floor, _read in pairs):.0f}",
                    triple(ratios, 3),
                    f"{statistics.median(read.p50_ms for read in reads_only):.1f}",
                    f"{statistics.median(read.p95_ms for read in reads_only):.1f}",
                    f"{statistics.median(read.cpu_ms for read in reads_only):.1f}",
                ]
            )

        if not args.reads_only:
            # 2. Bookings and holds, then the integrity check and pgbench.
            starts = Starts(city.starts)
            report("free_starts_for_posts", len(city.starts))
            post_summary: list[list[str]] = []
            for kind in ("bookings", "holds"):
                for clients in POST_CLIENTS:
                    result = posts(kind, starts, clients=clients, seconds=args.seconds, port=args.port)
                    prefix = f"{kind}_{clients}_clients"
                    others = {status: n for status, n in result.statuses.items() if status not in (201, 409)}
                    report(f"{prefix}_posts", sum(result.statuses.values()))
                    report(f"{prefix}_created", result.created)
                    report(f"{prefix}_conflicts_409", result.statuses.get(409, 0))
                    report(f"{prefix}_other_answers", ", ".join(f"{s}={n}" for s, n in others.items()) or "none")
                    report(f"{prefix}_created_per_second", result.created / result.seconds)
                    report(f"{prefix}_posts_per_second", sum(result.statuses.values()) / result.seconds)
                    report(f"{prefix}_p50_ms", result.percentile(0.5))
                    report(f"{prefix}_p95_ms", result.percentile(0.95))
                    if any(failed(status) for status in others):
                        failures.append(f"{prefix}: 5xx or no answer")
                    post_summary.append(
                        [
                            f"{kind}, {clients} clients",
                            f"{result.created / result.seconds:.1f}",
                            f"{sum(result.statuses.values()) / result.seconds:.1f}",
                            f"{result.created} / {result.statuses.get(409, 0)} / {sum(others.values())}",
                            f"{result.percentile(0.5):.0f}",
                            f"{result.percentile(0.95):.0f}",
                        ]
                    )
            if not integrity(city, "integrity_after_posts"):
                failures.append("not consistent after the POSTs")
            tps = pgbench(args.database_url, seconds=args.seconds, tmp=tmp)
            report("pgbench_clients", PGBENCH_CLIENTS)
            report("pgbench_tps", tps)
            bookings_16 = next(row for row in post_summary if row[0] == "bookings, 16 clients")
            report("bookings_16_clients_share_of_pgbench", float(bookings_16[1]) / tps)

            # 3. The release minute.
            release_starts = release_now(city)
            report("release_day_free_starts", len(release_starts))
            day_paths = [
                f"/api/v1/availability?services={ONE_SERVICE}&office={slug}"
                f"&date_from={city.release_day}&date_to={city.release_day}"
                for slug in city.offices
            ]
            release_bookings = Starts(release_starts)
            # The floor with as many connections as the readers: what 256 waiting clients cost by themselves.
            release_floor = load(["/__floor__/"], connections=RELEASE_READERS)
            report("release_floor_256_rps", release_floor.rps)
            report("release_floor_256_p50_ms", release_floor.p50_ms)
            report("release_floor_256_p95_ms", release_floor.p95_ms)
            release: dict[str, tuple[WrkResult, PostResult]] = {}
            for phase, think_ms in (("release", 0), ("release_citizens", CITIZEN_THINK_MS)):
                bookers: list[PostResult] = []
                booking_thread = threading.Thread(
                    target=lambda into=bookers: into.append(
                        posts(
                            "bookings",
                            release_bookings,
                            clients=RELEASE_BOOKERS,
                            seconds=args.seconds,
                            port=args.port,
                        )
                    ),
                    daemon=True,
                )
                booking_thread.start()
                readers = load(day_paths, connections=RELEASE_READERS, think_ms=think_ms)
                booking_thread.join()
                booked = bookers[0]
                release[phase] = (readers, booked)
                report(f"{phase}_readers", RELEASE_READERS)
                report(f"{phase}_readers_pause_ms", think_ms)
                report(f"{phase}_readers_rps", readers.rps)
                report(f"{phase}_readers_p50_ms", readers.p50_ms)
                report(f"{phase}_readers_p95_ms", readers.p95_ms)
                report(f"{phase}_readers_bad_answers", readers.bad)
                report(f"{phase}_bookers", RELEASE_BOOKERS)
                report(f"{phase}_bookers_created", booked.created)
                report(f"{phase}_bookers_conflicts_409", booked.statuses.get(409, 0))
                other = {s: n for s, n in booked.statuses.items() if s not in (201, 409)}
                report(f"{phase}_bookers_other_answers", ", ".join(f"{s}={n}" for s, n in other.items()) or "none")
                report(f"{phase}_bookers_created_per_second", booked.created / booked.seconds)
                report(f"{phase}_bookers_p50_ms", booked.percentile(0.5))
                report(f"{phase}_bookers_p95_ms", booked.percentile(0.95))
                if readers.bad:
                    failures.append(f"{phase} readers: answers other than 2xx/3xx or socket errors")
                if any(failed(status) for status in other):
                    failures.append(f"{phase} bookers: 5xx or no answer")
            if not integrity(city, "integrity_after_release"):
                failures.append("not consistent after the release minute")

        if floors:
            print("\nread | req/s | floor req/s | ratio min/median/max | p50 ms | p95 ms | CPU ms/request")
            print(
                f"floor | | {statistics.median(f.rps for f in floors):.0f} | | "
                f"{statistics.median(f.p50_ms for f in floors):.1f} | "
                f"{statistics.median(f.p95_ms for f in floors):.1f} | "
                f"{statistics.median(f.cpu_ms for f in floors):.2f}"
            )
        for row in summary:
            print(" | ".join(row))
        if not args.reads_only:
            print("\nPOSTs | created/s | POSTs/s | 201 / 409 / other | p50 ms | p95 ms")
            for row in post_summary:
                print(" | ".join(row))
            print(f"pgbench, {PGBENCH_CLIENTS} clients | {tps:.0f} tps")
            print(
                f"floor, {RELEASE_READERS} connections | {release_floor.rps:.0f} req/s, "
                f"p50 {release_floor.p50_ms:.0f} ms, p95 {release_floor.p95_ms:.0f} ms"
            )
            for phase, (readers, booked) in release.items():
                pause = f", {CITIZEN_THINK_MS} ms between reads" if phase == "release_citizens" else ""
                print(
                    f"{phase.replace('_', ' ')} | readers ({RELEASE_READERS}{pause}) {readers.rps:.0f} req/s, "
                    f"p50 {readers.p50_ms:.0f} ms, p95 {readers.p95_ms:.0f} ms | bookers ({RELEASE_BOOKERS}) "
                    f"{booked.created / booked.seconds:.1f} created/s, p95 {booked.percentile(0.95):.0f} ms",
                    flush=True,
                )
    except KeyboardInterrupt:
        print("interrupted: stopping the server and dropping the database", flush=True)
        failures.append("interrupted")
    finally:
        process_stop(server)
        shutil.rmtree(tmp, ignore_errors=True)
        from django.db import connections

        connections.close_all()
        database_drop(args.database_url)
        redis_empty(args.redis_url)
    report("result", "FAILED: " + "; ".join(failures) if failures else "clean")
    return 1 if failures else 0


def ratio(read: WrkResult, floor: WrkResult) -> float:
    """The read's requests per second as a share of the floor's (0 if the floor run got no answer at all)."""
    return read.rps / floor.rps if floor.rps else 0.0


def triple(values: list[float], digits: int) -> str:
    return " / ".join(f"{value:.{digits}f}" for value in (min(values), statistics.median(values), max(values)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
