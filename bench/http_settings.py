"""The shipped settings with bench/http_urls.py as the URLconf: the floor view for bench/http.py, nothing else."""

from buergerservice.settings import *  # noqa: F403 - the server as shipped, one setting changed

ROOT_URLCONF = "bench.http_urls"
