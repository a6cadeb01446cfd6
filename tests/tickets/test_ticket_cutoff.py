"""When walk-ins may still draw a ticket (tickets.selectors.walkin_state) and what ticket_issue refuses."""

import datetime
import threading

import pytest
from django.db import connection

from booking.errors import BookingError
from booking.services.slots import capacity_refresh
from offices.models import Closure, WalkInWindow
from tests.support.desk_steps import LAST
from tests.support.factories import offer
from tests.support.queue_steps import TODAY, at, queue_world
from tickets.models import Ticket, TicketSequence
from tickets.selectors import WalkIn, queue_state, walkin_state

Queue = Ticket.Queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


def _state(qw, hhmm: str, office=None) -> WalkIn:  # type: ignore[no-untyped-def]
    office = office or qw.office_a
    now = at(hhmm)
    return walkin_state(office=office, now=now, state=queue_state(office=office, now=now))


def _all_day_walk_ins(qw) -> None:  # type: ignore[no-untyped-def]
    WalkInWindow.objects.create(
        office=qw.office_a, weekday=0, starts=datetime.time(13), ends=datetime.time(16), counters=1
    )
    capacity_refresh(office=qw.office_a, first=TODAY, last=LAST)


def test_walk_in_tickets_stop_the_configured_time_before_closing(qw) -> None:  # type: ignore[no-untyped-def]
    _all_day_walk_ins(qw)
    qw.office_a.walkin_cutoff_minutes = 10
    qw.office_a.save()
    assert _state(qw, "15:49") == WalkIn.OPEN  # 11 counter-minutes left: a 10-minute matter fits
    assert _state(qw, "15:50") == WalkIn.CUT_OFF
    qw.office_a.walkin_cutoff_minutes = 30  # the default
    qw.office_a.save()
    assert _state(qw, "15:29") == WalkIn.OPEN
    assert qw.draw("15:29").label == "W001"
    assert _state(qw, "15:30") == WalkIn.CUT_OFF
    with pytest.raises(BookingError, match="Heute keine Wartemarken mehr"):
        qw.draw("15:30")
    assert Ticket.objects.count() == 1


def test_walk_in_tickets_stop_when_the_day_s_remaining_walk_in_capacity_is_taken(qw) -> None:  # type: ignore[no-untyped-def]
    # 11:00: one walk-in counter until 12:00 is 60 counter-minutes; a Personalausweis takes 15.
    drawn = [qw.draw("11:00").label for _n in range(4)]
    assert drawn == ["W001", "W002", "W003", "W004"]
    assert _state(qw, "11:00") == WalkIn.FULL
    with pytest.raises(BookingError, match="Heute keine Wartemarken mehr"):
        qw.draw("11:00")
    # A shorter matter does not fit either, and nothing was written by the refusals.
    with pytest.raises(BookingError):
        qw.draw("11:00", service="anmeldung")
    assert Ticket.objects.count() == 4
    assert TicketSequence.objects.get(queue=Queue.WALK_IN).last == 4
    # Pickups have their own lane and are still drawn.
    assert qw.draw("11:00", queue=Queue.PICKUP, service="abholung-ausweis").label == "A001"


def test_capacity_comes_back_as_walk_ins_are_served(qw) -> None:  # type: ignore[no-untyped-def]
    from desk.queue import queue_call_next, queue_step

    for _n in range(3):
        qw.draw("10:00")
    assert _state(qw, "10:00") == WalkIn.OPEN  # 120 counter-minutes left, 45 + 15 asked
    for counter in (1, 2):
        ticket = queue_call_next(office=qw.office_a, counter=counter, by=qw.clerk_a, now=at("10:00"))
        queue_step(ticket=ticket, step="start", by=qw.clerk_a, now=at("10:00"))
        queue_step(ticket=ticket, step="finish", by=qw.clerk_a, now=at("10:10"))
    # At 11:20, 40 counter-minutes are left: the one still waiting (15) and a new one (15) fit...
    assert _state(qw, "11:20") == WalkIn.OPEN
    assert qw.draw("11:20").label == "W004"
    # ...then only a quicker matter (10) does, and after it nothing.
    assert _state(qw, "11:20") == WalkIn.OPEN
    with pytest.raises(BookingError):
        qw.draw("11:20")
    assert qw.draw("11:20", service="anmeldung").label == "W005"
    assert _state(qw, "11:20") == WalkIn.FULL


def test_an_office_without_walk_in_hours_today_issues_no_walk_in_tickets(qw) -> None:  # type: ignore[no-untyped-def]
    assert _state(qw, "09:00", office=qw.office_b) == WalkIn.NONE_TODAY
    with pytest.raises(BookingError, match="^Heute keine Wartemarken$"):
        qw.draw("09:00", office=qw.office_b)
    assert qw.draw("09:00", office=qw.office_b, queue=Queue.PICKUP, service="abholung-ausweis").label == "A001"


def test_no_ticket_of_any_kind_while_the_office_is_closed(qw) -> None:  # type: ignore[no-untyped-def]
    assert _state(qw, "07:59") == WalkIn.CLOSED
    assert _state(qw, "16:00") == WalkIn.CLOSED
    for queue, service in ((Queue.WALK_IN, "personalausweis"), (Queue.PICKUP, "abholung-ausweis")):
        with pytest.raises(BookingError, match="Geschlossen"):
            qw.draw("07:59", queue=queue, service=service)
    Closure.objects.create(office=qw.office_a, start_date=TODAY, end_date=TODAY, reason="Umzug")
    assert _state(qw, "09:00") == WalkIn.CLOSED
    assert Ticket.objects.count() == 0


def test_the_lunch_break_does_not_close_the_kiosk(qw) -> None:  # type: ignore[no-untyped-def]
    _all_day_walk_ins(qw)
    assert _state(qw, "12:30") == WalkIn.OPEN


def test_only_a_clerk_issues_urgent_tickets_and_t_tickets_come_from_check_in(qw) -> None:  # type: ignore[no-untyped-def]
    from tickets.services import ticket_issue

    with pytest.raises(BookingError):
        ticket_issue(office=qw.office_a, queue=Queue.URGENT, now=at("09:00"))
    with pytest.raises(BookingError):
        ticket_issue(office=qw.office_a, queue=Queue.APPOINTMENT, now=at("09:00"), by=qw.clerk_a)
    only_at_a = offer(qw.office_a, "fuehrerschein", 20).service
    with pytest.raises(BookingError, match="bietet diese Dienstleistung nicht an"):
        ticket_issue(office=qw.office_b, queue=Queue.WALK_IN, service=only_at_a, now=at("09:00"))
    assert Ticket.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_kiosks_drawing_the_last_walk_in_capacity_at_once_issue_it_once(qw) -> None:  # type: ignore[no-untyped-def]
    for _n in range(3):
        qw.draw("11:00")  # 45 of the 60 counter-minutes left before 12:00
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def draw() -> None:
        try:
            barrier.wait()
            outcome.append(qw.draw("11:00").label)
        except BookingError:
            outcome.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=draw) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcome) == ["W004", "refused"]
    assert Ticket.objects.filter(queue=Queue.WALK_IN).count() == 4
