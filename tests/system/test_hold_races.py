"""Holds under concurrency with real parallel connections against PostgreSQL: confirmed during a rebuild of the
grid, and confirmed several times at once. Each test ends with ``verify_integrity``."""

import datetime
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.db import connection
from django.test import Client, override_settings

from booking.grid import BERLIN
from booking.messages import Kind as MessageKind
from booking.models import FREED_HOLDER, OFFER_HOLDER, Appointment, Hold, Slot
from booking.needs import needs_from_param
from booking.services import appointments as appointment_services
from booking.services.appointments import (
    RENEWED,
    Contact,
    Holder,
    appointment_book,
    hold_place,
    hold_renew,
    holds_expire,
)
from booking.services.slots import capacity_refresh
from desk.services import absence_record, block_create, block_remove
from notifications.models import Message
from offices.models import Absence
from tests.support.factories import UserFactory, bookable_office, offer
from tests.support.races import assert_integrity, outcome, race
from waitlist.models import Offer
from waitlist.services import Wish, offers_sweep, registration_confirm, registration_create

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


@override_settings(BOOKING_FREED_FIRST_MINUTES=3, BOOKING_HOLD_COOLDOWN_MINUTES=5)
def test_taking_an_expired_hold_back_racing_the_waitlist_and_the_expiry_leaves_its_units_to_one() -> None:
    """12 rounds, one counter: a citizen's hold runs out (handed on to the waitlist already, or not yet) while a
    registration waits for that day. The citizen takes it back (the form sent twice) while the waitlist's sweep
    offers it and the expiry runs: either the citizen has it, or the registration has it as an offer, never both."""
    days = [MONDAY + datetime.timedelta(days=n % 5 + 7 * (n // 5)) for n in range(ROUNDS)]
    office = office_with_counters(1, last=max(days))
    needs = needs_from_param("personalausweis")
    later = NOW + datetime.timedelta(minutes=11)
    outcomes = Counter()
    for round_number, day in enumerate(days):
        start = at(f"{8 + round_number % 4:02d}:{15 * (round_number % 4):02d}", day)
        holder = Holder(address=f"198.51.100.{round_number}", holds=4, session=f"session-{round_number}")
        held = hold_place(office=office, start=start, needs=needs, now=NOW, holder=holder)
        wish = Wish(needs=needs, offices=[], first_day=day, last_day=day, weekdays=[], parts=[])
        registration_confirm(
            registration=registration_create(
                wish=wish, name="W", email=f"wait-{round_number}@example.org", language="de", now=NOW
            ),
            now=NOW,
        )
        if round_number % 2:  # the expiry ran before: its row is the freed hold kept for the waitlist
            holds_expire(now=later)
            assert Hold.objects.get(token=held.token).holder == FREED_HOLDER

        # Either may come first: in some rounds the citizen clicks a moment after the sweep has begun.
        delay = (0.0, 0.03, 0.06, 0.1)[round_number // 2 % 4]

        def renewing(
            held: Hold = held, holder: Holder = holder, start: datetime.datetime = start, delay: float = delay
        ) -> Hold:
            threading.Event().wait(delay)
            return hold_renew(token=held.token, holder=holder, office=office, start=start, needs=needs, now=later)

        results = race([renewing, renewing, lambda: offers_sweep(now=later), lambda: holds_expire(now=later)])
        assert not [result for result in results if result.startswith("error")], results
        assert results[2:] == ["ok", "ok"], results
        holds = list(Hold.objects.filter(office=office, start=start))
        offers = list(Offer.objects.filter(office=office, start=start))
        assert len(holds) == 1, (results, holds)  # the one unit of this time: one holder, never two
        assert Slot.objects.get(office=office, start=start).booked_online == 1
        if "ok" in results[:2]:  # taken back: the same row, the citizen's again, offered to nobody
            assert (holds[0].token, holds[0].holder, holds[0].session) == (held.token, holder.address, holder.session)
            assert holds[0].extensions == RENEWED and not offers, (results, offers)
            assert set(results[:2]) <= {"ok", "refused:start"}, results  # the second form: the same hold, or once
            outcomes["renewed"] += 1
        else:  # offered first: the waitlist's, and the citizen is told the time is taken
            assert results[:2] == ["taken", "taken"], results
            assert holds[0].holder == OFFER_HOLDER and [offer.hold_token for offer in offers] == [holds[0].token]
            outcomes["offered"] += 1
    assert sum(outcomes.values()) == ROUNDS
    assert_integrity(MONDAY)


@override_settings(BOOKING_FREED_FIRST_MINUTES=3)
def test_taking_back_a_freed_hold_the_waitlist_is_offering_waits_for_the_offer_and_finds_it_taken() -> None:
    """Deterministic: the sweep stops right after it found the freed hold under its slots' locks; the citizen's
    renewal meanwhile waits for those locks, then finds the row gone and the one unit taken."""
    import waitlist.services as waitlist_services

    office = office_with_counters(1)
    needs = needs_from_param("personalausweis")
    later = NOW + datetime.timedelta(minutes=11)
    holder = Holder(address="198.51.100.7", holds=4, session="session-7")
    held = hold_place(office=office, start=at("09:00"), needs=needs, now=NOW, holder=holder)
    wish = Wish(needs=needs, offices=[], first_day=MONDAY, last_day=MONDAY, weekdays=[], parts=[])
    registration_confirm(
        registration=registration_create(wish=wish, name="W", email="wait@example.org", language="de", now=NOW),
        now=NOW,
    )
    holds_expire(now=later)
    claimed, go = threading.Event(), threading.Event()
    place_for_offer = waitlist_services.hold_place

    def paused_place(**kwargs: object) -> Hold:
        if kwargs.get("replacing") is not None:  # the freed hold's offer, its slots locked and its row found
            claimed.set()
            assert go.wait(10)
        return place_for_offer(**kwargs)

    def in_thread(action):  # type: ignore[no-untyped-def]
        try:
            return outcome(action)
        finally:
            connection.close()

    def renewing() -> Hold:
        return hold_renew(token=held.token, holder=holder, office=office, start=at("09:00"), needs=needs, now=later)

    with mock.patch.object(waitlist_services, "hold_place", paused_place):
        with ThreadPoolExecutor(max_workers=2) as pool:
            sweep = pool.submit(in_thread, lambda: offers_sweep(now=later))
            assert claimed.wait(10)
            renewal = pool.submit(in_thread, renewing)
            threading.Event().wait(1.0)  # long enough for the renewal to finish if nothing makes it wait
            assert not renewal.done()
            go.set()
            assert (sweep.result(20), renewal.result(20)) == ("ok", "taken")
    offered = Hold.objects.get(office=office, start=at("09:00"))
    assert offered.holder == OFFER_HOLDER and Offer.objects.get(start=at("09:00")).hold_token == offered.token
    assert_integrity(MONDAY)
