"""A release minute with bots: honest citizens against scripted bots over HTTP, before and after the defences.

Run by hand from the project root (PostgreSQL and Redis needed; about two minutes with the defaults):

    .venv/bin/python bench/bots.py
    .venv/bin/python bench/bots.py --citizens 40 --bots 2 --bot-mail distinct
    .venv/bin/python bench/bots.py --bot-mail distinct --confirm

It creates its own database (``--database-url``, default ``bs_http_bots``, dropped first and at the
end) with one office (``--counters`` clerks, Mon-Fri 08:00-12:00 and 13:00-16:00, identity cards in
15 minutes) whose next working day is not yet released, and starts the server as shipped
(``bench/http.py``'s gunicorn, settings ``bench.http_settings`` with the defences as configured
below). Then, twice, on the same fresh day:

- **before**: the defences off, as the product was when a script booked a day in six seconds:
  ``PROOF_OF_WORK=0``, every ``RATE_LIMIT_*`` and the hold and per-person caps far out of reach;
- **after**: the shipped defaults (proof of work, budgets per address, per-person limit by
  normalised address, hold caps).

At the release (the day is released a second before the actors start):

- ``--citizens`` honest citizens, each from its own address, arrive spread over the first
  ``--arrival`` seconds: each reads the day's free times, thinks (``--think`` seconds, 0.5 to 1.5
  times it), fetches and solves a proof of work (as the widget does; at least a second, a
  browser's pace), holds one of the five earliest free times, types (``--typing`` seconds, 0.5
  to 1.5 times it) and books it with the hold; a time taken meanwhile is answered with the
  nearest free ones, of which the citizen takes one (at most 10 tries);
- ``--bots`` bots, each from one address, as fast as they can: read the free times, and for each
  book it directly (solving the proof of work where it is asked for), with ``bot+N@example.org``
  addresses (``--bot-mail plus``, as the script that booked a day) or a new mailbox each time
  (``--bot-mail distinct``); a 429 is waited out (its ``Retry-After``), until the day is full
  or ``--seconds`` are over.

With ``--confirm`` the office of the **after** phase also asks for e-mail confirmation: each citizen
opens the link ``--mail`` seconds (0.5 to 1.5 times it) after booking; the bots do not (their
addresses are read by nobody) unless ``--bot-confirms``. At the end the lapse sweep runs as at the
last deadline, and the table shows who is left booked ("final").

It prints, per phase: the times and units released, who got them (citizens, bots, the share of
each), the bots' CPU seconds per appointment (the bot threads' own CPU time, their solving
included), the citizens who booked and their p50/p95 time from arrival to the confirmation, and the
answers the bots got. The aim: a bot gets no more than one citizen's share, and the citizens' p95
stays under 10 seconds.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/http.py would hide the standard library's http package from everything imported below.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import datetime  # noqa: E402
import http.client  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from urllib.parse import urlencode, urlsplit  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_http", HERE / "http.py")
bench_http = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(bench_http)  # type: ignore[union-attr]

BERLIN = ZoneInfo("Europe/Berlin")
HOST = bench_http.HOST
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bs_http_bots"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
SERVICE = "personalausweis"
LOG_DIR = ROOT / "var" / "http"
DEFENCES_OFF = {
    # bench.http_settings switches the proof of work off and the budgets out of reach without BENCH_DEFENCES.
    "BOOKING_HOLDS_PER_ADDRESS": "100000",
    "BOOKING_MAX_ACTIVE_PER_EMAIL": "100000",
    "BOOKING_HOLD_COOLDOWN_MINUTES": "0",
}
SOLVE_AT_LEAST = 1.0  # seconds: a citizen's browser is no faster than this at the default cost
TRIES = 10


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=30)
    parser.add_argument("--bots", type=int, default=1)
    parser.add_argument("--bot-mail", choices=("plus", "distinct"), default="plus")
    parser.add_argument("--counters", type=int, default=2, help="clerks of the office all day")
    parser.add_argument("--arrival", type=float, default=20, help="citizens arrive over this many seconds")
    parser.add_argument("--think", type=float, default=2, help="seconds a citizen looks at the times")
    parser.add_argument("--typing", type=float, default=4, help="seconds a citizen types name and e-mail")
    parser.add_argument("--seconds", type=float, default=60, help="the longest a phase runs")
    parser.add_argument(
        "--confirm",
        action="store_true",
        help="after the defences, the office also asks for e-mail confirmation: citizens confirm from their "
        "mailbox, bots (whose addresses nobody reads) do not, and their bookings lapse",
    )
    parser.add_argument("--bot-confirms", action="store_true", help="with --confirm: bots read their mail too")
    parser.add_argument("--mail", type=float, default=5, help="seconds until a citizen opens the link")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args(argv)
    if not urlsplit(args.database_url).path.lstrip("/").startswith("bs_http"):
        parser.error("the database would be dropped: its name must start with 'bs_http'")
    return args


# The city


def django_setup(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buergerservice.settings")
    os.environ.setdefault("SECRET_KEY", "bench-bots-only")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


def office_build(counters: int) -> tuple[str, datetime.date]:
    """One office, its next working day built but not released; returns its slug and that day."""
    from django.core.management import call_command
    from django.utils import timezone

    from tests.support.factories import bookable_office, offer

    call_command("migrate", verbosity=0)
    day = timezone.localdate() + datetime.timedelta(days=1)
    while day.weekday() >= 5:  # noqa: PLR2004 - Saturday
        day += datetime.timedelta(days=1)
    office = bookable_office(counters=counters, first=day, last=day, slug="mitte", min_notice_minutes=0)
    offer(office, SERVICE, 15)
    return office.slug, day


def day_reset(day: datetime.date) -> None:
    """Nothing booked or held on the day, and the day not released (released_until ends the day before)."""
    from booking.models import Appointment, Hold, Slot
    from buergerservice import versions
    from offices.models import Office

    Hold.objects.all().delete()
    Appointment.objects.all().delete()
    Slot.objects.filter(local_date=day).update(booked_online=0, booked_phone=0)
    Office.objects.update(horizon_days=(day - datetime.date.today()).days, release_time=datetime.time(23, 59, 59))  # noqa: DTZ011 - the server's local date, as localdate
    versions.bump(versions.CATALOGUE)


def release(day: datetime.date) -> tuple[int, int]:
    """Release the day a second ago; returns its free start times and free online units."""
    from django.db.models import F, Sum
    from django.utils import timezone

    from booking.models import Slot
    from buergerservice import versions
    from offices.models import Office

    local = timezone.now().astimezone(BERLIN) - datetime.timedelta(seconds=1)
    Office.objects.update(horizon_days=(day - local.date()).days, release_time=local.time().replace(microsecond=0))
    versions.bump(versions.CATALOGUE)
    slots = Slot.objects.filter(local_date=day)
    units = slots.aggregate(units=Sum(F("capacity") - F("phone_reserve")))["units"] or 0
    return slots.count(), units


def outcome(day: datetime.date, *, booked_only: bool = False) -> Counter:
    """Who booked the day: every appointment made, or (``booked_only``) those still booked after the lapse."""
    from booking.models import Appointment

    got: Counter = Counter()
    appointments = Appointment.objects.filter(start__date__gte=day)
    if booked_only:
        appointments = appointments.filter(status=Appointment.Status.BOOKED)
    for email in appointments.values_list("email", flat=True):
        got["bots" if email.startswith("bot") else "citizens"] += 1
    return got


# HTTP


class Client:
    """One keep-alive connection from one address (the proxy says whose: TRUSTED_PROXY_COUNT=1)."""

    def __init__(self, port: int, address: str) -> None:
        self.port, self.address = port, address
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def call(self, method: str, path: str, body: object = None, **headers: str) -> tuple[int, dict, dict]:
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Accept-Language": "en",
            **headers,
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt:
                    raise
        answer = (
            json.loads(raw) if raw and response.getheader("Content-Type", "").startswith("application/json") else {}
        )
        return response.status, answer, dict(response.getheaders())

    def proof(self) -> str:
        from altcha import Challenge, Payload, solve_challenge

        status, body, _headers = self.call("GET", "/api/v1/challenge")
        if status != 200:  # noqa: PLR2004
            return ""
        challenge = Challenge.from_dict(body)
        solution = solve_challenge(challenge)
        return Payload(challenge, solution).to_base64() if solution else ""

    def free(self, slug: str, day: datetime.date) -> list[str]:
        query = urlencode({"services": SERVICE, "office": slug, "date_from": day, "date_to": day})
        status, body, _headers = self.call("GET", f"/api/v1/availability?{query}")
        if status != 200:  # noqa: PLR2004
            return []
        return [
            datetime.datetime.combine(
                datetime.date.fromisoformat(entry["date"]), datetime.time.fromisoformat(clock), tzinfo=BERLIN
            ).isoformat()
            for entry in body.get("days", [])
            for clock in entry["times"]
        ]


@dataclass
class Phase:
    slug: str
    day: datetime.date
    port: int
    proof: bool
    deadline: float
    confirm: bool = False
    citizen_seconds: list[float] = field(default_factory=list)
    citizen_waits: list[float] = field(default_factory=list)  # the same, less the citizens' own pauses
    citizens_without: int = 0
    citizen_failures: Counter = field(default_factory=Counter)
    bot_cpu: float = 0.0
    bot_answers: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def citizen(phase: Phase, args: argparse.Namespace, number: int, rng: random.Random) -> None:
    time.sleep(rng.uniform(0, args.arrival))
    arrived = time.monotonic()
    paused = 0.0  # the citizen's own time (looking, typing), left out of the system's share of the wait

    def pause(seconds: float) -> None:
        nonlocal paused
        time.sleep(seconds)
        paused += seconds

    client = Client(phase.port, f"10.{number // 250}.{number % 250}.{rng.randrange(1, 250)}")
    times = client.free(phase.slug, phase.day)
    pause(args.think * rng.uniform(0.5, 1.5))
    outcome = "no free time"
    for _try in range(TRIES):
        if not times or time.monotonic() > phase.deadline:
            break
        chosen = rng.choice(times[:5])  # early, as everybody wants, but not all the very first
        headers = {}
        if phase.proof:
            solving = time.monotonic()
            headers["Altcha"] = client.proof()
            pause(max(0.0, SOLVE_AT_LEAST - (time.monotonic() - solving)))  # a browser is no faster
        status, body, _headers = client.call(
            "POST",
            "/api/v1/holds",
            {"office": phase.slug, "start": chosen, "services": [{"service": SERVICE}]},
            **headers,
        )
        outcome = f"hold {status}"
        if status == 409:  # noqa: PLR2004 - taken meanwhile: the nearest free times come with the answer
            times = body.get("nearest") or client.free(phase.slug, phase.day)
            continue
        if status != 201:  # noqa: PLR2004
            break
        pause(args.typing * rng.uniform(0.5, 1.5))
        booking = {
            "office": phase.slug,
            "start": chosen,
            "services": [{"service": SERVICE}],
            "name": f"Citizen {number}",
            "email": f"citizen{number}@example.org",
            "hold": body["token"],
        }
        status, body, _headers = client.call("POST", "/api/v1/appointments", booking)
        if status in (200, 201):
            took = time.monotonic() - arrived
            with phase.lock:
                phase.citizen_seconds.append(took)
                phase.citizen_waits.append(took - paused)
            if phase.confirm:
                time.sleep(args.mail * rng.uniform(0.5, 1.5))
                confirm_from_mailbox(body["manage_token"])
            return
        outcome = f"booking {status}"
        break
    with phase.lock:
        phase.citizens_without += 1
        phase.citizen_failures[outcome] += 1


def confirm_from_mailbox(manage_token: str) -> None:
    """What opening the link in the e-mail does (the service the confirm page calls), in this thread."""
    from django.db import connection
    from django.utils import timezone

    from booking.models import Appointment
    from booking.services.confirmation import appointment_confirm

    try:
        appointment_confirm(appointment=Appointment.objects.get(manage_token=manage_token), now=timezone.now())
    finally:
        connection.close()


def lapse_all(day: datetime.date) -> int:
    """The sweep at the deadline of every booking still unconfirmed; returns how many it freed."""
    from django.db.models import Max
    from django.utils import timezone

    from booking.models import Appointment
    from booking.services.confirmation import appointments_lapse

    last = Appointment.objects.filter(start__date__gte=day).aggregate(last=Max("confirm_by"))["last"]
    return appointments_lapse(now=max(last, timezone.now()) + datetime.timedelta(seconds=1)) if last else 0


def bot(phase: Phase, args: argparse.Namespace, number: int) -> None:
    started = time.thread_time()
    client = Client(phase.port, f"198.51.100.{number + 1}")
    booked = 0
    answers: Counter = Counter()
    while time.monotonic() < phase.deadline:
        times = client.free(phase.slug, phase.day)
        if not times:
            break
        for start in times:
            if time.monotonic() > phase.deadline:
                break
            mail = (
                f"bot+{number}-{booked}@example.org" if args.bot_mail == "plus" else f"bot{number}x{booked}@example.org"
            )
            headers = {"Altcha": client.proof()} if phase.proof else {}
            booking = {
                "office": phase.slug,
                "start": start,
                "services": [{"service": SERVICE}],
                "name": "Bot",
                "email": mail,
            }
            status, body, response_headers = client.call("POST", "/api/v1/appointments", booking, **headers)
            answers[status] += 1
            if answers[status] == 1 and status not in (201, 409):  # noqa: PLR2004 - each kind of refusal once
                bench_http.report(f"bot{number}.first_{status}", json.dumps(body)[:300])
            if status == 201:  # noqa: PLR2004
                booked += 1
                if phase.confirm and args.bot_confirms:
                    confirm_from_mailbox(body["manage_token"])
            elif status == 429:  # noqa: PLR2004
                time.sleep(
                    min(float(response_headers.get("Retry-After", "1")), max(0.0, phase.deadline - time.monotonic()))
                )
                break  # read the times again after the wait
            elif status == 422:  # noqa: PLR2004 - the per-person limit: a new mailbox would be needed
                if args.bot_mail == "plus":
                    continue
    with phase.lock:
        phase.bot_cpu += time.thread_time() - started
        phase.bot_answers.update(answers)


def phase_run(name: str, args: argparse.Namespace, slug: str, day: datetime.date, *, defences: bool) -> dict:
    env = bench_http.server_environment(args)
    env.update({"BENCH_DEFENCES": "1"} if defences else DEFENCES_OFF)
    bench_http.redis_empty(args.redis_url)
    day_reset(day)
    from offices.models import Office

    confirm = defences and args.confirm
    Office.objects.update(confirm_email=confirm)
    log = LOG_DIR / f"bots-{name}.log"
    server = bench_http.server_start(args, env, log)
    try:
        times, units = release(day)
        phase = Phase(
            slug=slug,
            day=day,
            port=args.port,
            proof=defences,
            deadline=time.monotonic() + args.seconds,
            confirm=confirm,
        )
        rng = random.Random(args.seed)  # noqa: S311 - arrival times, not secrets
        threads = [
            threading.Thread(target=citizen, args=(phase, args, number, random.Random(rng.random())), daemon=True)  # noqa: S311
            for number in range(args.citizens)
        ]
        threads += [
            threading.Thread(target=bot, args=(phase, args, number), daemon=True) for number in range(args.bots)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + 120)
    finally:
        bench_http.process_stop(server)
    got = outcome(day)
    bots_got = got["bots"]
    lapsed = lapse_all(day) if confirm else 0
    final = outcome(day, booked_only=True)
    return {
        "phase": name,
        "times_released": times,
        "units_released": units,
        "appointments": got["citizens"] + bots_got,
        "citizens_booked": got["citizens"],
        "citizens_without": phase.citizens_without,
        "bots_booked": bots_got,
        "bots_share": bots_got / max(1, got["citizens"] + bots_got),
        "lapsed_unconfirmed": lapsed,
        "citizens_final": final["citizens"],
        "bots_final": final["bots"],
        "bots_final_share": final["bots"] / max(1, final["citizens"] + final["bots"]),
        "one_citizen_share": 1 / (args.citizens + args.bots),
        "bot_cpu_seconds_per_appointment": phase.bot_cpu / bots_got if bots_got else float("inf"),
        "bot_cpu_seconds": phase.bot_cpu,
        "bot_answers": dict(sorted(phase.bot_answers.items())),
        "citizen_p50_seconds": bench_http.percentile(phase.citizen_seconds, 0.5),
        "citizen_p95_seconds": bench_http.percentile(phase.citizen_seconds, 0.95),
        "citizen_wait_p50_seconds": bench_http.percentile(phase.citizen_waits, 0.5),
        "citizen_wait_p95_seconds": bench_http.percentile(phase.citizen_waits, 0.95),
        "citizen_failures": dict(phase.citizen_failures),
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    bench_http.database_create(args.database_url)
    try:
        django_setup(args)
        slug, day = office_build(args.counters)
        from django.db import connection

        bench_http.report("office", f"{slug}, {args.counters} counters, the day {day}")
        bench_http.report("actors", f"{args.citizens} citizens, {args.bots} bot(s), bot mail {args.bot_mail}")
        results = []
        for name, defences in (("before", False), ("after", True)):
            connection.close()
            result = phase_run(name, args, slug, day, defences=defences)
            results.append(result)
            for key, value in result.items():
                bench_http.report(f"{name}.{key}", value)
        print()
        columns = {
            "phase": "phase",
            "citizens_booked": "citizens booked",
            "citizens_without": "citizens without",
            "bots_booked": "bots booked",
            "bots_share": "bots' share",
            "bots_final": "bots' final",
            "bots_final_share": "bots' final share",
            "one_citizen_share": "one citizen's share",
            "bot_cpu_seconds_per_appointment": "bot CPU s per appointment",
            "citizen_p95_seconds": "citizens' p95 s",
            "citizen_wait_p95_seconds": "of it waiting, p95 s",
        }
        print("| " + " | ".join(columns.values()) + " |")
        print("|" + "---|" * len(columns))
        for result in results:
            cells = [f"{result[key]:.3f}" if isinstance(result[key], float) else str(result[key]) for key in columns]
            print("| " + " | ".join(cells) + " |")
    finally:
        from django.db import connections

        connections.close_all()
        bench_http.database_drop(args.database_url)
        bench_http.redis_empty(args.redis_url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
