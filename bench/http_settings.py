"""The shipped settings with bench/http_urls.py as the URLconf: the floor view for bench/http.py, nothing else."""

from buergerservice.settings import *  # noqa: F403 - the server as shipped, one setting changed

ROOT_URLCONF = "bench.http_urls"

# The bench's clients all come from 127.0.0.1, so the citizens' budgets would answer it 429 within a
# second: the limits are counted in Redis as shipped (their cost is measured), with budgets it never reaches.
RATE_LIMITS = dict.fromkeys(RATE_LIMITS, "100000000/minute")  # noqa: F405
