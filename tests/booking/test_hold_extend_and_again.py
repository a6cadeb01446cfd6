"""Extending a hold says its new end (in the timer's live region, or on the page without JavaScript), and after a
hold ran out its page offers to hold the same time again while it is free, keeping what was typed (issue 19, point
1): taken back at once (the cool-down of a time given back does not apply to the citizen whose hold ran out), once,
only by the browser that held it, and a time given back on purpose still waits."""

import datetime
import html
import re

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from booking.errors import BookingError
from booking.grid import BERLIN
from booking.models import Hold
from booking.needs import needs_from_param
from booking.services.appointments import (
    RENEWED,
    Contact,
    Holder,
    appointment_book,
    hold_release,
    hold_renew,
    holds_expire,
)
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
CONTACT = {"name": "Erika Mustermann", "email": "erika@example.org", "phone": "", "language": "en"}


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    cache.clear()  # the cool-downs and renewals live in the cache
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def committed(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """What runs after a commit (the cool-down and renewal notes in the cache), run as if committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def office() -> Office:
    office = bookable_office(first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte")
    offer(office, "personalausweis", 15)
    return office


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def hold(client: Client, start: str = "2026-11-23T08:00", **extra: str) -> Hold:
    response = client.post("/en/book/at/mitte/hold/", {"services": "personalausweis", "start": start} | extra)
    assert response.status_code == 302, text(response)
    return Hold.objects.get(token=re.search(r"/hold/([^/]+)/", response["Location"]).group(1))


def live_region(page: str) -> str:
    return re.search(r'<p [^>]*id="hold-news"[^>]*>(.*?)</p>', page, re.S).group(1).strip()


def test_extending_in_place_answers_with_the_timer_whose_live_region_names_the_new_end(
    client: Client, office: Office, frozen
) -> None:
    held = hold(client)
    page = text(client.get(f"/en/book/hold/{held.token}/"))
    assert re.search(r'<p [^>]*id="hold-news"[^>]*role="status" aria-live="polite"', page)
    assert live_region(page) == ""  # nothing to say yet
    frozen.shift(datetime.timedelta(minutes=8))
    response = client.post(f"/en/book/hold/{held.token}/extend/", {"next": "details"}, HTTP_HX_REQUEST="true")
    fragment = text(response)
    assert "<html" not in fragment and fragment.count('id="hold-timer"') == 1
    assert live_region(fragment) == "Your time is held until 09:18."
    assert "We keep this time for you until 09:18." in fragment
    assert 'data-hold-expires="2026-11-16T09:18:00+01:00"' in fragment
    assert 'id="hold-extend"' in fragment  # the button the focus stays on
    held.refresh_from_db()
    assert held.extensions == 1
    # Said in the live region only: the next page does not repeat it as a message.
    assert "Your time is held until" not in text(client.get(f"/en/book/hold/{held.token}/"))


def test_extending_without_javascript_says_the_new_end_on_the_page(client: Client, office: Office, frozen) -> None:
    held = hold(client)
    frozen.shift(datetime.timedelta(minutes=5))
    response = client.post(f"/en/book/hold/{held.token}/extend/", {"next": "details"}, follow=True)
    page = text(response)
    assert response.redirect_chain == [(f"/en/book/hold/{held.token}/", 302)]
    assert "Your time is held until 09:15." in page and "We keep this time for you until 09:15." in page


def test_an_extension_refused_is_said_in_the_live_region(client: Client, office: Office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_HOLD_EXTENSIONS = 0
    held = hold(client)
    response = client.post(f"/en/book/hold/{held.token}/extend/", {"next": "check"}, HTTP_HX_REQUEST="true")
    assert live_region(text(response)) == "This time cannot be kept any longer. Please choose it again."


def again_form(page: str) -> dict[str, str]:
    form = re.search(
        r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page[page.index('id="held-before"') :], re.S
    )
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(2)))
    return {"action": form.group(1)} | {name: html.unescape(value) for name, value in fields.items()}


def test_after_the_hold_ran_out_the_same_time_is_held_again_at_once_with_the_details_typed(
    client: Client, office: Office, frozen, committed
) -> None:  # type: ignore[no-untyped-def]
    held = hold(client)
    client.post(f"/en/book/hold/{held.token}/", CONTACT)
    frozen.shift(datetime.timedelta(minutes=10, seconds=1))
    with committed():  # the release's "given back" note, as after a commit
        response = client.get(f"/en/book/hold/{held.token}/check/")
    page = text(response)
    assert response.status_code == 410
    assert "This time is still free: you can hold it again. What you typed is kept." in page
    assert "Monday, 23 November 2026, 08:00–08:15" in page
    form = again_form(page)
    assert form == {
        "action": "/en/book/at/mitte/hold/",  # the normal hold: its rate budget and proof of work apply
        "csrfmiddlewaretoken": form["csrfmiddlewaretoken"],
        "services": "personalausweis:1",
        "start": "2026-11-23T08:00",
        "again": "1",
    }
    assert "Erika" not in page  # what was typed stays in the session
    assert not Hold.objects.exists()  # released by reading the free times (nothing keeps it for the waitlist)

    # At once, although a time given back waits a few minutes for its holder: it is the same citizen's, once.
    with committed():
        response = client.post(form.pop("action"), form)
    again = Hold.objects.get()
    assert response["Location"] == f"/en/book/hold/{again.token}/check/"  # the details are not asked again
    assert again.start == datetime.datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    assert again.expires_at == datetime.datetime(2026, 11, 16, 9, 20, 1, tzinfo=BERLIN)
    assert again.extensions == RENEWED and again.session == held.session and again.holder == held.holder
    page = text(client.get(response["Location"]))
    assert "Erika Mustermann" in page and "erika@example.org" in page
    assert "We keep this time for you until 09:20." in page
    # A renewed hold is not extended again: the renewal was its one more time.
    response = client.post(f"/en/book/hold/{again.token}/extend/", {"next": "check"}, HTTP_HX_REQUEST="true")
    assert live_region(text(response)) == "This time cannot be kept any longer. Please choose it again."


def test_details_sent_just_after_the_time_ran_out_are_kept_for_holding_it_again(
    client: Client, office: Office, frozen, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_HOLD_COOLDOWN_MINUTES = 0
    held = hold(client)
    frozen.shift(datetime.timedelta(minutes=11))
    response = client.post(f"/en/book/hold/{held.token}/", {"name": "Erika Mustermann", "email": "", "language": "en"})
    assert response.status_code == 410 and "What you typed is kept." in text(response)
    form = again_form(text(response))
    response = client.post(form.pop("action"), form)
    again = Hold.objects.get()
    assert response["Location"] == f"/en/book/hold/{again.token}/"  # no e-mail yet: the details page, filled in
    assert 'value="Erika Mustermann"' in text(client.get(response["Location"]))


def test_a_time_taken_meanwhile_is_said_with_the_free_times_of_its_day(client: Client, office: Office, frozen) -> None:
    held = hold(client)
    frozen.shift(datetime.timedelta(minutes=11))
    holds_expire(now=NOW + datetime.timedelta(minutes=11))
    appointment_book(
        office=office,
        start=held.start,
        needs=needs_from_param("personalausweis"),
        contact=Contact(name="Someone Else", email="else@example.org"),
        now=NOW + datetime.timedelta(minutes=11),
    )
    page = text(client.get(f"/en/book/hold/{held.token}/"))
    assert "This time is no longer free. Choose another one." in page
    assert "Hold this time again" not in page
    link = re.search(r'<a class="btn btn-primary" href="([^"]+)">([^<]+)</a>', page)
    assert html.unescape(link.group(1)) == "/en/book/at/mitte/?services=personalausweis%3A1&date=2026-11-23"
    assert link.group(2) == "Free times on Monday, 23 November 2026"


def test_holding_again_asks_for_the_proof_of_work_like_any_hold(
    client: Client, office: Office, frozen, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_HOLD_COOLDOWN_MINUTES = 0
    held = hold(client)
    frozen.shift(datetime.timedelta(minutes=11))
    settings.PROOF_OF_WORK = True
    page = text(client.get(f"/en/book/hold/{held.token}/"))
    assert "<altcha-widget" in page and "data-proof" in page and '<input type="hidden" name="altcha" value="">' in page
    form = again_form(page)
    response = client.post(form.pop("action"), form)
    assert response.status_code == 200 and "One more step" in text(response)  # the question, without JavaScript
    assert not Hold.objects.exists()


def test_another_browser_is_offered_nothing_of_it(client: Client, office: Office, frozen) -> None:
    held = hold(client)
    client.post(f"/en/book/hold/{held.token}/", CONTACT)
    frozen.shift(datetime.timedelta(minutes=11))
    page = text(Client().get(f"/en/book/hold/{held.token}/"))
    assert "This reserved time is no longer available" in page
    assert "Hold this time again" not in page and "08:00" not in page


# Renewing: the citizen whose hold ran out takes exactly that time back, once, at once, if nobody else has it.

ELSE = Contact(name="Someone Else", email="else@example.org")


def holder_of_client(client: Client, held: Hold) -> Holder:
    """The holder the hold view sees for this browser (its address and session, as stored on its hold)."""
    return Holder(address=held.holder, holds=4, session=held.session)


def renew(client: Client, committed, start: str = "2026-11-23T08:00"):  # type: ignore[no-untyped-def]
    """Send the page's "Hold this time again" form (its token comes from the session only)."""
    with committed():
        return client.post(
            "/en/book/at/mitte/hold/", {"services": "personalausweis:1", "start": start, "again": "1"}, follow=True
        )


def test_an_expired_hold_not_released_yet_is_given_back_as_it_is(
    client: Client, office: Office, frozen, committed
) -> None:  # type: ignore[no-untyped-def]
    held = hold(client)
    client.post(f"/en/book/hold/{held.token}/", CONTACT)
    frozen.shift(datetime.timedelta(minutes=12))  # nothing has read the free times: its row still keeps the units
    response = renew(client, committed)
    assert response.redirect_chain == [(f"/en/book/hold/{held.token}/check/", 302)]  # the same hold, same link
    renewed = Hold.objects.get()
    assert (renewed.pk, renewed.token, renewed.holder, renewed.session) == (
        held.pk,
        held.token,
        held.holder,
        held.session,
    )
    assert renewed.expires_at == datetime.datetime(2026, 11, 16, 9, 22, tzinfo=BERLIN)
    assert renewed.extensions == RENEWED
    assert "Erika Mustermann" in text(response) and "We keep this time for you until 09:22." in text(response)
    # The form sent twice (a double click) keeps the one hold and changes nothing.
    again = renew(client, committed)
    assert again.redirect_chain == [(f"/en/book/hold/{held.token}/check/", 302)]
    assert Hold.objects.get().expires_at == renewed.expires_at


def test_the_freed_hold_kept_for_the_waitlist_is_renewed_and_no_longer_offered(
    client: Client, office: Office, frozen, committed, settings
) -> None:  # type: ignore[no-untyped-def]
    from waitlist.models import Offer
    from waitlist.services import Wish, offers_sweep, registration_confirm, registration_create

    settings.BOOKING_FREED_FIRST_MINUTES = 3
    wish = Wish(
        needs=needs_from_param("personalausweis"),
        offices=[],
        first_day=MONDAY,
        last_day=MONDAY,
        weekdays=[],
        parts=[],
    )
    registration = registration_create(wish=wish, name="Wartende", email="wait@example.org", language="de", now=NOW)
    registration_confirm(registration=registration, now=NOW)
    held = hold(client)
    frozen.shift(datetime.timedelta(minutes=11))
    with committed():
        page = text(client.get(f"/en/book/hold/{held.token}/"))
    freed = Hold.objects.get()
    assert (freed.pk, freed.holder, freed.session) == (held.pk, "freed", "")  # kept for the waitlist first
    # Its units are still in the row: not free to others, but this browser's to take back.
    assert "This time is still free: you can hold it again." in page and "Hold this time again" in page

    response = renew(client, committed)
    assert response.redirect_chain == [(f"/en/book/hold/{held.token}/", 302)]
    renewed = Hold.objects.get()
    assert (renewed.pk, renewed.holder, renewed.session, renewed.extensions) == (
        held.pk,
        held.holder,
        held.session,
        RENEWED,
    )
    assert renewed.expires_at == datetime.datetime(2026, 11, 16, 9, 21, tzinfo=BERLIN)
    # The waitlist's sweep finds nothing freed to offer (only another free time): the citizen has the time again.
    offers_sweep(now=NOW + datetime.timedelta(minutes=11))
    assert Offer.objects.get().start != held.start
    assert Hold.objects.get(token=held.token).holder == held.holder


@pytest.mark.parametrize("freed_first", [0, 3])
def test_a_time_is_taken_back_once_only(
    client: Client, office: Office, frozen, committed, settings, freed_first: int
) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_FREED_FIRST_MINUTES = freed_first
    held = hold(client)
    frozen.shift(datetime.timedelta(minutes=11))
    with committed():
        client.get(f"/en/book/hold/{held.token}/")
    renew(client, committed)
    renewed = Hold.objects.get()
    frozen.shift(datetime.timedelta(minutes=11))  # the renewed hold runs out too
    with committed():
        page = text(client.get(f"/en/book/hold/{renewed.token}/"))
    assert "Hold this time again" not in page or freed_first == 0  # a freed renewed row is not offered again
    response = renew(client, committed)
    assert response.redirect_chain == [(f"/en/book/hold/{renewed.token}/", 302)]
    assert (
        "You have already taken this time back once after it ran out. So that others get a chance, please choose "
        "another time." in text(response)
    )
    # Nothing held for the citizen: the time is free again, or kept for the waitlist.
    assert list(Hold.objects.values_list("holder", flat=True)) == (["freed"] if freed_first else [])


def test_a_time_taken_by_someone_else_meanwhile_is_said_with_the_free_times_of_its_day(
    client: Client, office: Office, frozen, committed
) -> None:  # type: ignore[no-untyped-def]
    held = hold(client)
    frozen.shift(datetime.timedelta(minutes=11))
    with committed():
        holds_expire(now=NOW + datetime.timedelta(minutes=11))
    appointment_book(
        office=office,
        start=held.start,
        needs=needs_from_param("personalausweis"),
        contact=ELSE,
        now=NOW + datetime.timedelta(minutes=11),
    )
    response = renew(client, committed)  # the form of a page shown before it was taken
    page = text(response)
    assert response.redirect_chain == [(f"/en/book/hold/{held.token}/", 302)]
    assert "Sorry, this time was just taken by someone else." in page
    assert "This time is no longer free. Choose another one." in page and "Hold this time again" not in page
    link = re.search(r'<a class="btn btn-primary" href="([^"]+)">([^<]+)</a>', page)
    assert html.unescape(link.group(1)) == "/en/book/at/mitte/?services=personalausweis%3A1&date=2026-11-23"
    assert not Hold.objects.exists()


def test_the_freed_hold_offered_to_the_waitlist_first_cannot_be_taken_back(office: Office, frozen, settings) -> None:  # type: ignore[no-untyped-def]
    from waitlist.models import Offer
    from waitlist.services import Wish, offers_sweep, registration_confirm, registration_create

    settings.BOOKING_FREED_FIRST_MINUTES = 3
    wish = Wish(
        needs=needs_from_param("personalausweis"), offices=[], first_day=MONDAY, last_day=MONDAY, weekdays=[], parts=[]
    )
    registration_confirm(
        registration=registration_create(wish=wish, name="W", email="wait@example.org", language="de", now=NOW), now=NOW
    )
    client = Client()
    held = hold(client)
    later = NOW + datetime.timedelta(minutes=11)
    holds_expire(now=later)
    assert offers_sweep(now=later).offered == 1
    offered = Hold.objects.get()
    assert offered.holder == "waitlist" and offered.token == Offer.objects.get().hold_token
    with pytest.raises(BookingError, match="Sorry, this time was just taken by someone else."):
        hold_renew(
            token=held.token,
            holder=holder_of_client(client, held),
            office=office,
            start=held.start,
            needs=needs_from_param("personalausweis"),
            now=later,
        )
    assert list(Hold.objects.values_list("holder", flat=True)) == ["waitlist"]


def test_another_browser_with_the_token_cannot_take_it_back(client: Client, office: Office, frozen, committed) -> None:  # type: ignore[no-untyped-def]
    held = hold(client)
    frozen.shift(datetime.timedelta(minutes=11))
    with pytest.raises(BookingError, match="Only the browser that held this time can hold it again."):
        hold_renew(
            token=held.token,
            holder=Holder(address=held.holder, holds=4, session="another-session"),
            office=office,
            start=held.start,
            needs=needs_from_param("personalausweis"),
            now=NOW + datetime.timedelta(minutes=11),
        )
    assert list(Hold.objects.values_list("pk", "session", "expires_at")) == [
        (held.pk, held.session, NOW + datetime.timedelta(minutes=10))  # untouched
    ]
    other = Client()
    response = renew(other, committed)  # no draft in its session: an ordinary hold, and the units are still kept
    assert "Sorry, this time was just taken by someone else." in text(response)
    assert not Hold.objects.exists()  # released when its times page read the free times, held by nobody
    response = renew(other, committed)  # the times page released them: now the address's cool-down applies
    assert "You gave this time back a moment ago" in text(response) and not Hold.objects.exists()
    # Its own browser still can.
    response = renew(client, committed)
    again = Hold.objects.get()
    assert response.redirect_chain == [(f"/en/book/hold/{again.token}/", 302)]
    assert (again.session, again.extensions) == (held.session, RENEWED)


COOLING = "You gave this time back a moment ago. So that others get a chance, you can choose it again in 5 minutes"


def test_a_time_given_back_on_purpose_still_waits_before_it_is_held_again(
    client: Client, office: Office, frozen, committed
) -> None:  # type: ignore[no-untyped-def]
    first = hold(client)
    with committed():  # another time chosen: 08:00 is given back
        second = hold(client, start="2026-11-23T08:15")
    frozen.shift(datetime.timedelta(minutes=1))
    response = renew(client, committed)  # "again" for a time the browser's draft does not hold: the ordinary hold
    assert COOLING in text(response)
    assert list(Hold.objects.values_list("start", flat=True)) == [second.start]
    # Nor through the service with the released hold's token.
    with committed():
        hold_release(hold=second)
    with pytest.raises(BookingError, match=COOLING):
        hold_renew(
            token=second.token,
            holder=holder_of_client(client, second),
            office=office,
            start=second.start,
            needs=needs_from_param("personalausweis"),
            now=NOW + datetime.timedelta(minutes=1),
        )
    with pytest.raises(BookingError, match=COOLING):
        hold_renew(
            token=first.token,
            holder=holder_of_client(client, first),
            office=office,
            start=first.start,
            needs=needs_from_param("personalausweis"),
            now=NOW + datetime.timedelta(minutes=1),
        )
    assert not Hold.objects.exists()
