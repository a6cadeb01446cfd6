"""The city's figures (stats.figures) on a small known data set, computed by hand in the comments.

The period is the week Monday 23 to Sunday 29 November 2026 (Berlin); each figure has a row just before and
just after it that must not count, and is read for office A ("mitte") and for the whole city (A and "nord").
"""

import datetime

import pytest

from booking.grid import BERLIN
from booking.models import Appointment, AppointmentService, Slot
from offices.models import Office
from stats.figures import (
    bookings_by_channel,
    cancellations,
    no_show_rate,
    percentile,
    served_per_hour,
    service_time_medians,
    walk_in_waiting,
)
from tests.support.factories import OfficeFactory, ServiceFactory
from tickets.models import Ticket
from waitlist.models import Registration

pytestmark = pytest.mark.django_db

FIRST = datetime.date(2026, 11, 23)
LAST = datetime.date(2026, 11, 29)
Channel = Appointment.Channel
Status = Appointment.Status
Visit = Appointment.Visit


def at(day: int, hhmm: str) -> datetime.datetime:
    """An instant in November 2026 (day 30 is the Monday after the period, 22 the Sunday before)."""
    return datetime.datetime.combine(datetime.date(2026, 11, day), datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


def appointment(
    office: Office, *, start: datetime.datetime, created: datetime.datetime, **fields: object
) -> Appointment:
    made = Appointment.objects.create(office=office, start=start, end=start + datetime.timedelta(minutes=15), **fields)
    Appointment.objects.filter(pk=made.pk).update(created_at=created)  # auto_now_add cannot be set otherwise
    made.refresh_from_db()
    return made


def ticket(office: Office, *, queue: str, issued: datetime.datetime, **fields: object) -> Ticket:
    number = Ticket.objects.filter(office=office, day=issued.date(), queue=queue).count() + 1
    return Ticket.objects.create(
        office=office, day=issued.date(), queue=queue, number=number, issued_at=issued, **fields
    )


@pytest.fixture
def mitte() -> Office:
    return OfficeFactory(slug="mitte")


@pytest.fixture
def nord() -> Office:
    return OfficeFactory(slug="nord")


def test_bookings_are_counted_by_channel_with_waitlist_and_urgent_apart(mitte: Office, nord: Office) -> None:
    start = at(30, "10:00")
    for created in (at(23, "00:00"), at(29, "23:59")):
        appointment(mitte, start=start, created=created, channel=Channel.ONLINE)
    appointment(mitte, start=start, created=at(24, "09:00"), channel=Channel.PHONE)
    # Cancelled since, still booked in the period: counts.
    appointment(mitte, start=start, created=at(25, "09:00"), channel=Channel.PHONE, status=Status.CANCELLED)
    from_waitlist = appointment(mitte, start=start, created=at(26, "09:00"), channel=Channel.ONLINE)
    urgent = appointment(mitte, start=start, created=at(26, "10:00"), channel=Channel.PHONE)
    for made, deadline in ((from_waitlist, None), (urgent, datetime.date(2026, 12, 1))):
        Registration.objects.create(
            first_day=FIRST, last_day=LAST, name="W", email_key="w@example.org", appointment=made, deadline=deadline
        )
    # Just outside the period: the minute before it and the first instant after it.
    appointment(mitte, start=start, created=at(22, "23:59"), channel=Channel.ONLINE)
    appointment(mitte, start=start, created=at(30, "00:00"), channel=Channel.ONLINE)
    appointment(nord, start=start, created=at(27, "12:00"), channel=Channel.ONLINE)
    appointment(nord, start=start, created=at(27, "12:05"), channel=Channel.PHONE)

    office = bookings_by_channel(first=FIRST, last=LAST, office=mitte)
    # mitte: online 2 (Mon 00:00, Sun 23:59), phone 2 (one cancelled since), waitlist 1, urgent 1 = 6.
    assert (office.online, office.phone, office.waitlist, office.urgent, office.total) == (2, 2, 1, 1, 6)
    city = bookings_by_channel(first=FIRST, last=LAST)
    # city: mitte's plus nord's online 1 and phone 1 = online 3, phone 3, waitlist 1, urgent 1 = 8.
    assert (city.online, city.phone, city.waitlist, city.urgent, city.total) == (3, 3, 1, 1, 8)
    # One day: only Monday's booking at 00:00.
    monday = bookings_by_channel(first=FIRST, last=FIRST, office=mitte)
    assert (monday.online, monday.phone, monday.total) == (1, 0, 1)


def test_no_show_rate_counts_appointments_due_and_not_cancelled(mitte: Office, nord: Office) -> None:
    created = at(1, "09:00")
    for visit, start in ((Visit.DONE, at(23, "08:00")), (Visit.DONE, at(24, "08:00"))):
        appointment(mitte, start=start, created=created, visit=visit)
    appointment(mitte, start=at(25, "08:00"), created=created, visit=Visit.NO_SHOW)
    appointment(mitte, start=at(29, "23:45"), created=created, visit=Visit.EXPECTED)
    # Not due: cancelled, waiting to be rebooked, and no-shows just before and just after the period.
    appointment(mitte, start=at(25, "09:00"), created=created, status=Status.CANCELLED)
    appointment(mitte, start=at(25, "10:00"), created=created, status=Status.NEEDS_REBOOKING)
    appointment(mitte, start=at(22, "23:45"), created=created, visit=Visit.NO_SHOW)
    appointment(mitte, start=at(30, "00:00"), created=created, visit=Visit.NO_SHOW)
    appointment(nord, start=at(26, "08:00"), created=created, visit=Visit.NO_SHOW)

    office = no_show_rate(first=FIRST, last=LAST, office=mitte)
    assert (office.due, office.no_shows, office.rate) == (4, 1, 0.25)  # 1 no-show ÷ 4 due = 0.25
    city = no_show_rate(first=FIRST, last=LAST)
    assert (city.due, city.no_shows, city.rate) == (5, 2, 0.4)  # (1 + 1) ÷ (4 + 1) = 0.4
    assert no_show_rate(first=at(30, "00:00").date(), last=at(30, "00:00").date(), office=nord).rate is None


def test_cancellations_count_the_persons_who_booked_again_after_cancelling(mitte: Office, nord: Office) -> None:
    start = at(30, "10:00")
    cancelled = {"status": Status.CANCELLED}
    # Anna cancels on Tuesday and books again at nord on Wednesday: rebooked.
    appointment(
        mitte,
        start=start,
        created=at(2, "09:00"),
        email_key="anna@example.org",
        cancelled_at=at(24, "10:00"),
        **cancelled,
    )
    appointment(nord, start=start, created=at(25, "09:00"), email_key="anna@example.org")
    # A caller known only by phone cancels on Tuesday and books again on Thursday: rebooked.
    appointment(
        mitte, start=start, created=at(2, "09:00"), phone_key="+4930123", cancelled_at=at(24, "11:00"), **cancelled
    )
    appointment(mitte, start=start, created=at(26, "09:00"), phone_key="+4930123")
    # Bert's other booking was made before he cancelled, and his next one after the period: not rebooked.
    appointment(
        mitte,
        start=start,
        created=at(2, "09:00"),
        email_key="bert@example.org",
        cancelled_at=at(25, "12:00"),
        **cancelled,
    )
    appointment(mitte, start=start, created=at(25, "09:00"), email_key="bert@example.org")
    appointment(mitte, start=start, created=at(30, "00:00"), email_key="bert@example.org")
    # Cancelled just before the period: not counted (Dora books again inside it, which does not matter).
    appointment(
        mitte,
        start=start,
        created=at(2, "09:00"),
        email_key="dora@example.org",
        cancelled_at=at(22, "23:59"),
        **cancelled,
    )
    appointment(mitte, start=start, created=at(23, "09:00"), email_key="dora@example.org")
    # Carl cancels at nord and does not come back.
    appointment(
        nord,
        start=start,
        created=at(2, "09:00"),
        email_key="carl@example.org",
        cancelled_at=at(27, "09:00"),
        **cancelled,
    )

    office = cancellations(first=FIRST, last=LAST, office=mitte)
    assert (office.cancelled, office.rebooked) == (3, 2)  # Anna, the caller, Bert; Anna and the caller came back
    city = cancellations(first=FIRST, last=LAST)
    assert (city.cancelled, city.rebooked) == (4, 2)  # and Carl, who did not


def test_walk_in_waiting_is_the_median_and_90th_percentile_from_drawing_to_call(mitte: Office, nord: Office) -> None:
    drawn = at(24, "09:00")
    for minutes in (20, 5, 50, 15, 10):
        ticket(
            mitte,
            queue=Ticket.Queue.WALK_IN,
            issued=drawn,
            called_at=drawn + datetime.timedelta(minutes=minutes),
            counter=1,
            status=Ticket.Status.DONE,
        )
    ticket(mitte, queue=Ticket.Queue.WALK_IN, issued=drawn)  # still waiting: no waiting time yet
    ticket(
        mitte,
        queue=Ticket.Queue.PICKUP,
        issued=drawn,
        called_at=drawn + datetime.timedelta(minutes=100),
        counter=1,
        status=Ticket.Status.DONE,
    )
    late = at(30, "09:00")  # the day after the period
    ticket(
        mitte,
        queue=Ticket.Queue.WALK_IN,
        issued=late,
        called_at=late + datetime.timedelta(minutes=200),
        counter=1,
        status=Ticket.Status.DONE,
    )
    drawn_nord = at(25, "09:00")
    ticket(
        nord,
        queue=Ticket.Queue.WALK_IN,
        issued=drawn_nord,
        called_at=drawn_nord + datetime.timedelta(minutes=30),
        counter=1,
        status=Ticket.Status.DONE,
    )

    office = walk_in_waiting(first=FIRST, last=LAST, office=mitte)
    # Sorted 5, 10, 15, 20, 50: median the 3rd = 15; 90th: rank (5-1)×0.9 = 3.6, 20 + 0.6×(50-20) = 38.
    assert (office.called, office.median_minutes, office.p90_minutes) == (5, 15, pytest.approx(38))
    city = walk_in_waiting(first=FIRST, last=LAST)
    # Sorted 5, 10, 15, 20, 30, 50: median rank 2.5, 15 + 0.5×5 = 17.5; 90th rank 4.5, 30 + 0.5×20 = 40.
    assert (city.called, city.median_minutes, city.p90_minutes) == (6, 17.5, pytest.approx(40))
    none = walk_in_waiting(first=FIRST, last=FIRST, office=mitte)
    assert (none.called, none.median_minutes, none.p90_minutes) == (0, None, None)


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([7], 0.9) == 7
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([4, 1, 3, 2], 0.9) == pytest.approx(3.7)  # rank 3×0.9 = 2.7: 3 + 0.7×1


def slot(office: Office, start: datetime.datetime, counters: int) -> Slot:
    return Slot.objects.create(
        office=office,
        local_date=start.date(),
        start=start,
        end=start + datetime.timedelta(minutes=30),
        counters=counters,
        capacity=counters,
    )


def visited(office: Office, *, started: datetime.datetime, minutes: int, services: list) -> Appointment:
    made = appointment(
        office,
        start=started,
        created=at(1, "09:00"),
        visit=Visit.DONE,
        service_started_at=started,
        finished_at=started + datetime.timedelta(minutes=minutes),
    )
    for service in services:
        AppointmentService.objects.create(appointment=made, service=service, minutes=15)
    return made


def test_served_per_counter_hour_and_median_service_time_per_service(mitte: Office, nord: Office) -> None:
    passport, licence = ServiceFactory(slug="passport"), ServiceFactory(slug="licence")
    # The grid: mitte two 30-minute slots with 2 counters on Tuesday = 2 × 0.5 h × 2 = 2 counter-hours;
    # nord one with 2 counters = 1 counter-hour; a slot the day after the period does not count.
    slot(mitte, at(24, "09:00"), 2)
    slot(mitte, at(24, "09:30"), 2)
    slot(nord, at(24, "09:00"), 2)
    slot(mitte, at(30, "09:00"), 4)
    # Appointments served at mitte: passport in 10, 20 and 40 minutes; one for both services in 100 (not split).
    with_ticket = visited(mitte, started=at(24, "09:00"), minutes=10, services=[passport])
    visited(mitte, started=at(24, "09:10"), minutes=20, services=[passport])
    visited(mitte, started=at(24, "09:30"), minutes=40, services=[passport])
    visited(mitte, started=at(24, "10:00"), minutes=100, services=[passport, licence])
    visited(mitte, started=at(29, "23:50"), minutes=1000, services=[passport])  # finished after the period
    visited(nord, started=at(24, "09:00"), minutes=30, services=[passport])
    # The appointment's own ticket follows its visit: it is not a second visit.
    done = {"status": Ticket.Status.DONE, "counter": 1}
    drawn = at(24, "08:00")
    ticket(
        mitte,
        queue=Ticket.Queue.APPOINTMENT,
        issued=drawn,
        appointment=with_ticket,
        service_started_at=at(24, "09:00"),
        finished_at=at(24, "09:10"),
        **done,
    )
    # Walk-ins at mitte for the licence in 15 and 24 minutes, and a pickup without a matter in 2.
    for minutes in (15, 24):
        ticket(
            mitte,
            queue=Ticket.Queue.WALK_IN,
            issued=drawn,
            service=licence,
            service_started_at=at(24, "11:00"),
            finished_at=at(24, "11:00") + datetime.timedelta(minutes=minutes),
            **done,
        )
    ticket(
        mitte,
        queue=Ticket.Queue.PICKUP,
        issued=drawn,
        service_started_at=at(24, "11:00"),
        finished_at=at(24, "11:02"),
        **done,
    )

    office = served_per_hour(first=FIRST, last=LAST, office=mitte)
    # Served at mitte: 4 appointments + 2 walk-ins + 1 pickup = 7, over 2 counter-hours = 3.5 per hour.
    assert (office.served, office.counter_hours, office.per_hour) == (7, 2, 3.5)
    city = served_per_hour(first=FIRST, last=LAST)
    # City: 7 + nord's 1 = 8 over 2 + 1 = 3 counter-hours.
    assert (city.served, city.counter_hours, city.per_hour) == (8, 3, pytest.approx(8 / 3))

    # mitte: passport 10, 20, 40 -> 20; licence 15, 24 -> 19.5 (the 100-minute visit for both is left out).
    assert service_time_medians(first=FIRST, last=LAST, office=mitte) == {passport.pk: 20, licence.pk: 19.5}
    # City: passport 10, 20, 30, 40 -> (20 + 30) / 2 = 25.
    assert service_time_medians(first=FIRST, last=LAST) == {passport.pk: 25, licence.pk: 19.5}
    assert served_per_hour(first=FIRST, last=FIRST, office=mitte).per_hour is None  # Monday: no slots, no visits
