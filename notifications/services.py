"""Recording and sending messages to citizens.

Guarantees:
- ``messages_record`` writes the messages a change causes in the caller's
  transaction and queues their sending only after that transaction commits.
  If Redis cannot take the task, nothing fails: the sweep sends it later.
- Every send starts with a conditional claim in the database
  (``pending`` → ``sending`` by one UPDATE whose row count says who won), so
  two workers, a re-delivered task or a retry never send a message twice.
- A temporary failure puts the message back to ``pending`` with an
  exponentially growing delay; a permanent one marks it ``failed`` with the
  reason, for administrators and the office's message list.
- A worker that dies while sending leaves its message ``sending``. After
  ``SENDING_LEASE`` the sweep hands changes (confirmations, moves,
  cancellations) back for another attempt, since they must arrive at least
  once; a reminder is marked failed instead, since it must never arrive twice.
"""

import copy
import datetime
import logging
import smtplib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q, prefetch_related_objects
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from booking.grid import BERLIN
from booking.ics import appointment_ics
from booking.models import Appointment
from booking.needs import Need, what_to_bring
from buergerservice.celery import after_commit
from notifications.models import Message
from notifications.sms import (
    PermanentSmsError,
    UncertainSmsError,
    mobile_number,
    send_sms,
    sms_length,
    sms_length_reason,
)

logger = logging.getLogger(__name__)

Kind = Message.Kind
CHANGE_KINDS = {Kind.CONFIRMATION, Kind.MOVED, Kind.CANCELLED_BY_CITIZEN, Kind.CANCELLED_BY_OFFICE}
CANCELLATIONS = {Kind.CANCELLED_BY_CITIZEN, Kind.CANCELLED_BY_OFFICE}
# Longer than any send can take (the send task's hard time limit plus margin):
# a message still "sending" after this was abandoned by a dead worker.
SENDING_LEASE = datetime.timedelta(minutes=10)
MAX_RETRY_DELAY = datetime.timedelta(hours=1)


class PermanentMailError(Exception):
    """The mail server refused this message for good (e.g. the address does not exist)."""


class UncertainDelivery(Exception):
    """The message was handed over (or was being handed over) when sending failed: it may have arrived."""


# Recording ---------------------------------------------------------------------------------------


def messages_record(*, appointment: Appointment, kind: str, now: datetime.datetime, reason: str = "") -> list[Message]:
    """Record what this change of ``appointment`` tells the citizen, in the caller's transaction.

    Call it inside the transaction of the change, after the appointment row
    has its new state. Moves and cancellations withdraw reminders that are
    still waiting; confirmations and moves plan new ones. The messages are
    queued for sending once the transaction commits.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("messages_record must run inside the transaction of the change it reports")
    if kind in CANCELLATIONS or kind == Kind.MOVED:
        reminders_withdraw(appointment=appointment)
    messages = [
        _message(appointment, kind=kind, channel=channel, recipient=recipient, due_at=now, reason=reason)
        for channel, recipient in _recipients(appointment)
    ]
    if kind in (Kind.CONFIRMATION, Kind.MOVED):
        messages += [
            _message(appointment, kind=Kind.REMINDER, channel=channel, recipient=recipient, due_at=due)
            for channel, recipient, due in _reminders(appointment=appointment, now=now)
        ]
    created = Message.objects.bulk_create(messages)
    # Reminders wait for the sweep; what is due now is queued once the change is committed.
    queue_after_commit([message.pk for message in created if message.kind != Kind.REMINDER])
    return created


def _message(appointment: Appointment, **fields: object) -> Message:
    # The appointment as it is now goes into the message: a message sent late
    # still tells what happened then.
    return Message(
        appointment=appointment,
        office_id=appointment.office_id,
        start=appointment.start,
        end=appointment.end,
        sequence=appointment.sequence,
        language=appointment.language,
        **fields,
    )


def reminders_plan(*, now: datetime.datetime) -> int:
    """Safety net (beat, hourly): every booked appointment gets the reminders it should have and lacks.

    Covers appointments whose reminders were not recorded with the booking
    (booked before reminders existed, or the lead time setting grew).
    Idempotent: the unique reminder per appointment version makes a second
    run, or a run racing a booking, add nothing.
    """
    appointments = list(
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            reminders_consent=True,
            start__gt=now,
            # Later appointments' reminders are not due before the next hourly runs.
            start__lte=now + datetime.timedelta(hours=settings.REMINDER_LEAD_HOURS + 24),
        ).order_by("pk")
    )
    planned = set(
        Message.objects.filter(kind=Kind.REMINDER, appointment__in=appointments).values_list(
            "appointment_id", "channel", "sequence"
        )
    )
    missing = [
        _message(appointment, kind=Kind.REMINDER, channel=channel, recipient=recipient, due_at=due)
        for appointment in appointments
        for channel, recipient, due in _reminders(appointment=appointment, now=now)
        if (appointment.pk, channel, appointment.sequence) not in planned
    ]
    Message.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def _recipients(appointment: Appointment) -> list[tuple[str, str]]:
    """Where an appointment's changes go: its e-mail address, and a mobile number if it was booked by phone."""
    recipients = []
    if appointment.email:
        recipients.append((Message.Channel.EMAIL, appointment.email))
    mobile = _sms_number(appointment)
    if mobile:
        recipients.append((Message.Channel.SMS, mobile))
    return recipients


