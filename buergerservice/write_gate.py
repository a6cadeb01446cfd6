"""One write at a time per process, so that a rush of bookings never starves the readers.

Python runs one thread of a process at a time. At the release minute 16
bookers kept every thread of both workers busy with bookings (a dozen queries
and the ORM around each), and 256 citizens waited 0.3-1 s for free times the
cache had ready (bench/http.py, 2026-12-07). This middleware lets at most
``WEB_WRITES`` requests with a method that changes something (POST, PUT,
PATCH, DELETE) run at once in a process. The others wait here, before the
session, the database or any view is touched, blocked without using the CPU,
and strictly in the order they came (a place is handed to the longest waiter,
never taken by a newcomer). Reads pass at once. Because a waiting write still takes
one of the worker's threads, the workers run more threads than writes are
expected at once (``buergerservice.serving``). One booking at a time also
stored more per second than eight side by side: they no longer took turns on
the interpreter and on the office's lock (README, "Serving").

The line is bounded: at most ``WEB_WRITE_LINE`` writes wait in a process
(default all its threads but 4). A write that finds the line full, or waits
longer than ``WEB_WRITE_WAIT`` seconds, is answered 503 with ``Retry-After``
in the visitor's language: nothing was done, so sending it again is safe.
Without that bound 64 bookers took every thread again, waiting in line, and
the readers' p50 went back to 373 ms (bench/http.py's release minute; 92 ms
with it). Half the threads was too short a line: 16 keep-alive bookers split
unevenly over two workers already overflowed it.
"""

import logging
import threading
from collections import deque
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from buergerservice.input_guard import API_PREFIX
from buergerservice.log_levels import CountedRefusals

logger = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
RETRY_AFTER_SECONDS = 2
LOG_EVERY_SECONDS = 10  # under a flood, one line per period with the count, not one per refused write


class FirstComeGate:
    """``size`` places, given in the order they were asked for: a freed place goes to the longest waiter.

    (``threading.Semaphore`` lets a thread that just arrived take a freed place before the ones that
    waited, which stretches the slowest waits.)
    """

    def __init__(self, size: int, *, line: int) -> None:
        self._lock = threading.Lock()
        self._free = size
        self._line = line  # at most this many wait; enter() refuses the next at once
        self._waiting: deque[threading.Event] = deque()

    def enter(self, timeout: float) -> bool:
        """Whether a place was taken: at once, or within ``timeout`` seconds in line (False: line full, or too long)."""
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            if len(self._waiting) >= self._line:
                return False
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._lock:
            if turn.is_set():  # handed over just as the wait ran out: the place is this thread's
                return True
            self._waiting.remove(turn)
            return False

    def leave(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # the place passes on without ever being free
            else:
                self._free += 1


class WriteGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.places = FirstComeGate(settings.WEB_WRITES, line=settings.WEB_WRITE_LINE)
        self.wait = settings.WEB_WRITE_WAIT
        # No paths in the line: they carry tokens.
        self.refusals = CountedRefusals(
            logger, "write gate: %s writes answered 503 (line full or waited %s s)", every_seconds=LOG_EVERY_SECONDS
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in READ_METHODS:
            return self.get_response(request)
        if not self.places.enter(self.wait):
            self.refusals.add(self.wait)
            return busy(request)
        try:
            return self.get_response(request)
        finally:
            self.places.leave()


def busy(request: HttpRequest) -> HttpResponse:
    """503 in the visitor's language (the locale middleware has not run yet): the API's JSON or a page."""
    with translation.override(translation.get_language_from_request(request)):
        message = _("Very many requests are arriving at this moment. Nothing was changed; try again in a few seconds.")
        if request.path_info.startswith(API_PREFIX):
            response: HttpResponse = JsonResponse({"detail": message}, status=503)
        else:
            response = render(request, "503.html", {"message": message}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response._has_been_logged = True  # type: ignore[attr-defined]  # counted above, not a django.request line each
    return response
