"""Holds are no way to hoard: caps per session and address, a total time, and a cool-down for given-back times."""

import datetime
import json
import secrets

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import translation

from access.keys import api_key_create
from booking.errors import BookingError
from booking.grid import BERLIN
from booking.models import Hold
from booking.needs import needs_from_param
from booking.services.appointments import Holder, hold_extend, hold_place, holds_expire
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    cache.clear()  # the cool-downs live in the cache
    with (
        time_machine.travel(NOW, tick=False) as traveller,
        override_settings(BOOKING_HOLDS_PER_ADDRESS=2, BOOKING_HOLD_COOLDOWN_MINUTES=5, BOOKING_HOLD_TOTAL_MINUTES=25),
    ):
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(counters=2, first=MONDAY, last=MONDAY, slug="mitte")
    offer(office, "personalausweis", 15)
    return office


def at(hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


def fresh_address() -> str:
    return f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}::1"


def api_hold(client: Client, hhmm: str) -> tuple[int, dict]:
    payload = {"office": "mitte", "start": at(hhmm).isoformat(), "services": [{"service": "personalausweis"}]}
    response = client.post("/api/v1/holds", json.dumps(payload), content_type="application/json")
    return response.status_code, response.json()


def web_hold(client: Client, hhmm: str):  # type: ignore[no-untyped-def]
    return client.post("/book/at/mitte/hold/", {"services": "personalausweis", "start": f"2026-11-23T{hhmm}"})


def place(office: Office, hhmm: str, holder: Holder, **kwargs: object) -> Hold:
    return hold_place(
        office=office, start=at(hhmm), needs=needs_from_param("personalausweis"), now=NOW, holder=holder, **kwargs
    )


# Per address


def test_one_address_holds_at_most_its_cap_of_live_times_through_the_api(office):
    client = Client(REMOTE_ADDR=fresh_address(), headers={"Accept-Language": "en"})
    assert [api_hold(client, hhmm)[0] for hhmm in ("09:00", "09:15")] == [201, 201]
    status, body = api_hold(client, "09:30")
    assert status == 422
    assert "already being held from your connection" in json.dumps(body)
    assert Hold.objects.count() == 2
    assert api_hold(Client(REMOTE_ADDR=fresh_address()), "09:30")[0] == 201  # another address


def test_an_expired_or_booked_hold_no_longer_counts_against_the_cap(office, frozen):
    holder = Holder(address="addr:203.0.113.5", holds=2)
    place(office, "09:00", holder)
    place(office, "09:15", holder)
    frozen.shift(datetime.timedelta(minutes=11))
    later = NOW + datetime.timedelta(minutes=11)
    hold_place(office=office, start=at("09:30"), needs=needs_from_param("personalausweis"), now=later, holder=holder)


def test_an_api_key_holds_as_many_as_its_budget_scale_times_an_address(office):
    _api_key, key = api_key_create(name="115", budget_scale=3)
    integrator = Client(REMOTE_ADDR=fresh_address(), headers={"Authorization": f"Bearer {key}"})
    statuses = [
        api_hold(integrator, hhmm)[0] for hhmm in ("08:00", "08:15", "08:30", "08:45", "09:00", "09:15", "09:30")
    ]
    assert statuses == [201] * 6 + [422]


def test_staff_holds_have_no_holder_and_no_cap(office):
    for hhmm in ("08:00", "08:15", "08:30", "08:45"):
        hold_place(office=office, start=at(hhmm), needs=needs_from_param("personalausweis"), now=NOW)
    assert Hold.objects.filter(holder="").count() == 4


# Per browser session


def test_a_browser_keeps_one_hold_choosing_another_time_gives_the_first_back(office):
    browser = Client(REMOTE_ADDR=fresh_address())
    assert web_hold(browser, "09:00").status_code == 302
    assert web_hold(browser, "09:15").status_code == 302
    assert [timezone_hhmm(hold.start) for hold in Hold.objects.all()] == ["09:15"]


def test_a_second_window_of_the_same_session_cannot_hold_a_second_time(office):
    holder = Holder(address="addr:203.0.113.5", holds=4, session="s" * 32)
    place(office, "09:00", holder)
    with translation.override("en"), pytest.raises(BookingError, match="another window"):
        place(office, "09:15", holder)  # not replacing the first: a second tab whose page knew no hold


def test_two_browsers_behind_one_address_each_hold_up_to_the_address_cap(office):
    address = fresh_address()
    first, second, third = (Client(REMOTE_ADDR=address, headers={"Accept-Language": "en"}) for _ in range(3))
    assert web_hold(first, "09:00").status_code == 302
    assert web_hold(second, "09:15").status_code == 302
    refused = web_hold(third, "09:30")
    assert refused.status_code == 422
    assert "Von Ihrem Anschluss aus werden bereits 2 Zeiten freigehalten" in refused.content.decode()


# The total time


