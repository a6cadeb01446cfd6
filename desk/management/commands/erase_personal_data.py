from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from desk.retention import personal_data_erase
from offices.retention import retention_days


class Command(BaseCommand):
    help = (
        "Erase the personal data whose retention period is over (RETENTION_DAYS after the appointment or ticket, "
        "longer for an office that must keep it longer) and print how many rows of each kind. Idempotent."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be erased; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        counts = personal_data_erase(timezone.now(), dry_run=dry_run)
        verb = "would be erased" if dry_run else "erased"
        self.stdout.write(f"Retention period: {retention_days()} days. Personal data {verb}:")
        for kind, count in counts.items():
            self.stdout.write(f"  {kind}: {count}")
