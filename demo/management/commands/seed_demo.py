from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from booking.days import local_day
from demo.city import ADMIN_USERNAME, CITY
from demo.history import HISTORY_DAYS
from demo.seed import seed_demo


class Command(BaseCommand):
    help = (
        f"Create or update the demo city {CITY}: offices, services, opening hours, holidays, closures, an "
        f"administrator '{ADMIN_USERNAME}', and the tickets and visits of the last {HISTORY_DAYS} days. Running it "
        "again on the same day changes nothing. Refuses to run with DEBUG off."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (creates an administrator account with a known password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off, so this looks like a production site. seed_demo creates fictional offices and an "
                f"administrator account '{ADMIN_USERNAME}' with a known password; use --force if you really mean it."
            )
        with transaction.atomic():
            result = seed_demo(today=local_day(timezone.now()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo city {CITY}: {result.offices} offices, {result.services} services in {result.categories} "
                f"categories, {result.offered_services} offered services, {result.opening_hours} opening hours, "
                f"{result.special_openings} special openings, {result.closures} closures, "
                f"{result.holidays} public holidays, {result.clerks} clerks, {result.absences} absences, "
                f"{result.slots} slots."
            )
        )
        self.stdout.write(
            f"The last {HISTORY_DAYS} days: {result.past_tickets} queue tickets and {result.past_appointments} "
            "appointments, served or missed."
        )
        if result.kiosk_path is not None:
            self.stdout.write(f"Kiosk of the first office: http://127.0.0.1:8000{result.kiosk_path}")
        if result.admin_password is not None:
            self.stdout.write(
                f"Administrator login: http://127.0.0.1:8000/admin/ user {ADMIN_USERNAME}, "
                f"password {result.admin_password}"
            )
        else:
            self.stdout.write(
                f"Administrator login: user {ADMIN_USERNAME} (password changed since the demo was created; "
                f"set a new one with: python manage.py changepassword {ADMIN_USERNAME})"
            )
