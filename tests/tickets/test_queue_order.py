"""The queue order (tickets.policy) and "call next" (desk.queue.queue_call_next)."""

import pytest

from booking.errors import BookingError
from booking.models import Appointment
from desk.queue import queue_call_next, queue_step
from desk.services import visit_check_in
from tests.support.queue_steps import at, queue_world
from tickets.models import Ticket

Queue = Ticket.Queue
Status = Ticket.Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


def _call_next(qw, hhmm: str, counter: int = 1) -> str | None:  # type: ignore[no-untyped-def]
    ticket = queue_call_next(office=qw.office_a, counter=counter, by=qw.clerk_a, now=at(hhmm))
    return ticket.label if ticket else None


def test_checking_in_an_appointment_holder_issues_their_t_ticket(qw) -> None:  # type: ignore[no-untyped-def]
    first = qw.book("09:00", name="Anna")
    second = qw.book("09:15", name="Bernd")
    visit_check_in(appointment=first, by=qw.clerk_a, now=at("08:50"))
    visit_check_in(appointment=second, by=qw.clerk_a, now=at("08:52"))
    tickets = list(Ticket.objects.order_by("number"))
    assert [(t.label, t.status, t.appointment_id) for t in tickets] == [
        ("T001", Status.WAITING, first.pk),
        ("T002", Status.WAITING, second.pk),
    ]
    assert tickets[0].issued_by == qw.clerk_a
    assert tickets[0].service.slug == "personalausweis"


def test_walk_ins_are_called_first_come_first_served(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:01")
    qw.draw("08:02", service="anmeldung")
    qw.draw("08:03")
    assert [_call_next(qw, "08:10", counter) for counter in (1, 2, 1)] == ["W001", "W002", "W003"]
    assert _call_next(qw, "08:11") is None


def test_an_appointment_holder_is_called_at_their_time_before_earlier_walk_ins(qw) -> None:  # type: ignore[no-untyped-def]
    appointment = qw.book("09:00")
    qw.draw("08:30")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:40"))
    qw.draw("08:45")
    # Before 09:00 the early appointment holder waits behind the walk-ins...
    assert _call_next(qw, "08:50") == "W001"
    # ...at 09:00 their time has come, ahead of the walk-in who drew before them.
    assert _call_next(qw, "09:00") == "T001"
    assert _call_next(qw, "09:00") == "W002"
    appointment.refresh_from_db()
    assert appointment.visit == Appointment.Visit.CALLED and appointment.counter == 1


def test_an_early_appointment_holder_is_called_when_nobody_else_waits(qw) -> None:  # type: ignore[no-untyped-def]
    appointment = qw.book("11:00")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("10:00"))
    assert _call_next(qw, "10:05") == "T001"


def test_urgent_cases_come_first(qw) -> None:  # type: ignore[no-untyped-def]
    appointment = qw.book("09:00")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:40"))
    qw.draw("08:30")
    qw.draw("09:05", queue=Queue.URGENT)
    assert _call_next(qw, "09:10") == "N001"
    assert _call_next(qw, "09:10") == "T001"


def test_pickups_take_the_fast_lane_at_the_designated_counters_only(qw) -> None:  # type: ignore[no-untyped-def]
    qw.office_a.pickup_counters = "2"
    qw.office_a.save()
    qw.draw("08:01")
    qw.draw("08:02", queue=Queue.PICKUP, service="abholung-ausweis")
    qw.draw("08:03")
    # Counter 1 does not serve the fast lane: the walk-ins in order.
    assert _call_next(qw, "08:10", counter=1) == "W001"
    # Counter 2 does: the pickup first, although a walk-in drew before it.
    assert _call_next(qw, "08:10", counter=2) == "A001"
    assert _call_next(qw, "08:20", counter=2) == "W002"


def test_a_pickup_nobody_designated_to_serve_is_not_left_waiting(qw) -> None:  # type: ignore[no-untyped-def]
    qw.office_a.pickup_counters = "5"  # a counter nobody staffs today
    qw.office_a.save()
    qw.draw("08:01", queue=Queue.PICKUP, service="abholung-ausweis")
    qw.draw("08:02")
    assert _call_next(qw, "08:10", counter=1) == "W001"
    assert _call_next(qw, "08:10", counter=1) == "A001"


