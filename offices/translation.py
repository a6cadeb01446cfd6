"""Model fields shown to citizens in their language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from offices.models import Category, Closure, Office, PublicHoliday, Service, SpecialOpening


@register(Office)
class OfficeTranslation(TranslationOptions):
    fields = ("name", "directions", "accessibility_notes")


@register(Category)
class CategoryTranslation(TranslationOptions):
    fields = ("name",)


@register(Service)
class ServiceTranslation(TranslationOptions):
    fields = ("name", "description", "what_to_bring")


@register(Closure)
class ClosureTranslation(TranslationOptions):
    fields = ("reason",)


@register(SpecialOpening)
class SpecialOpeningTranslation(TranslationOptions):
    fields = ("note",)


@register(PublicHoliday)
class PublicHolidayTranslation(TranslationOptions):
    fields = ("name",)
