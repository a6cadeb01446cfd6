"""Health checks for containers: ``python -m buergerservice.healthcheck web|worker|beat``.

web: GET /healthz on the local server (sent with an allowed Host header).
worker: the worker on this host answers a Celery ping over the broker.
beat: the scheduler's heartbeat file was touched recently (beat answers no ping).
Exit status 0 means healthy.
"""

import os
import socket
import subprocess  # noqa: S404 - runs the celery CLI with fixed arguments
import sys
import time
import urllib.request
from pathlib import Path

BEAT_STALE_AFTER_SECONDS = 120


def heartbeat_path() -> Path:
    return Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parent.parent / "var")) / "celerybeat-heartbeat"


def check_web(port: int = 8000) -> bool:
    hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "localhost").split(",") if h.strip()]
    host = next((h for h in hosts if h != "*"), "localhost")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - fixed local URL
            return response.status == 200
    except OSError:
        return False


def check_worker() -> bool:
    result = subprocess.run(  # noqa: S603
        ["celery", "-A", "buergerservice", "inspect", "ping", "-d", f"celery@{socket.gethostname()}", "-t", "10"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and "pong" in result.stdout


def check_beat(path: Path | None = None, now: float | None = None) -> bool:
    path = path or heartbeat_path()
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return age < BEAT_STALE_AFTER_SECONDS


def main(argv: list[str]) -> int:
    checks = {"web": check_web, "worker": check_worker, "beat": check_beat}
    if len(argv) != 2 or argv[1] not in checks:
        print(f"usage: python -m buergerservice.healthcheck {'|'.join(checks)}", file=sys.stderr)
        return 2
    return 0 if checks[argv[1]]() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
