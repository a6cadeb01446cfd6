"""What an outsider can put into the log is never an ERROR: operators must be able to trust ERROR lines.

Django logs every ``SuspiciousOperation`` a request causes (a foreign Host
header, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields) at ERROR on a
``django.security.<Name>`` logger, with a traceback. Any client can cause those
at will; the request was answered with a 400 and nothing is wrong with the
server. They stay in the log, as WARNING.
"""

import logging


class SuspiciousRequestsAsWarningsFilter(logging.Filter):
    """On a handler: a ``django.security.*`` record above WARNING is written as WARNING. Drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security.") and record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True