def test_without_designated_counters_every_counter_takes_pickups_first(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:01")
    qw.draw("08:02", queue=Queue.PICKUP, service="abholung-ausweis")
    assert _call_next(qw, "08:10", counter=1) == "A001"


def test_a_ticket_goes_through_its_steps_and_refuses_the_wrong_ones(qw) -> None:  # type: ignore[no-untyped-def]
    ticket = qw.draw("08:01")
    with pytest.raises(BookingError):
        queue_step(ticket=ticket, step="finish", by=qw.clerk_a, now=at("08:05"))
    called = queue_call_next(office=qw.office_a, counter=3, by=qw.clerk_a, now=at("08:05"))
    with pytest.raises(BookingError):
        queue_step(ticket=called, step="call", by=qw.clerk_b, counter=4, now=at("08:06"))
    queue_step(ticket=called, step="start", by=qw.clerk_a, now=at("08:07"))
    done = queue_step(ticket=called, step="finish", by=qw.clerk_a, now=at("08:19"))
    assert (done.status, done.counter, done.called_by) == (Status.DONE, 3, qw.clerk_a)
    assert (done.called_at, done.service_started_at, done.finished_at) == (at("08:05"), at("08:07"), at("08:19"))


def test_a_t_ticket_follows_the_desk_and_the_desk_follows_it(qw) -> None:  # type: ignore[no-untyped-def]
    appointment = qw.book("09:00")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:55"))
    ticket = queue_call_next(office=qw.office_a, counter=2, by=qw.clerk_a, now=at("09:00"))
    queue_step(ticket=ticket, step="start", by=qw.clerk_a, now=at("09:01"))
    ticket = queue_step(ticket=ticket, step="finish", by=qw.clerk_a, now=at("09:14"))
    appointment.refresh_from_db()
    assert appointment.visit == Appointment.Visit.DONE
    assert (ticket.status, ticket.counter, ticket.finished_at) == (Status.DONE, 2, at("09:14"))
    assert list(appointment.audit_entries.values_list("action", flat=True).order_by("at", "pk")) == [
        "check_in",
        "call",
        "start",
        "finish",
    ]


def test_numbers_count_per_queue_and_day(qw) -> None:  # type: ignore[no-untyped-def]
    labels = [qw.draw("08:01").label, qw.draw("08:02", queue=Queue.PICKUP, service="abholung-ausweis").label]
    labels.append(qw.draw("08:03").label)
    labels.append(qw.draw("08:04", office=qw.office_b, queue=Queue.PICKUP, service="abholung-ausweis").label)
    assert labels == ["W001", "A001", "W002", "A001"]


def test_call_next_passes_over_a_ticket_whose_appointment_refuses_the_call(qw) -> None:  # type: ignore[no-untyped-def]
    appointment = qw.book("08:30")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:25"))
    qw.draw("08:26")
    # However it came about (an administrator's hand in the database), the appointment cannot be called now.
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.NEEDS_REBOOKING, visit="expected")
    assert _call_next(qw, "08:40") == "W001"
    assert Ticket.objects.get(queue=Queue.APPOINTMENT).status == Status.WAITING


def test_numbers_not_clocks_order_a_queue(qw) -> None:  # type: ignore[no-untyped-def]
    # Two kiosks at once: the one that read the clock later got the lock, and so the number, first.
    first = qw.draw("09:00:05")
    second = qw.draw("09:00:04")
    assert (first.label, second.label) == ("W001", "W002")
    assert _call_next(qw, "09:01") == "W001"


def test_a_late_arrival_after_a_no_show_waits_uncalled_again(qw) -> None:  # type: ignore[no-untyped-def]
    from desk.services import visit_call, visit_no_show
    from tickets.selectors import last_calls

    appointment = qw.book("09:00")
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:55"))
    visit_call(appointment=appointment, by=qw.clerk_a, counter=2, now=at("09:00"))
    visit_no_show(appointment=appointment, by=qw.clerk_a, now=at("09:16"))
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("09:30"))
    ticket = Ticket.objects.get()
    assert (ticket.label, ticket.status, ticket.counter, ticket.called_at) == ("T001", Status.WAITING, None, None)
    assert list(last_calls(office=qw.office_a, day=ticket.day)) == []
    assert _call_next(qw, "09:31", counter=1) == "T001"
