"""The waitlist: citizens who could not find a time say when and where they could come; freed times are offered to
them in one fair order (``waitlist.selectors.in_order``), each kept for them by a hold while the offer is open."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from booking.models import Appointment, new_token
from offices.models import Office


class Part(models.TextChoices):
    """Parts of the day a citizen can come (Berlin time): the start of the offered time falls in one of them."""

    MORNING = "morning", _("Mornings (before 12:00)")
    AFTERNOON = "afternoon", _("Afternoons (12:00 to 16:00)")
    EVENING = "evening", _("Late afternoons and evenings (from 16:00)")


PART_STARTS = {Part.MORNING: datetime.time(0), Part.AFTERNOON: datetime.time(12), Part.EVENING: datetime.time(16)}


def part_of(moment: datetime.time) -> str:
    if moment >= PART_STARTS[Part.EVENING]:
        return Part.EVENING
    if moment >= PART_STARTS[Part.AFTERNOON]:
        return Part.AFTERNOON
    return Part.MORNING


class Registration(models.Model):
    """One citizen waiting for a time: their needs, where, which days and parts of the day, and how to reach them."""

    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("E-mail address not confirmed yet")
        WAITING = "waiting", pgettext_lazy("waitlist registration", "Waiting")
        OFFERED = "offered", _("A time is offered")
        BOOKED = "booked", _("Booked")
        PAUSED = "paused", _("Paused after offers that lapsed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        ENDED = "ended", _("Ended (its last day has passed)")
        REFUSED = "refused", _("Refused as an urgent case")

    offices = models.ManyToManyField(Office, verbose_name=_("offices"), blank=True, related_name="+")  # none: any
    needs = models.JSONField(default=list)  # [[service_id, persons], ...], as a hold's
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("until"))
    weekdays = models.JSONField(default=list)  # 0 (Monday) to 6; empty: any
    parts = models.JSONField(default=list)  # Part values; empty: any
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)  # empty only for a caller's case a clerk registered
    phone = models.CharField(_("phone"), max_length=30, blank=True)  # a caller's, for the invitation by SMS
    email_key = models.CharField(max_length=254, editable=False)  # as the per-person limit compares it
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="de")
    # Urgent cases: the date by which the matter must be dealt with (a residence title expiring); first in line.
    deadline = models.DateField(_("urgent by"), null=True, blank=True)
    reason = models.TextField(_("why it is urgent"), max_length=1000, blank=True)
    checked_at = models.DateTimeField(_("checked by the office at"), null=True, blank=True)
    refused_reason = models.CharField(_("reason for refusing"), max_length=300, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)  # the private page
    confirm_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    confirmed_at = models.DateTimeField(_("e-mail confirmed at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.UNCONFIRMED)
    lapsed_offers = models.PositiveSmallIntegerField(_("offers lapsed"), default=0)
    appointment = models.ForeignKey(
        Appointment, verbose_name=_("appointment"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)  # its place: the service's now
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("waitlist registration")
        verbose_name_plural = _("waitlist registrations")
        constraints = [
            models.CheckConstraint(condition=Q(last_day__gte=models.F("first_day")), name="registration_days_in_order")
        ]
        indexes = [models.Index(fields=["status", "deadline", "created_at"]), models.Index(fields=["email_key"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.first_day:%d.%m.}–{self.last_day:%d.%m.%Y})"

    @property
    def live(self) -> bool:
        """Still wanting a time (and able to be changed or withdrawn)."""
        return self.status in (self.Status.UNCONFIRMED, self.Status.WAITING, self.Status.OFFERED, self.Status.PAUSED)


class Offer(models.Model):
    """A time kept for one registration by a hold until ``expires_at``: booked with one click, declined, or lapsed."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Booked")
        DECLINED = "declined", _("Declined")
        LAPSED = "lapsed", _("Lapsed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="offers")
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    hold_token = models.CharField(max_length=64, editable=False)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    expires_at = models.DateTimeField(_("open until"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("offered at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        ordering = ["-created_at"]
        constraints = [
            # One live offer per registration, whatever races: the database has the last word.
            models.UniqueConstraint(
                fields=["registration"], condition=Q(status="open"), name="offer_one_open_per_registration"
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.registration} {self.office} {self.start:%d.%m.%Y %H:%M}"
