from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from booking.admin import ReadOnlyAdmin
from tickets.models import Kiosk, Ticket


@admin.register(Kiosk)
class KioskAdmin(admin.ModelAdmin):
    list_display = ["name", "office", "active", "address"]
    list_filter = ["active", "office"]
    search_fields = ["name", "office__name"]
    readonly_fields = ["address"]
    fields = ["office", "name", "active", "address"]

    @admin.display(description=_("address for the kiosk's browser"))
    def address(self, kiosk: Kiosk) -> str:
        if kiosk.pk is None:
            return _("Shown once saved.")
        url = reverse("tickets:kiosk", args=[kiosk.key])
        return format_html('<a href="{}">{}</a>', url, url)


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["label", "office", "day", "status", "counter", "issued_at", "called_at", "finished_at"]
    list_filter = ["status", "queue", "office"]
    date_hierarchy = "day"
    list_select_related = ["office"]
