"""Benchmark of the outbox: the sweep sending a backlog, alone and in parallel, and what recording costs a booking.

Run from the project root:

    .venv/bin/python bench/messages.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/buergerservice .venv/bin/python bench/messages.py

20 offices of the bench/slots.py city (14 days of slots, the six services of
bench/booking.py) and a backlog of 5,000 booked appointments, inserted in
bulk, each with one service and an e-mail address; 10% were booked by phone
and have a mobile number, 60% consented to reminders. Every appointment has
its confirmation due (e-mail, plus SMS when booked by phone), the consenting
ones their reminder too (the appointments start within the next days), all
due within the last half hour: about 8,800 pending messages, as after Redis
was down for a while before the reminders of the next day went out.

E-mail goes to Django's locmem backend and SMS to notifications.sms.LocmemBackend,
so the figures measure our code and the database, not a mail server. The
backlog is sent by ``messages_send_due`` (in runs of 500, as the Celery task
does) by one sweeper, then again (reset to pending) by 2 and 4 sweepers in
threads, each with its own connection (PostgreSQL only). After each run every
message must have been sent exactly once: as many mails and SMS in the
outboxes as messages, none twice, none with more than one attempt.

Then ``appointment_book`` for 3 × 200 online bookings with reminders wanted,
interleaved: without ``appointment_messages_record`` (patched out where the booking
service calls it), with it (its after-commit queuing patched out), and, when
Celery runs tasks eagerly (no REDIS_URL, as in bench/booking.py), with the
confirmation sent in-process after the commit as well.

Prints ``name: value`` lines (seconds and milliseconds with three decimals,
counts as integers). Everything happens in a throwaway test database.
"""

import datetime
import logging
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

# The project root before this folder: bench/booking.py would otherwise hide the booking app.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

import bench.slots  # noqa: E402 - sets Django up
from bench.booking import report_latency, services_offer  # noqa: E402
from bench.slots import city_build, refresh_all, report, throwaway_database  # noqa: E402
from booking.grid import BERLIN  # noqa: E402
from booking.messages import Kind, appointment_message, reminder_message  # noqa: E402
from booking.models import Appointment, AppointmentService, Slot, new_booking_code  # noqa: E402
from booking.needs import Need  # noqa: E402
from booking.services.appointments import Contact, appointment_book  # noqa: E402
from notifications import sms  # noqa: E402
from notifications.models import Message  # noqa: E402
from notifications.services import message_claim_next, message_deliver, messages_send_due  # noqa: E402
from offices.models import Office, Service  # noqa: E402

OFFICES = 20
DAYS = 14
APPOINTMENTS = 5_000
PHONE_SHARE = 0.10  # booked by phone, with a mobile number: their messages go by SMS too
CONSENT_SHARE = 0.60  # want reminders
ENGLISH_SHARE = 0.20
BACKLOG_MINUTES = 30  # the messages became due over this last half hour
SWEEP_LIMIT = 500  # per messages_send_due call, its default and what the Celery task uses
PARALLEL = [2, 4]
BOOKINGS = 200  # per variant of the recording benchmark
SEED = 20261124


def backlog_insert(offices: list[Office], services: list[Service], now: datetime.datetime) -> int:
    """Insert the appointments (one service each) and their due messages in bulk; returns the number of messages.

    Slot counts are left alone: the sweep never reads them.
    """
    rng = random.Random(SEED)  # noqa: S311 - repeatable data, not secrets
    tomorrow = (now.astimezone(BERLIN) + datetime.timedelta(days=1)).date()
    codes: set[str] = set()
    appointments = []
    for number in range(APPOINTMENTS):
        office = offices[number % len(offices)]
        per_office = number // len(offices)
        # Mornings 08:00-11:55 of the next three days, on the 5-minute grid.
        day = tomorrow + datetime.timedelta(days=per_office % 3)
        minute = 8 * 60 + 5 * ((per_office // 3) % 48)
        start = datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), tzinfo=BERLIN)
        phone = rng.random() < PHONE_SHARE
        while (code := new_booking_code()) in codes:
            pass
        codes.add(code)
        appointments.append(
            Appointment(
                office=office,
                start=start,
                end=start + datetime.timedelta(minutes=15),
                channel=Appointment.Channel.PHONE if phone else Appointment.Channel.ONLINE,
                booking_code=code,
                name="Erika Mustermann",
                email=f"citizen-{number}@example.org",
                phone=f"+49151{number:08d}" if phone else "",
                language="en" if rng.random() < ENGLISH_SHARE else "de",
                reminders_consent=rng.random() < CONSENT_SHARE,
            )
        )
    appointments = Appointment.objects.bulk_create(appointments, batch_size=1000)
    AppointmentService.objects.bulk_create(
        (
            AppointmentService(appointment=appointment, service=rng.choice(services), persons=1, minutes=15)
            for appointment in appointments
        ),
        batch_size=1000,
    )
    messages = []
    for appointment in appointments:
        recipients = [(Message.Channel.EMAIL, appointment.email)]
        if appointment.phone:
            recipients.append((Message.Channel.SMS, appointment.phone))
        for channel, recipient in recipients:
            due_at = now - datetime.timedelta(seconds=rng.randrange(BACKLOG_MINUTES * 60))
            messages.append(
                appointment_message(
                    appointment, kind=Kind.CONFIRMATION, channel=channel, recipient=recipient, due_at=due_at
                )
            )
            if appointment.reminders_consent:
                due_at = now - datetime.timedelta(seconds=rng.randrange(BACKLOG_MINUTES * 60))
                messages.append(reminder_message(appointment, channel=channel, recipient=recipient, due_at=due_at))
    Message.objects.bulk_create(messages, batch_size=1000)
    return len(messages)