def _sms_number(appointment: Appointment) -> str | None:
    # Citizens who booked online read e-mail; SMS (which costs the city) is for those booked by phone or at the counter.
    if appointment.channel != Appointment.Channel.PHONE:
        return None
    return mobile_number(appointment.phone)


def _reminders(*, appointment: Appointment, now: datetime.datetime) -> list[tuple[str, str, datetime.datetime]]:
    """The reminders this appointment gets: only with consent, and only when their time is still ahead.

    Lead times are elapsed time (``start - 24 h``), so on the days the clocks
    change a reminder still comes exactly that long before the appointment.
    """
    if not appointment.reminders_consent:
        return []
    planned = []
    if appointment.email:
        due = appointment.start - datetime.timedelta(hours=settings.REMINDER_LEAD_HOURS)
        if due > now:
            planned.append((Message.Channel.EMAIL, appointment.email, due))
    mobile = _sms_number(appointment)
    if mobile and settings.SMS_REMINDER_LEAD_MINUTES:
        due = appointment.start - datetime.timedelta(minutes=settings.SMS_REMINDER_LEAD_MINUTES)
        if due > now:
            planned.append((Message.Channel.SMS, mobile, due))
    return planned


def reminders_withdraw(*, appointment: Appointment) -> int:
    """Withdraw the reminders of an appointment that have not gone out (it was moved or cancelled)."""
    return Message.objects.filter(appointment=appointment, kind=Kind.REMINDER, status=Message.Status.PENDING).update(
        status=Message.Status.WITHDRAWN
    )


def queue_after_commit(message_ids: list[int]) -> None:
    """Queue sending once the current transaction commits; a broker that is down only delays them."""
    if message_ids:
        after_commit(_queue, message_ids)


