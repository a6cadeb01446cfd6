"""Placeholder until this module is written (issue 6 in progress)."""

from django.http import Http404, HttpRequest, HttpResponse


def slip(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def needs(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def time(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def contact(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404
