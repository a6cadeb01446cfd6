"""The slot grid (bookable capacity per office and slot) and the appointments that occupy it."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offices.models import Office


class Slot(models.Model):
    """One slot of an office's grid: how many counters are on duty and how many units are booked.

    ``counters`` clerks are on shift; ``walkin_capacity`` of them serve walk-ins
    only; the rest is ``capacity``, bookable by appointment, of which
    ``phone_reserve`` is kept for clerks booking for callers until it is
    released shortly before the slot. The database refuses more bookings than
    capacity, whatever the code above it does.
    """

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="slots")
    local_date = models.DateField(_("date"))  # in Europe/Berlin, for the per-day reads and regeneration
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    counters = models.PositiveSmallIntegerField(_("counters on duty"), default=0)
    walkin_capacity = models.PositiveSmallIntegerField(_("walk-in counters"), default=0)
    capacity = models.PositiveSmallIntegerField(_("bookable capacity"), default=0)
    phone_reserve = models.PositiveSmallIntegerField(_("phone and counter reserve"), default=0)
    booked_online = models.PositiveSmallIntegerField(_("booked online"), default=0)
    booked_phone = models.PositiveSmallIntegerField(_("booked by phone or at the counter"), default=0)

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["office", "start"]
        constraints = [
            models.UniqueConstraint(fields=["office", "start"], name="slot_unique_start"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="slot_ends_after_start"),
            models.CheckConstraint(
                condition=Q(capacity=F("counters") - F("walkin_capacity")), name="slot_capacity_is_counters_less_walkin"
            ),
            models.CheckConstraint(condition=Q(phone_reserve__lte=F("capacity")), name="slot_reserve_within_capacity"),
            # The invariant: capacity is never exceeded (PRODUCT.md, invariant 1).
            models.CheckConstraint(
                condition=Q(capacity__gte=F("booked_online") + F("booked_phone")), name="slot_booked_within_capacity"
            ),
        ]
        indexes = [models.Index(fields=["office", "local_date"])]

    def __str__(self) -> str:
        return f"{self.office} {timezone.localtime(self.start):%d.%m.%Y %H:%M}"

    @property
    def booked(self) -> int:
        return self.booked_online + self.booked_phone


class Appointment(models.Model):
    """An appointment occupies one unit in each slot from ``start`` to ``end``."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        NEEDS_REBOOKING = "needs_rebooking", _("Needs rebooking")
        CANCELLED = "cancelled", _("Cancelled")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        PHONE = "phone", _("By phone or at the counter")

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    channel = models.CharField(_("booked"), max_length=20, choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.BOOKED)
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_ends_after_start"),
        ]
        indexes = [models.Index(fields=["office", "start"]), models.Index(fields=["office", "status"])]

    def __str__(self) -> str:
        return f"{self.office} {timezone.localtime(self.start):%d.%m.%Y %H:%M}"