def _queue(message_ids: Iterable[int]) -> None:
    from notifications.tasks import send_message  # the tasks module imports this one

    for message_id in message_ids:
        try:
            send_message.delay(message_id)
        except Exception:
            # Redis unreachable: the change is committed and its messages are in
            # the outbox; the periodic sweep sends them once the broker is back.
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
    the row from pending to sending (prevents sending twice).
    """
    claimed = Message.objects.filter(pk=message_id, status=Message.Status.PENDING, due_at__lte=now).update(
        status=Message.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return Message.objects.select_related("appointment", "office").get(pk=message_id)


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
    while handled < limit and time.monotonic() - started < seconds:
        message = message_claim_next(now=now)
        if message is None:
            break
        message_deliver(message=message, now=now)
        handled += 1
    return handled


def messages_due_exist(*, now: datetime.datetime) -> bool:
    return Message.objects.filter(status=Message.Status.PENDING, due_at__lte=now).exists()


def messages_recover(*, now: datetime.datetime) -> int:
    """Deal with messages whose sender died mid-send (still ``sending`` after the lease)."""
    stale = Q(status=Message.Status.SENDING, claimed_at__lt=now - SENDING_LEASE)
    # A change must reach the citizen: one more attempt (at worst a duplicate).
    retried = Message.objects.filter(stale, kind__in=CHANGE_KINDS).update(
        status=Message.Status.PENDING, due_at=now, last_error=_interrupted()
    )
    # A reminder must never arrive twice: it may have gone out before the worker died.
    given_up = Message.objects.filter(stale, kind=Kind.REMINDER).update(
        status=Message.Status.FAILED,
        last_error=_not_sent_again(_interrupted()),
    )
    if retried or given_up:
        logger.warning("recovered %s abandoned messages, gave up %s reminders", retried, given_up)
    return retried + given_up


def _not_sent_again(reason: str) -> str:
    # Not an f-string: xgettext does not see a msgid inside one.
    return " ".join([reason, _("Not sent again, so that no reminder arrives twice.")])


def _interrupted() -> str:
    return _("The sending was interrupted (the worker stopped).")


def message_deliver(*, message: Message, now: datetime.datetime) -> Outcome:
    """Send a message this caller has claimed and record the result."""
    if message.kind == Kind.REMINDER:
        stale_reason = _reminder_obsolete(message=message, now=now)
        if stale_reason:
            return _finish(message, Message.Status.WITHDRAWN, last_error=stale_reason)
    elif _overtaken(message):
        # A later change already went out on this channel (this one was waiting
        # for a retry): arriving now, it would contradict what the citizen knows.
        return _finish(message, Message.Status.WITHDRAWN, last_error=_("A later change was sent first."))
    try:
        note = _send(message)
    except (PermanentMailError, PermanentSmsError) as error:
        # Logged without the text: it may hold the citizen's address.
        logger.warning("message %s failed permanently (%s)", message.pk, type(error).__name__)
        return _finish(message, Message.Status.FAILED, last_error=str(error))
    except (UncertainDelivery, UncertainSmsError, SoftTimeLimitExceeded) as error:
        logger.warning("message %s: unknown whether it arrived (%s)", message.pk, type(error).__name__)
        if message.kind == Kind.REMINDER:
            # It may have arrived: a reminder is rather missing than doubled.
            return _finish(
                message,
                Message.Status.FAILED,
                last_error=_not_sent_again(_describe(error)),
            )
        return _retry_or_fail(message=message, now=now, error=_describe(error))  # a change must arrive
    except Exception as error:  # refused connections, 4xx answers, a template error: nothing left, try again
        logger.warning("message %s failed, attempt %s (%s)", message.pk, message.attempts, type(error).__name__)
        return _retry_or_fail(message=message, now=now, error=_describe(error))
    return _finish(message, Message.Status.SENT, sent_at=timezone.now(), note=note)


def _overtaken(message: Message) -> bool:
    return Message.objects.filter(
        appointment_id=message.appointment_id,
        channel=message.channel,
        kind__in=CHANGE_KINDS,
        status=Message.Status.SENT,
        pk__gt=message.pk,
    ).exists()


def _reminder_obsolete(*, message: Message, now: datetime.datetime) -> str:
    # Checked after the claim: a cancellation that commits between this read
    # and the hand-over (milliseconds) still sees its reminder go out.
    appointment = Appointment.objects.only("status", "start", "sequence").get(pk=message.appointment_id)
    if appointment.status != Appointment.Status.BOOKED:
        return _("The appointment is no longer booked.")
    if (appointment.start, appointment.sequence) != (message.start, message.sequence):
        return _("The appointment was moved.")
    if message.start <= now:
        return _("The appointment has already begun.")
    return ""


def _retry_or_fail(*, message: Message, now: datetime.datetime, error: str) -> Outcome:
    delay = min(
        datetime.timedelta(seconds=settings.MESSAGE_RETRY_SECONDS * 2 ** (message.attempts - 1)), MAX_RETRY_DELAY
    )
    retry_at = now + delay
    too_late = message.kind == Kind.REMINDER and retry_at >= message.start
    if message.attempts >= settings.MESSAGE_MAX_ATTEMPTS or too_late:
        return _finish(message, Message.Status.FAILED, last_error=error)
    _finish(message, Message.Status.PENDING, last_error=error, due_at=retry_at)
    return Outcome(Message.Status.PENDING, retry_at)


def _finish(message: Message, status: str, **fields: object) -> Outcome:
    # Only the claimant writes the result: the row is still "sending" and ours.
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(status=status, **fields)
    return Outcome(status)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _send(message: Message) -> str:
    """Send through the message's channel; returns a note for the outbox (empty when there is nothing to say)."""
    appointment = _as_then(message)
    with translation.override(message.language), timezone.override(BERLIN):
        if message.channel == Message.Channel.SMS:
            text = sms_text(message=message, appointment=appointment)
            send_sms(to=message.recipient, text=text)
            return sms_length_reason(sms_length(text))
        email = message_email(message=message, appointment=appointment)
    _send_email(email)
    return ""


