"""Recording and sending messages, whatever they are about.

Guarantees:
- ``messages_record`` writes messages in the caller's transaction (it
  refuses to run outside one) and queues their sending only after that
  transaction commits. If Redis cannot take the task, nothing fails: the
  sweep sends it later.
- Every send starts with a conditional claim in the database
  (``pending`` → ``sending`` by one UPDATE whose row count says who won), so
  two workers, a re-delivered task or a retry never send a message twice.
- Before sending, the subject's handler (subjects.py) may withdraw a message
  that is not wanted any more; a message past its ``expires_at`` is never sent.
- A temporary failure puts the message back to ``pending`` with an
  exponentially growing delay; a permanent one marks it ``failed`` with the
  reason, for administrators and the staff lists.
- A claim is a lease of ``MESSAGES_LEASE_SECONDS`` (30 s) that the sender
  renews while its send is alive (``LeaseKeeper``). A worker that dies while
  sending stops renewing: within a lease the sweep (every
  ``MESSAGES_SWEEP_SECONDS``) hands a message back for another attempt, since
  it must arrive at least once, unless it is ``at_most_once`` (a reminder):
  that one is marked failed, since it must never arrive twice. So a
  confirmation is late by seconds, not minutes, and a send that is still
  alive is never taken from its sender (see ``LeaseKeeper`` for why).
"""

import datetime
import logging
import os
import smtplib
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from buergerservice.celery import after_commit
from buergerservice.outage import Pauses
from notifications.models import Message
from notifications.sms import (
    PermanentSmsError,
    UncertainSmsError,
    send_sms,
    sms_length,
    sms_length_reason,
)
from notifications.subjects import handler_for

logger = logging.getLogger(__name__)

# The longest a send is kept alive by renewing its lease: the send task's soft
# time limit. A send still running after that is taken for hung (the threads
# pool has no time limits to stop it): its lease runs out and the sweep decides.
SEND_TIME_LIMIT = datetime.timedelta(seconds=90)
# Claims made before leases were renewed (no lease_until) lasted this long.
LEGACY_LEASE = datetime.timedelta(minutes=10)
MAX_RETRY_DELAY = datetime.timedelta(hours=1)


def lease_length() -> datetime.timedelta:
    """How long a claim holds without renewal (MESSAGES_LEASE_SECONDS)."""
    return datetime.timedelta(seconds=settings.MESSAGES_LEASE_SECONDS)


class PermanentMailError(Exception):
    """The mail server refused this message for good (e.g. the address does not exist)."""


class UncertainDelivery(Exception):
    """The message was handed over (or was being handed over) when sending failed: it may have arrived."""


class ClaimLapsed(Exception):
    """The sender's lease ran out (or the claim was taken back) before the hand-over: it must not send."""


# Recording ---------------------------------------------------------------------------------------


