"""The desk's records in the admin, to read only.

The audit log is a record nobody may rewrite (the database refuses it too).
Blocked times are shown but not edited here: creating or removing one must
rebuild the office's grid and mark what no longer fits for rebooking, which
desk.services.block_create/block_remove do; managers do that on the desk's
"Blocked times" page.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from booking.admin import ReadOnlyAdmin
from desk.models import AuditEntry
from offices.models import Block


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
