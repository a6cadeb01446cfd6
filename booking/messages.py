"""What a message about an appointment says, and its rules.

The outbox (notifications) records, claims, sends and retries messages; this
module says which messages a change of an appointment causes (a confirmation,
a move, a cancellation, reminders), what they say (e-mail with calendar file,
SMS) and when one is no longer wanted:

- a change waiting for a retry is dropped once a later change went out on the
  same channel (arriving now, it would contradict what the citizen knows);
- a reminder is withdrawn when the appointment is no longer booked, was moved
  (it tells a time that is no longer true) or has begun (its ``expires_at``).

Its handler is registered with the outbox in ``BookingConfig.ready()``; the
outbox imports nothing of booking.
"""

import copy
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet, TextChoices
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from booking.grid import BERLIN
from booking.ics import appointment_ics
from booking.models import Appointment, AppointmentService
from booking.needs import lines_needs, what_to_bring
from notifications.models import Message
from notifications.services import messages_record, messages_record_missing, messages_withdraw, require_transaction
from notifications.sms import mobile_number
from notifications.subjects import Email, SubjectHandler
from offices.models import Office

SUBJECT = "appointment"  # Message.subject_type of the messages about an appointment


class Kind(TextChoices):
    CONFIRMATION = "confirmation", gettext_lazy("confirmation")
    REMINDER = "reminder", gettext_lazy("reminder")
    MOVED = "moved", gettext_lazy("moved")
    CANCELLED_BY_CITIZEN = "cancelled_by_citizen", gettext_lazy("cancelled by the citizen")
    CANCELLED_BY_OFFICE = "cancelled_by_office", gettext_lazy("cancelled by the office")
    # E-mail confirmation (booking.services.confirmation): the link to confirm, and the time freed without it.
    ACTIVATION = "activation", gettext_lazy("request to confirm")
    LAPSED = "lapsed", gettext_lazy("not confirmed, freed")


# The request to confirm is not among the changes: a move sent after it must not withdraw the only link.
CHANGE_KINDS = {Kind.CONFIRMATION, Kind.MOVED, Kind.CANCELLED_BY_CITIZEN, Kind.CANCELLED_BY_OFFICE, Kind.LAPSED}
CANCELLATIONS = {Kind.CANCELLED_BY_CITIZEN, Kind.CANCELLED_BY_OFFICE, Kind.LAPSED}
# Nothing new for the calendar, or not final yet. A lapse carries a CANCEL: a move may have sent the time before.
WITHOUT_CALENDAR = {Kind.REMINDER, Kind.ACTIVATION}


# Links -------------------------------------------------------------------------------------------


def manage_url(appointment: Appointment) -> str:
    """The citizen's private link, absolute, in the active language (call inside translation.override)."""
    return settings.SITE_URL + reverse("booking:manage", args=[appointment.manage_token])


def confirm_url(appointment: Appointment) -> str:
    """The link that confirms the e-mail address, absolute (call inside translation.override); empty if none."""
    if not appointment.confirm_token:
        return ""
    return settings.SITE_URL + reverse("booking:confirm", args=[appointment.confirm_token])


def short_url(appointment: Appointment) -> str:
    """The short link for SMS and the desk's slip, absolute: on to the manage page in the booking's language."""
    with translation.override(appointment.language):
        return settings.SITE_URL + reverse("booking:short", args=[appointment.manage_token])


# The appointment as the message tells it ----------------------------------------------------------


@dataclass(frozen=True)
class AsRecorded:
    """The appointment as it was when a message was recorded (``Message.context``)."""

    office_id: int
    start: datetime.datetime
    end: datetime.datetime
    sequence: int
    code: str
    reason: str


def as_recorded(message: Message) -> AsRecorded:
    context = message.context
    return AsRecorded(
        office_id=context["office"],
        start=datetime.datetime.fromisoformat(context["start"]),
        end=datetime.datetime.fromisoformat(context["end"]),
        sequence=context["sequence"],
        code=context["code"],
        reason=context.get("reason", ""),
    )


