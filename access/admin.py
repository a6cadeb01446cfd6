from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from access.keys import api_key_create
from access.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here and shown once, on the page after "Save"; afterwards only their beginning is known."""

    list_display = ["name", "prefix", "budget_scale", "books_for_callers", "active", "created_at", "last_used_at"]
    list_filter = ["active"]
    fields = ["name", "budget_scale", "books_for_callers", "active", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: object, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created, key = api_key_create(name=obj.name, budget_scale=obj.budget_scale)
        obj.pk, obj.prefix, obj.digest, obj.created_at = created.pk, created.prefix, created.digest, created.created_at
        if not obj.active:
            ApiKey.objects.filter(pk=created.pk).update(active=False)
        request._new_api_key = key  # type: ignore[attr-defined]  # shown by response_add, never stored

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("The new API key"),
            "api_key": obj,
            "key": request._new_api_key,  # type: ignore[attr-defined]
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "access/api_key_created.html", context)
        response["Cache-Control"] = "no-store"
        return response
