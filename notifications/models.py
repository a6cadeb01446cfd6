"""The outbox: every message to a citizen, recorded with the change that causes it.

A row is written in the same transaction as the booking, move or
cancellation, so a change without its message (or a message without its
change) cannot exist. Sending happens after commit, claimed row by row with a
conditional update under a short lease that the sender renews while it is
alive, so no message goes out twice (see services.py).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from booking.models import Appointment
from offices.models import Office


class Message(models.Model):
    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("confirmation")
        REMINDER = "reminder", _("reminder")
        MOVED = "moved", _("moved")
        CANCELLED_BY_CITIZEN = "cancelled_by_citizen", _("cancelled by the citizen")
        CANCELLED_BY_OFFICE = "cancelled_by_office", _("cancelled by the office")

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        WITHDRAWN = "withdrawn", _("not needed any more")

    appointment = models.ForeignKey(
        Appointment, verbose_name=_("appointment"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8)
    recipient = models.CharField(_("recipient"), max_length=254)  # the address or E.164 number at the time
    # The appointment as it was when the change happened: a message sent late
    # still tells what happened then, not what is true by the time it leaves.
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField(_("appointment start"))
    end = models.DateTimeField(_("appointment end"))
    sequence = models.PositiveIntegerField(_("calendar sequence"))
    reason = models.TextField(_("reason given"), blank=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(_("due at"))  # not before; after a temporary failure, the next attempt
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # The current claim: who holds it (a new token per claim, so a sender whose
    # lease lapsed cannot renew or finish another sender's claim) and until when,
    # unless renewed. Empty lease on a "sending" row: claimed by a version
    # without leases (see services.messages_recover).
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)  # e.g. why an SMS needed several parts
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One reminder per channel for each version of the appointment: even
            # code that records it twice cannot make it go out twice.
            models.UniqueConstraint(
                fields=["appointment", "channel", "sequence"],
                condition=Q(kind="reminder"),
                name="message_one_reminder_per_version",
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"), name="message_sent_has_time"
            ),
        ]
        indexes = [
            # The sweep's question: what is due and unsent?
            models.Index(fields=["due_at"], condition=Q(status="pending"), name="message_pending_due"),
            # The sweep's other question: whose sender stopped renewing its lease?
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="message_sending_lease"),
            models.Index(fields=["office", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_channel_display()}) → {self.recipient}"
