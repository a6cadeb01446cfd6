import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from offices.models import (
    Category,
    Closure,
    Office,
    OfficeService,
    OpeningHours,
    PublicHoliday,
    Service,
    SpecialOpening,
    Weekday,
)
from offices.services import public_holidays_import
from offices.validators import TimeRange, find_overlaps

admin.site.site_header = _("Bürgerservice administration")
admin.site.site_title = _("Bürgerservice")
admin.site.index_title = _("Configuration")


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
class OfficeAdmin(TranslationAdmin):
    list_display = ["name", "kind", "postal_code", "slot_minutes", "service_count", "step_free", "active"]
    list_filter = ["kind", "active", "step_free"]
    search_fields = ["name_de", "name_en", "slug", "street", "postal_code", "city"]
    prepopulated_fields = {"slug": ("name_de",)}
    inlines = [OpeningHoursInline, OfficeServiceInline, SpecialOpeningInline, ClosureInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "active"]}),
        (_("Address and contact"), {"fields": ["street", "postal_code", "city", "directions", "phone", "email"]}),
        (_("Accessibility"), {"fields": ["step_free", "accessibility_notes"]}),
        (_("Appointments"), {"fields": ["slot_minutes"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Office]:
        return super().get_queryset(request).annotate(service_count=Count("offered_services"))

    @admin.display(description=_("services"), ordering="service_count")
    def service_count(self, office: Office) -> int:
        return office.service_count


@admin.register(Category)
class CategoryAdmin(TranslationAdmin):
    list_display = ["name", "position", "slug"]
    list_editable = ["position"]
    search_fields = ["name_de", "name_en", "slug"]
    prepopulated_fields = {"slug": ("name_de",)}


@admin.register(Service)
class ServiceAdmin(TranslationAdmin):
    list_display = ["name", "category", "default_duration_minutes", "max_persons", "office_count", "active"]
    list_filter = ["category", "active"]
    search_fields = ["name_de", "name_en", "slug", "description_de", "description_en"]
    prepopulated_fields = {"slug": ("name_de",)}
    list_select_related = ["category"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Service]:
        return super().get_queryset(request).annotate(office_count=Count("offered_at"))

    @admin.display(description=_("offered at"), ordering="office_count")
    def office_count(self, service: Service) -> int:
        return service.office_count


@admin.register(PublicHoliday)
class PublicHolidayAdmin(TranslationAdmin):
    list_display = ["date", "name", "imported"]
    list_filter = ["imported"]
    date_hierarchy = "date"
    search_fields = ["name_de", "name_en"]
    change_list_template = "admin/offices/publicholiday/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="offices_publicholiday_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """POST: import this and next year's holidays of the configured federal state."""
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        year = timezone.localdate().year
        count = public_holidays_import(years=[year, year + 1])
        self.message_user(
            request,
            gettext("%(count)s public holidays for %(first)s and %(second)s are up to date.")
            % {"count": count, "first": year, "second": year + 1},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:offices_publicholiday_changelist"))
