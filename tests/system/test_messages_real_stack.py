"""Messages with the real stack: Celery worker processes on Redis, the web server as its own process, PostgreSQL.

These tests start programs, so they take seconds each. They need PostgreSQL
and Redis (CI provides both and fails rather than skips without them).
"""

import contextlib
import datetime
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from icalendar import Calendar

from booking.grid import BERLIN
from booking.messages import Kind as MessageKind
from booking.models import Appointment
from booking.needs import needs_from_param
from booking.services.appointments import Contact, appointment_book
from notifications.models import Message
from notifications.services import message_send
from tests.support import realstack
from tests.support.factories import bookable_office, offer
from tests.support.smtp import SmtpScript, smtp_server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def next_weekday(days_ahead: int) -> datetime.date:
    day = timezone.localdate() + datetime.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


@pytest.fixture
def day() -> datetime.date:
    return next_weekday(3)


@pytest.fixture
def queue():  # type: ignore[no-untyped-def]
    with realstack.celery_queue() as name:
        yield name


@pytest.fixture
def office(day: datetime.date):  # type: ignore[no-untyped-def]
    office = bookable_office(counters=1, first=day, last=day, name_de="Bürgerbüro Mitte")
    offer(office, "personalausweis", 15, name_de="Personalausweis")
    return office


def book_through_the_pages(base: str, office, day: datetime.date) -> str:  # type: ignore[no-untyped-def]
    """A citizen's way through the booking pages, without JavaScript; returns the manage page's URL."""
    browser = realstack.Browser(base)
    browser.get(f"/book/at/{office.slug}/?services=personalausweis&date={day.isoformat()}")
    assert "10:00" in browser.page
    chosen = {"services": "personalausweis", "start": f"{day}T10:00"}
    browser.post(f"/book/at/{office.slug}/hold/", chosen)
    # Without JavaScript the proof of work is a question (access.proof), answered as a citizen would.
    token = re.search(r'name="proof_token" value="([^"]+)"', browser.page)
    assert token, browser.page
    first, second = map(int, re.search(r"Wie viel ist (\d+) plus (\d+)\?", browser.page).groups())
    browser.post(browser.url, {**chosen, "proof_token": token.group(1), "proof_answer": str(first + second)})
    assert "/book/hold/" in browser.url, browser.url
    browser.post(
        browser.url,
        {"name": "Erika Mustermann", "email": "erika@example.org", "phone": "", "language": "de", "next": "check"},
    )
    assert browser.url.endswith("/check/"), browser.url
    browser.post(browser.url, {})
    assert "/appointment/" in browser.url, browser.url
    assert "Ihr Termin ist gebucht" in browser.page
    return browser.url


def the_ics(email) -> Calendar:  # type: ignore[no-untyped-def]
    (part,) = [part for part in email.walk() if part.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_payload(decode=True))


def test_a_real_worker_sends_the_confirmation_of_a_booking_made_through_the_web(  # type: ignore[no-untyped-def]
    office, day, queue, tmp_path: Path
) -> None:
    env = realstack.environment(tmp_path, queue=queue)
    with (
        realstack.celery_worker(env, "worker", log=tmp_path / "worker.log"),
        realstack.web_server(env, log=tmp_path / "web.log") as base,
    ):
        manage_url = book_through_the_pages(base, office, day)
        (email,) = realstack.wait_until(
            lambda: realstack.emails_in(tmp_path / "mail"), timeout=60, what="the confirmation e-mail"
        )
    appointment = Appointment.objects.get()
    assert manage_url.endswith(f"/appointment/{appointment.manage_token}/")
    assert email["To"] == "erika@example.org"
    assert appointment.booking_code in email["Subject"]
    calendar = the_ics(email)
    event = calendar.walk("VEVENT")[0]
    assert calendar["METHOD"] == "PUBLISH"
    assert str(event["UID"]) == f"appointment-{appointment.pk}-{appointment.booking_code}@buergerservice"
    assert event["SEQUENCE"] == 0
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    start = datetime.datetime.combine(day, datetime.time(10), tzinfo=BERLIN)
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + datetime.timedelta(minutes=15)
    message = Message.objects.get()
    assert (message.status, message.attempts) == (Message.Status.SENT, 1)
    assert "send_message" in (tmp_path / "worker.log").read_text()


