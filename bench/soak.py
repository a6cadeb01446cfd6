"""Soak test: 32+ citizens booking over HTTP while a manager blocks times and records absences on the same days.

Run by hand from the project root (PostgreSQL and Redis needed; it takes about two minutes):

    .venv/bin/python bench/soak.py --clients 32 --seconds 60

It (re)creates its own PostgreSQL database (``--database-url``, default
``bs_soak``; the name must contain "soak", since it is dropped first), builds
a small city there with the builders of bench/slots.py and bench/booking.py
(4 offices, the next 3 working days, 3 clerks each, walk-in mornings), starts
gunicorn on 127.0.0.1:8601 with DEBUG off (``--workers 3`` as the README ships
it, plus ``--threads``), its log in ``var/soak/server.log``, and Celery's
queue in Redis database 6 (no worker: messages only wait there; the database
is emptied before and after). Then, until ``--seconds`` have passed:

- ``--clients`` threads, each a citizen with its own holds and appointments,
  call /api/v1/ in a random mix: read free times, place a hold, confirm it
  (a third of the confirmations post the same request 2 or 3 times at once),
  extend, release, book without a hold, move (with and without a hold for the
  new time), cancel (a fifth of them twice at once);
- a second process, as a manager through desk.services, blocks a time range of
  an office's day for all counters and unblocks it, records a clerk's
  absence for a day and removes it, over and over on the same offices and
  days; before each unblocking it looks for booked appointments inside the
  blocked range (none can be: the block took every counter), and then and
  after each cycle it runs verify_integrity's check on one repeatable-read
  snapshot (any committed state must be consistent; drift is seen before a
  later cancellation hides it).

Afterwards it stops both, runs ``manage.py verify_integrity`` and prints the
operations by kind, the answers by kind and status, p50/p95 per kind, holds
that became more than one appointment (counted in the database by the
confirmation's e-mail address, unique per hold), appointments found inside a
block, the problems the snapshots saw, the integrity result, and the ERROR
lines and tracebacks in the server's and the manager's logs (in
``var/soak/``). It exits 1 if the grid is not consistent (at the end or in a
snapshot), any answer was a 5xx or none came, a hold became two
appointments, an appointment was found inside a block, or an ERROR line or
traceback was logged. Every process it starts is stopped on the way out, Ctrl-C included.
The database stays for inspection until the next run.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

# The project root before this folder: bench/booking.py would otherwise hide the booking app.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BERLIN = ZoneInfo("Europe/Berlin")
HOST = "127.0.0.1"  # the only address the load is ever sent to
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bs_soak"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"
LOG_DIR = ROOT / "var" / "soak"
OFFICE_PREFIX = "buergerbuero-"
# The services the citizens book (of bench/booking.py's six): 1, 2 and 3 slots, so ranges overlap.
SERVICES = ["meldebescheinigung", "anmeldung", "personalausweis"]
HOLD_EMAIL = "soak-hold-{client}-{n}@example.org"  # one address per hold: its appointments are countable
MAX_DB_CONNECTIONS = 60  # the brief's budget of the shared PostgreSQL (100 in all)
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b")
TRACEBACK = "Traceback (most recent call last)"


# Set-up ------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="citizen threads (default 32)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the load runs (default 60)")
    parser.add_argument("--max-operations", type=int, default=5000, help="per client, a bound besides the time")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="dropped and created again")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Celery's queue; emptied before and after")
    parser.add_argument("--port", type=int, default=8601)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (the README's 3)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker, one connection each")
    parser.add_argument("--offices", type=int, default=4)
    parser.add_argument("--days", type=int, default=3, help="working days from tomorrow")
    parser.add_argument("--clerks", type=int, default=3, help="per office; the last works mornings only")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--request-timeout", type=float, default=30)
    # The manager's process: the same file, started by the soak itself.
    parser.add_argument("--manager", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    name = urlsplit(args.database_url).path.lstrip("/")
    if "soak" not in name:
        parser.error(f"the database {name!r} would be dropped: its name must contain 'soak'")
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")
    if args.workers * args.threads + 3 >= MAX_DB_CONNECTIONS:
        parser.error(f"workers × threads + 3 must stay under {MAX_DB_CONNECTIONS} database connections")
    return args


def django_environment(args: argparse.Namespace, secret_key: str) -> dict[str, str]:
    """The environment of every process of the soak: production settings on the soak's database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="buergerservice.settings",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DEBUG="0",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on the loopback; no proxy in front
        EMAIL_BACKEND="locmem",
        SMS_BACKEND="locmem",
        LOG_LEVEL="INFO",
    )
    return env


