"""`manage.py simulate_day`: today's queue at an office played through the kiosk's, the desk's and the clerks'
services, so the status page and the call display show it (demo/simulation.py)."""

import datetime
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from booking.models import Appointment
from demo.simulation import DaySimulation
from tests.support.demo_city import seed
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = datetime.datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN)  # a Tuesday
CENTRE = "buergerbuero-zentrum"


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo city seeded on a Tuesday morning, once for this module; rolled back afterwards."""
    var_dir = tmp_path_factory.mktemp("var")
    with django_db_blocker.unblock(), override_settings(VAR_DIR=var_dir), time_machine.travel(TODAY, tick=False):
        try:
            with transaction.atomic():
                yield seed()
                raise _Rollback
        except _Rollback:
            pass


@pytest.fixture
def frozen(city: str):  # type: ignore[no-untyped-def]
    with time_machine.travel(TODAY, tick=False):
        yield city


def simulate(*args: str) -> str:
    out = io.StringIO()
    call_command("simulate_day", *args, stdout=out)
    return out.getvalue()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)).split())


def test_an_instant_morning_draws_calls_and_finishes_tickets_through_the_real_services(frozen: str) -> None:
    output = simulate(CENTRE, "--instant", "--until", "10:30", "--seed", "3")
    lines = output.splitlines()
    assert lines[0] == ("Playing 2026-11-24 at Citizens' Office City Centre (buergerbuero-zentrum) from 08:00 to 10:30")
    events = lines[1:-1]
    assert events and all(re.match(r"\d\d:\d\d  \S", line) for line in events)
    assert [line[:5] for line in events] == sorted(line[:5] for line in events), "in the order they happen"
    assert "08:00  W001 drawn for " in output
    assert re.search(r"^\d\d:\d\d  W001 called to counter \d+$", output, re.M)
    assert re.search(r"^\d\d:\d\d  T\d{3} checked in for the appointment at \d\d:\d\d$", output, re.M)
    assert re.search(r"^\d\d:\d\d  W\d{3} finished at counter \d+ after \d+ min$", output, re.M)
    assert all(line[:5] <= "10:30" for line in events)

    today = Ticket.objects.filter(office__slug=CENTRE, day=TODAY.date())
    finished = today.filter(status=Ticket.Status.DONE)
    assert finished.filter(queue="W").count() >= 10
    assert finished.filter(queue="T").exists(), "the desk day's appointment holders were checked in and served"
    assert not finished.exclude(called_at__isnull=False, service_started_at__isnull=False).exists()
    assert today.filter(kiosk__isnull=False, queue="W").count() == today.filter(queue="W").count()
    served = Appointment.objects.filter(office__slug=CENTRE, visit=Appointment.Visit.DONE, start__date=TODAY.date())
    assert served.count() == finished.filter(queue="T").count()
    summary = lines[-1]
    drawn = int(re.search(r"(\d+) tickets drawn", summary).group(1))
    assert drawn == today.exclude(queue="T").count()
    assert int(re.search(r"(\d+) finished", summary).group(1)) == finished.count()


def test_the_status_page_and_the_call_display_show_the_simulated_morning(client, frozen: str) -> None:  # type: ignore[no-untyped-def]
    simulate(CENTRE, "--instant", "--until", "08:40", "--seed", "3")
    today = Ticket.objects.filter(office__slug=CENTRE, day=TODAY.date())
    waiting = today.filter(status=Ticket.Status.WAITING).count()
    last_call = today.filter(called_at__isnull=False).order_by("-called_at", "-pk").first()
    assert waiting > 0 and last_call is not None
    with time_machine.travel(TODAY.replace(hour=8, minute=40), tick=False):
        status = text_of(client.get(f"/en/status/{CENTRE}/").content.decode())
        display = text_of(client.get(f"/en/offices/{CENTRE}/display/").content.decode())
    assert f"People waiting {waiting}" in status
    counters = re.search(r"Counters open (\d+)", status)
    assert counters and int(counters.group(1)) >= 2
    assert last_call.label in display
    assert f"{last_call.counter}" in display


def test_a_day_runs_to_the_end_with_nobody_left_waiting(frozen: str) -> None:
    output = simulate(CENTRE, "--instant", "--seed", "5")
    today = Ticket.objects.filter(office__slug=CENTRE, day=TODAY.date())
    assert today.count() > 30
    assert not today.filter(status__in=Ticket.OPEN).exists()
    assert "turned away: No more walk-in tickets today" in output  # the walk-in capacity is the kiosk's rule


def test_ctrl_c_stops_cleanly_with_a_summary(frozen: str, monkeypatch: pytest.MonkeyPatch) -> None:
    played = []
    run_next = DaySimulation.run_next

    def interrupted(self: DaySimulation) -> None:
        if len(played) == 5:
            raise KeyboardInterrupt
        played.append(1)
        run_next(self)

    monkeypatch.setattr(DaySimulation, "run_next", interrupted)
    lines = simulate(CENTRE, "--instant").splitlines()
    assert re.fullmatch(r"Stopped at \d\d:\d\d\.", lines[-2])
    assert lines[-1].startswith(f"{CENTRE}: ") and "tickets drawn" in lines[-1]


def test_it_plays_at_a_chosen_speed_in_real_time(frozen: str, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("demo.management.commands.simulate_day.time.sleep", slept.append)
    monkeypatch.setattr("demo.management.commands.simulate_day.time.monotonic", lambda: 0.0)  # the machine is slow
    output = simulate(CENTRE, "--from", "08:00", "--until", "08:10", "--speed", "2")
    assert "2 simulated minutes per second; Ctrl-C stops" in output.splitlines()[0]
    assert slept and max(slept) <= 5.0  # ten simulated minutes at two a second
    assert Ticket.objects.filter(office__slug=CENTRE, day=TODAY.date()).exists()


def test_wrong_input_is_refused(frozen: str) -> None:
    with pytest.raises(CommandError, match="No office with the slug 'nowhere'"):
        simulate("nowhere", "--instant")
    with pytest.raises(CommandError, match="--until is before the start"):
        simulate(CENTRE, "--from", "10:00", "--until", "09:00")
    with pytest.raises(CommandError, match="is not a time like 14:30"):
        simulate(CENTRE, "--until", "late")
    with pytest.raises(CommandError, match="speed must be above 0"):
        simulate(CENTRE, "--speed", "0")
    with time_machine.travel(TODAY + datetime.timedelta(days=5), tick=False):  # a Sunday
        with pytest.raises(CommandError, match="closed today"):
            simulate(CENTRE, "--instant")
    assert not Ticket.objects.filter(day__gte=TODAY.date()).exists()
