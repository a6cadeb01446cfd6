"""Writes the demo city with ``update_or_create`` on natural keys, so a second run on the same day changes nothing.

Dates (mobile sites' days, the extra Saturday, the renovation week) are computed from ``today``.
"""

import datetime
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import translation

from booking.errors import BookingError
from booking.grid import BERLIN, local_datetime
from booking.models import Appointment, Slot
from booking.needs import Need
from booking.services.appointments import Contact, appointment_book
from booking.services.slots import capacity_refresh
from demo.catalogue import CATEGORIES, SERVICES, Text
from demo.city import (
    ABSENCES,
    ADMIN_EMAIL,
    ADMIN_LOGIN_FILE,
    ADMIN_PASSWORD_ENV,
    ADMIN_USERNAME,
    CITY,
    CLERKS,
    EVE_CLOSURES,
    EXTRA_SATURDAY_HOURS,
    EXTRA_SATURDAY_NOTE,
    EXTRA_SATURDAY_OFFICES,
    FIRST_NAMES,
    LAST_NAMES,
    MANAGER_INDEX,
    MOBILE_DAYS,
    MOBILE_WEEKS_AHEAD,
    OFFICES,
    RENOVATION_OFFICE,
    RENOVATION_REASON,
    RENOVATION_WEEKS_AHEAD,
    WALK_IN_COUNTERS,
    WALK_IN_HOURS,
    WALK_IN_WEEKDAYS,
    DemoOffice,
)
from demo.history import HISTORY_DAYS, history_record, history_window
from demo.translations import NAMES
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
    Weekday,
    WeeklyShift,
)
from offices.services import public_holidays_import
from tickets.models import Kiosk, Ticket

# --- Writing --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoResult:
    offices: int
    categories: int
    services: int
    offered_services: int
    opening_hours: int
    special_openings: int
    closures: int
    holidays: int
    clerks: int
    absences: int
    slots: int
    past_tickets: int  # in the history window (demo.history)
    past_appointments: int
    admin_created: bool
    admin_password: str | None  # None when the stored password no longer works
    kiosk_path: str | None = None  # the first citizen office's kiosk, e.g. /kiosk/<key>/


def translated(name: str, text: Text) -> dict[str, str]:
    """German and English; a name in demo.translations.NAMES also gets its Turkish, Arabic, Ukrainian and Russian."""
    fields = {f"{name}_de": text[0], f"{name}_en": text[1]}
    if name == "name":
        fields.update({f"{name}_{code}": value for code, value in NAMES.get(text[0], {}).items()})
    return fields


def time_range(text: str) -> tuple[datetime.time, datetime.time]:
    opens, closes = text.split("-")
    return datetime.time.fromisoformat(opens), datetime.time.fromisoformat(closes)


@transaction.atomic
def seed_demo(*, today: datetime.date) -> DemoResult:
    """Create or update the demo city; a second run on the same day changes nothing."""
    past, yesterday = history_window(today)
    years = sorted({past.year, today.year, today.year + 1})  # the history may reach into last year's Christmas
    public_holidays_import(years=years)
    holidays = set(PublicHoliday.objects.values_list("date", flat=True))
    eves = {datetime.date(year, month, day): reason for year in years for month, day, reason in EVE_CLOSURES}
    services = seed_services()
    offices = {row.slug: seed_office(row, services) for row in OFFICES}
    seed_mobile_days(offices, today=today, skip=holidays | eves.keys())
    seed_extra_saturdays(offices, today=today, skip=holidays | eves.keys())
    seed_closures(offices, today=today, eves=eves, holidays=holidays)
    seed_walk_in_windows(offices)
    clerks = seed_staff(offices)
    seed_absences(clerks, today=today)
    for office in offices.values():
        capacity_refresh(office=office, first=today, last=today + datetime.timedelta(days=office.horizon_days))
        seed_past_grid(office, first=past, last=yesterday)
    seed_desk_day(offices[OFFICES[0].slug], today=today)
    kiosks = seed_kiosks(offices)
    history_record(offices=list(offices.values()), today=today)
    window = local_datetime(past, 0), local_datetime(today, 0)
    admin_created, admin_password = seed_admin()
    return DemoResult(
        offices=Office.objects.count(),
        categories=Category.objects.count(),
        services=Service.objects.count(),
        offered_services=OfficeService.objects.count(),
        opening_hours=OpeningHours.objects.count(),
        special_openings=SpecialOpening.objects.count(),
        closures=Closure.objects.count(),
        holidays=PublicHoliday.objects.count(),
        clerks=Membership.objects.count(),
        absences=Absence.objects.count(),
        slots=Slot.objects.count(),
        past_tickets=Ticket.objects.filter(day__range=(past, yesterday)).count(),
        past_appointments=Appointment.objects.filter(start__gte=window[0], start__lt=window[1]).count(),
        admin_created=admin_created,
        admin_password=admin_password,
        kiosk_path=kiosk_path(kiosks[0]) if kiosks else None,
    )


