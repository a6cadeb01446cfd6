"""Shared by the message tests (tests/notifications, tests/booking/test_appointment_messages*, tests/desk):
an office in Leipzig with one service, booking there, and looking into what was sent."""

import datetime
from collections.abc import Callable

from django.core import mail
from django.core.mail.backends import locmem
from icalendar import Calendar

from booking.grid import BERLIN
from booking.models import Appointment
from booking.services.appointments import Contact, appointment_book
from offices.models import Office
from tests.support.factories import bookable_office, offer

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)  # a week before


def at(day: datetime.date, hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


def leipzig_office() -> Office:
    office = bookable_office(
        counters=2,
        first=MONDAY,
        last=MONDAY + datetime.timedelta(days=4),
        name_de="Bürgerbüro Mitte",
        name_en="Citizen Office Centre",
        street="Markt 1",
        postal_code="04109",
        city="Leipzig",
        directions_de="Straßenbahn 4 bis Markt",
        directions_en="Tram 4 to Markt",
        phone="0341 123-0",
    )
    offer(
        office,
        "personalausweis",
        15,
        name_de="Personalausweis",
        name_en="Identity card",
        what_to_bring_de="Altes Ausweisdokument\nBiometrisches Passfoto",
        what_to_bring_en="Old identity document\nBiometric photo",
    )
    return office


def book(office, start, *, now=NOW, **contact):  # type: ignore[no-untyped-def]
    contact.setdefault("name", "Erika Mustermann")
    contact.setdefault("email", "erika@example.org")
    channel = contact.pop("channel", Appointment.Channel.ONLINE)
    from booking.needs import needs_from_param

    return appointment_book(
        office=office,
        start=start,
        needs=needs_from_param("personalausweis:2"),
        contact=Contact(**contact),
        now=now,
        channel=channel,
    )


def sent_now(django_capture_on_commit_callbacks, action):  # type: ignore[no-untyped-def]
    """Run ``action`` and the tasks it queues after commit (eager Celery: in-process)."""
    with django_capture_on_commit_callbacks(execute=True):
        return action()


def ics_of(email: mail.EmailMessage) -> Calendar:
    (attachment,) = [a for a in email.attachments if a[2].startswith("text/calendar")]
    return Calendar.from_ical(attachment[1])


def event_of(calendar: Calendar):  # type: ignore[no-untyped-def]
    (event,) = calendar.walk("VEVENT")
    return event


def seconds(n: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=n)


def use_smtp(settings, port: int) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port


class HandOver(locmem.EmailBackend):
    """The test backend, running ``during`` while an e-mail is being handed over (a slow or hung mail server)."""

    during: Callable[[], object] = staticmethod(lambda: None)

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        HandOver.during()
        return super().send_messages(messages)
