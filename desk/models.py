"""The clerks' desk keeps one record of its own: the audit log of staff actions on appointments.

The visit itself (arrived, called, in service, …) is stored on the
appointment (``booking.models.Appointment.visit``); the rules that change it
are in ``desk.services``.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from booking.models import Appointment
from offices.models import Office


class AuditEntry(models.Model):
    """One staff action on one appointment: who, what, when, and the appointment before and after.

    Written only by ``desk.audit.audit_record``, in the transaction of the
    action. Never changed: the admin offers no change or delete, and the
    database refuses UPDATE (and, on PostgreSQL, DELETE) of a row (see the
    migration that installs the triggers).
    """

    class Action(models.TextChoices):
        BOOK = "book", _("Booked for a citizen")
        CHECK_IN = "check_in", _("Checked in")
        CALL = "call", _("Called to a counter")
        START = "start", _("Service started")
        FINISH = "finish", _("Finished")
        NO_SHOW = "no_show", _("Marked as no-show")
        NOTE = "note", _("Note changed")
        MOVE = "move", _("Moved")
        CANCEL = "cancel", _("Cancelled")
        FLAG = "flag", _("Marked to rebook")

    appointment = models.ForeignKey(
        Appointment, verbose_name=_("appointment"), on_delete=models.PROTECT, related_name="audit_entries"
    )
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="+")
    # None: no person, the system (the nightly rebuild of the grid marking what no longer fits).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    actor_name = models.CharField(_("by (name)"), max_length=300)  # as it was then
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    at = models.DateTimeField(_("when"))
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["office", "-at"]),
            models.Index(fields=["appointment", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name}: {self.get_action_display()}"
