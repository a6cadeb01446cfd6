"""The outbox: every message to a citizen, recorded with the change that causes it.

A row is written in the same transaction as the change it reports, so a
change without its message (or a message without its change) cannot exist.
Sending happens after commit, claimed row by row with a conditional update
under a short lease that the sender renews while it is alive, so no message
goes out twice (see services.py).

The outbox knows nothing of what a message is about. Its subject (an
appointment today) is named by ``subject_type`` and ``subject_id``; the app
that owns that kind of subject registers a handler (subjects.py) that says
what the message says and whether it is still wanted when its time comes.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications.subjects import kind_label


class Message(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        WITHDRAWN = "withdrawn", _("not needed any more")

    # What the message is about: the handler registered for subject_type
    # (subjects.py) renders it; subject_id is that subject's key, if it has one.
    subject_type = models.CharField(_("subject type"), max_length=40)
    subject_id = models.PositiveBigIntegerField(_("subject"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=40)  # its subject's handler names and labels the kinds
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8)
    recipient = models.CharField(_("recipient"), max_length=254)  # the address or E.164 number at the time
    # The subject as it was when the message was recorded: a message sent late
    # still tells what happened then, not what is true by the time it leaves.
    context = models.JSONField(_("subject at the time"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Which staff list shows the message (e.g. "office:12"); empty: administrators only.
    scope = models.CharField(_("scope"), max_length=64, blank=True)
    # Rather missing than doubled (a reminder): a send that may have reached the
    # citizen is never repeated; ``once_key`` lets the database refuse a second one.
    at_most_once = models.BooleanField(_("at most once"), default=False)
    once_key = models.CharField(_("key of the only one"), max_length=200, null=True, blank=True, unique=True)
    expires_at = models.DateTimeField(_("not sent at or after"), null=True, blank=True)

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
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"), name="message_sent_has_time"
            ),
            # Only a message that must never arrive twice has a key making it the only one.
            models.CheckConstraint(
                condition=Q(once_key__isnull=True) | Q(at_most_once=True), name="message_once_key_only_at_most_once"
            ),
        ]
        indexes = [
            # The sweep's question: what is due and unsent?
            models.Index(fields=["due_at"], condition=Q(status="pending"), name="message_pending_due"),
            # The sweep's other question: whose sender stopped renewing its lease?
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="message_sending_lease"),
            # A subject's messages (withdrawing its reminders, a later change sent first?).
            models.Index(fields=["subject_type", "subject_id"], name="message_subject"),
            # A staff list with its counts per status.
            models.Index(fields=["scope", "status"], name="message_scope_status"),
        ]

    def __str__(self) -> str:
        return f"{kind_label(self)} ({self.get_channel_display()}) → {self.recipient}"
