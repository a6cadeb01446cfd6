"""factory_boy factories. Translated fields are set in German and English."""

import datetime

import factory
from django.contrib.auth import get_user_model

from offices.models import (
    Absence,
    Category,
    Closure,
    Membership,
    Office,
    OfficeService,
    OpeningHours,
    PublicHoliday,
    Service,
    SpecialOpening,
    WalkInWindow,
    WeeklyShift,
)

TEST_PASSWORD = "correct horse battery staple"  # noqa: S105 - test data


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    slug = factory.Sequence(lambda n: f"office-{n}")
    name_de = factory.Sequence(lambda n: f"Bürgerbüro {n}")
    name_en = factory.Sequence(lambda n: f"Citizen office {n}")
    kind = Office.Kind.CITIZEN_OFFICE
    street = "Marktplatz 1"
    postal_code = "04109"
    city = "Musterstadt"
    step_free = True
    slot_minutes = 5


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name_de = factory.Sequence(lambda n: f"Kategorie {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    slug = factory.Sequence(lambda n: f"service-{n}")
    name_de = factory.Sequence(lambda n: f"Dienstleistung {n}")
    name_en = factory.Sequence(lambda n: f"Service {n}")
    category = factory.SubFactory(CategoryFactory)
    default_duration_minutes = 15
    max_persons = 1


class OfficeServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficeService

    office = factory.SubFactory(OfficeFactory)
    service = factory.SubFactory(ServiceFactory)
    duration_minutes = factory.LazyAttribute(lambda offer: offer.service.default_duration_minutes)


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningHours

    office = factory.SubFactory(OfficeFactory)
    weekday = 0
    opens = datetime.time(8, 0)
    closes = datetime.time(12, 0)


class SpecialOpeningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SpecialOpening

    office = factory.SubFactory(OfficeFactory)
    date = datetime.date(2026, 12, 5)
    opens = datetime.time(9, 0)
    closes = datetime.time(13, 0)
    note_de = "Zusätzlicher Samstag"
    note_en = "Extra Saturday"


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    office = factory.SubFactory(OfficeFactory)
    start_date = datetime.date(2026, 12, 24)
    end_date = datetime.date(2026, 12, 24)
    reason_de = "Heiligabend"
    reason_en = "Christmas Eve"


class PublicHolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PublicHoliday
        django_get_or_create = ("date",)

    date = datetime.date(2026, 11, 18)
    name_de = "Buß- und Bettag"
    name_en = "Repentance and Prayer Day"


def office_with_week(**kwargs: object) -> Office:
    """An office open Mon–Fri 08:00–12:00, with afternoons on Monday and a late Thursday."""
    office = OfficeFactory(**kwargs)
    for weekday in range(5):
        OpeningHoursFactory(office=office, weekday=weekday, opens=datetime.time(8), closes=datetime.time(12))
    OpeningHoursFactory(office=office, weekday=0, opens=datetime.time(13), closes=datetime.time(16))
    OpeningHoursFactory(office=office, weekday=3, opens=datetime.time(13), closes=datetime.time(19, 30))
    return office


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    office = factory.SubFactory(OfficeFactory)
    role = Membership.Role.CLERK


class WeeklyShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WeeklyShift

    user = factory.SubFactory(UserFactory)
    office = factory.SubFactory(OfficeFactory)
    weekday = 0
    starts = datetime.time(8, 0)
    ends = datetime.time(12, 0)


class AbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Absence

    user = factory.SubFactory(UserFactory)
    kind = Absence.Kind.SICK
    start_date = datetime.date(2026, 11, 23)
    end_date = datetime.date(2026, 11, 23)


class WalkInWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WalkInWindow

    office = factory.SubFactory(OfficeFactory)
    weekday = 0
    starts = datetime.time(8, 0)
    ends = datetime.time(10, 0)
    counters = None


def clerk_at(office: Office, *ranges: tuple[int, str, str], username: str | None = None) -> object:
    """A clerk of the office with a weekly pattern: (weekday, "HH:MM", "HH:MM") per range."""
    user = UserFactory(**({"username": username} if username else {}))
    MembershipFactory(user=user, office=office)
    for weekday, starts, ends in ranges:
        WeeklyShiftFactory(
            user=user,
            office=office,
            weekday=weekday,
            starts=datetime.time.fromisoformat(starts),
            ends=datetime.time.fromisoformat(ends),
        )
    return user


def bookable_office(*, counters: int = 1, first: datetime.date, last: datetime.date, **kwargs: object) -> Office:
    """An office open Mon–Fri 08:00–12:00 and 13:00–16:00 with ``counters`` clerks all day and its grid built.

    No phone share unless asked, so every unit is bookable online.
    """
    from booking.services.slots import capacity_refresh

    kwargs.setdefault("phone_share_percent", 0)
    office = OfficeFactory(**kwargs)
    for weekday in range(5):
        OpeningHoursFactory(office=office, weekday=weekday, opens=datetime.time(8), closes=datetime.time(12))
        OpeningHoursFactory(office=office, weekday=weekday, opens=datetime.time(13), closes=datetime.time(16))
    for _n in range(counters):
        clerk_at(office, *[(weekday, "08:00", "16:00") for weekday in range(5)])
    capacity_refresh(office=office, first=first, last=last)
    return office


def offer(office: Office, slug: str, minutes: int, *, max_persons: int = 5, **kwargs: object) -> OfficeService:
    """The office offers the service ``slug`` (created if need be) with its own duration per person."""
    service = Service.objects.filter(slug=slug).first() or ServiceFactory(
        slug=slug, default_duration_minutes=minutes, max_persons=max_persons, **kwargs
    )
    return OfficeServiceFactory(office=office, service=service, duration_minutes=minutes)


def office_from_today(slug: str = "mitte") -> Office:
    """An office bookable (one counter) from today for two weeks, offering the identity card in 15 minutes.

    For tests that run at the real date through the whole middleware stack.
    """
    from django.utils import timezone

    today = timezone.localdate()
    office = bookable_office(first=today, last=today + datetime.timedelta(days=14), slug=slug)
    offer(office, "personalausweis", 15)
    return office


def next_weekday() -> datetime.date:
    """Tomorrow, or the next weekday after it (in Berlin)."""
    from django.utils import timezone

    day = timezone.localdate() + datetime.timedelta(days=1)
    while day.weekday() >= 5:  # noqa: PLR2004 - Saturday
        day += datetime.timedelta(days=1)
    return day


def next_weekday_at_nine() -> str:
    """Tomorrow's or the next weekday's 09:00 in Berlin, as the API takes a start."""
    from booking.grid import BERLIN

    return datetime.datetime.combine(next_weekday(), datetime.time(9), tzinfo=BERLIN).isoformat()
