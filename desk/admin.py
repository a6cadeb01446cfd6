"""The desk's records in the admin, to read only, and the admins of what shapes the grid, rebuilding it.

The audit log is a record nobody may rewrite (the database refuses it too).
Blocked times are shown but not edited here: creating or removing one must
rebuild the office's grid and mark what no longer fits for rebooking, which
desk.services.block_create/block_remove do; managers do that on the desk's
"Blocked times" page.

Offices, public holidays, weekly and dated shifts and absences are edited in
the offices' admins (``offices.admin``); they are registered again here so
that a save or delete there rebuilds the grid through ``desk.capacity`` (after
commit, in a Celery task), with an audit entry for each appointment that no
longer fits, like a change on the desk.
"""

import datetime

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from booking.admin import ReadOnlyAdmin
from desk.models import AuditEntry
from desk.tasks import capacity_changed_after_commit
from offices import admin as offices_admin
from offices.models import Absence, Block, Office, PublicHoliday, Shift, WeeklyShift


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Who did what to which appointment, and when: never added, changed or deleted by hand."""

    list_display = ["at", "actor_name", "action", "appointment", "office"]
    list_filter = ["action", "office", "at"]
    search_fields = ["=appointment__booking_code", "actor_name"]
    date_hierarchy = "at"
    list_select_related = ["appointment__office", "office"]
    fields = ["at", "actor", "actor_name", "action", "appointment", "office", "before", "after", "reason"]
    readonly_fields = fields


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    """Read-only: blocked times are entered and removed on the desk's "Blocked times" page of the office."""

    list_display = ["office", "date", "starts", "ends", "counters_shown", "reason", "created_by", "created_at"]
    list_filter = ["office", "date"]
    search_fields = ["reason", "office__name"]
    date_hierarchy = "date"
    list_select_related = ["office", "created_by"]
    fields = ["office", "date", "starts", "ends", "counters", "reason", "created_by", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("counters"))
    def counters_shown(self, block: Block) -> str:
        return str(block.counters) if block.counters else str(_("all"))


# The admins of what shapes the grid ---------------------------------------------------------------


class CapacityRebuild(offices_admin.CapacityAdmin):
    def capacity_changed(
        self,
        request: HttpRequest,
        *,
        offices: list[Office],
        first: datetime.date | None = None,
        last: datetime.date | None = None,
        reason: str = "",
    ) -> None:
        """Rebuild these offices' days once the change is committed, in the name of the administrator."""
        capacity_changed_after_commit(offices=offices, first=first, last=last, by=request.user, reason=reason)


class OfficeAdmin(CapacityRebuild, offices_admin.OfficeAdmin):
    pass


class PublicHolidayAdmin(CapacityRebuild, offices_admin.PublicHolidayAdmin):
    pass


class WeeklyShiftAdmin(CapacityRebuild, offices_admin.WeeklyShiftAdmin):
    pass


class ShiftAdmin(CapacityRebuild, offices_admin.ShiftAdmin):
    pass


class AbsenceAdmin(CapacityRebuild, offices_admin.AbsenceAdmin):
    pass


for model, model_admin in [
    (Office, OfficeAdmin),
    (PublicHoliday, PublicHolidayAdmin),
    (WeeklyShift, WeeklyShiftAdmin),
    (Shift, ShiftAdmin),
    (Absence, AbsenceAdmin),
]:
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
