"""How many gunicorn processes and threads serve the web (read by gunicorn.conf.py and by the settings).

One place for these and the database pool of each process, which the threads
share (see README, "Serving" and "Database connections").
"""

import os

from buergerservice.env import env_int

# Requests mostly wait for PostgreSQL and Redis, so threads keep a core busy. Writes run one at a time per process
# (buergerservice.write_gate) and a write waiting for its turn holds a thread: 16 leave threads to the readers while
# a rush of bookings waits, 32 gave no more and read less per second (README, "Serving").
THREADS_DEFAULT = 16
# PostgreSQL connections per process: the one write at a time plus the reads the cache cannot answer.
POOL_DEFAULT = 8


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the whole machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def web_workers() -> int:
    """Gunicorn worker processes: one per core, at least two so that one restarting never stops the site."""
    return env_int("WEB_WORKERS", max(2, cores()), minimum=1)


def web_threads() -> int:
    """Threads per worker process, each serving one request at a time."""
    return env_int("WEB_THREADS", THREADS_DEFAULT, minimum=1)


def database_pool_size() -> int:
    """PostgreSQL connections one process keeps at most (never more than its threads can use)."""
    return env_int("DATABASE_POOL_MAX_SIZE", min(POOL_DEFAULT, web_threads()), minimum=1)
