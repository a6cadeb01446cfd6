"""Placeholder until this module is written (issue 6 in progress)."""

from django.http import Http404, HttpRequest, HttpResponse


def day_print(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def day_csv(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def audit(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404
