"""The clerks' desk's little world: two offices, their staff, and appointments booked the real way.

Monday 23 November 2026. Office A ("mitte") and office B ("nord") are open
08:00–12:00 and 13:00–16:00 with two counters each, half of the bookable
capacity kept for phone bookings, and both offer "personalausweis" (15 min
per person) and "anmeldung" (10 min). Personas: a clerk and a manager of A,
a clerk of B, an administrator; ``sick`` is one of A's two counter clerks
(the one an absence takes away).
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser

from booking.grid import BERLIN
from booking.models import Appointment
from booking.needs import Need
from booking.services.appointments import Contact, appointment_book
from offices.models import Membership, Office, Service, WeeklyShift
from tests.support.factories import MembershipFactory, UserFactory, bookable_office, offer

TODAY = datetime.date(2026, 11, 23)  # a Monday
LAST = TODAY + datetime.timedelta(days=20)
EARLY = datetime.datetime(2026, 11, 23, 7, 0, tzinfo=BERLIN)  # before the office opens


def at(hhmm: str, day: datetime.date = TODAY) -> datetime.datetime:
    """A Berlin wall-clock time on ``day`` (aware)."""
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


@dataclass
class DeskWorld:
    office_a: Office
    office_b: Office
    clerk_a: AbstractBaseUser
    manager_a: AbstractBaseUser
    clerk_b: AbstractBaseUser
    administrator: AbstractBaseUser
    sick: AbstractBaseUser  # one of office A's two counter clerks

    def service(self, slug: str = "personalausweis") -> Service:
        return Service.objects.get(slug=slug)

    def book(
        self,
        hhmm: str,
        *,
        office: Office | None = None,
        day: datetime.date = TODAY,
        service: str = "personalausweis",
        persons: int = 1,
        name: str = "Erika Mustermann",
        email: str = "",
        phone: str = "",
        channel: str = Appointment.Channel.ONLINE,
        now: datetime.datetime = EARLY - datetime.timedelta(days=3),
        **contact: object,
    ) -> Appointment:
        """An appointment booked through booking.services (by default three days earlier, online)."""
        return appointment_book(
            office=office or self.office_a,
            start=at(hhmm, day),
            needs=[Need(self.service(service), persons)],
            contact=Contact(name=name, email=email, phone=phone, **contact),
            now=now,
            channel=channel,
        )


def desk_world() -> DeskWorld:
    office_a = bookable_office(
        counters=2,
        first=TODAY,
        last=LAST,
        slug="mitte",
        name_de="Bürgerbüro Mitte",
        name_en="Citizen office Mitte",
        phone="0341 123-0",
        phone_share_percent=50,
        horizon_days=30,
        min_notice_minutes=0,
    )
    office_b = bookable_office(
        counters=2,
        first=TODAY,
        last=LAST,
        slug="nord",
        name_de="Bürgerbüro Nord",
        name_en="Citizen office Nord",
        phone_share_percent=50,
        horizon_days=30,
        min_notice_minutes=0,
    )
    for office in (office_a, office_b):
        offer(office, "personalausweis", 15, name_de="Personalausweis", name_en="Identity card")
        offer(office, "anmeldung", 10, name_de="Anmeldung", name_en="Registration")
    clerk_a = UserFactory(username="clerk-a", first_name="Clara", last_name="Kern")
    MembershipFactory(user=clerk_a, office=office_a, role=Membership.Role.CLERK)
    manager_a = UserFactory(username="manager-a", first_name="Max", last_name="Leiter")
    MembershipFactory(user=manager_a, office=office_a, role=Membership.Role.MANAGER)
    clerk_b = UserFactory(username="clerk-b", first_name="Bea", last_name="Nord")
    MembershipFactory(user=clerk_b, office=office_b, role=Membership.Role.CLERK)
    administrator = UserFactory(username="administrator", is_staff=True, is_superuser=True)
    sick = WeeklyShift.objects.filter(office=office_a).order_by("user_id").first().user
    return DeskWorld(office_a, office_b, clerk_a, manager_a, clerk_b, administrator, sick)
