"""The waitlist (issue 18, points 1 and 2): registering with a confirmed address, the one order, offers of freed and
free times kept by a hold, booking with one click, declining, lapsing and passing on, pausing after lapses."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings

from booking.grid import BERLIN
from booking.integrity import integrity_check
from booking.models import Appointment, Hold, Slot
from booking.needs import needs_from_param
from booking.services.appointments import CancelledBy, Contact, appointment_book, appointment_cancel, holds_expire
from notifications.models import Message
from notifications.services import messages_send_due
from offices.models import Office
from tests.support.factories import bookable_office, offer
from waitlist.messages import Kind
from waitlist.models import Offer, Part, Registration
from waitlist.selectors import in_order
from waitlist.services import (
    Wish,
    offer_accept,
    offer_decline,
    offers_sweep,
    registration_confirm,
    registration_create,
    registration_withdraw,
)
from waitlist.tasks import make_offers

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with (
        time_machine.travel(NOW, tick=False) as traveller,
        override_settings(BOOKING_CANCEL_PAUSE_MINUTES=30, BOOKING_FREED_FIRST_MINUTES=3),
    ):
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(counters=1, first=MONDAY, last=MONDAY, slug="mitte")
    offer(office, "personalausweis", 15)
    return office


def at(hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


def book(office: Office, hhmm: str, email: str) -> Appointment:
    return appointment_book(
        office=office, start=at(hhmm), needs=needs_from_param("personalausweis"), contact=Contact("X", email), now=NOW
    )


def mornings_booked_out(office: Office) -> dict[str, Appointment]:
    """Every morning time of the Monday booked (one counter, 15 minutes each)."""
    times = [f"{hour:02d}:{minute:02d}" for hour in range(8, 12) for minute in (0, 15, 30, 45)]
    return {hhmm: book(office, hhmm, f"person-{hhmm}@example.org") for hhmm in times}


def waiting(
    name: str, *, deadline: datetime.date | None = None, parts: list[str] | None = None, **wish
) -> Registration:  # type: ignore[no-untyped-def]
    fields = {
        "needs": needs_from_param("personalausweis"),
        "offices": [],
        "first_day": MONDAY,
        "last_day": MONDAY,
        "weekdays": [],
        "parts": parts if parts is not None else [Part.MORNING],
    } | wish
    registration = registration_create(
        wish=Wish(**fields), name=name, email=f"{name.lower()}@example.org", language="de", now=NOW, deadline=deadline
    )
    return registration_confirm(registration=registration, now=NOW)


def live_offer(registration: Registration) -> Offer:
    return registration.offers.get(status=Offer.Status.OPEN)


def units(office: Office, hhmm: str) -> int:
    return Slot.objects.get(office=office, start=at(hhmm)).booked


# Registering ----------------------------------------------------------------------------------------------------


def test_a_citizen_registers_from_the_times_page_and_waits_only_once_confirmed(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/book/at/mitte/?services=personalausweis")
    assert '<a href="/waitlist/?services=personalausweis%3A1&amp;office=mitte">' in page.content.decode()
    form = client.get("/waitlist/?services=personalausweis&office=mitte")
    assert form.status_code == 200 and "Benachrichtigen, wenn ein Termin frei wird" in form.content.decode()
    response = client.post(
        "/waitlist/?services=personalausweis",
        {
            "offices": [office.pk],
            "first_day": "2026-11-23",
            "last_day": "2026-11-27",
            "weekdays": ["0", "2"],
            "parts": ["morning"],
            "name": "Erika Mustermann",
            "email": "Erika@Example.org",
            "language": "de",
        },
    )
    registration = Registration.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/waitlist/{registration.token}/"
    assert (registration.status, registration.email, registration.weekdays, registration.parts) == (
        Registration.Status.UNCONFIRMED,
        "erika@example.org",
        [0, 2],
        ["morning"],
    )
    assert list(registration.offices.all()) == [office]
    assert offers_sweep(now=NOW).offered == 0  # nothing offered before the address is confirmed
    (request,) = Message.objects.filter(subject_type="waitlist")
    assert request.kind == Kind.CONFIRM
    messages_send_due(now=NOW)
    (email,) = mail.outbox
    assert f"/waitlist/confirm/{registration.confirm_token}/" in email.body
    assert client.get(f"/waitlist/confirm/{registration.confirm_token}/").status_code == 200  # a scanner: nothing
    registration.refresh_from_db()
    assert registration.status == Registration.Status.UNCONFIRMED
    client.post(f"/waitlist/confirm/{registration.confirm_token}/")
    registration.refresh_from_db()
    assert registration.status == Registration.Status.WAITING and registration.confirmed_at == NOW
    page = client.get(f"/waitlist/{registration.token}/").content.decode()
    assert "Sie warten" in page and "Platz" not in page.split("Sie warten")[1][:200]  # no position is promised


def test_a_bad_registration_is_answered_with_the_fields_to_mend(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/waitlist/?services=personalausweis",
        {"first_day": "2026-11-27", "last_day": "2026-11-23", "name": "", "email": "nope", "language": "de"},
    )
    assert response.status_code == 422 and not Registration.objects.exists()
    assert client.get("/waitlist/?services=gibt-es-nicht").status_code == 302


def test_one_address_waits_for_at_most_two_times(office) -> None:  # type: ignore[no-untyped-def]
    for _n in range(2):
        waiting("Bot")
    with pytest.raises(Exception, match="bereits auf 2 Termine"):
        waiting("Bot")


# The order --------------------------------------------------------------------------------------------------------


def test_the_order_is_deadline_first_then_the_time_of_registration(office, frozen) -> None:  # type: ignore[no-untyped-def]
    first = waiting("First")
    frozen.shift(MINUTE)
    late_urgent = waiting("Urgent", deadline=MONDAY + datetime.timedelta(days=3))
    frozen.shift(MINUTE)
    later_urgent = waiting("Sooner", deadline=MONDAY + datetime.timedelta(days=1))
    frozen.shift(MINUTE)
    last = waiting("Last")
    assert list(in_order(now=NOW)) == [later_urgent, late_urgent, first, last]


def test_free_times_go_in_that_order_each_once_and_one_live_offer_per_registration(office) -> None:  # type: ignore[no-untyped-def]
    first, second = waiting("First"), waiting("Second")
    result = offers_sweep(now=NOW)
    assert result.offered == 2
    assert (live_offer(first).start, live_offer(second).start) == (at("08:00"), at("08:15"))  # never one time twice
    assert units(office, "08:00") == 1 and Hold.objects.get(token=live_offer(first).hold_token).holder == "waitlist"
    assert offers_sweep(now=NOW).offered == 0  # one live offer each
    assert Offer.objects.count() == 2
    assert integrity_check(offices=[office], first=MONDAY).ok


# Freed capacity ---------------------------------------------------------------------------------------------------


def test_a_cancelled_time_goes_to_the_waitlist_before_the_open_calendar(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    booked = mornings_booked_out(office)
    erika = waiting("Erika")
    assert offers_sweep(now=NOW).offered == 0  # nothing free in the mornings
    appointment_cancel(appointment=booked["09:00"], now=NOW)  # the citizen's: held for its pause
    with time_machine.travel(NOW + MINUTE, tick=False):
        assert make_offers.delay().get()["offered"] == 1  # the beat task
    offered = live_offer(erika)
    assert (offered.start, offered.end) == (at("09:00"), at("09:15"))
    assert not Hold.objects.filter(holder="freed").exists() and units(office, "09:00") == 1  # never open meanwhile
    assert integrity_check(offices=[office], first=MONDAY).ok


def test_a_time_the_office_frees_at_once_is_offered_by_the_next_sweep(office) -> None:  # type: ignore[no-untyped-def]
    booked = mornings_booked_out(office)
    erika = waiting("Erika")
    appointment_cancel(appointment=booked["10:30"], now=NOW, by=CancelledBy.OFFICE)
    assert offers_sweep(now=NOW).offered == 1 and live_offer(erika).start == at("10:30")


def test_an_unwanted_freed_time_returns_to_the_open_calendar_after_its_pause(office, frozen) -> None:  # type: ignore[no-untyped-def]
    booked = mornings_booked_out(office)
    waiting("Afternoon", parts=[Part.AFTERNOON])  # gets an afternoon time, not the freed morning one
    appointment_cancel(appointment=booked["09:00"], now=NOW)
    offers_sweep(now=NOW)
    freed = Hold.objects.get(holder="freed")
    assert freed.start == at("09:00")
    frozen.move_to(freed.expires_at)
    holds_expire(now=freed.expires_at)
    assert not Hold.objects.filter(holder="freed").exists() and units(office, "09:00") == 0  # open to everyone


# Deciding ---------------------------------------------------------------------------------------------------------


def test_booking_an_offer_takes_one_click_and_needs_no_second_confirmation(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    office.confirm_email = True
    office.save()
    erika = waiting("Erika")
    offers_sweep(now=NOW)
    offered = live_offer(erika)
    page = client.get(f"/waitlist/offer/{offered.token}/")
    assert page.status_code == 200 and "Diesen Termin buchen" in page.content.decode()
    response = client.post(f"/waitlist/offer/{offered.token}/", {"answer": "book"})
    appointment = Appointment.objects.get(email="erika@example.org")
    assert response["Location"] == f"/appointment/{appointment.manage_token}/"
    assert appointment.start == at("08:00") and not appointment.awaiting_confirmation  # confirmed when registering
    assert units(office, "08:00") == 1 and not Hold.objects.exists()  # the hold became the appointment
    erika.refresh_from_db()
    assert (erika.status, erika.appointment) == (Registration.Status.BOOKED, appointment)
    assert client.post(f"/waitlist/offer/{offered.token}/", {"answer": "book"}).status_code == 302  # no second one
    assert Appointment.objects.filter(email="erika@example.org").count() == 1


def test_declining_passes_the_time_on_and_keeps_the_place(office) -> None:  # type: ignore[no-untyped-def]
    booked = mornings_booked_out(office)
    first, second = waiting("First"), waiting("Second")
    appointment_cancel(appointment=booked["09:00"], now=NOW)
    offers_sweep(now=NOW)
    offer_decline(offer=live_offer(first), now=NOW)
    first.refresh_from_db()
    assert first.status == Registration.Status.WAITING
    offers_sweep(now=NOW + MINUTE)
    assert live_offer(second).start == at("09:00")  # passed on, not opened to everyone
    assert first.offers.get().status == Offer.Status.DECLINED


def test_an_offer_lapses_at_its_window_and_the_time_passes_on(office, frozen) -> None:  # type: ignore[no-untyped-def]
    booked = mornings_booked_out(office)
    first, second = waiting("First"), waiting("Second")
    appointment_cancel(appointment=booked["09:00"], now=NOW)
    offers_sweep(now=NOW)
    window = live_offer(first).expires_at
    assert window == NOW + datetime.timedelta(hours=2)  # the default window, the time being a week ahead
    frozen.move_to(window - MINUTE)
    assert offers_sweep(now=window - MINUTE).lapsed == 0
    frozen.move_to(window)
    result = offers_sweep(now=window)
    assert (result.lapsed, result.offered) == (1, 1)
    assert first.offers.get().status == Offer.Status.LAPSED and live_offer(second).start == at("09:00")
    first.refresh_from_db()
    assert (first.status, first.lapsed_offers) == (Registration.Status.WAITING, 1)
    with pytest.raises(Exception, match="nicht mehr offen"):
        offer_accept(offer=first.offers.get(), now=window)
    assert integrity_check(offices=[office], first=MONDAY).ok


def test_the_window_is_shorter_when_the_time_is_soon(office, frozen) -> None:  # type: ignore[no-untyped-def]
    soon = at("08:00") - datetime.timedelta(minutes=50)
    frozen.move_to(soon)
    erika = waiting("Erika")
    offers_sweep(now=soon)
    offered = live_offer(erika)
    assert offered.start == at("08:00") and offered.expires_at == soon + datetime.timedelta(minutes=25)


def test_a_registration_that_lets_three_offers_lapse_is_paused_and_told(office, frozen) -> None:  # type: ignore[no-untyped-def]
    erika = waiting("Erika")
    offers_sweep(now=NOW)
    starts = []
    for lapses in (1, 2, 3):
        offered = live_offer(erika)
        starts.append(offered.start)
        frozen.move_to(offered.expires_at)
        result = offers_sweep(now=offered.expires_at)  # lapses it, and offers the next time (not the same again)
        erika.refresh_from_db()
        assert erika.lapsed_offers == lapses
    assert len(set(starts)) == 3
    assert erika.status == Registration.Status.PAUSED and (result.paused, result.offered) == (1, 0)
    assert Message.objects.filter(subject_type="waitlist", kind=Kind.PAUSED).count() == 1
    assert offers_sweep(now=offered.expires_at + MINUTE).offered == 0  # paused: nothing more
    Client().post(f"/waitlist/{erika.token}/resume/")
    erika.refresh_from_db()
    assert (erika.status, erika.lapsed_offers) == (Registration.Status.WAITING, 0)


def test_withdrawing_ends_the_wait_and_passes_an_open_offer_on(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    erika = waiting("Erika")
    offers_sweep(now=NOW)
    offered = live_offer(erika)
    client.post(f"/waitlist/{erika.token}/withdraw/")
    erika.refresh_from_db()
    assert erika.status == Registration.Status.WITHDRAWN
    offered.refresh_from_db()
    assert offered.status == Offer.Status.WITHDRAWN
    assert Hold.objects.get(token=offered.hold_token).holder == "freed"
    registration_withdraw(registration=erika, now=NOW)  # twice: nothing more
    assert offers_sweep(now=NOW).offered == 0


# The public API ---------------------------------------------------------------------------------------------------


def test_the_api_registers_shows_and_withdraws_and_books_or_declines_offers(office, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    payload = {
        "services": [{"service": "personalausweis"}],
        "offices": ["mitte"],
        "first_day": "2026-11-23",
        "last_day": "2026-11-23",
        "parts": ["morning"],
        "name": "Erika Mustermann",
        "email": "Erika@example.org",
        "language": "en",
    }
    settings.PROOF_OF_WORK = True
    refused = client.post("/api/v1/waitlist", payload, content_type="application/json")
    assert refused.status_code == 403 and not Registration.objects.exists()  # the booking's proof of work
    settings.PROOF_OF_WORK = False
    created = client.post("/api/v1/waitlist", payload, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["offices"], body["parts"], body["offer"]) == (
        "unconfirmed",
        ["mitte"],
        ["morning"],
        None,
    )
    registration = Registration.objects.get(token=body["token"])
    assert registration.confirm_token not in created.content.decode()  # the link goes by e-mail only
    registration_confirm(registration=registration, now=NOW)
    offers_sweep(now=NOW)
    shown = client.get(f"/api/v1/waitlist/{body['token']}").json()
    assert shown["status"] == "offered" and shown["offer"]["start"].startswith("2026-11-23T08:00")
    declined = client.post(f"/api/v1/waitlist/offers/{shown['offer']['token']}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    offers_sweep(now=NOW + MINUTE)
    second = client.get(f"/api/v1/waitlist/{body['token']}").json()["offer"]
    assert second["start"].startswith("2026-11-23T08:15")  # not the declined time again
    booked = client.post(f"/api/v1/waitlist/offers/{second['token']}/accept")
    assert booked.status_code == 201 and booked.json()["status"] == "booked"
    again = client.post(f"/api/v1/waitlist/offers/{second['token']}/accept")
    assert again.status_code == 409
    assert client.get("/api/v1/waitlist/no-such-token").status_code == 404
    withdrawn = client.delete(f"/api/v1/waitlist/{body['token']}").json()
    assert withdrawn["status"] == "booked"  # booked already: nothing to withdraw


def test_the_api_refuses_bad_registrations(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    good = {
        "services": [{"service": "personalausweis"}],
        "first_day": "2026-11-23",
        "last_day": "2026-11-24",
        "name": "Erika",
        "email": "erika@example.org",
    }
    for bad in (
        {"services": []},
        {"services": [{"service": "nope"}]},
        {"offices": ["nowhere"]},
        {"last_day": "2026-11-22"},
        {"first_day": "2026-11-01"},
        {"weekdays": [7]},
        {"parts": ["night"]},
        {"email": "not-an-address"},
        {"last_day": "2027-12-31"},
    ):
        response = client.post("/api/v1/waitlist", good | bad, content_type="application/json")
        assert response.status_code == 422, (bad, response.content)
    assert not Registration.objects.exists()


# Every source of freed capacity ------------------------------------------------------------------------------------


def test_the_time_a_citizen_moves_away_from_goes_to_the_waitlist_first(office) -> None:  # type: ignore[no-untyped-def]
    from booking.services.appointments import appointment_move

    booked = mornings_booked_out(office)
    erika = waiting("Erika")
    appointment_move(appointment=booked["09:00"], start=at("14:00"), now=NOW)
    assert offers_sweep(now=NOW).offered == 1 and live_offer(erika).start == at("09:00")


def test_a_hold_that_ran_out_is_offered(office, frozen) -> None:  # type: ignore[no-untyped-def]
    from booking.services.appointments import Holder, hold_place

    booked = mornings_booked_out(office)
    appointment_cancel(appointment=booked["11:00"], now=NOW, by=CancelledBy.OFFICE)
    citizen = Holder(address="addr:192.0.2.7", holds=4, session="s1")
    hold_place(office=office, start=at("11:00"), needs=needs_from_param("personalausweis"), now=NOW, holder=citizen)
    erika = waiting("Erika")
    assert offers_sweep(now=NOW).offered == 0  # held by someone typing
    later = NOW + datetime.timedelta(minutes=11)
    frozen.move_to(later)
    from booking.services.appointments import holds_expire

    holds_expire(now=later)
    freed = Hold.objects.get(holder="freed")  # not open to everyone: the waitlist first, for a few minutes
    assert (freed.start, freed.expires_at) == (at("11:00"), later + datetime.timedelta(minutes=3))
    assert offers_sweep(now=later).offered == 1 and live_offer(erika).start == at("11:00")


def test_a_booking_whose_e_mail_was_never_confirmed_frees_its_time_for_the_waitlist(office, frozen) -> None:  # type: ignore[no-untyped-def]
    from booking.services.confirmation import appointments_lapse

    booked = mornings_booked_out(office)
    appointment_cancel(appointment=booked["10:00"], now=NOW, by=CancelledBy.OFFICE)
    office.confirm_email = True
    office.save()
    book(office, "10:00", "bot@example.org")  # never confirmed
    erika = waiting("Erika")
    assert offers_sweep(now=NOW).offered == 0
    later = NOW + datetime.timedelta(hours=1)
    frozen.move_to(later)
    assert appointments_lapse(now=later) == 1
    assert Hold.objects.get(holder="freed").start == at("10:00")  # the waitlist first
    assert offers_sweep(now=later).offered == 1 and live_offer(erika).start == at("10:00")


def test_a_lifted_block_and_a_new_day_bring_offers(office, frozen) -> None:  # type: ignore[no-untyped-def]
    from desk.services import block_create, block_remove
    from tests.support.factories import UserFactory

    clerk = UserFactory()
    block, _change = block_create(
        office=office,
        date=MONDAY,
        starts=datetime.time(8),
        ends=datetime.time(12),
        counters=None,
        reason="Umbau",
        by=clerk,
        now=NOW,
    )
    erika = waiting("Erika")
    assert offers_sweep(now=NOW).offered == 0  # the mornings are blocked
    block_remove(block=block, now=NOW)
    assert offers_sweep(now=NOW).offered == 1 and live_offer(erika).start == at("08:00")
    offer_accept(offer=live_offer(erika), now=NOW)
    # A day not yet released: nothing until its release, then the first time of it.
    office.horizon_days = 3
    office.save()
    anna = waiting("Anna")
    assert offers_sweep(now=NOW).offered == 0
    release = datetime.datetime.combine(MONDAY - datetime.timedelta(days=3), office.release_time, tzinfo=BERLIN)
    frozen.move_to(release)
    assert offers_sweep(now=release).offered == 1 and live_offer(anna).start == at("08:15")


def test_the_phone_share_released_to_online_is_offered(frozen) -> None:  # type: ignore[no-untyped-def]
    office = bookable_office(counters=1, first=MONDAY, last=MONDAY, slug="nord", phone_share_percent=100)
    offer(office, "personalausweis", 15)
    erika = waiting("Erika")
    assert offers_sweep(now=NOW).offered == 0  # all kept for callers
    opened = at("08:10") - datetime.timedelta(hours=office.phone_release_hours)  # its run's last slot opens
    frozen.move_to(opened)
    assert offers_sweep(now=opened).offered == 1 and live_offer(erika).start == at("08:00")


# After review ------------------------------------------------------------------------------------------------------


def test_an_offer_whose_time_the_office_takes_away_is_withdrawn_without_a_lapse(office) -> None:  # type: ignore[no-untyped-def]
    from desk.services import block_create, block_remove
    from tests.support.factories import UserFactory

    erika = waiting("Erika")
    offers_sweep(now=NOW)
    offered = live_offer(erika)
    block, _change = block_create(
        office=office,
        date=MONDAY,
        starts=datetime.time(8),
        ends=datetime.time(8, 15),
        counters=None,
        reason="Drucker",
        by=UserFactory(),
        now=NOW,
    )
    with pytest.raises(Exception, match="nicht mehr verfügbar"):
        offer_accept(offer=offered, now=NOW)  # no fresh units behind the citizen's back
    offers_sweep(now=NOW + MINUTE)
    offered.refresh_from_db()
    erika.refresh_from_db()
    assert offered.status == Offer.Status.WITHDRAWN and erika.lapsed_offers == 0
    assert live_offer(erika).start == at("08:15")  # waiting again at the old place: the next time
    block_remove(block=block, now=NOW)
    anna = waiting("Anna")
    offers_sweep(now=NOW + 2 * MINUTE)
    assert live_offer(anna).start == at("08:00")  # the time comes back once, to one person
    assert Offer.objects.filter(status=Offer.Status.OPEN, start=at("08:00")).count() == 1


def test_someone_at_the_per_person_limit_is_not_offered_a_time(office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_MAX_ACTIVE_PER_EMAIL = 1
    erika = waiting("Erika")
    book(office, "15:00", "erika@example.org")
    assert offers_sweep(now=NOW).offered == 0 and not erika.offers.exists()


def test_the_change_page_of_a_range_that_has_begun_starts_it_today(office, client: Client, frozen) -> None:  # type: ignore[no-untyped-def]
    registration = waiting("Ada", first_day=datetime.date(2026, 11, 17), last_day=MONDAY)
    frozen.move_to(datetime.datetime(2026, 11, 19, 9, 0, tzinfo=BERLIN))
    page = client.get(f"/waitlist/{registration.token}/change/").content.decode()
    assert 'value="2026-11-19"' in page and 'value="2026-11-17"' not in page
    assert 'value="2026-11-23"' in page  # the last day stays


def test_the_registration_page_names_the_day_kept_in_words(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    booked = mornings_booked_out(office)
    registration = waiting("Ada")
    appointment_cancel(appointment=booked["08:30"], now=NOW)
    assert offers_sweep(now=NOW).offered == 1
    until = live_offer(registration).expires_at.astimezone(BERLIN).strftime("%H:%M")
    page = " ".join(client.get(f"/waitlist/{registration.token}/").content.decode().split())
    assert f"Ein Termin ist für Sie freigehalten: Montag, 23. November 2026 um 08:30, bis {until} Uhr." in page