def seed_past_grid(office: Office, *, first: datetime.date, last: datetime.date) -> None:
    """The slots of the history's days, built once: the days that have slots already are history and stay."""
    built = Slot.objects.filter(office=office, local_date__range=(first, last)).aggregate(latest=Max("local_date"))
    start = first if built["latest"] is None else built["latest"] + datetime.timedelta(days=1)
    if start <= last:
        capacity_refresh(office=office, first=start, last=last)


def seed_services() -> dict[str, Service]:
    categories = {
        slug: Category.objects.update_or_create(slug=slug, defaults={**translated("name", name), "position": index})[0]
        for index, (slug, name) in enumerate(CATEGORIES, start=1)
    }
    services = {}
    for index, row in enumerate(SERVICES, start=1):
        services[row.slug], _ = Service.objects.update_or_create(
            slug=row.slug,
            defaults={
                **translated("name", row.name),
                **translated("description", row.description),
                "what_to_bring_de": "\n".join(de for de, _ in row.bring),
                "what_to_bring_en": "\n".join(en for _, en in row.bring),
                "category": categories[row.category],
                "default_duration_minutes": row.minutes,
                "max_persons": row.max_persons,
                "position": index,
                "pickup": row.category == "abholung",
                # A residence title that ends within two weeks (or has ended) is an urgent case.
                "urgent_within_days": 14 if row.slug == "aufenthaltstitel-verlaengerung" else None,
                "active": True,
            },
        )
    return services


def seed_office(row: DemoOffice, services: dict[str, Service]) -> Office:
    office, _ = Office.objects.update_or_create(
        slug=row.slug,
        defaults={
            **translated("name", row.name),
            **translated("directions", row.directions),
            **translated("accessibility_notes", row.accessibility_notes),
            "kind": row.kind,
            "street": row.street,
            "postal_code": row.postal_code,
            "city": CITY,
            "phone": row.phone,
            "email": row.email,
            "step_free": row.step_free,
            "pickup_counters": "1" if row.kind == Office.Kind.CITIZEN_OFFICE else "",
            "confirm_email": row.confirm_email,
            "urgent_counters": 1 if row.kind == Office.Kind.IMMIGRATION_OFFICE else 0,
            "active": True,
        },
    )
    for weekday, ranges in row.hours.items():
        for text in ranges:
            opens, closes = time_range(text)
            OpeningHours.objects.update_or_create(
                office=office, weekday=weekday, opens=opens, defaults={"closes": closes}
            )
    for slug in row.services:
        minutes = services[slug].default_duration_minutes + row.extra_minutes + row.adjust.get(slug, 0)
        OfficeService.objects.update_or_create(
            office=office, service=services[slug], defaults={"duration_minutes": minutes}
        )
    return office


def add_special_opening(office: Office, day: datetime.date, hours: str, note: Text) -> None:
    opens, closes = time_range(hours)
    SpecialOpening.objects.update_or_create(
        office=office, date=day, opens=opens, defaults={"closes": closes, **translated("note", note)}
    )


