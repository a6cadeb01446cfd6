import argparse
import datetime
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from booking.days import local_day
from demo.citizens import minute_of
from demo.simulation import DaySimulation, clock, opening_minutes
from offices.models import Office

END_OF_DAY = 24 * 60 - 1


def _clock_time(value: str) -> float:
    try:
        parsed = datetime.time.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a time like 14:30") from None
    return parsed.hour * 60 + parsed.minute


def _speed(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < speed <= 10_000:
        raise argparse.ArgumentTypeError("the speed must be above 0 and at most 10000")
    return speed


class Command(BaseCommand):
    help = (
        "Play today's queue at an office for a demonstration: citizens draw tickets at the kiosk and booked "
        "citizens are checked in, simulated clerks call, serve and finish them, all through the real services, so "
        "the live status page and the call display change as it runs. One line per event; Ctrl-C stops it."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("office", help="The office's slug, e.g. buergerbuero-zentrum.")
        parser.add_argument(
            "--speed",
            type=_speed,
            default=1.0,
            help="Simulated minutes per real second (default 1; 1/60 ≈ 0.0167 is real time). Ignored with --instant.",
        )
        parser.add_argument(
            "--from",
            dest="start",
            type=_clock_time,
            help="Start at this time of today, HH:MM (default: now, or the opening if later; with --instant the "
            "opening).",
        )
        parser.add_argument("--until", type=_clock_time, help="Stop at this time of today, HH:MM (default: the end).")
        parser.add_argument("--seed", type=int, default=1, help="Of the citizens' random choices (default 1).")
        parser.add_argument(
            "--instant",
            action="store_true",
            help="Run the whole day at once, the clock moved from event to event without waiting (for tests).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        office = Office.objects.filter(slug=options["office"]).first()
        if office is None:
            raise CommandError(f"No office with the slug {options['office']!r}.")
        now = timezone.now()
        today = local_day(now)
        hours = opening_minutes(office, today)
        if hours is None:
            raise CommandError(f"{office.slug} is closed today ({today.isoformat()}): there is no queue to play.")
        opens, _closes = hours
        start = options["start"]
        if start is None:
            start = opens if options["instant"] else max(opens, minute_of(now))
        until = options["until"] if options["until"] is not None else END_OF_DAY
        if until < start:
            raise CommandError("--until is before the start.")
        with translation.override("en"):  # the output is for the person giving the demonstration
            self._play(office, today, start, until, options)

    def _play(self, office: Office, today: datetime.date, start: float, until: float, options: dict) -> None:
        def say(minute: float, text: str) -> None:
            self.stdout.write(f"{clock(minute)}  {text}")

        try:
            simulation = DaySimulation(
                office=office, day=today, start=start, until=until, seed=options["seed"], say=say
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        simulation.plan()
        self.stdout.write(
            f"Playing {today.isoformat()} at {office.name} ({office.slug}) from {clock(start)} to {clock(until)}"
            + ("" if options["instant"] else f", {options['speed']:g} simulated minutes per second; Ctrl-C stops")
        )
        real_start = time.monotonic()
        last = start
        try:
            while (minute := simulation.next_minute()) is not None:
                if not options["instant"]:
                    wait = (minute - start) / options["speed"] - (time.monotonic() - real_start)
                    if wait > 0:
                        time.sleep(wait)
                simulation.run_next()
                last = minute
        except KeyboardInterrupt:
            self.stdout.write(f"Stopped at {clock(last)}.")
        self.stdout.write(f"{office.slug}: {simulation.tally}.")
