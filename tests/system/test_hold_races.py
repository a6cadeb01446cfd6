"""Holds under concurrency with real parallel connections against PostgreSQL: confirmed during a rebuild of the
grid, and confirmed several times at once. Each test ends with ``verify_integrity``."""

import datetime
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from booking.grid import BERLIN
from booking.messages import Kind as MessageKind
from booking.models import Appointment, Hold, Slot
from booking.needs import needs_from_param
from booking.services import appointments as appointment_services
from booking.services.appointments import Contact, appointment_book, hold_place
from booking.services.slots import capacity_refresh
from desk.services import absence_record, block_create, block_remove
from notifications.models import Message
from offices.models import Absence
from tests.support.factories import UserFactory, bookable_office, offer
from tests.support.races import assert_integrity, outcome, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
ROUNDS = 12


def at(hhmm: str, day: datetime.date = MONDAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


def office_with_counters(counters: int, last: datetime.date = MONDAY):  # type: ignore[no-untyped-def]
    office = bookable_office(counters=counters, first=MONDAY, last=last, slug=f"office-{counters}")
    offer(office, "personalausweis", 15)
    return office


def place(office, start: datetime.datetime) -> Hold:  # type: ignore[no-untyped-def]
    return hold_place(office=office, start=start, needs=needs_from_param("personalausweis"), now=NOW)


def confirm(hold: Hold, email: str) -> Appointment:
    return appointment_book(
        office=hold.office,
        start=hold.start,
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Erika Mustermann", email=email),
        now=NOW,
        hold_token=hold.token,
    )


def block_nine_to_ten(office, day: datetime.date, manager) -> object:  # type: ignore[no-untyped-def]
    """A manager takes 09:00–10:00 of ``day`` out for every counter (the grid is rebuilt at once)."""
    return block_create(
        office=office,
        date=day,
        starts=datetime.time(9),
        ends=datetime.time(10),
        counters=None,
        reason="Stromausfall",
        by=manager,
        now=NOW,
    )


def assert_booked_never_exceeds_capacity(office) -> None:  # type: ignore[no-untyped-def]
    """Counted from the appointments themselves, not from the slots' counters."""
    booked = list(Appointment.objects.filter(office=office, status=Appointment.Status.BOOKED))
    for slot in Slot.objects.filter(office=office):
        covering = sum(1 for appointment in booked if appointment.start <= slot.start < appointment.end)
        assert covering <= slot.capacity, (
            f"{slot.start:%d.%m. %H:%M}: {covering} appointments, capacity {slot.capacity}"
        )


def test_a_hold_confirmed_while_a_manager_blocks_its_time_is_flagged_to_rebook_and_not_sold_again(caplog) -> None:  # type: ignore[no-untyped-def]
    """Deterministic: the confirmation stops right after claiming its hold; the block is placed meanwhile."""
    office = office_with_counters(1)
    manager = UserFactory()
    hold = place(office, at("09:00"))
    claimed, go = threading.Event(), threading.Event()
    create = appointment_services._create_with_unique_code

    def paused_create(**fields: object) -> Appointment:
        claimed.set()
        assert go.wait(10)
        return create(**fields)

    def confirming() -> str:
        try:
            return outcome(lambda: confirm(hold, "erika@example.org"))
        finally:
            connection.close()

    def blocking() -> str:
        try:
            return outcome(lambda: block_nine_to_ten(office, MONDAY, manager))
        finally:
            connection.close()

    with mock.patch.object(appointment_services, "_create_with_unique_code", paused_create):
        with ThreadPoolExecutor(max_workers=2) as pool:
            confirmation = pool.submit(confirming)
            assert claimed.wait(10)
            block = pool.submit(blocking)
            # Long enough for the block to finish if nothing makes it wait for the confirmation.
            threading.Event().wait(1.0)
            go.set()
            assert (confirmation.result(20), block.result(20)) == ("ok", "ok")

    appointment = Appointment.objects.get()
    assert appointment.status == Appointment.Status.NEEDS_REBOOKING
    assert_integrity(MONDAY)
    block_remove(block=office.blocks.get(), now=NOW)
    # The time is free again and is sold once, to the next citizen: nothing counts twice.
    appointment_book(
        office=office,
        start=at("09:00"),
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Max Mustermann", email="max@example.org"),
        now=NOW,
    )
    assert Slot.objects.get(office=office, start=at("09:00")).booked_online == 1
    assert_booked_never_exceeds_capacity(office)
    assert_integrity(MONDAY)
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


def test_twenty_confirmations_racing_blocks_and_absences_never_sell_a_time_twice() -> None:
    """12 rounds: 10 holds confirmed (each twice) while the same hour is blocked, then freed and booked again."""
    days = [MONDAY + datetime.timedelta(days=n % 5 + 7 * (n // 5)) for n in range(ROUNDS)]
    office = office_with_counters(2, last=max(days))
    clerk = office.memberships.order_by("pk").first().user
    manager = UserFactory()
    for round_number, day in enumerate(days):
        starts = [at(hhmm, day) for hhmm in ("09:00", "09:15", "09:30", "09:45", "10:00")]
        holds = [place(office, start) for start in starts for _ in range(2)]
        if round_number % 3 == 2:  # every third round a clerk falls sick instead of a block

            def lose_capacity(day: datetime.date = day) -> object:
                return absence_record(
                    user=clerk, kind=Absence.Kind.SICK, first=day, last=day, note="", by=manager, now=NOW
                )

        else:

            def lose_capacity(day: datetime.date = day) -> object:
                return block_nine_to_ten(office, day, manager)

        confirmations = [
            lambda hold=hold, n=n, day=day: confirm(hold, f"{day}-{n}@example.org") for n, hold in enumerate(holds * 2)
        ]
        results = race([*confirmations, lose_capacity])
        assert not [result for result in results if result.startswith("error")], results
        for n, hold in enumerate(holds):
            # One confirmation books and the other is told which appointment; or the rebuild gave the hold
            # away first and the blocked time is refused to both.
            assert sorted([results[n], results[n + len(holds)]]) in (["ok", "repeated"], ["taken", "taken"]), results
            assert Appointment.objects.filter(hold_token=hold.token).count() == (results[n] != "taken")
        assert results.count("ok") >= 2  # the 10:00 holds lie outside the lost hour

        # Capacity comes back; the freed times are booked again by others, racing each other.
        office.blocks.filter(date=day).delete()
        Absence.objects.filter(start_date=day).delete()
        capacity_refresh(office=office, first=day, last=day, now=NOW)
        rebookers = [
            lambda start=start, n=n, day=day: appointment_book(
                office=office,
                start=start,
                needs=needs_from_param("personalausweis"),
                contact=Contact(name="Max Mustermann", email=f"again-{day}-{start:%H%M}-{n}@example.org"),
                now=NOW,
            )
            for start in starts
            for n in range(3)
        ]
        results = race(rebookers)
        assert not [result for result in results if result.startswith("error")], results
        assert_booked_never_exceeds_capacity(office)
    assert_integrity(MONDAY)


def test_the_same_hold_confirmed_three_times_at_once_is_one_appointment_with_one_confirmation() -> None:
    office = office_with_counters(3, last=MONDAY + datetime.timedelta(days=2))
    for n, email in enumerate(["erika@example.org", "", None]):
        hold = place(office, at("09:00", MONDAY + datetime.timedelta(days=n)))
        emails = (
            [email or "", email or "", email or ""] if email is not None else [f"tab-{i}@example.org" for i in range(3)]
        )
        results = race([lambda address=address, hold=hold: confirm(hold, address) for address in emails])
        assert sorted(results) == ["ok", "repeated", "repeated"], (emails, results)
        assert Appointment.objects.filter(hold_token=hold.token).count() == 1
    assert Appointment.objects.count() == 3
    assert Message.objects.filter(kind=MessageKind.CONFIRMATION).count() == 2  # the one without an address has none
    assert [slot.booked_online for slot in Slot.objects.filter(start__in=[at("09:00", MONDAY)])] == [1]
    assert_integrity(MONDAY)


def test_the_api_posted_three_times_at_once_with_one_hold_answers_one_201_and_two_200_with_the_same_code() -> None:
    office = office_with_counters(3)
    hold = place(office, at("09:00"))
    body = json.dumps(
        {
            "office": office.slug,
            "start": hold.start.isoformat(),
            "services": [{"service": "personalausweis", "persons": 1}],
            "name": "Erika Mustermann",
            "email": "erika@example.org",
            "hold": hold.token,
        }
    )

    def post() -> tuple[int, str]:
        response = Client().post("/api/v1/appointments", body, content_type="application/json")
        return response.status_code, response.json().get("booking_code", "")

    barrier = threading.Barrier(3)

    def attempt(_n: int) -> tuple[int, str]:
        try:
            barrier.wait()
            return post()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(attempt, range(3)))
    assert sorted(status for status, _code in answers) == [200, 200, 201], answers
    assert len({code for _status, code in answers}) == 1
    assert Appointment.objects.count() == 1
    assert Message.objects.filter(kind=MessageKind.CONFIRMATION).count() == 1
    assert_integrity(MONDAY)
