import datetime
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from buergerservice.admin_dates import SafeDateHierarchyMixin
from offices.admin_translations import MissingTranslationFilter, MissingTranslationsAdmin
from offices.models import (
    Absence,
    Category,
    Closure,
    Feedback,
    Membership,
    Office,
    OfficeService,
    OpeningHours,
    PublicHoliday,
    Service,
    Shift,
    SpecialOpening,
    WalkInWindow,
    Weekday,
    WeeklyShift,
)
from offices.services import public_holidays_import, shift_change_by_hand
from offices.validators import TimeRange, find_overlaps

admin.site.site_header = _("Bürgerservice administration")
admin.site.site_title = _("Bürgerservice")
admin.site.index_title = _("Configuration")


class CapacityAdmin:
    """An admin of what shapes the slot grid: each save or delete names the offices and days it changes.

    Rebuilding the grid is not the offices' business: ``desk.admin`` registers
    these admins again with ``capacity_changed`` doing it (``desk.capacity``).
    """

    def capacity_changed(
        self,
        request: HttpRequest,
        *,
        offices: list[Office],
        first: datetime.date | None = None,
        last: datetime.date | None = None,
        reason: str = "",
    ) -> None:
        """The grid of these offices changes on first..last (without dates: the whole horizon)."""

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        """"Delete selected" deletes one by one, so each deletion names its offices and days like a single one."""
        for obj in queryset:
            self.delete_model(request, obj)  # type: ignore[attr-defined]  # the ModelAdmin this is mixed into


class NoOverlapFormSet(BaseInlineFormSet):
    """Rejects ranges of the same day that overlap, across all rows being saved together."""

    day_field: str

    def clean(self) -> None:
        super().clean()
        ranges: list[TimeRange] = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or form.errors:
                continue
            if data.get(self.day_field) is None or not data.get("opens") or not data.get("closes"):
                continue
            ranges.append(TimeRange(data[self.day_field], data["opens"], data["closes"]))
        overlaps = find_overlaps(ranges)
        if overlaps:
            first, second = overlaps[0]
            raise ValidationError(
                gettext("%(first)s and %(second)s overlap on the same day. Join them into one range or move one.")
                % {"first": self._describe(first), "second": self._describe(second)}
            )

    def _describe(self, item: TimeRange) -> str:
        day = item.day
        label = day.strftime("%d.%m.%Y") if isinstance(day, datetime.date) else Weekday(day).label
        return f"{label} {item.opens:%H:%M}–{item.closes:%H:%M}"


class OpeningHoursFormSet(NoOverlapFormSet):
    day_field = "weekday"


class SpecialOpeningFormSet(NoOverlapFormSet):
    day_field = "date"


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 0


class OfficeServiceInline(admin.TabularInline):
    model = OfficeService
    extra = 0
    autocomplete_fields = ["service"]


class WalkInWindowInline(admin.TabularInline):
    model = WalkInWindow
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class SpecialOpeningInline(TranslationTabularInline):
    model = SpecialOpening
    formset = SpecialOpeningFormSet
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[SpecialOpening]:
        # The office page would grow without end; past dates stay in the database.
        return super().get_queryset(request).filter(date__gte=timezone.localdate())


class ClosureInline(TranslationTabularInline):
    model = Closure
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Closure]:
        return super().get_queryset(request).filter(end_date__gte=timezone.localdate())


