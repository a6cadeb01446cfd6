"""Keep the secrets that travel in addresses out of every log line.

Some addresses are keys: whoever knows an appointment's manage token can cancel
or move it, a hold token books the held time, a ticket token follows (and
gives up) a place in the queue, a kiosk key draws tickets. Access logs and
Django's request warnings ("Conflict: /api/v1/appointments/<token>/move") would
otherwise keep them for as long as logs are kept, readable by whoever reads
logs. The secret path segment is replaced by ``[redacted]``; the rest of the
address stays, so a log still says which kind of page answered what.

Applied to Django's loggers that write request paths (settings.LOGGING) and to
gunicorn's access and error logs (``RedactingGunicornLogger``, gunicorn.conf.py).
"""

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

REDACTED = "[redacted]"

# Each alternative ends right before a secret segment. The URLs with a secret in
# their path (booking/urls.py, tickets/urls.py, desk/urls.py, the API under /api/v1/):
SECRET_PATH = re.compile(
    r"""
    (?P<head>/(?:
        appointment              # /appointment/<manage token>/ (manage, calendar.ics, cancel, move)
      | book/hold                # /book/hold/<hold token>/ (details, extend, check)
      | t                        # /t/<manage token>/, the short link in SMS
      | w                        # /w/<ticket token>/, the ticket's phone page
      | kiosk                    # /kiosk/<kiosk key>/
      | ticket                   # /kiosk/<key>/ticket/<ticket token>/
      | api/v1/appointments      # /api/v1/appointments/<manage token>[/move]
      | api/v1/holds             # /api/v1/holds/<hold token>[/extend]
      | staff/desk/[^?#"'<>]*?/book(?!/time/)  # /staff/desk/<office>/book/<hold token>/ (not .../book/time/);
                                              # the office part as typed: spaces or slashes in it still match
    )/)
    (?P<secret>[^/\s?#"'<>]+)
    """,
    re.VERBOSE,
)


def redact(text: str) -> str:
    """``text`` with every secret path segment replaced by ``[redacted]``."""
    return SECRET_PATH.sub(lambda match: match.group("head") + REDACTED, text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message (and a traceback already formatted into it) without its secrets.

    On a logger it changes the record for every handler after it (also those
    of parent loggers); on a handler, for that handler's output. It never drops
    a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (tracebacks included) carries no secret path segment."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_FILTER = RedactSecretsFilter()


class RedactingGunicornLogger(GunicornLogger):
    """Gunicorn's logger with the secrets taken out of its access and error lines.

    The access line's request line (``%(r)s``), path (``%(U)s``), referrer
    (``%(f)s``, a manage page's address when its stylesheet is fetched) and
    every other atom pass through ``redact``.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(_FILTER)  # the same object each time: a reopened log is not filtered twice

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
