"""The shipped settings with bench/http_urls.py as the URLconf (the floor view for bench/http.py), and the defences
out of the way unless BENCH_DEFENCES=1."""

import os

from buergerservice.settings import *  # noqa: F403 - the server as shipped

ROOT_URLCONF = "bench.http_urls"


# bench/http.py measures the server's speed, not the defences: its clients all come from 127.0.0.1 (the
# citizens' budgets would answer 429 within a second) and its POSTs bring no proof of work. The limits are
# still counted in Redis as shipped (their cost is measured), with budgets never reached. bench/bots.py sets
# BENCH_DEFENCES=1 for its "after" phase: then the shipped defences stand.
if os.environ.get("BENCH_DEFENCES") != "1":
    RATE_LIMITS = dict.fromkeys(RATE_LIMITS, "100000000/minute")  # noqa: F405
    PROOF_OF_WORK = False
    # Its holds all come from one address too: the caps are counted as shipped (their queries are measured),
    # but never reached. The per-person limit needs nothing: every booking has its own address.
    BOOKING_HOLDS_PER_ADDRESS = 10**9
    BOOKING_HOLD_COOLDOWN_MINUTES = 0
