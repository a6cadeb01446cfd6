"""The waitlist's sweep under concurrency, on PostgreSQL: sweeps in parallel (several beat workers, a retried task)
offer each freed or free time once and each registration one time at once."""

import datetime
from collections import Counter

import pytest
from django.test import override_settings

from booking.grid import BERLIN
from booking.models import Hold
from booking.needs import needs_from_param
from booking.services.appointments import Contact, appointment_book, appointment_cancel
from tests.support.factories import bookable_office, offer
from tests.support.races import assert_integrity, race
from waitlist.models import Offer, Part
from waitlist.services import Wish, offers_sweep, registration_confirm, registration_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)


def at(hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


@override_settings(BOOKING_CANCEL_PAUSE_MINUTES=30)
def test_sweeps_racing_offer_each_time_once_and_each_registration_one_time() -> None:
    office = bookable_office(counters=2, first=MONDAY, last=MONDAY)
    offer(office, "personalausweis", 15)
    needs = needs_from_param("personalausweis")
    booked = [
        appointment_book(
            office=office,
            start=at(f"{hour:02d}:{minute:02d}"),
            needs=needs,
            contact=Contact("X", f"{n}-{hour}-{minute}@example.org"),
            now=NOW,
        )
        for hour in range(8, 12)
        for minute in (0, 15, 30, 45)
        for n in range(2)
    ]
    for appointment in booked[::5]:  # freed times, held for the waitlist
        appointment_cancel(appointment=appointment, now=NOW)
    freed = Hold.objects.filter(holder="freed").count()
    wish = Wish(needs=needs, offices=[], first_day=MONDAY, last_day=MONDAY, weekdays=[], parts=[Part.MORNING])
    registrations = [
        registration_confirm(
            registration=registration_create(
                wish=wish, name=f"R{n}", email=f"r{n}@example.org", language="de", now=NOW
            ),
            now=NOW,
        )
        for n in range(12)
    ]
    results = race([lambda: offers_sweep(now=NOW)] * 4)
    errors = [result for result in results if result.startswith("error")]
    assert not errors, errors
    offers = list(Offer.objects.filter(status=Offer.Status.OPEN))
    assert len(offers) == min(freed, len(registrations))  # every freed time offered, to the first in line
    assert max(Counter(offer.registration_id for offer in offers).values()) == 1
    by_time = Counter((offer.office_id, offer.start) for offer in offers)
    assert all(count <= 2 for count in by_time.values())  # two counters: at most two at one time
    assert sorted(offer.registration_id for offer in offers) == [r.pk for r in registrations[: len(offers)]]
    assert_integrity(MONDAY)


def test_keepers_of_the_urgent_contingent_racing_keep_it_once() -> None:
    from booking.models import Slot
    from booking.services.contingent import contingent_keep

    office = bookable_office(counters=2, first=MONDAY, last=MONDAY, horizon_days=6, urgent_counters=1)
    results = race([lambda: contingent_keep(office=office, now=NOW)] * 4)
    assert not [result for result in results if result.startswith("error")], results
    assert set(Slot.objects.filter(office=office, local_date=MONDAY).values_list("booked_online", flat=True)) == {1}
    assert Hold.objects.filter(holder="urgent").count() == 2  # the morning's and the afternoon's run
    assert_integrity(MONDAY)


def test_sign_ups_of_one_address_at_once_stop_at_its_limit() -> None:
    office = bookable_office(counters=1, first=MONDAY, last=MONDAY)
    offer(office, "personalausweis", 15)
    wish = Wish(
        needs=needs_from_param("personalausweis"), offices=[], first_day=MONDAY, last_day=MONDAY, weekdays=[], parts=[]
    )
    results = race(
        [
            lambda n=n: registration_create(wish=wish, name="Bot", email=f"bot+{n}@example.org", language="de", now=NOW)
            for n in range(6)
        ]
    )
    assert results.count("ok") == 2, results  # WAITLIST_MAX_PER_EMAIL, the address compared without its +tag