def database_recreate(url: str) -> None:
    """Drop and create the soak's database (connected to the server's maintenance database)."""
    import psycopg  # noqa: PLC0415 - only the parent process needs it
    from psycopg import sql  # noqa: PLC0415

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def redis_empty(url: str) -> None:
    import redis  # noqa: PLC0415

    redis.Redis.from_url(url).flushdb()


def working_days(*, count: int) -> list[datetime.date]:
    """The next ``count`` weekdays from tomorrow that are no public holiday (of the imported ones)."""
    from offices.models import PublicHoliday  # noqa: PLC0415

    day = datetime.datetime.now(BERLIN).date()
    days: list[datetime.date] = []
    while len(days) < count:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and not PublicHoliday.objects.filter(date=day).exists():
            days.append(day)
    return days


def city_prepare(args: argparse.Namespace) -> tuple[list[str], list[datetime.date]]:
    """Migrate, then build the city of bench/slots.py and bench/booking.py, smaller, on the next working days."""
    from django.contrib.auth import get_user_model  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    import bench.slots as city  # noqa: PLC0415 - sets Django up
    from bench.booking import services_offer  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    today = datetime.datetime.now(BERLIN).date()
    city.OFFICES, city.CLERKS_PER_OFFICE, city.MORNING_ONLY_CLERKS = args.offices, args.clerks, 1
    # Holidays first: the working days skip them. city_build imports them again (a no-op then).
    from offices.services import public_holidays_import  # noqa: PLC0415

    public_holidays_import(years=[today.year, today.year + 1])
    days = working_days(count=args.days)
    offices = city.city_build(days[0], days[-1])
    services_offer(offices)
    city.refresh_all(offices, days[0], days[-1])
    get_user_model().objects.create(username="soak-manager", email="soak-manager@example.org", is_staff=True)
    slugs = [office.slug for office in offices]
    connection.close()
    return slugs, days


# Processes ---------------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) != 0


