import datetime
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from booking.days import local_day
from booking.services.slots import GenerationResult
from desk.capacity import capacity_changed
from offices.models import Office


class Command(BaseCommand):
    help = (
        "Build or update the slot grid from today to the end of each office's booking horizon: shifts from the "
        "weekly patterns, then slots from hours, shifts, absences and contingents. Idempotent; never overfills a "
        "slot (appointments that no longer fit are marked as needing rebooking, with an audit entry, through "
        "desk.capacity.capacity_changed like every other change of capacity)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--office", action="append", default=[], help="Only this office (slug); repeatable.")
        parser.add_argument("--days", type=int, help="Days from today (default and at most: each office's horizon).")

    def handle(self, *args: Any, **options: Any) -> None:
        offices = Office.objects.filter(active=True)
        if options["office"]:
            offices = offices.filter(slug__in=options["office"])
            missing = set(options["office"]) - set(offices.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No active office with the slug: {', '.join(sorted(missing))}")
        if options["days"] is not None and options["days"] < 0:
            raise CommandError("--days cannot be negative.")
        now = timezone.now()
        today = local_day(now)
        total = GenerationResult()
        for office in offices.order_by("slug"):
            last = None if options["days"] is None else today + datetime.timedelta(days=options["days"])
            change = capacity_changed(
                offices=[office], first=today, last=last, by=None, reason="generate_slots", now=now
            )
            total += change.grid
        self.stdout.write(
            f"Slots: {total.created} created, {total.updated} updated, {total.deleted} deleted; "
            f"{len(total.flagged)} appointments need rebooking."
        )
