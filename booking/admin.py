from django.contrib import admin
from django.http import HttpRequest

from booking.models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Read-only here: bookings, moves and cancellations go through the booking services.

    Filter by status "Needs rebooking" for the appointments capacity changes left without room.
    """

    list_display = ["start", "end", "office", "channel", "status", "created_at"]
    list_filter = ["status", "channel", "office"]
    date_hierarchy = "start"
    list_select_related = ["office"]
    readonly_fields = ["office", "start", "end", "channel", "status", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False