def seed_mobile_days(offices: dict[str, Office], *, today: datetime.date, skip: set[datetime.date]) -> None:
    """Mobile sites have no weekly hours: they open on a few dates a month, for about three months (and in the
    four weeks of history before today)."""
    for row in MOBILE_DAYS:
        for offset in range(-HISTORY_DAYS, MOBILE_WEEKS_AHEAD * 7):
            day = today + datetime.timedelta(days=offset)
            week_of_month = (day.day - 1) // 7 + 1
            if day.weekday() == row.weekday and week_of_month in row.weeks and day not in skip:
                add_special_opening(offices[row.office], day, row.hours, row.note)


def seed_extra_saturdays(offices: dict[str, Office], *, today: datetime.date, skip: set[datetime.date]) -> None:
    """The main offices open on the second Saturday after today (or the next one that is not a holiday)."""
    saturday = today + datetime.timedelta(days=(Weekday.SATURDAY - today.weekday() - 1) % 7 + 1 + 7)
    while saturday in skip:
        saturday += datetime.timedelta(weeks=1)
    for slug in EXTRA_SATURDAY_OFFICES:
        add_special_opening(offices[slug], saturday, EXTRA_SATURDAY_HOURS, EXTRA_SATURDAY_NOTE)


def seed_closures(
    offices: dict[str, Office],
    *,
    today: datetime.date,
    eves: dict[datetime.date, Text],
    holidays: set[datetime.date],
) -> None:
    """Christmas Eve and New Year's Eve wherever the office would be open; one office's renovation week."""
    for office in offices.values():
        weekdays = set(office.hours.values_list("weekday", flat=True))
        special_days = set(office.special_openings.filter(date__in=eves).values_list("date", flat=True))
        for day, reason in eves.items():
            if day in special_days or (day.weekday() in weekdays and day not in holidays):
                add_closure(office, day, day, reason)
    start = today + datetime.timedelta(weeks=RENOVATION_WEEKS_AHEAD)
    start += datetime.timedelta(days=-start.weekday() % 7)  # the following Monday
    blocked = holidays | eves.keys()
    while blocked.intersection(start + datetime.timedelta(days=n) for n in range(5)):
        start += datetime.timedelta(weeks=1)  # keep it clear of Christmas and holidays, so it shows on its own
    add_closure(offices[RENOVATION_OFFICE], start, start + datetime.timedelta(days=4), RENOVATION_REASON)


def add_closure(office: Office, first: datetime.date, last: datetime.date, reason: Text) -> None:
    Closure.objects.update_or_create(
        office=office, start_date=first, defaults={"end_date": last, **translated("reason", reason)}
    )


def seed_walk_in_windows(offices: dict[str, Office]) -> None:
    """Weekday mornings at every citizen office: two counters serve walk-ins only."""
    starts, ends = time_range(WALK_IN_HOURS)
    for office in offices.values():
        if office.kind != Office.Kind.CITIZEN_OFFICE:
            continue
        for weekday in WALK_IN_WEEKDAYS:
            WalkInWindow.objects.update_or_create(
                office=office, weekday=weekday, starts=starts, defaults={"ends": ends, "counters": WALK_IN_COUNTERS}
            )


def seed_kiosks(offices: dict[str, Office]) -> list[Kiosk]:
    """A kiosk at the entrance of every citizen office; its key (the address) stays the same on every run."""
    return [
        Kiosk.objects.update_or_create(office=office, name="Eingang", defaults={"active": True})[0]
        for office in offices.values()
        if office.kind == Office.Kind.CITIZEN_OFFICE
    ]


def kiosk_path(kiosk: Kiosk) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return reverse("tickets:kiosk", args=[kiosk.key])


def seed_staff(offices: dict[str, Office]) -> dict[tuple[str, int], object]:
    """Clerks with weekly patterns that follow their office's hours; they cannot log in yet (no password)."""
    user_model = get_user_model()
    mobile_days = {row.office: row for row in MOBILE_DAYS}
    clerks: dict[tuple[str, int], object] = {}
    for index, (slug, count) in enumerate(CLERKS.items()):
        office = offices[slug]
        if slug in mobile_days:
            pattern = {mobile_days[slug].weekday: (mobile_days[slug].hours,)}
        else:
            pattern = next(row.hours for row in OFFICES if row.slug == slug)
        for number in range(1, count + 1):
            username = f"{slug.removeprefix('buergerbuero-')}-{number:02d}"
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": FIRST_NAMES[(index * 5 + number) % len(FIRST_NAMES)],
                    "last_name": LAST_NAMES[(index * 3 + number * 7) % len(LAST_NAMES)],
                    "email": f"{username}@musterstadt.example",
                },
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            role = Membership.Role.MANAGER if number == MANAGER_INDEX else Membership.Role.CLERK
            Membership.objects.update_or_create(user=user, office=office, defaults={"role": role})
            mornings_only = number % 3 == 0
            for weekday, ranges in pattern.items():
                for text in ranges[:1] if mornings_only else ranges:
                    starts, ends = time_range(text)
                    WeeklyShift.objects.update_or_create(
                        user=user, office=office, weekday=weekday, starts=starts, defaults={"ends": ends}
                    )
            clerks[(slug, number)] = user
    return clerks


