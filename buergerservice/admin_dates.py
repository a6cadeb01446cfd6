"""The admin's date drill-down without server errors at the ends of the calendar.

Django's ChangeList turns ``?start__year=9999&start__month=12&start__day=31``
into a range ending a day, month or year later, which does not exist after
9999-12-31 (OverflowError, ValueError): a 500. Such a range is refused here like
any other bad lookup, which the admin answers by showing the list unfiltered
with ``?e=1``. Every admin with a ``date_hierarchy`` uses this mixin.
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest


class DateHierarchyChangeList(ChangeList):
    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as error:  # a year, month or day past the last date there is
            raise IncorrectLookupParameters(error) from error


class SafeDateHierarchyMixin(admin.ModelAdmin):
    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return DateHierarchyChangeList
