"""Booking under concurrency, through the services: real parallel connections against PostgreSQL.

Every test ends with ``verify_integrity``: whatever won, the slot counts equal
what the booked appointments and holds occupy.
"""

import datetime
import functools
from collections import Counter
from collections.abc import Callable

import pytest
from django.conf import settings

from booking.grid import BERLIN
from booking.models import Appointment, Hold, Slot
from booking.needs import needs_from_param
from booking.services.appointments import (
    Contact,
    appointment_book,
    appointment_cancel,
    appointment_move,
    hold_place,
    holds_expire,
)
from notifications.models import Message
from tests.support.factories import bookable_office, offer
from tests.support.races import assert_integrity, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
PARALLEL = 20
ROUNDS = 3  # days of the mixed test, each with a fresh set of the same contests
APPOINTMENTS = ["08:00", "08:30", "09:00", "09:30", "10:00"]  # booked before each mixed round


def at(hhmm: str, day: datetime.date = MONDAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


def office_with_counters(counters: int, last: datetime.date = MONDAY):  # type: ignore[no-untyped-def]
    office = bookable_office(counters=counters, first=MONDAY, last=last)
    offer(office, "meldebescheinigung", 5)
    offer(office, "personalausweis", 15)
    offer(office, "reisepass", 30)
    return office


def book(office, start: datetime.datetime, email: str, service: str = "personalausweis", **kwargs) -> Appointment:  # type: ignore[no-untyped-def]
    return appointment_book(
        office=office,
        start=start,
        needs=needs_from_param(service),
        contact=Contact(name="Erika Mustermann", email=email),
        now=NOW,
        **kwargs,
    )


def booked(office, hhmm: str) -> int:  # type: ignore[no-untyped-def]
    return Slot.objects.get(office=office, start=at(hhmm)).booked


def test_twenty_citizens_booking_the_last_free_unit_get_it_exactly_once() -> None:
    office = office_with_counters(2)
    book(office, at("09:00"), "first@example.org", "meldebescheinigung")
    results = race(
        [
            lambda n=n: book(office, at("09:00"), f"citizen-{n}@example.org", "meldebescheinigung")
            for n in range(PARALLEL)
        ]
    )
    assert Counter(results) == {"ok": 1, "taken": PARALLEL - 1}
    assert Appointment.objects.count() == 2
    assert booked(office, "09:00") == 2
    assert_integrity(MONDAY)


def test_twenty_citizens_booking_the_same_half_hour_with_two_clerks_get_it_twice() -> None:
    office = office_with_counters(2)
    results = race(
        [lambda n=n: book(office, at("10:00"), f"citizen-{n}@example.org", "reisepass") for n in range(PARALLEL)]
    )
    assert Counter(results) == {"ok": 2, "taken": PARALLEL - 2}
    assert Appointment.objects.count() == 2
    covered = ["10:00", "10:05", "10:10", "10:15", "10:20", "10:25"]
    assert [booked(office, hhmm) for hhmm in [*covered, "10:30"]] == [2] * 6 + [0]
    assert_integrity(MONDAY)


def test_twenty_bookings_for_one_address_at_once_stop_at_its_limit() -> None:
    office = office_with_counters(1)
    starts = [at("08:00") + datetime.timedelta(minutes=10 * n) for n in range(PARALLEL)]  # 08:00 to 11:10, all free
    results = race(
        [lambda start=start: book(office, start, "Erika@Example.org", "meldebescheinigung") for start in starts]
    )
    limit = settings.BOOKING_MAX_ACTIVE_PER_EMAIL
    assert Counter(results) == {"ok": limit, "refused:email": PARALLEL - limit}
    assert Appointment.objects.filter(email="erika@example.org").count() == limit
    assert_integrity(MONDAY)


def test_twenty_bookings_for_variants_of_one_gmail_address_at_once_stop_at_its_limit() -> None:
    office = office_with_counters(1)
    starts = [at("08:00") + datetime.timedelta(minutes=10 * n) for n in range(PARALLEL)]
    variants = [f"{'.'.join('erika')}+{n}@{'gmail.com' if n % 2 else 'GoogleMail.com'}" for n in range(PARALLEL)]
    results = race(
        [
            lambda start=start, email=email: book(office, start, email, "meldebescheinigung")
            for start, email in zip(starts, variants, strict=True)
        ]
    )
    limit = settings.BOOKING_MAX_ACTIVE_PER_EMAIL
    assert Counter(results) == {"ok": limit, "refused:email": PARALLEL - limit}
    assert Appointment.objects.filter(email_key="erika@gmail.com").count() == limit
    assert_integrity(MONDAY)


def test_holds_confirmations_cancellations_and_moves_at_once_neither_deadlock_nor_overfill() -> None:
    assert_no_errors_in_rounds(mixed_actions)
    assert_integrity(MONDAY)


def test_trading_held_times_and_expiring_holds_while_others_book_never_deadlock() -> None:
    assert_no_errors_in_rounds(expiry_actions)
    assert not Hold.objects.filter(expires_at__lte=NOW).exists()
    assert_integrity(MONDAY)


def assert_no_errors_in_rounds(actions_of_day: Callable[..., list[Callable[[], object]]]) -> None:
    """One race per day of ROUNDS days: nothing but bookings, "taken" and refusals, some of them successful."""
    office = office_with_counters(2, last=MONDAY + datetime.timedelta(days=ROUNDS - 1))
    results = []
    for day in [MONDAY + datetime.timedelta(days=n) for n in range(ROUNDS)]:
        actions = actions_of_day(office, day)
        assert len(actions) >= PARALLEL
        results += race(actions)
    errors = [result for result in results if result.startswith("error")]
    assert not errors, errors
    assert results.count("ok") >= ROUNDS * PARALLEL // 3


def place(office, day: datetime.date, hhmm: str, **kwargs) -> Hold:  # type: ignore[no-untyped-def]
    kwargs.setdefault("now", NOW)
    return hold_place(office=office, start=at(hhmm, day), needs=needs_from_param("personalausweis"), **kwargs)


def mixed_actions(office, day: datetime.date) -> list[Callable[[], object]]:  # type: ignore[no-untyped-def]
    """Appointments and holds of one day, then what a busy minute does to them, as parallel actions."""

    def confirm(hold: Hold, n: int) -> Appointment:
        return book(office, hold.start, f"confirm-{day}-{n}@example.org", hold_token=hold.token)

    def move(appointment: Appointment, hhmm: str) -> Appointment:
        return appointment_move(appointment=appointment, start=at(hhmm, day), now=NOW)

    booked_at = {hhmm: book(office, at(hhmm, day), f"{day}-{hhmm}@example.org") for hhmm in APPOINTMENTS}
    holds = [place(office, day, hhmm) for hhmm in ["10:30", "11:00", "11:30"]]
    return [
        # The same hold confirmed twice (a double click): one claims it, the other books anew or is too late.
        *[lambda hold=hold, n=n: confirm(hold, n) for n, hold in enumerate(holds * 2)],
        # Cancelled twice, and cancelled while being moved.
        *[lambda: appointment_cancel(appointment=booked_at["08:00"], now=NOW)] * 2,
        lambda: appointment_cancel(appointment=booked_at["08:30"], now=NOW),
        lambda: move(booked_at["08:30"], "08:35"),
        # Two appointments trading places, and one moved to two places at once.
        lambda: move(booked_at["09:00"], "09:30"),
        lambda: move(booked_at["09:30"], "09:00"),
        lambda: move(booked_at["10:00"], "10:05"),
        lambda: move(booked_at["10:00"], "09:55"),
        # New holds and bookings over the same times.
        *[lambda: place(office, day, "09:05")] * 3,
        *[lambda n=n: book(office, at("10:35", day), f"direct-{day}-{n}@example.org") for n in range(3)],
    ]


def expiry_actions(office, day: datetime.date) -> list[Callable[[], object]]:  # type: ignore[no-untyped-def]
    """Citizens trading held times, and expiries of holds that bookings run across, as parallel actions."""

    def trade(hour: str) -> list[Callable[[], object]]:
        first, second = place(office, day, f"{hour}:00"), place(office, day, f"{hour}:30")
        return [
            lambda: place(office, day, f"{hour}:30", replacing=first),
            lambda: place(office, day, f"{hour}:00", replacing=second),
        ]

    trades = [action for hour in ["08", "09", "10", "11"] for action in trade(hour)]
    # Expired holds, each later one placed first: an expiry in id order locks the later slots first.
    for hour in ["13", "14", "15"]:
        for minute in ["15", "00"]:
            place(office, day, f"{hour}:{minute}", now=NOW - datetime.timedelta(minutes=30))
    return [
        *trades,
        *[lambda: holds_expire(now=NOW)] * 3,
        *[
            lambda hour=hour, n=n: book(office, at(f"{hour}:00", day), f"{day}-{hour}-{n}@example.org", "reisepass")
            for hour in ["13", "14", "15"]
            for n in range(3)
        ],
    ]


def test_a_cancel_clicked_twice_at_once_cancels_once_and_logs_no_error(caplog) -> None:  # type: ignore[no-untyped-def]
    """The second click finds it cancelled under the slots' locks; nothing is given back twice or logged as drift."""
    office = office_with_counters(1)
    for hhmm in ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]:
        appointment = book(office, at(hhmm), f"twice-{hhmm}@example.org")
        copies = [Appointment.objects.get(pk=appointment.pk) for _click in range(3)]
        results = race([functools.partial(appointment_cancel, appointment=copy, now=NOW) for copy in copies])
        assert sorted(results) == ["ok", "refused:None", "refused:None"], results
        assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED
    assert not [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert_integrity(MONDAY)


def test_confirming_lapsing_moving_and_cancelling_unconfirmed_bookings_at_once_decide_each_once() -> None:
    """E-mail confirmation (booking.services.confirmation): at the deadline, a late confirmation and the lapse
    sweeps (three at once) meet moves, cancellations and new bookings of the freed times. Each unconfirmed
    booking ends exactly one way; nothing deadlocks; the counts stay true."""
    from booking.services.confirmation import appointment_confirm, appointments_lapse

    office = office_with_counters(1)
    office.confirm_email = True
    office.save()
    starts = ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30"]
    waiting = {hhmm: book(office, at(hhmm), f"waiting-{hhmm}@example.org") for hhmm in starts}
    assert all(appointment.awaiting_confirmation for appointment in waiting.values())
    deadline = waiting["08:00"].confirm_by
    before, after = deadline - datetime.timedelta(seconds=1), deadline + datetime.timedelta(seconds=1)
    results = race(
        [
            *[lambda hhmm=hhmm: appointment_confirm(appointment=waiting[hhmm], now=before) for hhmm in starts[:4]],
            *[lambda: appointments_lapse(now=after)] * 3,
            lambda: appointment_move(appointment=waiting["08:30"], start=at("11:00"), now=before),
            lambda: appointment_cancel(appointment=waiting["09:00"], now=before),
            # Others booking the times that are freed (or not) meanwhile.
            *[lambda hhmm=hhmm: book(office, at(hhmm), f"next-{hhmm}@example.org") for hhmm in starts],
        ]
    )
    errors = [result for result in results if result.startswith("error")]
    assert not errors, errors
    appointments_lapse(now=after)  # what a move kept from one sweep, the next takes
    lapsed = set(Message.objects.filter(subject_type="appointment", kind="lapsed").values_list("subject_id", flat=True))
    for appointment in Appointment.objects.filter(email__startswith="waiting-"):
        if appointment.confirmed_at is not None:  # confirmed in time: never lapsed afterwards
            assert appointment.pk not in lapsed
            # Booked, unless its citizen cancelled it (the 09:00 one, cancelled at the same moment).
            assert appointment.status == Appointment.Status.BOOKED or appointment.start == at("09:00")
        else:  # lapsed, or cancelled by its citizen
            assert appointment.status == Appointment.Status.CANCELLED
    for result, hhmm in zip(results, starts[:4], strict=False):  # a confirmation told "ok" is one that holds
        confirmed = Appointment.objects.get(email=f"waiting-{hhmm}@example.org").confirmed_at is not None
        assert (result == "ok") == confirmed, (hhmm, result)
    for hhmm in starts:  # one counter: each time booked at most once, whoever got it
        assert booked(office, hhmm) <= 1
    assert_integrity(MONDAY)
