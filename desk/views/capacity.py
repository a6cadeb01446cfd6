"""Placeholder until this module is written (issue 6 in progress)."""

from django.http import Http404, HttpRequest, HttpResponse


def rebook(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def absences(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def blocks(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def block_remove(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404