@admin.register(Office)
class OfficeAdmin(CapacityAdmin, MissingTranslationsAdmin, TranslationAdmin):
    list_display = [
        "name",
        "missing_translations",
        "kind",
        "postal_code",
        "slot_minutes",
        "service_count",
        "step_free",
        "active",
        "capacity",
        "message_list",
    ]
    list_filter = ["kind", "active", "step_free", MissingTranslationFilter]
    search_fields = ["name_de", "name_en", "slug", "street", "postal_code", "city"]
    prepopulated_fields = {"slug": ("name_de",)}
    inlines = [
        OpeningHoursInline,
        OfficeServiceInline,
        SpecialOpeningInline,
        ClosureInline,
        WalkInWindowInline,
        MembershipInline,
    ]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "active"]}),
        (_("Address and contact"), {"fields": ["street", "postal_code", "city", "directions", "phone", "email"]}),
        (_("Accessibility"), {"fields": ["step_free", "accessibility_notes"]}),
        (
            _("Booking rules"),
            {
                "fields": [
                    "slot_minutes",
                    "horizon_days",
                    "release_time",
                    "release_first_percent",
                    "release_more_at",
                    "phone_share_percent",
                    "phone_release_hours",
                    "min_notice_minutes",
                    "confirm_email",
                    "confirm_within_minutes",
                ]
            },
        ),
        (
            _("Urgent cases"),
            {
                "fields": [
                    "urgent_counters",
                    "urgent_invite_time",
                    "urgent_release_hours",
                ]
            },
        ),
        (_("Walk-in queue"), {"fields": ["walkin_cutoff_minutes", "pickup_counters"]}),
        (_("Privacy"), {"fields": ["retention_days"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Office]:
        return super().get_queryset(request).annotate(service_count=Count("offered_services"))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Hours, closures, openings, contingents and rules all shape the grid: rebuild the horizon.
        self.capacity_changed(request, offices=[form.instance], reason=str(form.instance))

    @admin.display(description=_("services"), ordering="service_count")
    def service_count(self, office: Office) -> int:
        return office.service_count

    @admin.display(description=_("capacity"))
    def capacity(self, office: Office) -> str:
        return format_html('<a href="{}">{}</a>', reverse("desk:capacity", args=[office.slug]), _("Overview"))

    @admin.display(description=_("messages"))
    def message_list(self, office: Office) -> str:
        # The failed ones first: they did not reach a citizen.
        url = reverse("desk:office-messages", args=[office.slug])
        return format_html('<a href="{}">{}</a>', url, _("Failed and sent"))


@admin.register(Category)
class CategoryAdmin(MissingTranslationsAdmin, TranslationAdmin):
    list_display = ["name", "position", "slug", "missing_translations"]
    list_filter = [MissingTranslationFilter]
    list_editable = ["position"]
    search_fields = ["name_de", "name_en", "slug"]
    prepopulated_fields = {"slug": ("name_de",)}


@admin.register(Service)
class ServiceAdmin(MissingTranslationsAdmin, TranslationAdmin):
    list_display = [
        "name", "category", "default_duration_minutes", "max_persons", "pickup", "office_count", "active",
        "missing_translations",
    ]  # fmt: skip
    list_filter = ["category", "pickup", "active", MissingTranslationFilter]
    search_fields = ["name_de", "name_en", "slug", "description_de", "description_en"]
    prepopulated_fields = {"slug": ("name_de",)}
    list_select_related = ["category"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Service]:
        return super().get_queryset(request).annotate(office_count=Count("offered_at"))

    @admin.display(description=_("offered at"), ordering="office_count")
    def office_count(self, service: Service) -> int:
        return service.office_count


@admin.register(PublicHoliday)
class PublicHolidayAdmin(CapacityAdmin, SafeDateHierarchyMixin, TranslationAdmin):
    list_display = ["date", "name", "imported"]
    list_filter = ["imported"]
    date_hierarchy = "date"
    search_fields = ["name_de", "name_en"]
    change_list_template = "admin/offices/publicholiday/change_list.html"

    def save_model(self, request: HttpRequest, obj: PublicHoliday, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        days = {obj.date, form.initial.get("date") or obj.date}
        active = list(Office.objects.filter(active=True))
        self.capacity_changed(request, offices=active, first=min(days), last=max(days), reason=str(obj))

    def delete_model(self, request: HttpRequest, obj: PublicHoliday) -> None:
        super().delete_model(request, obj)
        active = list(Office.objects.filter(active=True))
        self.capacity_changed(request, offices=active, first=obj.date, last=obj.date, reason=str(obj))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="offices_publicholiday_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """POST: import this and next year's holidays of the configured federal state."""
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        year = timezone.localdate().year
        count = public_holidays_import(years=[year, year + 1])
        active = list(Office.objects.filter(active=True))
        self.capacity_changed(request, offices=active, reason=str(PublicHoliday._meta.verbose_name_plural))
        self.message_user(
            request,
            gettext("%(count)s public holidays for %(first)s and %(second)s are up to date.")
            % {"count": count, "first": year, "second": year + 1},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:offices_publicholiday_changelist"))


@admin.register(WeeklyShift)
class WeeklyShiftAdmin(CapacityAdmin, admin.ModelAdmin):
    list_display = ["user", "office", "weekday", "starts", "ends"]
    list_filter = ["office", "weekday"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "office__name_de"]
    autocomplete_fields = ["user", "office"]
    list_select_related = ["user", "office"]

    def save_model(self, request: HttpRequest, obj: WeeklyShift, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        offices = {obj.office_id, form.initial.get("office") or obj.office_id}
        self.capacity_changed(request, offices=list(Office.objects.filter(pk__in=offices)), reason=str(obj))

    def delete_model(self, request: HttpRequest, obj: WeeklyShift) -> None:
        super().delete_model(request, obj)
        self.capacity_changed(request, offices=[obj.office], reason=str(obj))


@admin.register(Shift)
class ShiftAdmin(CapacityAdmin, SafeDateHierarchyMixin):
    """Dated shifts, changed one by one. A changed shift no longer follows the weekly pattern."""

    list_display = ["date", "user", "office", "starts", "ends", "active", "from_pattern"]
    list_filter = ["office", "active", "from_pattern"]
    date_hierarchy = "date"
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user", "office"]
    readonly_fields = ["from_pattern"]
    list_select_related = ["user", "office"]

    def save_model(self, request: HttpRequest, obj: Shift, form: Any, change: bool) -> None:
        shift_change_by_hand(shift=obj)
        self.capacity_changed(request, offices=[obj.office], first=obj.date, last=obj.date, reason=str(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Shift | None = None) -> bool:
        # A pattern shift would come back with the next derivation: take the day out with "on duty" instead.
        return super().has_delete_permission(request, obj) and (obj is None or not obj.from_pattern)

    def delete_model(self, request: HttpRequest, obj: Shift) -> None:
        super().delete_model(request, obj)
        self.capacity_changed(request, offices=[obj.office], first=obj.date, last=obj.date, reason=str(obj))


@admin.register(Absence)
class AbsenceAdmin(CapacityAdmin, SafeDateHierarchyMixin):
    list_display = ["user", "kind", "start_date", "end_date", "note"]
    list_filter = ["kind"]
    date_hierarchy = "start_date"
    search_fields = ["user__username", "user__first_name", "user__last_name", "note"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]

    def save_model(self, request: HttpRequest, obj: Absence, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The clerk's offices lose (or, for a shortened absence, regain) capacity on old and new days.
        days = [obj.start_date, obj.end_date, *(form.initial.get(f) for f in ("start_date", "end_date"))]
        days = [day for day in days if day]
        offices = Office.objects.filter(memberships__user=obj.user_id).distinct()
        reason = str(obj.get_kind_display())
        self.capacity_changed(request, offices=list(offices), first=min(days), last=max(days), reason=reason)

    def delete_model(self, request: HttpRequest, obj: Absence) -> None:
        super().delete_model(request, obj)
        offices = Office.objects.filter(memberships__user=obj.user_id).distinct()
        reason = str(obj.get_kind_display())
        self.capacity_changed(request, offices=list(offices), first=obj.start_date, last=obj.end_date, reason=reason)


@admin.register(Feedback)
class FeedbackAdmin(SafeDateHierarchyMixin):
    list_display = ["created_at", "kind", "page", "name", "email", "handled"]
    list_filter = ["kind", "handled"]
    list_editable = ["handled"]
    search_fields = ["message", "page", "name", "email"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "kind", "page", "message", "name", "email"]
    fields = ["created_at", "kind", "page", "message", "name", "email", "handled"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Feedback comes from the public form; an administrator only marks it handled (or deletes it).
        return False