def office_scope(office_id: int) -> str:
    """The staff list (``Message.scope``) of an office's messages."""
    return f"office:{office_id}"


def appointment_messages(appointment: Appointment) -> QuerySet[Message]:
    """All messages about ``appointment``, whatever their status."""
    return Message.objects.filter(subject_type=SUBJECT, subject_id=appointment.pk)


def confirmation_recipients(appointment: Appointment) -> dict[str, str]:
    """Where the confirmation of ``appointment`` went, by channel (for the desk's slip)."""
    return dict(appointment_messages(appointment).filter(kind=Kind.CONFIRMATION).values_list("channel", "recipient"))


# Recording ---------------------------------------------------------------------------------------


def appointment_messages_record(
    *, appointment: Appointment, kind: str, now: datetime.datetime, reason: str = ""
) -> list[Message]:
    """Record what this change of ``appointment`` tells the citizen, in the caller's transaction.

    Call it inside the transaction of the change, after the appointment row
    has its new state. Moves and cancellations withdraw reminders that are
    still waiting; confirmations and moves plan new ones. The outbox sends
    them once the transaction commits (the reminders when they are due).
    """
    require_transaction("appointment_messages_record")
    if kind in CANCELLATIONS or kind == Kind.MOVED:
        reminders_withdraw(appointment=appointment)
    # The request to confirm is worth nothing after its deadline (the time is freed then).
    expires_at = appointment.confirm_by if kind == Kind.ACTIVATION else None
    messages = [
        appointment_message(
            appointment,
            kind=kind,
            channel=channel,
            recipient=recipient,
            due_at=now,
            reason=reason,
            expires_at=expires_at,
        )
        for channel, recipient in _recipients(appointment)
    ]
    if kind in (Kind.CONFIRMATION, Kind.MOVED):
        messages += _reminders(appointment=appointment, now=now)
    return messages_record(messages=messages, now=now)


def appointment_message(appointment: Appointment, *, reason: str = "", **fields: object) -> Message:
    """A message about ``appointment``, unsaved, with the appointment as it is now (what a late message tells)."""
    return Message(
        subject_type=SUBJECT,
        subject_id=appointment.pk,
        language=appointment.language,
        scope=office_scope(appointment.office_id),
        context={
            "office": appointment.office_id,
            "start": appointment.start.isoformat(),
            "end": appointment.end.isoformat(),
            "sequence": appointment.sequence,
            "code": appointment.booking_code,
            "reason": reason,
        },
        **fields,
    )


def reminder_message(appointment: Appointment, *, channel: str, recipient: str, due_at: datetime.datetime) -> Message:
    """A reminder, unsaved: one per channel for each version of the appointment (its ``once_key``), never sent twice
    (at most once), and never once the appointment has begun (its ``expires_at``)."""
    return appointment_message(
        appointment,
        kind=Kind.REMINDER,
        channel=channel,
        recipient=recipient,
        due_at=due_at,
        at_most_once=True,
        once_key=f"{SUBJECT}:{appointment.pk}:{appointment.sequence}:{channel}:{Kind.REMINDER}",
        expires_at=appointment.start,
    )


def reminders_plan(*, now: datetime.datetime) -> int:
    """Safety net (beat, hourly): every booked appointment gets the reminders it should have and lacks.

    Covers appointments whose reminders were not recorded with the booking
    (booked before reminders existed, or the lead time setting grew).
    Idempotent: the unique key of a reminder per appointment version makes a
    second run, or a run racing a booking, add nothing.
    """
    appointments = Appointment.objects.filter(
        status=Appointment.Status.BOOKED,
        reminders_consent=True,
        start__gt=now,
        # Later appointments' reminders are not due before the next hourly runs.
        start__lte=now + datetime.timedelta(hours=settings.REMINDER_LEAD_HOURS + 24),
    ).order_by("pk")
    wanted = [reminder for appointment in appointments for reminder in _reminders(appointment=appointment, now=now)]
    planned = set(
        Message.objects.filter(once_key__in=[reminder.once_key for reminder in wanted]).values_list(
            "once_key", flat=True
        )
    )
    return messages_record_missing(messages=[reminder for reminder in wanted if reminder.once_key not in planned])


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
    # Citizens who booked online read e-mail; SMS (which costs the city) is for those booked by phone or at the counter,
    # and for those without an e-mail address (an urgent case a clerk registered for a caller, invited later).
    if appointment.channel != Appointment.Channel.PHONE and appointment.email:
        return None
    return mobile_number(appointment.phone)


