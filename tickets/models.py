"""The walk-in queue: the tickets drawn in an office, the kiosks that issue them, and their numbering.

A ticket's number is its queue's letter and a number counted per office, day
and queue (``TicketSequence``): T for appointment holders (issued when the
desk checks them in), W for walk-ins, A for the pickup of a finished document,
N for urgent cases a clerk registers. Who is called next is decided in one
place, ``tickets.policy``; every change of a ticket is in ``tickets.services``.
Tickets carry no name: the number and the token of the phone page are all.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from booking.models import BOOKING_CODE_ALPHABET, Appointment
from offices.models import Office, Service
from offices.validators import MAX_COUNTER

TICKET_TOKEN_LENGTH = 12  # 25^12 ≈ 6·10^16: not guessable within a day, short enough to type from a slip


def new_ticket_token() -> str:
    return "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(TICKET_TOKEN_LENGTH))


def new_kiosk_key() -> str:
    return secrets.token_urlsafe(24)


class Kiosk(models.Model):
    """A touch screen in an office that issues tickets; its address carries the key, so it needs no login."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="kiosks")
    name = models.CharField(_("name"), max_length=80, help_text=_("Where it stands, e.g. “Entrance”."))
    key = models.CharField(_("key"), max_length=64, unique=True, default=new_kiosk_key, editable=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("kiosk")
        verbose_name_plural = _("kiosks")
        ordering = ["office__name", "name"]

    def __str__(self) -> str:
        return f"{self.office} – {self.name}"


class Ticket(models.Model):
    class Queue(models.TextChoices):
        APPOINTMENT = "T", _("Appointment")
        WALK_IN = "W", _("Walk-in")
        PICKUP = "A", _("Pickup")
        URGENT = "N", _("Urgent")

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting")
        CALLED = "called", _("called")
        IN_SERVICE = "in_service", _("in service")
        DONE = "done", _("done")
        NO_SHOW = "no_show", _("did not come")

    OPEN = (Status.WAITING, Status.CALLED, Status.IN_SERVICE)

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="tickets")
    day = models.DateField(_("day"))  # in Berlin
    queue = models.CharField(_("queue"), max_length=1, choices=Queue.choices)
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.WAITING)
    service = models.ForeignKey(
        Service, verbose_name=_("matter"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appointment = models.OneToOneField(
        Appointment,
        verbose_name=_("appointment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ticket",
    )
    kiosk = models.ForeignKey(
        Kiosk, verbose_name=_("kiosk"), on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    token = models.CharField(_("token"), max_length=TICKET_TOKEN_LENGTH, unique=True, default=new_ticket_token)
    language = models.CharField(_("language"), max_length=10, default="de")
    counter = models.PositiveSmallIntegerField(_("counter"), null=True, blank=True)
    issued_at = models.DateTimeField(_("drawn"))
    called_at = models.DateTimeField(_("called"), null=True, blank=True)
    service_started_at = models.DateTimeField(_("service started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("no-show recorded"), null=True, blank=True)

    class Meta:
        verbose_name = _("queue ticket")
        verbose_name_plural = _("queue tickets")
        ordering = ["-day", "issued_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["office", "day", "queue", "number"], name="ticket_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="ticket_number_positive"),
            models.CheckConstraint(
                condition=Q(queue="T", appointment__isnull=False) | (~Q(queue="T") & Q(appointment__isnull=True)),
                name="ticket_appointment_only_for_t",
            ),
            models.CheckConstraint(
                condition=Q(counter__isnull=True) | Q(counter__gte=1, counter__lte=MAX_COUNTER),
                name="ticket_counter_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="called") | Q(counter__isnull=False), name="ticket_called_has_counter"
            ),
        ]
        indexes = [
            models.Index(fields=["office", "day", "status"]),
            models.Index(fields=["office", "finished_at"]),
            models.Index(fields=["office", "called_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.office} {self.day:%d.%m.%Y}"

    @property
    def label(self) -> str:
        """What the ticket, the display and the clerk say: the queue's letter and the number, e.g. W017."""
        return f"{self.queue}{self.number:03d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class TicketSequence(models.Model):
    """The last number given in one queue of one office on one day: its row lock orders the draws."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    queue = models.CharField(max_length=1, choices=Ticket.Queue.choices)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "day", "queue"], name="ticket_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.queue} {self.day}: {self.last}"
