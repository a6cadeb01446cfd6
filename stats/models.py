"""What the figures need but the other apps do not keep: each day's lead time and capacity offered, per office.

The lead time to the next free appointment exists only at the moment it is read (tomorrow the grid has moved on),
so the nightly task writes it down. Capacity offered could be read from old slots, but slots are rebuilt and
may be cleared; the snapshot keeps the number as it was.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from offices.models import Office, Service


class LeadTimeSnapshot(models.Model):
    """On ``date``, how many days ahead the office's first free online time for one person of ``service`` lay.

    ``days`` is None when none was free within the booking horizon.
    """

    date = models.DateField(_("date"))
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="+")
    days = models.PositiveIntegerField(_("days to the next free appointment"), null=True, blank=True)
    taken_at = models.DateTimeField(_("taken at"))

    class Meta:
        verbose_name = _("lead time snapshot")
        verbose_name_plural = _("lead time snapshots")
        ordering = ["date", "office", "service"]
        constraints = [
            models.UniqueConstraint(fields=["date", "office", "service"], name="lead_time_snapshot_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.office} {self.service}: {self.days}"


class CapacitySnapshot(models.Model):
    """On ``date``, how many slot units the office offered by one channel (a unit: one counter for one slot)."""

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        PHONE = "phone", _("Phone and counter reserve")
        COUNTER = "counter", _("Walk-in counters")

    date = models.DateField(_("date"))
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    units = models.PositiveIntegerField(_("units offered"))
    taken_at = models.DateTimeField(_("taken at"))

    class Meta:
        verbose_name = _("capacity snapshot")
        verbose_name_plural = _("capacity snapshots")
        ordering = ["date", "office", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["date", "office", "channel"], name="capacity_snapshot_once_a_day"),
            models.CheckConstraint(
                condition=Q(channel__in=["online", "phone", "counter"]), name="capacity_snapshot_channel_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.office} {self.channel}: {self.units}"