def _reminders(*, appointment: Appointment, now: datetime.datetime) -> list[Message]:
    """The reminders this appointment gets: only with consent, and only when their time is still ahead.

    Lead times are elapsed time (``start - 24 h``), so on the days the clocks
    change a reminder still comes exactly that long before the appointment.
    """
    if not appointment.reminders_consent or appointment.awaiting_confirmation:  # planned once it is confirmed
        return []
    planned = []
    if appointment.email:
        due = appointment.start - datetime.timedelta(hours=settings.REMINDER_LEAD_HOURS)
        if due > now:
            planned.append(
                reminder_message(appointment, channel=Message.Channel.EMAIL, recipient=appointment.email, due_at=due)
            )
    mobile = _sms_number(appointment)
    if mobile and settings.SMS_REMINDER_LEAD_MINUTES:
        due = appointment.start - datetime.timedelta(minutes=settings.SMS_REMINDER_LEAD_MINUTES)
        if due > now:
            planned.append(reminder_message(appointment, channel=Message.Channel.SMS, recipient=mobile, due_at=due))
    return planned


def reminders_withdraw(*, appointment: Appointment) -> int:
    """Withdraw the reminders of an appointment that have not gone out (it was moved or cancelled)."""
    return messages_withdraw(subject_type=SUBJECT, subject_id=appointment.pk, kinds=[Kind.REMINDER])


# Content -----------------------------------------------------------------------------------------


def _current(message: Message) -> Appointment:
    """The appointment as it is now, with its office and services, read once per message being sent."""
    cached = getattr(message, "_appointment", None)
    if cached is None:
        cached = (
            Appointment.objects.select_related("office")
            .prefetch_related(Prefetch("lines", AppointmentService.objects.select_related("service")))
            .get(pk=message.subject_id)
        )
        message._appointment = cached  # type: ignore[attr-defined]
    return cached


def as_then(message: Message) -> Appointment:
    """The appointment as it was when the message was recorded (times, office, calendar sequence, status)."""
    current = _current(message)
    then = as_recorded(message)
    appointment = copy.copy(current)
    if then.office_id != current.office_id:
        appointment.office = Office.objects.get(pk=then.office_id)
    appointment.start, appointment.end, appointment.sequence = then.start, then.end, then.sequence
    appointment.status = Appointment.Status.CANCELLED if message.kind in CANCELLATIONS else Appointment.Status.BOOKED
    return appointment