def backlog_reset() -> None:
    """Every message pending again, the outboxes empty; on PostgreSQL a VACUUM, so each run starts alike."""
    Message.objects.update(
        status=Message.Status.PENDING, attempts=0, claimed_at=None, sent_at=None, note="", last_error=""
    )
    mail.outbox.clear()
    sms.outbox.clear()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Message._meta.db_table}")


def sweep_until_done(now: datetime.datetime, batches: list[tuple[int, float]] | None = None) -> int:
    """Call the sweep the way the Celery task does, again and again, until it finds nothing due; returns the sum."""
    total = 0
    while True:
        started = time.perf_counter()
        handled = messages_send_due(now=now, limit=SWEEP_LIMIT, seconds=60)
        if batches is not None and handled:
            batches.append((handled, time.perf_counter() - started))
        if not handled:
            return total
        total += handled


def sent_exactly_once(expected: int) -> bool:
    """All sent, none claimed twice, and as many mails and SMS as messages with no duplicate among them."""
    statuses = Counter(Message.objects.values_list("status", flat=True))
    retried = Message.objects.filter(attempts__gt=1).count()
    sent = [("email", ",".join(email.to), email.subject) for email in mail.outbox]
    sent += [("sms", text.to, text.text) for text in sms.outbox]
    duplicates = sum(count - 1 for count in Counter(sent).values())
    ok = statuses == {Message.Status.SENT: expected} and not retried and len(sent) == expected and not duplicates
    if not ok:
        print(f"  statuses {dict(statuses)}, attempts > 1: {retried}, sent {len(sent)}, duplicates {duplicates}")
    return ok


def queries_per_message() -> None:
    """Queries the sweep makes for one message of each kind and channel (claim and delivery)."""
    for kind in (Kind.CONFIRMATION, Kind.REMINDER):
        for channel in (Message.Channel.EMAIL, Message.Channel.SMS):
            backlog_reset()
            chosen = Message.objects.filter(kind=kind, channel=channel).order_by("pk").first()
            Message.objects.exclude(pk=chosen.pk).update(status=Message.Status.WITHDRAWN)
            now = timezone.now()
            with CaptureQueriesContext(connection) as queries:
                message = message_claim_next(now=now)
                outcome = message_deliver(message=message, now=now)
            if outcome.status != Message.Status.SENT:
                raise SystemExit(f"{kind} by {channel} was not sent: {outcome}")
            report(f"sweep_queries_{kind}_{channel}", len(queries))


def sweep_single(expected: int) -> bool:
    backlog_reset()
    now = timezone.now()
    batches: list[tuple[int, float]] = []
    started = time.perf_counter()
    handled = sweep_until_done(now, batches)
    seconds = time.perf_counter() - started
    report("sweep_messages", handled)
    report("sweep_seconds", seconds)
    report("sweep_messages_per_second", handled / seconds)
    # The first and the last full run of 500: does claiming slow down as sent rows pile up before the pending ones?
    # The median run is less sensitive than the total to a moment of noise on a shared machine.
    full = [count / seconds for count, seconds in batches if count == SWEEP_LIMIT]
    if full:
        report("sweep_first_500_messages_per_second", full[0])
        report("sweep_last_500_messages_per_second", full[-1])
        report("sweep_median_500_messages_per_second", statistics.median(full))
    ok = sent_exactly_once(expected)
    report("sweep_sent_exactly_once", "yes" if ok else "no")
    return ok


def sweep_parallel(sweepers: int, expected: int) -> bool:
    """``sweepers`` threads, each with its own connection, sweep the same backlog at once."""
    backlog_reset()
    now = timezone.now()
    barrier = threading.Barrier(sweepers + 1, timeout=300)
    handled: list[int] = []
    failures: list[BaseException] = []

    def sweeper() -> None:
        try:
            barrier.wait()
            handled.append(sweep_until_done(now))
        except BaseException as error:  # noqa: BLE001 - reported below; the others must not wait for this one
            failures.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(sweepers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} sweepers failed, the first with: {failures[0]!r}")
    name = f"sweep_parallel_{sweepers}"
    report(f"{name}_messages", sum(handled))
    report(f"{name}_per_sweeper", " ".join(str(count) for count in sorted(handled)))
    report(f"{name}_seconds", seconds)
    report(f"{name}_messages_per_second", sum(handled) / seconds)
    ok = sent_exactly_once(expected)
    report(f"{name}_sent_exactly_once", "yes" if ok else "no")
    return ok


