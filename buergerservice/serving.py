"""How many gunicorn processes and threads serve the web (read by gunicorn.conf.py and by the settings).

One place for both, because the database pool of each process is sized to the
threads that may use it at once (see README, "Database connections").
"""

import os

from buergerservice.env import env_int

# Requests mostly wait for PostgreSQL and Redis (a booking makes about a dozen round trips), so threads keep a core
# busy; 8 served more bookings and holds per second than 4 on 2 cores (README, "Serving").
THREADS_DEFAULT = 8


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the whole machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def web_workers() -> int:
    """Gunicorn worker processes: one per core, at least two so that one restarting never stops the site."""
    return env_int("WEB_WORKERS", max(2, cores()), minimum=1)


def web_threads() -> int:
    """Threads per worker process, each serving one request at a time."""
    return env_int("WEB_THREADS", THREADS_DEFAULT, minimum=1)
