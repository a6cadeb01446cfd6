"""The waiting-time estimate (tickets.estimate) on small cases worked out by hand."""

import datetime

import pytest

from desk.queue import queue_call_next, queue_step
from desk.services import visit_check_in
from tests.support.queue_steps import TODAY, at, queue_world
from tickets.estimate import Minutes, estimate
from tickets.models import Ticket
from tickets.selectors import new_walkin_estimate, queue_state

pytestmark = pytest.mark.django_db

# No history: a Personalausweis (configured 15 minutes) is expected to take ¾·15, 15 or 1½·15.
PERSONALAUSWEIS = Minutes(11.25, 15.0, 22.5)


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    return queue_world()


def _serve(qw, hhmm: str, counter: int, minutes: int = 0) -> Ticket:  # type: ignore[no-untyped-def]
    """Call the next ticket to ``counter`` at ``hhmm`` and start it; finish it ``minutes`` later if given."""
    ticket = queue_call_next(office=qw.office_a, counter=counter, by=qw.clerk_a, now=at(hhmm))
    ticket = queue_step(ticket=ticket, step="start", by=qw.clerk_a, now=at(hhmm))
    if minutes:
        finished = at(hhmm) + datetime.timedelta(minutes=minutes)
        ticket = queue_step(ticket=ticket, step="finish", by=qw.clerk_a, now=finished)
    return ticket


