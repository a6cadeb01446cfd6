"""Placeholder until this module is written (issue 6 in progress)."""

from django.http import Http404, HttpRequest, HttpResponse


def home(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def day(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def counter(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def appointment(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def act(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def note(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def cancel(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


def move(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404
