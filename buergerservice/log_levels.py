"""What an outsider can put into the log is never an ERROR: operators must be able to trust ERROR lines.

Django logs every ``SuspiciousOperation`` a request causes (a foreign Host
header, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields) at ERROR on a
``django.security.<Name>`` logger, with a traceback. Any client can cause those
at will; the request was answered with a 400 and nothing is wrong with the
server. They stay in the log, as WARNING.
"""

import logging
import threading
import time


class SuspiciousRequestsAsWarningsFilter(logging.Filter):
    """On a handler: a ``django.security.*`` record above WARNING is written as WARNING. Drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security.") and record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


class CountedRefusals:
    """Refusals a flood can cause (a full write line, a spent budget), logged as one line per period with
    their count instead of a line each: a bot must not be able to fill the log, nor hide other lines in it."""

    def __init__(self, logger: logging.Logger, message: str, *, every_seconds: float = 10) -> None:
        self.logger, self.message, self.every_seconds = logger, message, every_seconds
        self._lock = threading.Lock()
        self._count = 0
        self._logged_at = -every_seconds

    def add(self, *args: object) -> None:
        """Count one; log ``message % (count, *args)`` if the last line is a period old."""
        now = time.monotonic()
        with self._lock:
            self._count += 1
            if now - self._logged_at < self.every_seconds:
                return
            count, self._count, self._logged_at = self._count, 0, now
        self.logger.warning(self.message, count, *args)