@pytest.mark.parametrize("redis_down", ["refuses", "hangs"])
def test_with_redis_unreachable_the_booking_succeeds_and_the_sweep_sends_it_once_redis_is_back(  # type: ignore[no-untyped-def]
    office, day, queue, tmp_path: Path, redis_down: str
) -> None:
    with contextlib.ExitStack() as stack:
        url = realstack.UNREACHABLE_REDIS if redis_down == "refuses" else stack.enter_context(realstack.silent_redis())
        down = realstack.environment(tmp_path, queue=queue, redis_url=url)
        base = stack.enter_context(realstack.web_server(down, log=tmp_path / "web.log"))
        started = time.monotonic()
        book_through_the_pages(base, office, day)
        took = time.monotonic() - started
    assert took < 15, took  # the page came, though later than usual when Redis hangs
    message = Message.objects.get()
    assert message.status == Message.Status.PENDING  # recorded, not lost, not sent
    assert "could not queue message" in (tmp_path / "web.log").read_text()
    assert realstack.emails_in(tmp_path / "mail") == []

    back = realstack.environment(tmp_path, queue=queue)
    with realstack.celery_worker(back, "worker", beat=True, log=tmp_path / "worker.log"):
        (email,) = realstack.wait_until(
            lambda: realstack.emails_in(tmp_path / "mail"), timeout=60, what="the sweep to send the confirmation"
        )
    assert Appointment.objects.get().booking_code in email["Subject"]
    assert Message.objects.get().status == Message.Status.SENT
    assert "send_due_messages" in (tmp_path / "worker.log").read_text()


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # send_task goes to Redis: wanted here
def test_two_workers_racing_on_the_same_due_reminder_send_it_once(office, day, queue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    start = datetime.datetime.combine(day, datetime.time(10), tzinfo=BERLIN)
    appointment = appointment_book(
        office=office,
        start=start,
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Erika Mustermann", email="erika@example.org", reminders_consent=True),
        now=timezone.now(),
    )
    Message.objects.filter(kind=MessageKind.CONFIRMATION).update(status=Message.Status.SENT, sent_at=timezone.now())
    reminder = Message.objects.get(kind=MessageKind.REMINDER)
    Message.objects.filter(pk=reminder.pk).update(due_at=timezone.now())  # due now
    env = realstack.environment(tmp_path, queue=queue)
    from buergerservice.celery import app

    with (
        realstack.celery_worker(env, "one", beat=True, log=tmp_path / "one.log"),
        realstack.celery_worker(env, "two", log=tmp_path / "two.log"),
    ):
        for name in ("one", "two"):
            realstack.wait_until(
                lambda name=name: "ready." in (tmp_path / f"{name}.log").read_text(), timeout=60, what=f"worker {name}"
            )
        # Both workers get the same reminder many times over (re-queued, re-delivered), and beat's sweep too.
        with app.connection_for_write(env["REDIS_URL"]) as broker:
            for _n in range(20):
                app.send_task("notifications.tasks.send_message", args=[reminder.pk], connection=broker, queue=queue)
        realstack.wait_until(
            lambda: Message.objects.get(pk=reminder.pk).status == Message.Status.SENT, timeout=60, what="the reminder"
        )
        realstack.wait_until(
            lambda: all(
                "notifications.tasks.send_message" in path.read_text()
                for path in (tmp_path / "one.log", tmp_path / "two.log")
            ),
            timeout=60,
            what="both workers to take some of the copies",
        )
    reminders = [email for email in realstack.emails_in(tmp_path / "mail") if "Erinnerung" in email["Subject"]]
    assert len(reminders) == 1
    assert reminders[0]["Subject"].strip().startswith("Erinnerung: Ihr Termin am")
    assert appointment.booking_code in reminders[0].get_body(preferencelist=("plain",)).get_content()
    assert Message.objects.get(pk=reminder.pk).attempts == 1


def test_parallel_senders_on_postgresql_claim_a_message_once(office, day) -> None:  # type: ignore[no-untyped-def]
    from django.core import mail

    appointment_book(
        office=office,
        start=datetime.datetime.combine(day, datetime.time(10), tzinfo=BERLIN),
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Erika Mustermann", email="erika@example.org"),
        now=timezone.now(),
    )
    # The commit queued and (eager Celery in this process) sent it; make it due again for the race.
    Message.objects.update(status=Message.Status.PENDING, attempts=0, sent_at=None)
    mail.outbox.clear()
    message = Message.objects.get()
    barrier = threading.Barrier(12)
    outcomes: list[object] = []

    def sender() -> None:
        try:
            barrier.wait()
            outcomes.append(message_send(message_id=message.pk, now=timezone.now()))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 12
    assert [outcome.status for outcome in outcomes if outcome is not None] == [Message.Status.SENT]
    assert len(mail.outbox) == 1


def booked_with_both_messages_due(office, day: datetime.date) -> tuple[Message, Message]:  # type: ignore[no-untyped-def]
    appointment_book(
        office=office,
        start=datetime.datetime.combine(day, datetime.time(10), tzinfo=BERLIN),
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Erika Mustermann", email="erika@example.org", reminders_consent=True),
        now=timezone.now(),
    )
    # Both due now and unsent (this process's eager Celery already sent the confirmation at commit).
    Message.objects.update(status=Message.Status.PENDING, attempts=0, sent_at=None, due_at=timezone.now())
    return Message.objects.get(kind=MessageKind.CONFIRMATION), Message.objects.get(kind=MessageKind.REMINDER)


def queue_sends(env: dict[str, str], queue: str, *messages: Message) -> None:
    from buergerservice.celery import app

    with app.connection_for_write(env["REDIS_URL"]) as broker:
        for message in messages:
            app.send_task("notifications.tasks.send_message", args=[message.pk], connection=broker, queue=queue)


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_worker_killed_while_sending_loses_no_confirmation_and_sends_no_reminder_twice(  # type: ignore[no-untyped-def]
    office, day, queue, tmp_path: Path
) -> None:
    confirmation, reminder = booked_with_both_messages_due(office, day)
    script = SmtpScript()
    script.answer.clear()  # the mail server takes the data and hangs
    with smtp_server(script) as port:
        env = realstack.environment(
            tmp_path,
            queue=queue,
            EMAIL_BACKEND="smtp",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(port),
            EMAIL_TIMEOUT="120",
            # The production defaults: how late a confirmation is after a crash.
            MESSAGES_LEASE_SECONDS="30",
            MESSAGES_SWEEP_SECONDS="10",
        )
        with realstack.celery_worker(env, "doomed", log=tmp_path / "doomed.log") as worker:
            queue_sends(env, queue, confirmation, reminder)
            realstack.wait_until(lambda: script.waiting == 2, timeout=60, what="both sends to hang")
            os.kill(worker.pid, signal.SIGKILL)
            killed = time.monotonic()
            worker.wait()
        assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENDING}
        script.answer.set()  # the hung connections end; the next sends get answers
        with realstack.celery_worker(env, "next", beat=True, log=tmp_path / "next.log"):
            realstack.wait_until(
                lambda: Message.objects.get(pk=confirmation.pk).status == Message.Status.SENT,
                timeout=90,
                what="the confirmation to be sent again",
            )
            delay = time.monotonic() - killed
            realstack.wait_until(
                lambda: Message.objects.get(pk=reminder.pk).status != Message.Status.SENDING,
                timeout=30,
                what="the sweep to decide on the reminder",
            )
    print(f"kill to delivery of the confirmation: {delay:.1f} s")  # noqa: T201 - the figure for the report
    assert delay < 60  # a lease (30 s) and a sweep (10 s) after the kill, plus the new worker's start
    assert len(script.received) == 1  # the confirmation; the reminder is not risked twice
    reminder.refresh_from_db()
    assert reminder.status == Message.Status.FAILED
    assert "unterbrochen" in reminder.last_error
    assert Message.objects.get(pk=confirmation.pk).attempts == 2


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_live_send_slower_than_its_lease_is_not_taken_over_by_another_worker(  # type: ignore[no-untyped-def]
    office, day, queue, tmp_path: Path
) -> None:
    confirmation, reminder = booked_with_both_messages_due(office, day)
    script = SmtpScript(delay=9)  # three leases: slow, but it answers
    with smtp_server(script) as port:
        env = realstack.environment(
            tmp_path,
            queue=queue,
            EMAIL_BACKEND="smtp",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(port),
            MESSAGES_LEASE_SECONDS="3",  # renewed every second; beat sweeps every second (realstack's default)
        )
        with (
            realstack.celery_worker(env, "slow", log=tmp_path / "slow.log"),
            realstack.celery_worker(env, "other", beat=True, log=tmp_path / "other.log"),
        ):
            for name in ("slow", "other"):
                realstack.wait_until(
                    lambda name=name: "ready." in (tmp_path / f"{name}.log").read_text(),
                    timeout=60,
                    what=f"worker {name}",
                )
            queue_sends(env, queue, confirmation, reminder)
            realstack.wait_until(lambda: script.waiting == 2, timeout=60, what="both sends to reach the data")
            time.sleep(6)  # two leases: without renewals beat's sweep would have taken both back by now
            assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENDING}
            realstack.wait_until(
                lambda: set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT},
                timeout=30,
                what="both to be sent",
            )
        assert "send_due_messages" in (tmp_path / "other.log").read_text()  # the sweeps ran meanwhile
    assert len(script.received) == 2  # each once
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}