def seed_absences(clerks: dict[tuple[str, int], object], *, today: datetime.date) -> None:
    for row in ABSENCES:
        first = today + datetime.timedelta(days=row.starts_in_days)
        Absence.objects.update_or_create(
            user=clerks[(row.office, row.clerk)],
            start_date=first,
            defaults={"kind": row.kind, "end_date": first + datetime.timedelta(days=row.days - 1)},
        )


DESK_DAY_NAMES = [
    "Aylin Demir",
    "Jonas Becker",
    "Marta Nowak",
    "Paul Schneider",
    "Olena Kovalenko",
    "Sophie Wagner",
    "Ahmad Karimi",
    "Lena Hoffmann",
    "Mehmet Yilmaz",
    "Clara Fischer",
]


def seed_desk_day(office: Office, *, today: datetime.date) -> None:
    """A morning of phone bookings at the first office on its next open day, so the clerks' desk has a day to show.

    Fictional names, no contact details (so nothing is sent). Left alone when that day has appointments already.
    """
    first = Slot.objects.filter(office=office, local_date__gte=today, capacity__gt=0).order_by("start").first()
    if first is None:
        return
    day = first.local_date
    if (
        Appointment.objects.filter(office=office, start__gte=local_datetime(day, 0))
        .filter(start__lt=local_datetime(day + datetime.timedelta(days=1), 0))
        .exists()
    ):
        return
    offered = list(office.offered_services.select_related("service").order_by("service__position", "pk")[:3])
    midnight = datetime.datetime.combine(day, datetime.time(0), tzinfo=BERLIN)
    start = first.start
    for number, name in enumerate(DESK_DAY_NAMES):
        need = Need(offered[number % len(offered)].service, 1)
        try:
            appointment_book(
                office=office,
                start=start,
                needs=[need],
                contact=Contact(name=name, interpreter_language="Ukrainisch" if number == 4 else ""),
                now=midnight,
                channel=Appointment.Channel.PHONE,
            )
        except BookingError:
            pass  # a full or closed time: the next one
        start += datetime.timedelta(minutes=20)


def seed_admin() -> tuple[bool, str | None]:
    """Create the administrator once; return whether it was created and its password if still valid.

    An existing user is never changed. The password comes from DEMO_ADMIN_PASSWORD or is generated; either
    way it is stored (mode 0600) in VAR_DIR, so that later runs can still print it while it works.
    """
    user_model = get_user_model()
    password_file = Path(settings.VAR_DIR) / ADMIN_LOGIN_FILE
    user = user_model.objects.filter(username=ADMIN_USERNAME).first()
    created = user is None
    if user is None:
        password = os.environ.get(ADMIN_PASSWORD_ENV) or secrets.token_urlsafe(12)
        user = user_model.objects.create_superuser(username=ADMIN_USERNAME, email=ADMIN_EMAIL, password=password)
        write_private_file(password_file, password)  # later runs print it while it still works
    candidates = [os.environ.get(ADMIN_PASSWORD_ENV, "")]
    if password_file.exists():
        candidates.append(password_file.read_text(encoding="utf-8").removesuffix("\n"))
    # hashers.check_password, unlike user.check_password, never re-saves the user to upgrade the hash.
    valid = next((pw for pw in candidates if pw and check_password(pw, user.password)), None)
    return created, valid


def write_private_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # also when the file already existed with other permissions
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text + "\n")