def booking_starts(offices: list[Office], first: datetime.date, count: int) -> list[tuple[Office, datetime.datetime]]:
    """Quarter-hour starts in the mornings from ``first`` on whose three 5-minute slots all have online units."""
    by_pk = {office.pk: office for office in offices}
    free = {
        (office_id, start)
        for office_id, start, capacity, reserve in Slot.objects.filter(
            office__in=offices, local_date__gte=first
        ).values_list("office_id", "start", "capacity", "phone_reserve")
        if capacity > reserve
    }
    starts = []
    for office_id, start in sorted(free, key=lambda key: (key[1], key[0])):
        local = start.astimezone(BERLIN)
        if local.minute % 15 or not 8 <= local.hour < 12:
            continue
        if all((office_id, start + datetime.timedelta(minutes=m)) in free for m in (5, 10)):
            starts.append((by_pk[office_id], start))
    if len(starts) < count:
        raise SystemExit(f"only {len(starts)} free starts for {count} bookings")
    rng = random.Random(SEED)  # noqa: S311 - a repeatable order, not a secret
    rng.shuffle(starts)
    return starts[:count]


def recording_cost(offices: list[Office], service: Service) -> None:
    """appointment_book with and without recording its messages, interleaved so that drift hits all variants alike."""
    eager = bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # else every eager task is logged
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # "no hostname" of the eager memory:// broker

    def no_record(**kwargs: object) -> list[Message]:
        return []

    def no_queue(message_ids: object) -> None:
        return None

    variants: dict[str, Callable[[], ExitStack]] = {
        "without_record": lambda: _patched(("booking.services.appointments.appointment_messages_record", no_record)),
        "with_record": lambda: _patched(("notifications.services._queue", no_queue)),
    }
    if eager:
        variants["with_record_and_eager_send"] = lambda: _patched()
    now = timezone.now()
    first = (now.astimezone(BERLIN) + datetime.timedelta(days=2)).date()  # so that reminders are planned
    starts = booking_starts(offices, first, len(variants) * BOOKINGS)
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for number, (office, start) in enumerate(starts):
        name = names[(number + number // len(names)) % len(names)]  # each variant in each position in turn
        contact = Contact(name="Erika Mustermann", email=f"booker-{number}@example.org", reminders_consent=True)
        with variants[name]():
            started = time.perf_counter()
            appointment_book(office=office, start=start, needs=[Need(service, 1)], contact=contact, now=now)
            times[name].append((time.perf_counter() - started) * 1000)
    for name, values in times.items():
        report_latency(f"book_{name}", values)
    report("record_messages_per_booking", 2)  # the confirmation and the reminder by e-mail
    report("record_ms_p50", statistics.median(times["with_record"]) - statistics.median(times["without_record"]))
    report("record_ms_p95", _p95(times["with_record"]) - _p95(times["without_record"]))
    if not eager:
        report("book_with_record_and_eager_send", "skipped (Celery is not eager: REDIS_URL is set)")


def _patched(*targets: tuple[str, object]) -> ExitStack:
    stack = ExitStack()
    for target, replacement in targets:
        stack.enter_context(mock.patch(target, replacement))
    return stack


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    today = timezone.localdate()
    last = today + datetime.timedelta(days=DAYS - 1)
    bench.slots.OFFICES = OFFICES  # city_build reads it: a smaller city than the slots benchmark's
    with (
        throwaway_database(),
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            SMS_BACKEND="notifications.sms.LocmemBackend",
        ),
    ):
        report("database", connection.vendor)
        started = time.perf_counter()
        offices = city_build(today, last)
        refresh_all(offices, today, last)
        services_offer(offices)
        services = list(Service.objects.order_by("pk"))
        expected = backlog_insert(offices, services, timezone.now())
        report("offices", len(offices))
        report("appointments", Appointment.objects.count())
        report("messages", expected)
        for (kind, channel), count in sorted(Counter(Message.objects.values_list("kind", "channel")).items()):
            report(f"messages_{kind}_{channel}", count)
        report("setup_seconds", time.perf_counter() - started)

        queries_per_message()
        ok = sweep_single(expected)
        if connection.vendor == "postgresql":
            for sweepers in PARALLEL:
                ok = sweep_parallel(sweepers, expected) and ok
        else:
            for sweepers in PARALLEL:
                report(
                    f"sweep_parallel_{sweepers}_messages_per_second",
                    "skipped (needs PostgreSQL: SQLite has no SKIP LOCKED and writes one at a time, in memory here)",
                )
        report("sent_exactly_once", "yes" if ok else "no")

        recording_cost(offices, Service.objects.get(slug="personalausweis"))


if __name__ == "__main__":
    main()
