"""`seed_demo` records four weeks of finished tickets and visits that the busy chart, the waiting estimate, the status
page and the desk's records read (demo/history.py)."""

import datetime
import io
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Sum
from django.test import override_settings

from booking.grid import BERLIN
from booking.models import Appointment, AppointmentService, Slot
from demo.citizens import TRUE_SHARE
from offices.models import Office, OfficeService, PublicHoliday
from tests.support.demo_city import seed
from tickets.busy import busy_chart
from tickets.estimate import Minutes, offices_service_times
from tickets.models import Ticket, TicketSequence

pytestmark = pytest.mark.django_db

BERLIN_TZ = ZoneInfo("Europe/Berlin")
TODAY = datetime.datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN_TZ)  # a Tuesday
FIRST, LAST = datetime.date(2026, 10, 27), datetime.date(2026, 11, 23)  # the 28 days before
REPENTANCE_DAY = datetime.date(2026, 11, 18)  # Buß- und Bettag, a public holiday in Saxony
CENTRE = "buergerbuero-zentrum"


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo city seeded on a Tuesday morning, once for this module; rolled back afterwards."""
    var_dir = tmp_path_factory.mktemp("var")
    with (
        django_db_blocker.unblock(),
        override_settings(VAR_DIR=var_dir, QUEUE_STATUS_CACHE_SECONDS=0),
        time_machine.travel(TODAY, tick=False),
    ):
        try:
            with transaction.atomic():
                yield seed()
                raise _Rollback
        except _Rollback:
            pass


@pytest.fixture
def frozen(city: str):  # type: ignore[no-untyped-def]
    with time_machine.travel(TODAY, tick=False):
        yield city


# Citizen offices open on all five weekdays (the smaller ones close on Wednesday).
EVERY_WEEKDAY = ["buergerbuero-zentrum", "buergerbuero-nord", "buergerbuero-sued", "buergerbuero-ost"]


def _city(weekday: int, hour: int) -> float:
    """Tickets drawn in this hour of such a weekday at those offices together, on an average day (their charts)."""
    total = 0.0
    for office in Office.objects.filter(slug__in=EVERY_WEEKDAY):
        chart = busy_chart(office=office, now=TODAY)
        total += sum(
            cell.average for row in chart.rows if row.hour == hour for cell in row.cells if cell.weekday == weekday
        )
    return total


def test_the_seed_reports_four_weeks_of_tickets_and_visits(frozen: str) -> None:
    line = next(line for line in frozen.splitlines() if line.startswith("The last 28 days:"))
    tickets, appointments = map(int, re.findall(r"(\d+) (?:queue tickets|appointments)", line))
    assert tickets == Ticket.objects.filter(day__range=(FIRST, LAST)).count() > 5000
    assert appointments == Appointment.objects.filter(start__lt=TODAY).count() > 3000
    assert not Ticket.objects.filter(day__gte=TODAY.date()).exists(), "today is left to be played"


def test_arrivals_follow_the_week_busy_monday_and_tuesday_mornings_thursday_afternoons_a_lunch_dip(
    frozen: str,
) -> None:
    monday, tuesday, wednesday, thursday, friday = range(5)
    assert _city(monday, 9) > _city(friday, 14) == 0  # Friday afternoon: closed
    assert _city(monday, 8) > 1.2 * _city(friday, 8)
    assert _city(tuesday, 8) > _city(wednesday, 8)
    assert _city(monday, 10) > 1.2 * _city(wednesday, 10)
    assert _city(monday, 8) > 1.5 * _city(monday, 11)  # the crowd at the door when the walk-in hours begin
    # After work on Thursday, when the offices open late, more come than on Tuesday afternoon.
    assert _city(thursday, 16) > 1.1 * _city(tuesday, 16)
    assert _city(wednesday, 12) < 0.7 * _city(wednesday, 10)  # lunch
    assert _city(thursday, 19) > 0  # the late opening until 19:30


def test_holidays_and_weekends_have_no_history(frozen: str) -> None:
    assert PublicHoliday.objects.filter(date=REPENTANCE_DAY).exists()
    days = set(Ticket.objects.filter(day__range=(FIRST, LAST)).values_list("day", flat=True))
    assert REPENTANCE_DAY not in days
    assert all(day.weekday() < 5 for day in days)
    assert datetime.date(2026, 11, 17) in days
    visited = Appointment.objects.exclude(visit=Appointment.Visit.EXPECTED)
    assert not visited.filter(start__date=REPENTANCE_DAY).exists()


def test_only_citizen_offices_have_walk_ins_and_pickups_and_the_immigration_office_urgent_cases(frozen: str) -> None:
    queues: dict[str, set[str]] = {}
    for kind, queue in Ticket.objects.values_list("office__kind", "queue").distinct():
        queues.setdefault(kind, set()).add(queue)
    assert queues[Office.Kind.CITIZEN_OFFICE] == {"T", "W", "A"}
    assert queues[Office.Kind.IMMIGRATION_OFFICE] == {"T", "N"}
    assert queues[Office.Kind.CIVIL_REGISTRY] == {"T"}
    assert queues[Office.Kind.MOBILE_SITE] == {"T"}, "the mobile sites' past dates are there too"


def test_walk_ins_draw_only_in_the_walk_in_hours_and_every_ticket_was_served_or_missed(frozen: str) -> None:
    walk_ins = Ticket.objects.filter(queue="W")
    hours = {issued.astimezone(BERLIN).hour for issued in walk_ins.values_list("issued_at", flat=True)}
    assert hours == {8, 9}
    assert set(Ticket.objects.values_list("status", flat=True)) == {"done", "no_show"}
    done = Ticket.objects.filter(status="done")
    assert not done.filter(called_at__lt=F("issued_at")).exists()
    assert not done.filter(service_started_at__lt=F("called_at")).exists()
    assert not done.filter(finished_at__lte=F("service_started_at")).exists()
    assert not Ticket.objects.filter(counter=None).exists()
    numbers = list(
        Ticket.objects.filter(office__slug=CENTRE, day=LAST, queue="W").order_by("issued_at").values_list("number")
    )
    assert [number for (number,) in numbers] == list(range(1, len(numbers) + 1))
    sequence = TicketSequence.objects.get(office__slug=CENTRE, day=LAST, queue="W")
    assert sequence.last == len(numbers) > 10


def test_past_appointments_were_served_or_missed_and_the_grid_counts_them(frozen: str) -> None:
    past = Appointment.objects.filter(start__lt=TODAY)
    visits = Counter(past.values_list("visit", flat=True))
    assert set(visits) == {"done", "no_show"}
    assert 0.03 < visits["no_show"] / past.count() < 0.12
    served = past.filter(visit="done")
    assert served.count() == Ticket.objects.filter(queue="T", day__lt=TODAY.date()).count()
    assert not served.filter(finished_at__lte=F("service_started_at")).exists()
    assert not served.filter(called_at__lt=F("start")).exists()
    assert not past.filter(visit="no_show", ticket__isnull=False).exists(), "who never came drew no ticket"
    assert not past.filter(created_at__gte=F("start")).exists(), "booked before the day, not when seeded"
    assert AppointmentService.objects.filter(appointment__in=past).count() == past.count()
    out = io.StringIO()
    call_command("verify_integrity", "--from", FIRST.isoformat(), "--to", LAST.isoformat(), stdout=out)
    assert "0 slots over capacity, 0 slots with wrong counts, 0 appointments or holds without slots" in out.getvalue()
    booked = Slot.objects.filter(local_date__range=(FIRST, LAST)).aggregate(
        n=Sum(F("booked_online") + F("booked_phone"))
    )
    assert booked["n"] > past.count()  # appointments of several slots take a unit in each


def test_the_waiting_estimate_learns_the_service_times_from_the_history(frozen: str) -> None:
    office = Office.objects.get(slug=CENTRE)
    offer = OfficeService.objects.get(office=office, service__slug="anmeldung")
    times = offices_service_times(offices=[office], now=TODAY)[office.pk]
    learned = times.by_service[offer.service_id]
    assert learned != Minutes.configured(offer.duration_minutes)
    expected = offer.duration_minutes * TRUE_SHARE["anmeldung"]
    assert 0.8 * expected < learned.mid < 1.25 * expected
    assert learned.low < learned.mid < learned.high


def test_the_status_page_shows_the_usual_busy_hours_from_the_history(client, frozen: str) -> None:  # type: ignore[no-untyped-def]
    office = Office.objects.get(slug=CENTRE)
    with override_settings(QUEUE_STATUS_CACHE_SECONDS=0):
        chart = busy_chart(office=office, now=TODAY)
        html = client.get(f"/en/status/{CENTRE}/").content.decode()
    assert chart.has_data and chart.first == FIRST and chart.last == LAST
    monday_eight = next(cell for row in chart.rows if row.hour == 8 for cell in row.cells if cell.weekday == 0)
    assert monday_eight.level == "busy"
    assert "Not enough tickets have been drawn" not in html
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    # The window's dates in the page's date format (whichever the English one is).
    caption = r"Tickets drawn per hour on an average opening day of the last 28 days \(27/10/2026 to 23/11/2026\)"
    assert re.search(caption, text), text[text.find("Usually busy") :][:300]
    row = re.search(r"Hour Monday Tuesday Wednesday Thursday Friday 08:00–09:00 busy (\d+\.\d) ", text)
    assert row and abs(float(row.group(1)) - monday_eight.average) <= 0.05
    assert "quiet" in text and "moderate" in text


def test_the_status_page_estimates_a_walk_in_wait_with_the_learned_times(client, frozen: str) -> None:  # type: ignore[no-untyped-def]
    from tickets.models import Kiosk
    from tickets.services import ticket_draw_at_kiosk

    kiosk = Kiosk.objects.get(office__slug=CENTRE)
    service = OfficeService.objects.get(office=kiosk.office, service__slug="anmeldung").service
    opening = TODAY.replace(hour=8, minute=1)
    for minute in range(12):
        ticket_draw_at_kiosk(
            kiosk=kiosk, service=service, now=opening + datetime.timedelta(seconds=minute), language="de"
        )
    with time_machine.travel(opening + datetime.timedelta(minutes=1), tick=False):
        html = client.get(f"/en/status/{CENTRE}/").content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    waiting = re.search(r"People waiting (\d+)", text)
    assert waiting and int(waiting.group(1)) == 12
    wait = re.search(r"Wait with a walk-in ticket drawn now about (\d+) min \((\d+)–(\d+)\)", text)
    assert wait, text
    assert 10 <= int(wait.group(1)) <= 120


def test_seeding_again_on_the_same_day_adds_nothing(frozen: str) -> None:
    def counts() -> tuple[int, ...]:
        booked = Slot.objects.aggregate(online=Sum("booked_online"), phone=Sum("booked_phone"))
        return (
            Ticket.objects.count(),
            TicketSequence.objects.count(),
            Appointment.objects.count(),
            AppointmentService.objects.count(),
            Slot.objects.count(),
            booked["online"],
            booked["phone"],
        )

    before = counts()
    assert seed() == frozen
    assert counts() == before


def test_the_next_day_adds_only_the_day_that_became_history(frozen: str) -> None:
    yesterday = Ticket.objects.filter(day=LAST).count()
    desk_day = set(Appointment.objects.filter(start__date=TODAY.date()).values_list("pk", flat=True))
    with time_machine.travel(TODAY + datetime.timedelta(days=1), tick=False):
        output = seed()
    assert Ticket.objects.filter(day=LAST).count() == yesterday
    assert Ticket.objects.filter(day=TODAY.date()).count() > 500
    added = Appointment.objects.filter(start__date=TODAY.date()).exclude(pk__in=desk_day)
    assert added.count() > 100
    assert "The last 28 days:" in output
    out = io.StringIO()
    call_command("verify_integrity", "--from", TODAY.date().isoformat(), "--to", TODAY.date().isoformat(), stdout=out)
    assert ", 0 slots with wrong counts," in out.getvalue()
