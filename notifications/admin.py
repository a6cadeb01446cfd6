from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from booking.admin import AppointmentAdmin, ReadOnlyAdmin
from notifications.models import Message
from notifications.services import messages_retry


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """The outbox, read-only: filter by status "failed" to see what did not reach a citizen and why."""

    list_display = ["created_at", "kind", "channel", "recipient", "office", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "channel", "office"]
    search_fields = ["=appointment__booking_code", "=recipient"]
    date_hierarchy = "created_at"
    list_select_related = ["office"]
    fields = [
        "appointment",
        "kind",
        "channel",
        "language",
        "recipient",
        "office",
        "start",
        "end",
        "sequence",
        "reason",
        "status",
        "due_at",
        "attempts",
        "claimed_at",
        "lease_until",
        "last_error",
        "note",
        "sent_at",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["send_again"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Needed for the action; the fields stay read-only.
        return bool(request.user.is_superuser)

    @admin.action(description=_("Send the selected failed messages again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = messages_retry(message_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now())
        self.message_user(
            request,
            ngettext("%(count)s message will be sent again.", "%(count)s messages will be sent again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["created_at", "kind", "channel", "recipient", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


AppointmentAdmin.inlines = [*AppointmentAdmin.inlines, MessageInline]
