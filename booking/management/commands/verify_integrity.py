import argparse
import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from booking.days import local_day
from booking.integrity import integrity_check
from offices.models import Office


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-23") from None


class Command(BaseCommand):
    help = (
        "Recount every slot's booked units from the booked appointments and the holds that cover it; report slots "
        "over capacity, counts that disagree and booked appointments or holds without slots. Writes nothing. "
        "By default every office and every slot from today on; exits with status 1 if anything is wrong."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--office", action="append", default=[], help="Only this office (slug); repeatable.")
        parser.add_argument("--from", dest="first", type=_date, help="First day, YYYY-MM-DD (default: today).")
        parser.add_argument("--to", dest="last", type=_date, help="Last day, YYYY-MM-DD (default: the last slot).")

    def handle(self, *args: Any, **options: Any) -> None:
        offices = Office.objects.order_by("slug")
        if options["office"]:
            offices = offices.filter(slug__in=options["office"])
            missing = set(options["office"]) - set(offices.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No office with the slug: {', '.join(sorted(missing))}")
        first = options["first"] or local_day(timezone.now())
        last = options["last"]
        if last is not None and last < first:
            raise CommandError("--to is before --from.")

        report = integrity_check(offices=offices, first=first, last=last)
        for title, problems in [
            ("Over capacity", report.over_capacity),
            ("Counts that disagree with the appointments and holds", report.counts_differ),
            ("Booked appointments and holds without slots", report.uncovered),
        ]:
            if problems:
                self.stdout.write(f"{title}:")
                for problem in problems:
                    self.stdout.write(f"  {problem}")
        self.stdout.write(report.summary())
        if not report.ok:
            problems = len(report.slot_problems) + len(report.uncovered)
            raise CommandError(f"The slot grid is not consistent: {problems} problems.", returncode=1)