def message_email(*, message: Message, appointment: Appointment) -> Email:
    """The e-mail for a message: plain text and HTML, with the calendar file where the calendar changes."""
    lines = list(appointment.lines.all())  # prefetched, shared with the calendar file
    context = {
        "message": message,
        "appointment": appointment,
        "office": appointment.office,
        "lines": lines,
        "what_to_bring": what_to_bring(lines_needs(lines)),
        "manage_url": manage_url(appointment),
        "confirm_url": confirm_url(appointment),
        "site_url": settings.SITE_URL,
        "reason": as_recorded(message).reason,
    }
    name = f"emails/{message.kind}"
    with timezone.override(BERLIN):
        email = Email(
            subject=" ".join(render_to_string(f"{name}-subject.txt", context).split()),
            text=render_to_string(f"{name}.txt", context),
            html=render_to_string(f"{name}.html", context),
        )
    if message.kind not in WITHOUT_CALENDAR:
        method = "CANCEL" if message.kind in CANCELLATIONS else "PUBLISH"
        email.attachments.append(
            (
                f"{_('appointment')}-{appointment.booking_code}.ics",
                appointment_ics(appointment),
                f"text/calendar; charset=utf-8; method={method}",
            )
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
        "link": short_url(appointment),
    }
    texts = {
        Kind.CONFIRMATION: _("%(office)s: appointment %(when)s, code %(code)s. Change or cancel: %(link)s"),
        Kind.REMINDER: _("Reminder: %(office)s, %(when)s, code %(code)s. Cannot come? Cancel: %(link)s"),
        Kind.MOVED: _("%(office)s: your appointment is now %(when)s, code %(code)s. %(link)s"),
        Kind.CANCELLED_BY_CITIZEN: _("%(office)s: your appointment %(when)s (code %(code)s) is cancelled."),
        Kind.CANCELLED_BY_OFFICE: _(
            "%(office)s had to cancel your appointment %(when)s (code %(code)s). We are sorry. %(link)s"
        ),
        Kind.ACTIVATION: _("%(office)s: please confirm your appointment %(when)s in the e-mail we sent you."),
        Kind.LAPSED: _("%(office)s: your appointment %(when)s was not confirmed in time and is released."),
    }
    return texts[message.kind] % values


# The rules, for the outbox -------------------------------------------------------------------------


def _overtaken(message: Message) -> bool:
    return Message.objects.filter(
        subject_type=SUBJECT,
        subject_id=message.subject_id,
        channel=message.channel,
        kind__in=CHANGE_KINDS,
        status=Message.Status.SENT,
        pk__gt=message.pk,
    ).exists()


def _activation_obsolete(message: Message) -> str:
    try:
        appointment = _current(message)
    except Appointment.DoesNotExist:
        return _("The appointment is no longer booked.")
    if appointment.confirmed_at is not None:
        return _("The booking is confirmed already.")
    if appointment.status == Appointment.Status.CANCELLED:
        return _("The appointment is no longer booked.")
    then = as_recorded(message)
    if (appointment.start, appointment.sequence) != (then.start, then.sequence):
        return _("The appointment was moved.")  # its mail repeats the link with the new time
    return ""


def _reminder_obsolete(message: Message) -> str:
    # Its time having come (expires_at, the start) is the outbox's check, after this one.
    try:
        appointment = _current(message)
    except Appointment.DoesNotExist:
        return _("The appointment is no longer booked.")
    then = as_recorded(message)
    if appointment.status != Appointment.Status.BOOKED:
        return _("The appointment is no longer booked.")
    if (appointment.start, appointment.sequence) != (then.start, then.sequence):
        return _("The appointment was moved.")
    return ""


class AppointmentMessages(SubjectHandler):
    """The outbox's handler for messages about an appointment (``Message.subject_type`` "appointment")."""

    def withdraw_reason(self, message: Message, *, now: datetime.datetime) -> str:
        if message.kind == Kind.REMINDER:
            return _reminder_obsolete(message)
        if message.kind == Kind.ACTIVATION:
            return _activation_obsolete(message)
        if _overtaken(message):
            # A later change already went out on this channel (this one was waiting
            # for a retry): arriving now, it would contradict what the citizen knows.
            return _("A later change was sent first.")
        return ""

    def expired_reason(self, message: Message) -> str:
        if message.kind == Kind.ACTIVATION:
            return _("The time to confirm has run out.")
        return _("The appointment has already begun.")

    def email(self, message: Message) -> Email:
        return message_email(message=message, appointment=as_then(message))

    def sms(self, message: Message) -> str:
        return sms_text(message=message, appointment=as_then(message))

    def kind_label(self, kind: str) -> str:
        return str(Kind(kind).label) if kind in Kind.values else kind

    def label(self, message: Message) -> str:
        return _("Appointment %(code)s") % {"code": message.context.get("code", message.subject_id)}

    def search(self, term: str) -> Q | None:
        return Q(context__code__iexact=term)

    def scopes(self) -> list[tuple[str, str]]:
        return [(office_scope(office.pk), office.name) for office in Office.objects.order_by("name")]