def test_extending_stops_at_the_total_time_after_the_hold_was_placed(office, frozen):
    hold = place(office, "09:00", Holder(address="addr:203.0.113.5", holds=2))
    expected = ["09:15", "09:24", "09:25"]  # never beyond 09:00 + 25 minutes
    for minutes, until in zip((5, 14, 20), expected, strict=True):
        frozen.move_to(NOW + datetime.timedelta(minutes=minutes))
        hold = hold_extend(hold=hold, now=NOW + datetime.timedelta(minutes=minutes))
        assert timezone_hhmm(hold.expires_at) == until
    frozen.move_to(NOW + datetime.timedelta(minutes=24))
    with translation.override("en"), pytest.raises(BookingError, match="cannot be kept any longer"):
        hold_extend(hold=hold, now=NOW + datetime.timedelta(minutes=24))


# The cool-down


def test_a_time_given_back_cannot_be_held_again_by_the_same_browser_for_a_few_minutes(
    office, frozen, django_capture_on_commit_callbacks
):
    browser = Client(REMOTE_ADDR=fresh_address(), headers={"Accept-Language": "en"})
    web_hold(browser, "09:00")
    with django_capture_on_commit_callbacks(execute=True):
        web_hold(browser, "09:15")  # gives 09:00 back (remembered once that commits)
    again = web_hold(browser, "09:00")
    assert again.status_code == 422
    assert "Sie haben diese Zeit gerade erst freigegeben" in again.content.decode()
    assert web_hold(Client(REMOTE_ADDR=fresh_address()), "09:00").status_code == 302  # others may take it at once


def test_the_cool_down_ends_after_its_minutes(office, frozen, django_capture_on_commit_callbacks):
    holder = Holder(address="addr:203.0.113.5", holds=2, session="a" * 32)
    first = place(office, "09:00", holder)
    with django_capture_on_commit_callbacks(execute=True):
        place(office, "09:15", holder, replacing=first)
    with translation.override("en"), pytest.raises(BookingError, match="gave this time back"):
        place(office, "09:00", Holder(address="addr:203.0.113.5", holds=2, session="b" * 32))  # the address too
    frozen.shift(datetime.timedelta(minutes=5, seconds=1))
    second = Hold.objects.get()
    place(office, "09:00", holder, replacing=second)  # no exception: the cool-down is over


def test_an_expired_hold_s_time_waits_for_its_api_holder_too(office, frozen, django_capture_on_commit_callbacks):
    holder = Holder(address="addr:203.0.113.5", holds=2)
    place(office, "09:00", holder)
    with django_capture_on_commit_callbacks(execute=True):
        assert holds_expire(now=NOW + datetime.timedelta(minutes=10)) == 1
    later = NOW + datetime.timedelta(minutes=10)
    with translation.override("en"), pytest.raises(BookingError, match="gave this time back"):
        hold_place(
            office=office, start=at("09:00"), needs=needs_from_param("personalausweis"), now=later, holder=holder
        )


def test_a_hold_given_back_through_the_api_waits_for_that_address(office, django_capture_on_commit_callbacks):
    client = Client(REMOTE_ADDR=fresh_address(), headers={"Accept-Language": "en"})
    token = api_hold(client, "09:00")[1]["token"]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/holds/{token}").status_code == 204
    status, body = api_hold(client, "09:00")
    assert status == 422 and "gave this time back" in json.dumps(body)


def timezone_hhmm(moment: datetime.datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%H:%M")


def test_choosing_the_same_time_again_keeps_the_hold_s_clock(office, frozen):
    browser = Client(REMOTE_ADDR=fresh_address())
    web_hold(browser, "09:00")
    first = Hold.objects.get()
    frozen.shift(datetime.timedelta(minutes=9))
    assert web_hold(browser, "09:00").status_code == 302
    again = Hold.objects.get()
    assert (again.expires_at, again.created_at, again.extensions) == (first.expires_at, first.created_at, 0)
    frozen.shift(datetime.timedelta(minutes=2))  # expired: choosing it again is a give-back, not a renewal
    refused = web_hold(browser, "09:00")
    assert refused.status_code == 422


def test_an_expired_hold_s_time_waits_for_a_browser_that_dropped_its_cookie(
    office, frozen, django_capture_on_commit_callbacks
):
    address = fresh_address()
    web_hold(Client(REMOTE_ADDR=address), "09:00")
    frozen.shift(datetime.timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        holds_expire(now=NOW + datetime.timedelta(minutes=11))
    assert web_hold(Client(REMOTE_ADDR=address), "09:00").status_code == 422  # a new session, the same address
    assert web_hold(Client(REMOTE_ADDR=fresh_address()), "09:00").status_code == 302


def test_an_integrator_s_callers_do_not_wait_for_each_other(office, django_capture_on_commit_callbacks):
    _api_key, key = api_key_create(name="115", budget_scale=3)
    integrator = Client(REMOTE_ADDR=fresh_address(), headers={"Authorization": f"Bearer {key}"})
    token = api_hold(integrator, "09:00")[1]["token"]
    with django_capture_on_commit_callbacks(execute=True):
        assert integrator.delete(f"/api/v1/holds/{token}").status_code == 204
    assert api_hold(integrator, "09:00")[0] == 201
