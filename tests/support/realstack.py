"""Real processes for tests: the web server and Celery workers as separate programs on the test database.

The test process writes its data through a transactional database (committed
rows), the programs get the same database through DATABASE_URL, a Redis
database of their own and file backends for mail and SMS in a temporary folder.
"""

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import Message as EmailMessage
from pathlib import Path

import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@contextmanager
def celery_queue() -> Iterator[str]:
    """A Celery queue of this test's own on the shared Redis (parallel runs must not take each other's tasks)."""
    name = f"test-{uuid.uuid4().hex}"
    try:
        yield name
    finally:
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        client.delete(name, *client.keys(f"*{name}*"))


@contextmanager
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung Redis); yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join()
        for connection_ in held:
            connection_.close()
        listener.close()


def database_url() -> str:
    """The test database (the one this test's committed rows are in) as a URL for another process."""
    s = connection.settings_dict
    credentials = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def environment(tmp: Path, *, queue: str, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_", "REQUIRE_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "buergerservice.settings",
            "DEBUG": "1",
            "SECRET_KEY": "real-stack-tests-only",
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url or os.environ["REDIS_URL"],
            "CELERY_QUEUE": queue,
            "VAR_DIR": str(tmp / "var"),
            "EMAIL_BACKEND": "file",
            "EMAIL_FILE_PATH": str(tmp / "mail"),
            "SMS_BACKEND": "file",
            "SMS_FILE_PATH": str(tmp / "sms"),
            "SITE_URL": "https://termine.example.de",
            "MESSAGES_SWEEP_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(extra)
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def celery_worker(
    env: dict[str, str], name: str, *, beat: bool = False, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker process (with embedded beat if asked) for as long as the block runs."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "buergerservice",
        "worker",
        "-n",
        f"{name}@%h",
        "--pool",
        "threads",
        "--concurrency",
        "4",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]
    if beat:
        command += ["--beat", "--schedule", env["VAR_DIR"] + "/beat-schedule"]
    Path(env["VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        yield process
    finally:
        _stop(process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def web_server(env: dict[str, str], *, log: Path) -> Iterator[str]:
    """The Django development server as its own process; yields its base URL once it answers."""
    port = _free_port()
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    with log.open("ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base + "/healthz"), timeout=30, what=f"the web server (see {log})")
        yield base
    finally:
        _stop(process)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a local test server
            return response.status == 200
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout} s for {what}")


class Browser:
    """Plain HTTP with cookies, like a browser without JavaScript: GET pages, POST their forms."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.url = base
        self.page = ""

    def get(self, path: str) -> str:
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310 - the local test server

    def post(self, path: str, data: dict[str, str]) -> str:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.page)
        assert token, "no CSRF token on the current page"
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **data}).encode()
        request = urllib.request.Request(self.base + path if path.startswith("/") else path, data=body)  # noqa: S310
        request.add_header("Referer", self.url)
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> str:
        with self.opener.open(request, timeout=30) as response:
            self.url = response.url
            self.page = response.read().decode()
        return self.page


def emails_in(folder: Path) -> list[EmailMessage]:
    """The e-mails the file backend wrote (one file per connection, messages separated by a line of dashes)."""
    found = []
    for path in sorted(folder.glob("*.log")) if folder.exists() else []:
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if chunk.strip():
                found.append(message_from_bytes(chunk, policy=policy.default))
    return found


def sms_in(folder: Path) -> list[dict[str, str]]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))] if folder.exists() else []