def _finished_last_week(qw, minutes: list[int], *, walk: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Walk-in Personalausweis tickets of a week ago, called ``walk`` minutes before service, each ``minutes`` long
    from the call."""
    last_week = TODAY - datetime.timedelta(days=7)
    for index, length in enumerate(minutes):
        called = at("09:00", last_week) + datetime.timedelta(minutes=30 * index)
        Ticket.objects.create(
            office=qw.office_a,
            day=last_week,
            queue=Ticket.Queue.WALK_IN,
            number=index + 1,
            status=Ticket.Status.DONE,
            service=qw.service(),
            counter=1,
            issued_at=called,
            called_at=called,
            service_started_at=called + datetime.timedelta(minutes=walk),
            finished_at=called + datetime.timedelta(minutes=length),
        )


def test_nobody_ahead_means_no_wait(qw) -> None:  # type: ignore[no-untyped-def]
    state = queue_state(office=qw.office_a, now=at("08:05"))
    result = new_walkin_estimate(state)
    assert (result.ahead, result.minutes, result.counters) == (0, Minutes(0, 0, 0), 2)  # two clerks on shift


def test_two_walk_ins_ahead_at_one_counter(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:40", service="anmeldung")
    _serve(qw, "08:40", counter=1, minutes=10)  # counter 1 is at work; nobody else called anything
    qw.draw("08:50")
    qw.draw("08:55")
    mine = qw.draw("09:00")
    state = queue_state(office=qw.office_a, now=at("09:00"))
    result = estimate(state, mine)
    assert (result.ahead, result.counters) == (2, 1)
    assert result.minutes == Minutes(22.5, 30.0, 45.0)
    # Shown on whole five minutes: 09:22:30 down to 09:20, 09:45 stays.
    assert result.call_between(at("09:00")) == (at("09:20"), at("09:45"))


def test_a_second_counter_halves_the_wait(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:40", service="anmeldung")
    qw.draw("08:40", service="anmeldung")
    _serve(qw, "08:40", counter=1, minutes=10)
    _serve(qw, "08:40", counter=2, minutes=10)
    qw.draw("08:50")
    qw.draw("08:55")
    mine = qw.draw("09:00")
    result = estimate(queue_state(office=qw.office_a, now=at("09:00")), mine)
    assert (result.ahead, result.counters, result.minutes) == (2, 2, Minutes(11.25, 15.0, 22.5))


def test_the_one_being_served_counts_with_what_is_left_of_their_time(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:55")
    _serve(qw, "09:00", counter=1)  # a Personalausweis since 09:00
    mine = qw.draw("09:05")
    result = estimate(queue_state(office=qw.office_a, now=at("09:05")), mine)
    # Five minutes gone: 11.25 − 5, 15 − 5, 22.5 − 5 left, at the one counter serving.
    assert (result.ahead, result.counters, result.minutes) == (0, 1, Minutes(6.25, 10.0, 17.5))


def test_recent_service_times_replace_the_configured_duration(qw) -> None:  # type: ignore[no-untyped-def]
    # Five Personalausweis tickets last week took 10, 10, 12, 14 and 20 minutes.
    _finished_last_week(qw, [10, 10, 12, 14, 20])
    qw.draw("08:40", service="anmeldung")
    _serve(qw, "08:40", counter=1, minutes=10)
    qw.draw("08:55")
    mine = qw.draw("09:00")
    result = estimate(queue_state(office=qw.office_a, now=at("09:00")), mine)
    # Lower quartile 10, mean 13.2, upper quartile 14 of the five.
    assert result.minutes.low == pytest.approx(10.0)
    assert result.minutes.mid == pytest.approx(13.2)
    assert result.minutes.high == pytest.approx(14.0)


def test_a_counter_without_a_call_for_a_while_no_longer_counts(qw, settings) -> None:  # type: ignore[no-untyped-def]
    settings.QUEUE_ACTIVE_COUNTER_MINUTES = 20
    qw.draw("08:00", service="anmeldung")
    qw.draw("08:00", service="anmeldung")
    _serve(qw, "08:00", counter=1, minutes=10)  # then counter 1's clerk leaves
    _serve(qw, "08:20", counter=2, minutes=10)
    mine = qw.draw("08:25")
    assert estimate(queue_state(office=qw.office_a, now=at("08:25")), mine).counters == 2
    assert estimate(queue_state(office=qw.office_a, now=at("08:30")), mine).counters == 2  # 08:10 + 20 minutes
    assert estimate(queue_state(office=qw.office_a, now=at("08:31")), mine).counters == 1


def test_an_appointment_holder_whose_time_has_come_is_ahead_with_their_booked_length(qw) -> None:  # type: ignore[no-untyped-def]
    qw.draw("08:40", service="anmeldung")
    _serve(qw, "08:40", counter=1, minutes=10)
    appointment = qw.book("09:00", persons=2)  # 2 × 15 = 30 minutes booked
    visit_check_in(appointment=appointment, by=qw.clerk_a, now=at("08:50"))
    mine = qw.draw("08:55")
    early = estimate(queue_state(office=qw.office_a, now=at("08:55")), mine)
    assert early.ahead == 0  # not yet their time: the walk-in is called first
    due = estimate(queue_state(office=qw.office_a, now=at("09:00")), mine)
    assert (due.ahead, due.minutes) == (1, Minutes(22.5, 30.0, 45.0))


def test_a_pickup_waits_only_for_the_pickups_ahead_at_the_fast_lane(qw) -> None:  # type: ignore[no-untyped-def]
    qw.office_a.pickup_counters = "2"
    qw.office_a.save()
    for _n in range(3):
        qw.draw("08:00")
    qw.draw("08:01", queue=Ticket.Queue.PICKUP, service="abholung-ausweis")
    mine = qw.draw("08:02", queue=Ticket.Queue.PICKUP, service="abholung-ausweis")
    result = estimate(queue_state(office=qw.office_a, now=at("08:05")), mine)
    assert (result.ahead, result.counters, result.minutes) == (1, 1, Minutes(3.75, 5.0, 7.5))


def test_the_next_free_counter_calls_not_the_average_of_all(qw) -> None:  # type: ignore[no-untyped-def]
    for _n in range(2):
        qw.draw("08:40", service="anmeldung")
    _serve(qw, "08:40", counter=1, minutes=10)
    long_one = qw.draw("08:55", queue=Ticket.Queue.WALK_IN)
    _serve(qw, "08:56", counter=2)  # W002 (10 minutes) at counter 2 since 08:56
    assert long_one.label == "W003"
    mine = qw.draw("09:00")
    result = estimate(queue_state(office=qw.office_a, now=at("09:00")), mine)
    # W003 is ahead; counter 1 is free now and takes it, counter 2 is free after 10 − 4 minutes (mean): W004 then.
    assert (result.ahead, result.counters) == (1, 2)
    assert result.minutes == Minutes(3.5, 6.0, 11.0)


def test_a_counter_whose_shift_ends_takes_no_more_tickets(qw) -> None:  # type: ignore[no-untyped-def]
    from desk.services import block_create

    # One of the two counters is closed from 10:00 (a block; a shift ending does the same to the grid).
    block_create(
        office=qw.office_a,
        date=TODAY,
        starts=datetime.time(10),
        ends=datetime.time(16),
        counters=1,
        reason="Schulung",
        by=qw.manager_a,
        now=at("08:00"),
    )
    for counter in (1, 2):
        qw.draw("09:20", service="anmeldung")
        _serve(qw, "09:20", counter=counter, minutes=10)
    for _n in range(6):
        qw.draw("09:29")
    mine = qw.draw("09:30")
    result = estimate(queue_state(office=qw.office_a, now=at("09:30")), mine)
    # Two counters take two each (15 minutes a ticket) until 10:00; then one is left for the last two and the
    # ticket: called at 10:30, not at 10:15.
    assert (result.ahead, result.counters, result.minutes.mid) == (6, 2, 60.0)


def test_the_service_time_runs_from_the_call_so_the_walk_to_the_counter_counts(qw) -> None:  # type: ignore[no-untyped-def]
    _finished_last_week(qw, [12] * 5, walk=2)  # two minutes to the counter, ten at it
    times = queue_state(office=qw.office_a, now=at("09:00")).times
    assert times.by_service[qw.service().pk] == Minutes(12.0, 12.0, 12.0)


def test_an_appointment_s_time_is_not_taken_for_one_matter_s(qw) -> None:  # type: ignore[no-untyped-def]
    from desk.services import visit_call, visit_finish, visit_start

    _finished_last_week(qw, [10] * 5)
    family = qw.book("08:00", persons=3)  # three identity cards in one appointment: 45 minutes at the counter
    visit_check_in(appointment=family, by=qw.clerk_a, now=at("07:55"))
    visit_call(appointment=family, by=qw.clerk_a, counter=1, now=at("08:00"))
    visit_start(appointment=family, by=qw.clerk_a, now=at("08:00"))
    visit_finish(appointment=family, by=qw.clerk_a, now=at("08:45"))
    times = queue_state(office=qw.office_a, now=at("09:00")).times
    assert times.by_service[qw.service().pk] == Minutes(10.0, 10.0, 10.0)


def test_a_call_stamped_after_now_counts_as_just_called() -> None:
    # Two servers whose clocks differ by a little: the call's time may lie after the reader's now.
    assert Minutes(11.25, 15.0, 22.5).less(-3.0) == Minutes(11.25, 15.0, 22.5)
    assert Minutes(11.25, 15.0, 22.5).less(5.0) == Minutes(6.25, 10.0, 17.5)
