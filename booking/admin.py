from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from booking.messages import SUBJECT, appointment_messages
from booking.models import Appointment, AppointmentService
from buergerservice.admin_dates import SafeDateHierarchyMixin


class ReadOnlyAdmin(SafeDateHierarchyMixin):
    """Records that only services write (bookings, moves, cancellations, messages, the audit log): shown, never
    added, changed or deleted through a bare form."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AppointmentServiceInline(admin.TabularInline):
    model = AppointmentService
    fields = ["service", "persons", "minutes"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    """Read-only. Filter by status "Needs rebooking" for the appointments capacity changes left without room."""

    list_display = ["booking_code", "start", "end", "office", "channel", "status", "visit", "created_at"]
    list_filter = ["status", "visit", "channel", "office"]
    search_fields = ["=booking_code", "name", "=email"]
    date_hierarchy = "start"
    list_select_related = ["office"]
    fields = [
        "booking_code",
        "office",
        "start",
        "end",
        "channel",
        "status",
        "name",
        "email",
        "phone",
        "language",
        "reminders_consent",
        "interpreter_language",
        "step_free_access",
        "sequence",
        "created_at",
        "updated_at",
        "cancelled_at",
        "visit",
        "counter",
        "arrived_at",
        "called_at",
        "service_started_at",
        "finished_at",
        "no_show_at",
        "staff_note",
    ]
    readonly_fields = [*fields, "outbox"]
    fields = [*fields, "outbox"]
    inlines = [AppointmentServiceInline]

    @admin.display(description=_("messages"))
    def outbox(self, appointment: Appointment) -> str:
        """What the citizen was sent about this appointment, in the outbox's admin."""
        count = appointment_messages(appointment).count()
        url = reverse("admin:notifications_message_changelist") + f"?subject_type={SUBJECT}&subject_id={appointment.pk}"
        return format_html(
            '<a href="{}">{}</a>', url, ngettext("%(count)s message", "%(count)s messages", count) % {"count": count}
        )
