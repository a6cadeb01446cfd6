"""buergerservice/write_gate.py: writes one at a time per process (WEB_WRITES), reads never wait for them, at
most WEB_WRITE_LINE writes wait, and a write beyond the line or longer than WEB_WRITE_WAIT is answered 503 without
having run."""

import json
import threading
import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from buergerservice.write_gate import FirstComeGate, WriteGateMiddleware

SETTLE = 0.3  # long enough for a thread that could enter to have entered


class Views:
    """A get_response whose writes block until released, counting who is inside at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.entered: list[str] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.entered.append(request.headers.get("X-Name", request.method))
        try:
            if request.method != "GET":
                assert self.release.wait(10)
            return HttpResponse("done")
        finally:
            with self.lock:
                self.inside -= 1


def gated(settings, *, writes: int = 1, line: int = 1, wait: int = 10) -> tuple[Views, WriteGateMiddleware]:  # type: ignore[no-untyped-def]
    """A gate with these settings in front of blocking views."""
    settings.WEB_WRITES, settings.WEB_WRITE_LINE, settings.WEB_WRITE_WAIT = writes, line, wait
    views = Views()
    return views, WriteGateMiddleware(views)


def in_thread(call: Callable[[], HttpResponse], into: dict[str, HttpResponse], name: str) -> threading.Thread:
    thread = threading.Thread(target=lambda: into.__setitem__(name, call()), daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("writes", [1, 2])
def test_at_most_web_writes_run_at_once_and_a_read_passes_while_they_do(settings, writes: int) -> None:  # type: ignore[no-untyped-def]
    views, gate = gated(settings, writes=writes, line=2)
    factory = RequestFactory()
    answers: dict[str, HttpResponse] = {}
    threads = [
        in_thread(lambda n=n: gate(factory.post("/api/v1/appointments", headers={"X-Name": f"w{n}"})), answers, f"w{n}")
        for n in range(writes + 2)
    ]
    time.sleep(SETTLE)
    assert views.inside == writes  # the others wait at the gate, before any view

    started = time.monotonic()
    read = gate(factory.get("/api/v1/availability"))
    assert read.status_code == 200
    assert time.monotonic() - started < SETTLE  # the read did not wait for the writes

    views.release.set()
    for thread in threads:
        thread.join(10)
    assert sorted(answers) == [f"w{n}" for n in range(writes + 2)]
    assert all(answer.status_code == 200 for answer in answers.values())
    assert views.most_inside == writes + 1  # the writes, and the read that came in beside them


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_every_method_that_changes_something_takes_its_turn(settings, method: str) -> None:  # type: ignore[no-untyped-def]
    views, gate = gated(settings, writes=1, line=1)
    factory = RequestFactory()
    answers: dict[str, HttpResponse] = {}
    first = in_thread(lambda: gate(factory.post("/book/")), answers, "first")
    time.sleep(SETTLE)
    second = in_thread(lambda: gate(getattr(factory, method)("/api/v1/appointments/x")), answers, "second")
    time.sleep(SETTLE)
    assert views.entered == ["POST"]
    views.release.set()
    first.join(10)
    second.join(10)
    assert views.entered == ["POST", method.upper()]


def test_a_write_that_waits_too_long_gets_503_in_its_language_and_never_runs(settings) -> None:  # type: ignore[no-untyped-def]
    views, gate = gated(settings, writes=1, line=5, wait=1)
    factory = RequestFactory()
    answers: dict[str, HttpResponse] = {}
    holder = in_thread(lambda: gate(factory.post("/api/v1/appointments", headers={"X-Name": "holder"})), answers, "h")
    time.sleep(SETTLE)

    api = gate(factory.post("/api/v1/appointments", headers={"X-Name": "late", "Accept-Language": "en"}))
    assert api.status_code == 503
    assert api["Retry-After"] == "2"
    assert api["Content-Type"] == "application/json"
    assert json.loads(api.content)["detail"].startswith("Very many requests are arriving")

    page = gate(factory.post("/book/at/mitte/", headers={"X-Name": "late page", "Accept-Language": "de"}))
    assert page.status_code == 503
    assert page["Retry-After"] == "2"
    assert "Nichts wurde geändert" in page.content.decode()
    assert views.entered == ["holder"]  # neither late write ran

    views.release.set()
    holder.join(10)
    assert answers["h"].status_code == 200
    after = gate(factory.post("/api/v1/appointments", headers={"X-Name": "after"}))
    assert after.status_code == 200  # the place was given back


def test_a_write_that_fails_gives_its_place_back(settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEB_WRITES = 1
    settings.WEB_WRITE_LINE = 1
    settings.WEB_WRITE_WAIT = 1

    def failing(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("the view failed")

    gate = WriteGateMiddleware(failing)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            gate(RequestFactory().post("/api/v1/appointments"))  # the second would wait 1 s and get 503


def test_the_gate_stands_before_the_session_and_every_view() -> None:
    middleware = settings.MIDDLEWARE
    gate = middleware.index("buergerservice.write_gate.WriteGateMiddleware")
    assert gate == middleware.index("buergerservice.api_errors.ApiErrorsAsJsonMiddleware") + 1
    assert gate < middleware.index("django.contrib.sessions.middleware.SessionMiddleware")


def test_a_freed_place_goes_to_the_longest_waiter_never_to_a_newcomer() -> None:
    gate = FirstComeGate(1, line=3)
    assert gate.enter(1)
    order: list[str] = []
    waiters = []
    for name in ("first", "second", "third"):
        thread = threading.Thread(target=lambda name=name: gate.enter(10) and order.append(name), daemon=True)
        thread.start()
        waiters.append(thread)
        time.sleep(0.1)  # each waits before the next arrives
    gate.leave()
    assert not gate.enter(0.01)  # a newcomer right after the release does not take the place from "first"
    waiters[0].join(10)
    assert order == ["first"]
    gate.leave()
    waiters[1].join(10)
    gate.leave()
    waiters[2].join(10)
    assert order == ["first", "second", "third"]
    gate.leave()
    assert gate.enter(0.01)  # nobody waits: the place is free again


def test_a_waiter_that_gives_up_leaves_the_line() -> None:
    gate = FirstComeGate(1, line=1)
    assert gate.enter(1)
    assert not gate.enter(0.05)
    gate.leave()
    assert gate.enter(0.01)  # the one that gave up is not handed the place


def test_a_write_that_finds_the_line_full_gets_503_at_once_and_the_line_goes_on(settings) -> None:  # type: ignore[no-untyped-def]
    """The threads a write would wait in stay free for reads: only WEB_WRITE_LINE writes wait."""
    views, gate = gated(settings, writes=1, line=2, wait=10)
    factory = RequestFactory()
    answers: dict[str, HttpResponse] = {}
    threads = []
    for name in ("running", "waiting 1", "waiting 2"):
        threads.append(
            in_thread(lambda n=name: gate(factory.post("/api/v1/holds", headers={"X-Name": n})), answers, name)
        )
        time.sleep(0.1)
    started = time.monotonic()
    full = gate(factory.post("/api/v1/holds", headers={"X-Name": "one too many", "Accept-Language": "en"}))
    assert time.monotonic() - started < 1  # at once, not after WEB_WRITE_WAIT
    assert full.status_code == 503
    assert full["Retry-After"] == "2"
    views.release.set()
    for thread in threads:
        thread.join(10)
    assert views.entered == ["running", "waiting 1", "waiting 2"]  # the one too many never ran; the line went on
    assert all(answers[name].status_code == 200 for name in ("running", "waiting 1", "waiting 2"))


def test_a_full_line_refuses_only_while_it_is_full() -> None:
    gate = FirstComeGate(1, line=1)
    assert gate.enter(1)
    waiter = threading.Thread(target=lambda: gate.enter(10), daemon=True)
    waiter.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert not gate.enter(5)  # refused at once: the line holds its one
    assert time.monotonic() - started < 1
    gate.leave()  # the waiter gets the place, the line is empty again
    waiter.join(10)
    entered = []
    second = threading.Thread(target=lambda: entered.append(gate.enter(10)), daemon=True)
    second.start()
    time.sleep(0.1)
    gate.leave()
    second.join(10)
    assert entered == [True]


def test_a_flood_of_refusals_is_logged_once_per_period_with_its_count(settings, caplog) -> None:  # type: ignore[no-untyped-def]
    views, gate = gated(settings, writes=1, line=1)
    factory = RequestFactory()
    answers: dict[str, HttpResponse] = {}
    holder = in_thread(lambda: gate(factory.post("/api/v1/holds")), answers, "holder")
    time.sleep(0.1)
    waiter = in_thread(lambda: gate(factory.post("/api/v1/holds")), answers, "waiter")
    time.sleep(0.1)
    with caplog.at_level("WARNING", logger="buergerservice.write_gate"):
        refused = [gate(factory.post("/api/v1/holds")).status_code for _ in range(50)]
    assert refused == [503] * 50
    lines = [record.getMessage() for record in caplog.records if record.name == "buergerservice.write_gate"]
    assert lines == ["write gate: 1 writes answered 503 (line full or waited 10 s)"]  # the next 49 wait their period
    views.release.set()
    holder.join(10)
    waiter.join(10)
