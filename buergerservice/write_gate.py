"""One write at a time per process, so that a rush of bookings never starves the readers.

Python runs one thread of a process at a time. At the release minute 16
bookers kept every thread of both workers busy with bookings (a dozen queries
and the ORM around each), and 256 citizens waited 0.3-1 s for free times the
cache had ready (bench/http.py, 2026-12-07). This middleware lets at most
``WEB_WRITES`` requests with a method that changes something (POST, PUT,
PATCH, DELETE) run at once in a process. The others wait here, before the
session, the database or any view is touched, blocked without using the CPU,
and about in the order they came (``threading.Semaphore`` wakes the
longest waiter first). Reads pass at once. Because a waiting write still takes
one of the worker's threads, the workers run more threads than writes are
expected at once (``buergerservice.serving``). One booking at a time also
stored more per second than eight side by side: they no longer took turns on
the interpreter and on the office's lock (README, "Serving").

A write that waits longer than ``WEB_WRITE_WAIT`` seconds is answered 503
with ``Retry-After`` in the visitor's language: nothing was done, so sending
it again is safe.
"""

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
RETRY_AFTER_SECONDS = 2


class WriteGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.places = threading.Semaphore(settings.WEB_WRITES)
        self.wait = settings.WEB_WRITE_WAIT

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in READ_METHODS:
            return self.get_response(request)
        if not self.places.acquire(timeout=self.wait):
            # Without the path: a manage page's address carries its token.
            logger.warning("write gate: a %s waited %s s for its turn; answered 503", request.method, self.wait)
            return busy(request)
        try:
            return self.get_response(request)
        finally:
            self.places.release()


def busy(request: HttpRequest) -> HttpResponse:
    """503 in the visitor's language (the locale middleware has not run yet): the API's JSON or a page."""
    with translation.override(translation.get_language_from_request(request)):
        message = _("Very many requests are arriving at this moment. Nothing was changed; try again in a few seconds.")
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": message}, status=503)
        else:
            response = render(request, "503.html", {"message": message}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
