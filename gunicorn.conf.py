"""Gunicorn's configuration: `gunicorn buergerservice.wsgi --config gunicorn.conf.py --bind ...`.

Threaded workers (gthread): WEB_WORKERS processes (default: one per core, at
least two) with WEB_THREADS threads each (default 16), of which WEB_WRITES
(default 1) may run a request that changes something at once
(buergerservice/write_gate.py). Each process keeps a pool of at most
DATABASE_POOL_MAX_SIZE PostgreSQL connections (default 8, at most its
threads), so one instance uses at most workers x pool size connections. The
README's "Serving" says why these defaults (measured), "Database connections"
has the sizing for one and several instances.
Access lines go to stdout without the secrets in addresses (manage tokens, hold
and ticket tokens, kiosk keys).
"""

import os
import sys
from pathlib import Path

# Gunicorn reads this file before it imports the app; the project must be importable from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from buergerservice.serving import web_threads, web_workers  # noqa: E402

worker_class = "gthread"
workers = web_workers()
threads = web_threads()
# The workers' settings size their database pool to the threads really started.
os.environ["WEB_THREADS"] = str(threads)

accesslog = "-"
logger_class = "buergerservice.log_redaction.RedactingGunicornLogger"
# A request gets this long; then the worker is restarted (a hung database call must not block it forever).
timeout = 30
graceful_timeout = 30
# Keep-alive behind a proxy in the same network; the default 2 s drops the proxy's idle connections too early.
keepalive = 5