def server_start(args: argparse.Namespace, env: dict[str, str], log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
    command += [
        "buergerservice.wsgi",
        "--bind",
        f"{HOST}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--timeout",
        "60",
        "--graceful-timeout",
        "15",
    ]
    with log.open("wb") as out:
        # Its own session: a Ctrl-C reaches only this script, which then stops the server in order.
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            status, _body, _ms = request("GET", "/healthz", port=args.port, timeout=2)
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {log}")


def manager_start(args: argparse.Namespace, env: dict[str, str], deadline: float, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--manager",
        "--deadline",
        f"{deadline:.3f}",
        "--seed",
        str(args.seed),
        "--database-url",
        args.database_url,
    ]
    with log.open("wb") as err:
        return subprocess.Popen(  # noqa: S603 - this very script
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, start_new_session=True
        )


def process_stop(process: subprocess.Popen | None, *, grace: float) -> None:
    """SIGTERM, then SIGKILL to the process's own group (it was started in a session of its own) if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


# HTTP --------------------------------------------------------------------------------------------


def request(method: str, path: str, *, port: int, body: dict | None = None, timeout: float) -> tuple[int, Any, float]:
    """One request on a fresh connection (no keep-alive: a POST is never sent twice after a dropped connection)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.perf_counter()
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Host": HOST, "Accept": "application/json", "Connection": "close"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    ms = (time.perf_counter() - started) * 1000
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = data[:300].decode(errors="replace")
    return response.status, parsed, ms


@dataclass
class Tally:
    """What all clients saw, merged under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    operations: Counter = field(default_factory=Counter)
    answers: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: list[str] = field(default_factory=list)
    confirmations: dict[str, set[str]] = field(default_factory=dict)  # hold token: the booking codes answered


@dataclass
class Held:
    token: str
    office: str
    start: str
    service: str


@dataclass
class Booked:
    token: str
    office: str
    start: str
    service: str


class Citizen:
    """One client thread: its own holds and appointments, a random mix of what citizens do with them."""

    WEIGHTS = {
        "availability": 6,
        "hold": 22,
        "confirm": 18,
        "extend": 6,
        "release": 6,
        "book": 14,
        "move": 12,
        "cancel": 14,
    }

    def __init__(
        self, number: int, *, args: argparse.Namespace, offices: list[str], days: list[datetime.date], tally: Tally
    ) -> None:
        self.number, self.args, self.offices, self.days, self.tally = number, args, offices, days, tally
        self.rng = random.Random(args.seed * 1000 + number)  # noqa: S311 - a repeatable mix, not a secret
        self.holds: list[Held] = []
        self.booked: list[Booked] = []
        self.free: dict[tuple[str, str], list[str]] = {}  # (office, service): free starts read last
        self.count = 0

    # One request, counted.
    def call(self, kind: str, method: str, path: str, body: dict | None = None) -> tuple[int | str, Any]:
        try:
            status, answer, ms = request(
                method, path, port=self.args.port, body=body, timeout=self.args.request_timeout
            )
        except TimeoutError:
            status, answer, ms = "timeout", None, self.args.request_timeout * 1000
        except (OSError, http.client.HTTPException) as error:
            status, answer, ms = "no answer", str(error), 0.0
        with self.tally.lock:
            self.tally.answers[kind][status] += 1
            self.tally.times[kind].append(ms)
            if isinstance(status, int) and status >= 500 and len(self.tally.server_errors) < 10:
                self.tally.server_errors.append(f"{kind} {method} {path}: {status} {str(answer)[:200]}")
        return status, answer

    def calls_at_once(self, times: int, kind: str, method: str, path: str, body: dict | None = None) -> list:
        """The same request from ``times`` threads released together: a double click, a retrying proxy."""
        barrier = threading.Barrier(times)
        results: list = [None] * times

        def one(index: int) -> None:
            try:
                barrier.wait(10)
            except threading.BrokenBarrierError:
                pass
            results[index] = self.call(kind, method, path, body)

        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(times)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def note(self, operation: str) -> None:
        with self.tally.lock:
            self.tally.operations[operation] += 1

    # Choosing times.
    def availability(self, office: str, service: str) -> None:
        query = urlencode({"services": service, "office": office, "date_from": self.days[0], "date_to": self.days[-1]})
        status, answer = self.call("availability", "GET", f"/api/v1/availability?{query}")
        if status == 200:
            self.free[(office, service)] = [
                datetime.datetime.combine(datetime.date.fromisoformat(day["date"]), datetime.time.fromisoformat(t))
                .replace(tzinfo=BERLIN)
                .isoformat()
                for day in answer["days"]
                for t in day["times"]
            ]

    def start_for(self, office: str, service: str) -> str:
        """Mostly a time read as free (often among the earliest, where everyone looks), sometimes any grid time."""
        if self.rng.random() < 0.75:
            if (office, service) not in self.free or self.rng.random() < 0.1:
                self.note("availability")
                self.availability(office, service)
            starts = self.free.get((office, service))
            if starts:
                if self.rng.random() < 0.6:
                    return self.rng.choice(starts[:12])
                return self.rng.choice(starts)
        day = self.rng.choice(self.days)
        minute = self.rng.choice([m for m in range(8 * 60, 16 * 60, 5) if not 12 * 60 <= m < 13 * 60])
        return datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), tzinfo=BERLIN).isoformat()

    def place(self, kind: str, office: str, service: str) -> Held | None:
        start = self.start_for(office, service)
        body = {"office": office, "start": start, "services": [{"service": service, "persons": 1}]}
        status, answer = self.call(kind, "POST", "/api/v1/holds", body)
        if status == 201:
            return Held(answer["token"], office, start, service)
        return None

    # The operations.
    def op_availability(self) -> None:
        self.availability(self.rng.choice(self.offices), self.rng.choice(SERVICES))

    def op_hold(self) -> None:
        held = self.place("hold", self.rng.choice(self.offices), self.rng.choice(SERVICES))
        if held:
            self.holds.append(held)

    def op_confirm(self) -> str:
        held = self.holds.pop(self.rng.randrange(len(self.holds)))
        self.count += 1
        body = {
            "office": held.office,
            "start": held.start,
            "services": [{"service": held.service, "persons": 1}],
            "name": "Erika Mustermann",
            "email": HOLD_EMAIL.format(client=self.number, n=self.count),
            "hold": held.token,
        }
        times = self.rng.choice([2, 3]) if self.rng.random() < 1 / 3 else 1
        results = self.calls_at_once(times, "confirm", "POST", "/api/v1/appointments", body)
        codes = set()
        for status, answer in results:
            # 200 too: a repeated confirmation may answer with the appointment it already made.
            if status in (200, 201) and answer["booking_code"] not in codes:
                codes.add(answer["booking_code"])
                self.booked.append(Booked(answer["manage_token"], held.office, held.start, held.service))
        with self.tally.lock:
            self.tally.confirmations[held.token] = codes
        return "confirm" if times == 1 else f"confirm_x{times}"

    def op_extend(self) -> None:
        held = self.rng.choice(self.holds)
        status, _answer = self.call("extend", "POST", f"/api/v1/holds/{held.token}/extend")
        if status in (404, 409):
            self.holds.remove(held)  # taken away by a block or an absence, or extended too often

    def op_release(self) -> None:
        held = self.holds.pop(self.rng.randrange(len(self.holds)))
        self.call("release", "DELETE", f"/api/v1/holds/{held.token}")

    def op_book(self) -> None:
        office, service = self.rng.choice(self.offices), self.rng.choice(SERVICES)
        start = self.start_for(office, service)
        self.count += 1
        body = {
            "office": office,
            "start": start,
            "services": [{"service": service, "persons": 1}],
            "name": "Max Mustermann",
            "email": f"soak-book-{self.number}-{self.count}@example.org",
        }
        status, answer = self.call("book", "POST", "/api/v1/appointments", body)
        if status == 201:
            self.booked.append(Booked(answer["manage_token"], office, start, service))

    def op_move(self) -> str:
        booked = self.rng.choice(self.booked)
        path = f"/api/v1/appointments/{booked.token}/move"
        if self.rng.random() < 0.4:
            held = self.place("move_hold", booked.office, booked.service)
            if held is None:
                return "move_with_hold"
            status, _answer = self.call("move", "POST", path, {"start": held.start, "hold": held.token})
            if status == 200:
                booked.start = held.start
            else:
                self.call("release", "DELETE", f"/api/v1/holds/{held.token}")
            return "move_with_hold"
        start = self.start_for(booked.office, booked.service)
        status, _answer = self.call("move", "POST", path, {"start": start})
        if status == 200:
            booked.start = start
        elif status == 404:
            self.booked.remove(booked)
        return "move"

    def op_cancel(self) -> str:
        booked = self.booked.pop(self.rng.randrange(len(self.booked)))
        times = 2 if self.rng.random() < 0.2 else 1
        self.calls_at_once(times, "cancel", "DELETE", f"/api/v1/appointments/{booked.token}")
        return "cancel" if times == 1 else "cancel_x2"

    def allowed(self) -> dict[str, int]:
        weights = dict(self.WEIGHTS)
        if not self.holds:
            for name in ("confirm", "extend", "release"):
                weights.pop(name)
        if not self.booked:
            weights.pop("move")
            weights.pop("cancel")
        if len(self.holds) >= 4:
            weights.pop("hold")  # a citizen holds a few times at most, then decides
        if len(self.booked) >= 8:
            weights.pop("book")
            weights["cancel"] *= 3
        return weights

    def run(self, deadline: float, stop: threading.Event) -> None:
        operations = 0
        while operations < self.args.max_operations and time.monotonic() < deadline and not stop.is_set():
            weights = self.allowed()
            name = self.rng.choices(list(weights), list(weights.values()))[0]
            done = getattr(self, f"op_{name}")()
            self.note(done or name)
            operations += 1


def load_run(
    args: argparse.Namespace, offices: list[str], days: list[datetime.date], deadline: float, stop: threading.Event
) -> tuple[Tally, float]:
    tally = Tally()
    citizens = [Citizen(n, args=args, offices=offices, days=days, tally=tally) for n in range(args.clients)]
    failures: list[BaseException] = []

    def run(citizen: Citizen) -> None:
        try:
            citizen.run(deadline, stop)
        except BaseException as error:  # noqa: BLE001 - a broken client is reported, the others go on
            failures.append(error)

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in citizens]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)  # short joins: Ctrl-C reaches the main thread
    if failures:
        raise SystemExit(f"{len(failures)} clients failed, the first with: {failures[0]!r}")
    return tally, time.monotonic() - started


# The manager's process ---------------------------------------------------------------------------


def manager_main(args: argparse.Namespace) -> None:
    """Block and unblock, record and remove absences on the soak's offices and days until the deadline.

    Runs in its own process with its own connection, through desk.services,
    like a manager's clicks. Prints one JSON line with what it did.
    """
    import logging  # noqa: PLC0415

    from django.contrib.auth import get_user_model  # noqa: PLC0415
    from django.db import connection, transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    import bench.slots  # noqa: F401, PLC0415 - sets Django up
    from booking.errors import BookingError
    from booking.grid import local_datetime  # noqa: PLC0415
    from booking.integrity import integrity_check  # noqa: PLC0415
    from booking.models import Appointment, Slot  # noqa: PLC0415
    from booking.services.slots import capacity_refresh  # noqa: PLC0415
    from desk.services import absence_record, block_create, block_remove  # noqa: PLC0415
    from offices.models import Absence, Membership, Office  # noqa: PLC0415

    logger = logging.getLogger("bench.soak.manager")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    rng = random.Random(args.seed + 1)  # noqa: S311
    manager = get_user_model().objects.get(username="soak-manager")
    offices = list(Office.objects.filter(slug__startswith=OFFICE_PREFIX).order_by("pk"))
    days = sorted(set(Slot.objects.filter(office__in=offices).values_list("local_date", flat=True)))
    clerks = {
        office.pk: [m.user for m in Membership.objects.filter(office=office).select_related("user")]
        for office in offices
    }
    done: Counter = Counter()
    inside: list[str] = []
    problems: dict[str, str] = {}  # each problem once, with the snapshot that saw it first

    def snapshot_check(when: str) -> None:
        """verify_integrity's check on one snapshot of the database, while the clients go on writing.

        Every booking, hold and refresh changes the counts and what they count
        in one transaction, so any committed state must be consistent; a
        repeatable-read snapshot sees drift before a later cancellation hides it.
        """
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # the first statement
            report = integrity_check(offices=offices, first=days[0])
        done["integrity_checks"] += 1
        if not report.ok:
            done["integrity_checks_failed"] += 1
            for problem in [*report.slot_problems, *report.uncovered]:
                problems.setdefault(str(problem), when)

    def absence_remove(absence: Absence) -> None:
        """What the admin's delete does, at once rather than after commit: the clerk's offices get their day back."""
        with transaction.atomic():
            absence.delete()
            for office in Office.objects.filter(memberships__user=absence.user_id).distinct().order_by("pk"):
                capacity_refresh(office=office, first=absence.start_date, last=absence.end_date, now=timezone.now())

    def booked_inside(office: Office, day: datetime.date, starts: datetime.time, ends: datetime.time) -> list[str]:
        begin = local_datetime(day, starts.hour * 60 + starts.minute)
        end = local_datetime(day, ends.hour * 60 + ends.minute)
        found = Appointment.objects.filter(
            office=office, status=Appointment.Status.BOOKED, start__lt=end, end__gt=begin
        ).values_list("booking_code", "start", "end", "created_at")
        return [
            f"{code} at {office.slug} {start.astimezone(BERLIN):%d.%m. %H:%M}-{stop.astimezone(BERLIN):%H:%M} "
            f"(booked {created.astimezone(BERLIN):%H:%M:%S.%f}) inside the block {starts:%H:%M}-{ends:%H:%M}"
            for code, start, stop, created in found
        ]

    cycle = 0
    while time.time() < args.deadline and not stopping.is_set() and cycle < 100_000:
        cycle += 1
        # Half the time where most citizens look: the first day's early times.
        office, day = rng.choice(offices), days[0] if rng.random() < 0.5 else rng.choice(days)
        try:
            if cycle % 2:
                first = rng.choice(range(8 * 60, 10 * 60 if rng.random() < 0.5 else 15 * 60, 15))
                length = rng.choice([30, 45, 60, 90])
                starts = datetime.time(first // 60, first % 60)
                last = min(first + length, 16 * 60)
                ends = datetime.time(last // 60, last % 60)
                block, change = block_create(
                    office=office,
                    date=day,
                    starts=starts,
                    ends=ends,
                    counters=None,
                    reason="Soak test",
                    by=manager,
                    now=timezone.now(),
                )
                done["blocks"] += 1
                done["flagged_by_blocks"] += len(change.flagged)
                logger.info("blocked %s %s %s-%s, flagged %s", office.slug, day, starts, ends, len(change.flagged))
                try:
                    time.sleep(rng.uniform(0.1, 0.4))
                    inside += booked_inside(office, day, starts, ends)
                    snapshot_check(f"blocked {office.slug} {day} {starts:%H:%M}-{ends:%H:%M}")
                finally:
                    block_remove(block=block, now=timezone.now())
                    done["unblocks"] += 1
            else:
                clerk = rng.choice(clerks[office.pk])
                absence, change = absence_record(
                    user=clerk,
                    kind=Absence.Kind.SICK,
                    first=day,
                    last=day,
                    note="Soak test",
                    by=manager,
                    now=timezone.now(),
                )
                done["absences"] += 1
                done["flagged_by_absences"] += len(change.flagged)
                logger.info("absence of %s at %s %s, flagged %s", clerk, office.slug, day, len(change.flagged))
                try:
                    time.sleep(rng.uniform(0.1, 0.4))
                finally:
                    absence_remove(absence)
                    done["absences_removed"] += 1
            snapshot_check(f"after cycle {cycle}")
        except BookingError as error:
            done["refused"] += 1
            logger.warning("soak manager: refused: %s", error)
        except Exception:  # logged with its traceback: the soak counts it as a finding
            done["failed"] += 1
            logger.exception("soak manager: cycle %s at %s on %s failed", cycle, office.slug, day)
        time.sleep(rng.uniform(0.02, 0.1))
    print(
        json.dumps(
            {
                "cycles": cycle,
                **done,
                "inside_blocks": inside,
                "problems": [f"{when}: {p}" for p, when in problems.items()],
            }
        ),
        flush=True,
    )


# The report --------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def log_findings(path: Path) -> tuple[list[str], int]:
    """ERROR/CRITICAL lines (gunicorn's "[ERROR]" and Django's "ERROR name:") and the number of tracebacks."""
    if not path.exists():
        return [], 0
    text = path.read_text(errors="replace")
    return [line for line in text.splitlines() if ERROR_LINE.search(line)], text.count(TRACEBACK)


def holds_with_several_appointments() -> list[tuple[str, int]]:
    """From the database: confirmation addresses (one per hold) with more than one appointment, cancelled ones too."""
    from django.db.models import Count  # noqa: PLC0415

    from booking.models import Appointment  # noqa: PLC0415

    return list(
        Appointment.objects.filter(email__startswith="soak-hold-")
        .values("email")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by("email")
        .values_list("email", "n")
    )


def appointment_statuses() -> dict[str, int]:
    from django.db.models import Count  # noqa: PLC0415

    from booking.models import Appointment  # noqa: PLC0415

    return dict(Appointment.objects.values("status").annotate(n=Count("pk")).values_list("status", "n"))


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:  # noqa: PLR0915 - one run, told in order
    args = parse_args(argv)
    env = django_environment(args, secrets.token_urlsafe(50))
    if args.manager:
        os.environ.update(env)
        manager_main(args)
        return 0

    os.environ.update(env)
    if not port_free(args.port):
        raise SystemExit(f"something already listens on {HOST}:{args.port}; stop it first")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    server_log, manager_log = LOG_DIR / "server.log", LOG_DIR / "manager.log"
    signal.signal(signal.SIGTERM, interrupt)  # a kill stops the children like a Ctrl-C

    print(f"database: {args.database_url}", flush=True)
    started = time.monotonic()
    database_recreate(args.database_url)
    redis_empty(args.redis_url)
    offices, days = city_prepare(args)
    print(f"offices: {len(offices)} ({', '.join(offices)})")
    print(f"days: {', '.join(day.isoformat() for day in days)}")
    print(f"setup_seconds: {time.monotonic() - started:.1f}")
    print(f"server: gunicorn {args.workers} workers × {args.threads} threads on {HOST}:{args.port}, log {server_log}")
    print(f"clients: {args.clients}, seconds: {args.seconds:g}", flush=True)

    server = manager = None
    stop = threading.Event()
    manager_summary: dict[str, Any] = {}
    interrupted = False
    try:
        server = server_start(args, env, server_log)
        deadline = time.monotonic() + args.seconds
        manager = manager_start(args, env, time.time() + args.seconds, manager_log)
        try:
            tally, seconds = load_run(args, offices, days, deadline, stop)
        except KeyboardInterrupt:
            interrupted = True
            stop.set()
            raise
        try:
            out, _err = manager.communicate(timeout=120)
            lines = out.decode().strip().splitlines()
            manager_summary = json.loads(lines[-1]) if lines else {}
        except subprocess.TimeoutExpired:
            manager_summary = {"error": "did not finish in time; stopped"}
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: stopping the server and the manager", flush=True)
    finally:
        stop.set()
        process_stop(manager, grace=30)
        process_stop(server, grace=30)
        redis_empty(args.redis_url)
    if interrupted:
        return 130

    integrity = subprocess.run(  # noqa: S603 - our own management command
        [sys.executable, "manage.py", "verify_integrity", "--skip-checks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    several = holds_with_several_appointments()
    several_answered = {token: codes for token, codes in tally.confirmations.items() if len(codes) > 1}
    statuses = appointment_statuses()

    requests = sum(sum(counter.values()) for counter in tally.answers.values())
    print(f"load_seconds: {seconds:.1f}")
    print(f"requests: {requests} ({requests / seconds:.1f} per second)")
    print("operations:")
    for name, count in sorted(tally.operations.items()):
        print(f"  {name}: {count}")
    print("answers (request kind: status=count), p50 / p95 ms:")
    for kind in sorted(tally.answers):
        answers = " ".join(f"{status}={count}" for status, count in sorted(tally.answers[kind].items(), key=str))
        times = tally.times[kind]
        print(f"  {kind}: {answers}  {statistics.median(times):.1f} / {percentile(times, 0.95):.1f}")
    five_hundreds = sum(
        count
        for counter in tally.answers.values()
        for status, count in counter.items()
        if isinstance(status, int) and status >= 500
    )
    no_answer = sum(
        count for counter in tally.answers.values() for status, count in counter.items() if not isinstance(status, int)
    )
    print(f"answers_5xx: {five_hundreds}")
    for line in tally.server_errors[:5]:
        print(f"  {line}")
    print(f"requests_without_answer: {no_answer}")
    print(f"appointments_in_database: {', '.join(f'{s} {n}' for s, n in sorted(statuses.items()))}")
    confirmed = sum(1 for codes in tally.confirmations.values() if codes)
    print(f"holds_confirmed: {confirmed} of {len(tally.confirmations)} confirmed")
    print(f"holds_with_more_than_one_appointment: {len(several)} (answered with two codes: {len(several_answered)})")
    for email, count in several[:5]:
        print(f"  {email}: {count} appointments")
    print(
        "manager: "
        + ", ".join(f"{key} {value}" for key, value in manager_summary.items() if not isinstance(value, list))
    )
    inside = manager_summary.get("inside_blocks", [])
    print(f"appointments_booked_inside_a_block: {len(inside)}")
    for line in inside[:5]:
        print(f"  {line}")
    during = manager_summary.get("problems", [])
    snapshots = manager_summary.get("integrity_checks", 0)
    failed = manager_summary.get("integrity_checks_failed", 0)
    print(f"integrity_problems_during_the_run: {len(during)} different, in {failed} of {snapshots} snapshots")
    for line in during[:5]:
        print(f"  {line}")
    print(f"verify_integrity: exit {integrity.returncode}")
    output = (integrity.stdout + integrity.stderr).strip().splitlines()
    for line in output[:12] + (["  ..."] + output[-2:] if len(output) > 14 else output[12:]):
        print(f"  {line}")

    failures = []
    for name, path in (("server", server_log), ("manager", manager_log)):
        errors, tracebacks = log_findings(path)
        print(f"{name}_log_error_lines: {len(errors)}, tracebacks: {tracebacks} ({path})")
        kinds = Counter(re.sub(r"\d+", "N", line.split(" ", 2)[-1]) for line in errors)
        for kind, count in kinds.most_common(5):
            print(f"  {count} × {kind[:200]}")
        for line in errors[:3]:
            print(f"  first: {line[:300]}")
        if errors or tracebacks:
            failures.append(f"ERROR lines or tracebacks in the {name} log")
    if integrity.returncode:
        failures.append("verify_integrity is not clean")
    if five_hundreds:
        failures.append("5xx answers")
    if no_answer:
        failures.append("requests without an answer")
    if several or several_answered:
        failures.append("a hold became more than one appointment")
    if inside:
        failures.append("appointments booked inside a block")
    if during:
        failures.append("integrity problems during the run")
    if "error" in manager_summary or not manager_summary:
        failures.append("the manager's process did not report")
    print(f"soak: {'FAILED: ' + '; '.join(failures) if failures else 'clean'}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