def _send_email(email: EmailMultiAlternatives) -> None:
    """Send one e-mail, telling apart failures before the hand-over (safe to repeat) from those during it."""
    connection = get_connection()
    connection.open()  # connecting and signing in: nothing is handed over if this fails
    try:
        email.connection = connection
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
    except smtplib.SMTPSenderRefused:
        raise  # refused before the data: nothing was handed over
    except Exception as error:
        # A timeout or a dropped connection while the message was on its way.
        raise UncertainDelivery(_describe(error)) from error
    finally:
        connection.close()


def _first_response(error: smtplib.SMTPRecipientsRefused) -> str:
    _code, response = next(iter(error.recipients.values()))
    return response.decode(errors="replace") if isinstance(response, bytes) else str(response)


def _as_then(message: Message) -> Appointment:
    """The appointment as it was when the message was recorded (times, office, calendar sequence, status)."""
    appointment = copy.copy(message.appointment)
    prefetch_related_objects([appointment], "lines__service")
    appointment.office = message.office
    appointment.start, appointment.end, appointment.sequence = message.start, message.end, message.sequence
    appointment.status = Appointment.Status.CANCELLED if message.kind in CANCELLATIONS else Appointment.Status.BOOKED
    return appointment


def manage_url(appointment: Appointment) -> str:
    """The citizen's private link, absolute, in the appointment's language (call inside translation.override)."""
    return settings.SITE_URL + reverse("booking:manage", args=[appointment.manage_token])


def message_email(*, message: Message, appointment: Appointment) -> EmailMultiAlternatives:
    """The e-mail for a message: plain text and HTML, with the calendar file where the calendar changes."""
    lines = list(appointment.lines.all())  # prefetched by _as_then, shared with the calendar file
    context = {
        "message": message,
        "appointment": appointment,
        "office": appointment.office,
        "lines": lines,
        "what_to_bring": what_to_bring([Need(line.service, line.persons) for line in lines]),
        "manage_url": manage_url(appointment),
        "site_url": settings.SITE_URL,
        "reason": message.reason,
    }
    name = f"emails/{message.kind}"
    subject = " ".join(render_to_string(f"{name}-subject.txt", context).split())
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{name}.txt", context),
        to=[message.recipient],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(render_to_string(f"{name}.html", context), "text/html")
    if message.kind != Kind.REMINDER:
        method = "CANCEL" if message.kind in CANCELLATIONS else "PUBLISH"
        email.attach(
            f"{_('appointment')}-{appointment.booking_code}.ics",
            appointment_ics(appointment),
            f"text/calendar; charset=utf-8; method={method}",
        )
    return email


def sms_text(*, message: Message, appointment: Appointment) -> str:
    """The SMS for a message, short enough for one SMS in the usual case (see sms_length_reason otherwise)."""
    local = appointment.start.astimezone(BERLIN)
    values = {
        "office": appointment.office.name,
        # Translators: PHP-style date format for SMS, short: weekday, day, month, time.
        "when": dateformat.format(local, pgettext("SMS date", "D d.m. H:i")),
        "code": appointment.booking_code,
        "link": settings.SITE_URL + reverse("booking:short", args=[appointment.manage_token]),
    }
    texts = {
        Kind.CONFIRMATION: _("%(office)s: appointment %(when)s, code %(code)s. Change or cancel: %(link)s"),
        Kind.REMINDER: _("Reminder: %(office)s, %(when)s, code %(code)s. Cannot come? Cancel: %(link)s"),
        Kind.MOVED: _("%(office)s: your appointment is now %(when)s, code %(code)s. %(link)s"),
        Kind.CANCELLED_BY_CITIZEN: _("%(office)s: your appointment %(when)s (code %(code)s) is cancelled."),
        Kind.CANCELLED_BY_OFFICE: _(
            "%(office)s had to cancel your appointment %(when)s (code %(code)s). We are sorry. %(link)s"
        ),
    }
    return texts[message.kind] % values


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
