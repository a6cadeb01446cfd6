"""Which texts in the database still lack a translation, shown in the admin's lists.

Office and service names, directions, what to bring are typed in German first. A citizen reading
another language sees the German text where its translation is missing (MODELTRANSLATION_FALLBACK_LANGUAGES);
the admin shows per row which languages are missing and filters the rows missing one.
"""

from django.conf import settings
from django.contrib import admin
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from modeltranslation.translator import translator


def _fields(model: type[Model]) -> list[str]:
    return sorted(translator.get_options_for_model(model).fields)


def _other_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def missing_languages(instance: Model) -> list[str]:
    """The languages in which a text given in German is still empty, in the order of LANGUAGES."""
    base = settings.LANGUAGE_CODE
    given = [field for field in _fields(type(instance)) if getattr(instance, f"{field}_{base}", "")]
    return [code for code in _other_languages() if any(not getattr(instance, f"{field}_{code}", "") for field in given)]


def missing_in(model: type[Model], code: str) -> Q:
    """Rows with a German text whose translation into ``code`` is empty."""
    base = settings.LANGUAGE_CODE
    condition = Q()
    for field in _fields(model):
        given = ~Q(**{f"{field}_{base}": ""}) & Q(**{f"{field}_{base}__isnull": False})
        empty = Q(**{f"{field}_{code}": ""}) | Q(**{f"{field}_{code}__isnull": True})
        condition |= given & empty
    return condition


class MissingTranslationFilter(admin.SimpleListFilter):
    title = _("translation missing")
    parameter_name = "missing"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        names = dict(settings.LANGUAGES)
        return [(code, names[code]) for code in _other_languages()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        code = self.value()
        if code not in _other_languages():
            return queryset
        return queryset.filter(missing_in(queryset.model, code))


class MissingTranslationsAdmin:
    """For a TranslationAdmin: a column naming the missing languages and a filter by language."""

    @admin.display(description=_("translations missing"))
    def missing_translations(self, instance: Model) -> str:
        return ", ".join(missing_languages(instance)) or "–"