def require_transaction(caller: str) -> None:
    """Raise RuntimeError unless inside a transaction: a message is recorded with the change it reports."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{caller} must run inside the transaction of the change it reports")


def messages_record(*, messages: list[Message], now: datetime.datetime) -> list[Message]:
    """Record ``messages`` (unsaved) in the caller's transaction; those due by ``now`` are queued after its commit.

    Call it inside the transaction of the change the messages report, so
    that neither exists without the other; outside one it raises
    RuntimeError. An ``at_most_once`` message whose ``once_key`` is taken
    makes the whole change fail (IntegrityError): the database, not the
    caller, guarantees there is only one. Later messages wait for the sweep.
    """
    require_transaction("messages_record")
    created = Message.objects.bulk_create(messages)
    queue_after_commit([message.pk for message in created if message.due_at <= now])
    return created


def messages_record_missing(*, messages: list[Message]) -> int:
    """Record those of ``messages`` (at-most-once ones, each with a ``once_key``) whose key is not taken yet.

    For passes that add what should exist (idempotent: a second run, or one
    racing the change that records them, adds nothing). Returns how many were
    offered; they wait for the sweep.
    """
    if any(not (message.at_most_once and message.once_key) for message in messages):
        raise ValueError("only at-most-once messages with a once_key can be recorded if missing")
    Message.objects.bulk_create(messages, ignore_conflicts=True)
    return len(messages)


def messages_withdraw(*, subject_type: str, subject_id: int, kinds: Iterable[str]) -> int:
    """Withdraw a subject's messages of ``kinds`` that are still waiting (e.g. an appointment's reminders)."""
    return Message.objects.filter(
        subject_type=subject_type, subject_id=subject_id, kind__in=list(kinds), status=Message.Status.PENDING
    ).update(status=Message.Status.WITHDRAWN)


def queue_after_commit(message_ids: list[int]) -> None:
    """Queue sending once the current transaction commits; a broker that is down only delays them."""
    if message_ids:
        after_commit(_queue, message_ids)


# After a failed publish, this process leaves the broker alone for this long: every request
# would otherwise wait out the connection timeout again (and, one write at a time per
# process, hold up every other write behind it). The sweep sends what was not queued.
BROKER_PAUSE_SECONDS = 10
BROKER = "broker"
_broker = Pauses()


def _queue(message_ids: Iterable[int]) -> None:
    from notifications.tasks import send_message  # the tasks module imports this one

    if _broker.paused(BROKER):
        logger.info("not queueing messages %s: the broker failed just now; the sweep will send them", message_ids)
        return
    for message_id in message_ids:
        try:
            send_message.delay(message_id)
        except Exception:
            # Redis unreachable: the change is committed and its messages are in
            # the outbox; the periodic sweep sends them once the broker is back.
            if not send_message.app.conf.task_always_eager:  # eager: the task itself failed, not a broker
                _broker.pause(BROKER, BROKER_PAUSE_SECONDS)
            logger.warning("could not queue message %s; the sweep will send it", message_id, exc_info=True)
            return


# Sending -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_at: datetime.datetime | None = None


def message_claim(*, message_id: int, now: datetime.datetime) -> Message | None:
    """Claim a due message for sending; None if another worker has it or it is not due.

    The conditional UPDATE is the claim: of two workers, exactly one changes
    the row from pending to sending (prevents sending twice). The claim gets a
    token of its own and a lease of ``lease_length()`` from ``now``; only the
    holder of that token renews the lease or records the result.
    """
    token = uuid.uuid4()
    claimed = Message.objects.filter(pk=message_id, status=Message.Status.PENDING, due_at__lte=now).update(
        status=Message.Status.SENDING,
        claimed_at=now,
        claim_token=token,
        lease_until=now + lease_length(),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return Message.objects.filter(pk=message_id, claim_token=token).first()


def message_lease_renew(*, message: Message, now: datetime.datetime) -> bool:
    """Extend the lease of a claim the caller holds to ``now`` + the lease; False if the claim is not its own any more.

    Conditional on the claim's token and on the row still being "sending": a
    sender whose claim the sweep took back (or another sender holds since)
    cannot extend it. A renewal after the lease ran out but before the sweep
    saw it is harmless: nobody else can have claimed a "sending" row, and the
    sweep's own UPDATE re-checks the lease on the row it finally locks.
    """
    return bool(
        Message.objects.filter(pk=message.pk, status=Message.Status.SENDING, claim_token=message.claim_token).update(
            lease_until=now + lease_length()
        )
    )


class LeaseKeeper:
    """A send's claim, its lease kept alive (by the process's ``_Renewer``) while the send runs.

    Why the claim cannot lapse while the send might still succeed: the send
    blocks the worker's thread in socket calls (SMTP, the SMS gateway's HTTP),
    however long the server makes it wait; each call is bounded by
    EMAIL_TIMEOUT or SMS_GATEWAY_TIMEOUT, but a conversation of several calls
    is not. Rather than betting that the timeouts add up to less than the
    lease, another thread renews the lease whenever a third of it has passed
    since the last renewal, for as long as the send runs, so renewals may
    fail or come late several times before the lease ends, and a live send
    is never taken from its sender: the sweep only takes back rows whose
    ``lease_until`` has passed. The renewing thread dies with its process, so
    a killed or crashed worker's claim lapses within one lease.

    Two bounds keep that from turning into "never": renewing stops after
    ``SEND_TIME_LIMIT`` (a send longer than that is taken for hung; under the
    prefork pool the task's time limits end it first), and the sender calls
    ``ensure_held()`` right before the hand-over, so a sender whose lease did
    run out (renewals failed, the process was frozen) hands nothing over.

    A lapse during the hand-over itself (only after ``SEND_TIME_LIMIT``, or
    with the database unreachable for two thirds of a lease) costs at most a
    duplicate of a message that must arrive at least once anyway; an
    at-most-once message whose lease lapsed is never sent again
    (``messages_recover``), so "never twice" does not depend on any timing.
    """

    def __init__(self, *, message: Message, now: datetime.datetime) -> None:
        self.message = message
        self.lease = lease_length()
        self._now = now
        self._started = self._renewed = time.monotonic()
        self._lease_until = message.lease_until or now + self.lease  # as last confirmed
        self._lost = False

    def __enter__(self) -> "LeaseKeeper":
        _renewer.add(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        # A renewal still on its way changes nothing once the result is written: it needs the row "sending".
        _renewer.remove(self)

    def clock(self) -> datetime.datetime:
        """The caller's ``now``, moving on with the time the send has taken."""
        return self._now + datetime.timedelta(seconds=time.monotonic() - self._started)

    def ensure_held(self) -> None:
        """Raise ClaimLapsed unless the claim is still this sender's, with a third of a lease to spare."""
        if self._lost or self.clock() >= self._lease_until - self.lease / 3:
            raise ClaimLapsed(f"lease until {self._lease_until.isoformat()}, now {self.clock().isoformat()}")

    def renew_if_due(self) -> bool:
        """Renew once a third of the lease has passed since the last renewal; False when renewing is over."""
        elapsed = time.monotonic() - self._started
        if elapsed > SEND_TIME_LIMIT.total_seconds():
            logger.warning("message %s: still sending after %s; lease no longer renewed", self.message.pk, elapsed)
            return False
        if time.monotonic() - self._renewed < self.lease.total_seconds() / 3:
            return True
        asked, asked_at = self.clock(), time.monotonic()
        try:
            renewed = message_lease_renew(message=self.message, now=asked)
        except Exception:  # the database is unreachable: another try before the lease ends
            logger.warning("message %s: could not renew the lease", self.message.pk, exc_info=True)
            return True
        if not renewed:
            self._lost = True
            logger.warning("message %s: the claim was taken back while sending", self.message.pk)
            return False
        self._lease_until, self._renewed = asked + self.lease, asked_at
        return True


class _Renewer:
    """The one thread per process that renews the leases of the sends in flight in that process.

    One thread, and at most one database connection (taken for each round and
    given back), however many sends a process runs at once, so the
    connection budget of a worker (README, "Database connections") grows by
    one at most. It wakes every sixth of a lease, renews the claims due (a
    third of a lease after their last renewal: the usual sub-second send is
    never renewed and costs no query) and ends when no send is left.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._keepers: set[LeaseKeeper] = set()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def add(self, keeper: LeaseKeeper) -> None:
        with self._lock:
            self._keepers.add(keeper)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="message-leases", daemon=True)
                self._thread.start()
        self._wake.set()  # a new send's lease may be shorter than the sleep begun for the others

    def remove(self, keeper: LeaseKeeper) -> None:
        with self._lock:
            self._keepers.discard(keeper)

    def _run(self) -> None:
        while True:
            woken = self._wake.wait(lease_length().total_seconds() / 6)
            self._wake.clear()
            with self._lock:
                keepers = list(self._keepers)
                if not keepers and not woken:  # a quiet round: end (the next send starts a thread again)
                    self._thread = None
                    return
            try:
                for keeper in keepers:
                    if not keeper.renew_if_due():
                        self.remove(keeper)
            except Exception:  # never let the thread die while sends rely on it
                logger.exception("renewing message leases failed")
            finally:
                connection.close()  # this thread's connection, back to the pool until the next round


_renewer = _Renewer()
# A forked worker process (Celery's prefork pool) starts with no sends and no renewing thread.
os.register_at_fork(after_in_child=_renewer._reset)


def message_claim_next(*, now: datetime.datetime) -> Message | None:
    """Claim the message that has been due longest, skipping rows other workers are claiming right now."""
    with transaction.atomic():
        message_id = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=Message.Status.PENDING, due_at__lte=now)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if message_id is None:
            return None
        return message_claim(message_id=message_id, now=now)


def message_send(*, message_id: int, now: datetime.datetime) -> Outcome | None:
    """Claim and send one message; None if it was not this caller's to send."""
    message = message_claim(message_id=message_id, now=now)
    if message is None:
        return None
    return message_deliver(message=message, now=now)


def messages_send_due(*, now: datetime.datetime, limit: int = 500, seconds: float = 45.0) -> int:
    """The sweep: recover abandoned sends, then send what is due, until none is left, ``limit`` or ``seconds``.

    Returns how many were handled. Several sweeps may run at once; each claim
    has a single winner.
    """
    messages_recover(now=now)
    handled = 0
    started = time.monotonic()
    while handled < limit and (elapsed := time.monotonic() - started) < seconds:
        # A sweep may run for a minute: each claim's lease starts when it is made,
        # not when the sweep began (in whole seconds, as leases are counted).
        at = now + datetime.timedelta(seconds=int(elapsed))
        message = message_claim_next(now=at)
        if message is None:
            break
        message_deliver(message=message, now=at)
        handled += 1
    return handled


def messages_due_exist(*, now: datetime.datetime) -> bool:
    return Message.objects.filter(status=Message.Status.PENDING, due_at__lte=now).exists()


def messages_recover(*, now: datetime.datetime) -> int:
    """Deal with messages whose sender stopped renewing its lease (it died, froze or hung past SEND_TIME_LIMIT).

    A lease being renewed is never taken: only rows whose ``lease_until`` has
    passed match, and the UPDATE re-checks that on each row it locks. The
    claim's token stays, so a sender that was merely late can still record
    its result until someone claims the message again (see ``_finish``).
    """
    stale = Q(status=Message.Status.SENDING) & (
        Q(lease_until__lt=now) | Q(lease_until__isnull=True, claimed_at__lt=now - LEGACY_LEASE)
    )
    # A message that must reach the citizen: one more attempt (at worst a duplicate).
    retried = Message.objects.filter(stale, at_most_once=False).update(
        status=Message.Status.PENDING, due_at=now, last_error=_interrupted()
    )
    # One that must never arrive twice (a reminder): it may have gone out before the worker died.
    given_up = Message.objects.filter(stale, at_most_once=True).update(
        status=Message.Status.FAILED,
        last_error=_not_sent_again(_interrupted()),
    )
    if retried or given_up:
        logger.warning("recovered %s abandoned messages, gave up %s at-most-once ones", retried, given_up)
    return retried + given_up


def _not_sent_again(reason: str) -> str:
    # Not an f-string: xgettext does not see a msgid inside one.
    return " ".join([reason, _("Not sent again, so that it never arrives twice.")])


def _interrupted() -> str:
    return _("The sending was interrupted (the worker stopped).")


def message_deliver(*, message: Message, now: datetime.datetime) -> Outcome:
    """Send a message this caller has claimed and record the result.

    Its subject's handler may withdraw it first (checked after the claim: a
    change that commits between this read and the hand-over, milliseconds,
    still sees the message go out); past its ``expires_at`` it is withdrawn.
    """
    try:
        handler = handler_for(message.subject_type)
        withdraw = handler.withdraw_reason(message, now=now)
        if not withdraw and message.expires_at is not None and now >= message.expires_at:
            withdraw = handler.expired_reason(message)
        if withdraw:
            return _finish(message, Message.Status.WITHDRAWN, last_error=withdraw)
        with LeaseKeeper(message=message, now=now) as lease:
            note = _send(message, lease=lease)
    except ClaimLapsed as error:
        # Nothing was handed over, so sending again is safe, a reminder too; if
        # another sender holds the message by now, the write below matches nothing.
        logger.warning("message %s: lease ran out before the hand-over (%s)", message.pk, error)
        return _finish(message, Message.Status.PENDING, last_error=_lapsed(), due_at=now)
    except (PermanentMailError, PermanentSmsError) as error:
        # Logged without the text: it may hold the citizen's address.
        logger.warning("message %s failed permanently (%s)", message.pk, type(error).__name__)
        return _finish(message, Message.Status.FAILED, last_error=str(error))
    except (UncertainDelivery, UncertainSmsError, SoftTimeLimitExceeded) as error:
        logger.warning("message %s: unknown whether it arrived (%s)", message.pk, type(error).__name__)
        if message.at_most_once:
            # It may have arrived: rather missing than doubled.
            return _finish(
                message,
                Message.Status.FAILED,
                last_error=_not_sent_again(_describe(error)),
            )
        return _retry_or_fail(message=message, now=now, error=_describe(error))  # it must arrive
    except Exception as error:  # refused connections, 4xx answers, a template error: nothing left, try again
        logger.warning("message %s failed, attempt %s (%s)", message.pk, message.attempts, type(error).__name__)
        return _retry_or_fail(message=message, now=now, error=_describe(error))
    return _finish(message, Message.Status.SENT, sent_at=timezone.now(), note=note)


def _retry_or_fail(*, message: Message, now: datetime.datetime, error: str) -> Outcome:
    delay = min(
        datetime.timedelta(seconds=settings.MESSAGE_RETRY_SECONDS * 2 ** (message.attempts - 1)), MAX_RETRY_DELAY
    )
    retry_at = now + delay
    too_late = message.expires_at is not None and retry_at >= message.expires_at
    if message.attempts >= settings.MESSAGE_MAX_ATTEMPTS or too_late:
        return _finish(message, Message.Status.FAILED, last_error=error)
    _finish(message, Message.Status.PENDING, last_error=error, due_at=retry_at)
    return Outcome(Message.Status.PENDING, retry_at)


def _finish(message: Message, status: str, **fields: object) -> Outcome:
    # Only the holder of the claim writes the result, matched by the claim's
    # token rather than by "sending": if the lease ran out and the sweep handed
    # the row back (or gave a reminder up) but nobody has claimed it since, this
    # sender's result is still the truth; once another sender claimed it, its
    # token differs and this write matches nothing.
    if not Message.objects.filter(pk=message.pk, claim_token=message.claim_token).update(status=status, **fields):
        logger.warning("message %s: claimed by another sender meanwhile; result %s not recorded", message.pk, status)
    return Outcome(status)


def _lapsed() -> str:
    return _("The claim on this message ran out before it was handed over; it is sent again.")


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _send(message: Message, *, lease: LeaseKeeper) -> str:
    """Send through the message's channel; returns a note for the outbox (empty when there is nothing to say)."""
    handler = handler_for(message.subject_type)
    with translation.override(message.language):
        if message.channel == Message.Channel.SMS:
            text = handler.sms(message)
            lease.ensure_held()
            send_sms(to=message.recipient, text=text)
            return sms_length_reason(sms_length(text))
        content = handler.email(message)
    email = EmailMultiAlternatives(
        subject=content.subject,
        body=content.text,
        to=[message.recipient],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(content.html, "text/html")
    for name, attachment, mimetype in content.attachments:
        email.attach(name, attachment, mimetype)
    _send_email(email, lease=lease)
    return ""


def _send_email(email: EmailMultiAlternatives, *, lease: LeaseKeeper) -> None:
    """Send one e-mail, telling apart failures before the hand-over (safe to repeat) from those during it."""
    mail_connection = get_connection()
    mail_connection.open()  # connecting and signing in: nothing is handed over if this fails
    try:
        lease.ensure_held()  # the last moment at which not sending is still safe
        email.connection = mail_connection
        email.send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _response in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise PermanentMailError(f"recipient refused: {codes[0]} {_first_response(error)}") from error
        raise
    except smtplib.SMTPDataError as error:
        if error.smtp_code >= 500:
            raise PermanentMailError(f"message refused: {error.smtp_code} {error.smtp_error!r}") from error
        raise  # a 4xx answer: the server said it did not take it
    except (smtplib.SMTPSenderRefused, ClaimLapsed):
        raise  # refused before the data, or not sent at all: nothing was handed over
    except Exception as error:
        # A timeout or a dropped connection while the message was on its way.
        raise UncertainDelivery(_describe(error)) from error
    finally:
        mail_connection.close()


def _first_response(error: smtplib.SMTPRecipientsRefused) -> str:
    _code, response = next(iter(error.recipients.values()))
    return response.decode(errors="replace") if isinstance(response, bytes) else str(response)


def messages_retry(*, message_ids: list[int], now: datetime.datetime) -> int:
    """An administrator's "send again" for failed messages: due now, with a fresh count of attempts."""
    message_ids = list(
        Message.objects.filter(pk__in=message_ids, status=Message.Status.FAILED).values_list("pk", flat=True)
    )
    with transaction.atomic():
        count = Message.objects.filter(pk__in=message_ids, status=Message.Status.FAILED).update(
            status=Message.Status.PENDING, due_at=now, attempts=0
        )
        queue_after_commit(message_ids)
    return count
