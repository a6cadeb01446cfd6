from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from stats.snapshots import snapshot_backfill


class Command(BaseCommand):
    help = (
        "Take the statistics snapshots for the last N days up to today. Capacity offered is read from the slots "
        "of each day (as long as they exist); the lead time to the next free appointment can only be read now, "
        "so it is taken for today alone. Days already taken are overwritten, never doubled."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--days", type=int, default=1, help="How many days back, today included (default 1).")

    def handle(self, *args: object, **options: object) -> None:
        days = options["days"]
        if not isinstance(days, int) or days < 1:
            raise CommandError("--days must be at least 1.")
        written = snapshot_backfill(days=days, now=timezone.now())
        self.stdout.write(
            f"{written['capacity']} capacity rows and {written['lead_time']} lead-time rows written for {days} days."
        )
