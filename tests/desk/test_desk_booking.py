"""Booking for a caller or a visitor without internet: needs → time → contact → slip, at most three form screens."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from booking.errors import BookingError
from booking.grid import BERLIN
from booking.messages import appointment_messages
from booking.models import Appointment, Hold, Slot
from booking.needs import Need
from booking.services.appointments import Contact, appointment_book, check_start, hold_place, hold_release
from desk.models import AuditEntry
from desk.phone_times import earliest_phone_start, phone_day
from notifications import sms
from notifications.models import Message
from tests.support.desk_steps import TODAY, at

pytestmark = pytest.mark.django_db

PHONE = Appointment.Channel.PHONE
SERVICES = "personalausweis:1"  # 15 minutes: three slots of five
TOMORROW = TODAY + datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> None:
    sms.outbox.clear()


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def clerk(client: Client, world) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(world.clerk_a)
    return client


def book_url(name: str, *args: object, **query: str) -> str:
    url = reverse(f"desk:{name}", args=args)
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def local(moment: datetime.datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%H:%M")


def choose_time(client: Client, start: str, services: str = SERVICES, slug: str = "mitte"):  # type: ignore[no-untyped-def]
    return client.post(book_url("book-time", slug), {"services": services, "start": start})


def contact_details(**fields: str) -> dict[str, str]:
    return {"name": "Olga Oma", "phone": "", "email": "", "language": "de", **fields}


def hold_to_contact(client: Client, start: str) -> str:
    """Screen 2's POST; returns the address of screen 3."""
    response = choose_time(client, start)
    assert response.status_code == 302, response.content[:2000]
    return response["Location"]


# The whole flow -----------------------------------------------------------------------------------


def test_a_clerk_books_a_caller_in_three_screens_and_gets_the_code_and_an_sms(  # type: ignore[no-untyped-def]
    clerk, world, frozen, django_capture_on_commit_callbacks
) -> None:
    world.book("10:00", channel=PHONE)  # the phone reserve of 10:00–10:15 is used up

    # Screen 1: services and persons
    assert clerk.get(book_url("book", "mitte")).status_code == 200
    response = clerk.get(book_url("book", "mitte"), {"persons-personalausweis": "1", "persons-anmeldung": "0"})
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == book_url("book-time", "mitte")
    assert parse_qs(urlsplit(response["Location"]).query) == {"services": [SERVICES]}

    # Screen 2: the time, the phone contingent first
    page = clerk.get(response["Location"])
    assert page.status_code == 200
    times = page.context["times"]
    assert times.day == TODAY
    assert [local(start) for start in times.online] == ["09:50", "09:55", "10:00", "10:05", "10:10"]
    assert local(times.contingent[0]) == "08:05"  # 08:00 is now: not offered
    assert "10:15" in [local(start) for start in times.contingent]
    assert local(page.context["earliest"]) == "08:05"
    html = page.content.decode()
    contingent_at, online_at = html.index('id="times-contingent"'), html.index('id="times-online"')
    assert contingent_at < html.index('value="2026-11-23T10:15"') < online_at < html.index('value="2026-11-23T10:00"')

    contact_url = hold_to_contact(clerk, "2026-11-23T10:15")
    (hold,) = Hold.objects.all()
    assert (hold.channel, hold.office, hold.start) == (PHONE, world.office_a, at("10:15"))
    assert contact_url == book_url("book-contact", "mitte", hold.token)

    # Screen 3: name and contact; booked
    assert clerk.get(contact_url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = clerk.post(contact_url, contact_details(phone="0151 23456789"))
    appointment = Appointment.objects.exclude(start=at("10:00")).get()
    assert response.status_code == 302
    assert response["Location"] == book_url("slip", appointment.pk)
    assert (appointment.channel, appointment.start, appointment.name) == (PHONE, at("10:15"), "Olga Oma")
    slot = Slot.objects.get(office=world.office_a, start=at("10:15"))
    assert (slot.booked_phone, slot.booked_online) == (1, 0)
    assert not Hold.objects.exists()
    entry = AuditEntry.objects.get(appointment=appointment)
    assert (entry.action, entry.actor, entry.office) == (AuditEntry.Action.BOOK, world.clerk_a, world.office_a)
    (sent,) = sms.outbox
    assert sent.to == "+4915123456789"
    assert appointment.booking_code in sent.text
    assert appointment_messages(appointment).get().status == Message.Status.SENT
    assert mail.outbox == []

    # The slip
    slip = clerk.get(response["Location"])
    assert slip.status_code == 200
    code = appointment.booking_code
    assert f"{code[:4]} {code[4:]}" in slip.content.decode()
    assert slip.context["sms_to"] == "+4915123456789"
    assert f"/t/{appointment.manage_token}/" in slip.context["short_link"]
    assert "js/print.js" in slip.content.decode()


def test_the_flow_has_three_form_screens_each_answered_by_a_redirect(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    screens = [
        clerk.get(book_url("book", "mitte"), {"persons-personalausweis": "2"}),
        choose_time(clerk, "2026-11-23T09:00", services="personalausweis:2"),
    ]
    screens.append(clerk.post(screens[-1]["Location"], contact_details()))
    assert [response.status_code for response in screens] == [302, 302, 302]
    assert urlsplit(screens[0]["Location"]).path == book_url("book-time", "mitte")
    assert screens[1]["Location"].startswith(book_url("book", "mitte"))
    appointment = Appointment.objects.get()
    assert screens[2]["Location"] == book_url("slip", appointment.pk)
    assert (appointment.start, appointment.end) == (at("09:00"), at("09:30"))
    assert clerk.get(screens[2]["Location"]).status_code == 200


def test_a_landline_gets_no_sms_and_the_slip_says_so(clerk, world, frozen, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    contact_url = hold_to_contact(clerk, "2026-11-23T09:00")
    with django_capture_on_commit_callbacks(execute=True):
        response = clerk.post(contact_url, contact_details(phone="0341 1234567"))
    appointment = Appointment.objects.get()
    assert appointment.phone == "0341 1234567"
    assert sms.outbox == []
    assert not appointment_messages(appointment).filter(channel=Message.Channel.SMS).exists()
    slip = clerk.get(response["Location"])
    assert (slip.context["sms_to"], slip.context["email_to"]) == (None, None)
    english = clerk.get("/en" + response["Location"]).content.decode()
    assert "0341 1234567 is not a mobile number" in english


def test_an_email_address_gets_the_confirmation_email(clerk, world, frozen, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    contact_url = hold_to_contact(clerk, "2026-11-23T09:00")
    with django_capture_on_commit_callbacks(execute=True):
        response = clerk.post(contact_url, contact_details(email="Olga@Example.org", language="en"))
    appointment = Appointment.objects.get()
    (email,) = mail.outbox
    assert email.to == ["olga@example.org"]
    assert appointment.booking_code in email.body
    assert sms.outbox == []
    assert clerk.get(response["Location"]).context["email_to"] == "olga@example.org"


def test_the_details_page_keeps_what_the_clerk_typed_when_a_field_is_wrong(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    contact_url = hold_to_contact(clerk, "2026-11-23T09:00")
    response = clerk.post(contact_url, contact_details(name="   ", email="not an address", phone="<b>"))
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"name", "email", "phone"}
    assert not Appointment.objects.exists()
    assert Hold.objects.count() == 1


def test_support_needs_are_stored_and_shown_on_the_slip(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    contact_url = hold_to_contact(clerk, "2026-11-23T09:00")
    response = clerk.post(
        contact_url,
        contact_details(interpreter_language="Arabisch", step_free_access="on", reminders_consent="on"),
    )
    appointment = Appointment.objects.get()
    assert (appointment.interpreter_language, appointment.step_free_access, appointment.reminders_consent) == (
        "Arabisch",
        True,
        True,
    )
    assert "Arabisch" in clerk.get(response["Location"]).content.decode()


# Times ------------------------------------------------------------------------------------------


def test_times_in_the_past_are_neither_offered_nor_held(clerk, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("10:02"), tick=False):
        page = clerk.get(book_url("book-time", "mitte", services=SERVICES))
        starts = page.context["times"].contingent + page.context["times"].online
        assert min(starts) == at("10:05")
        response = choose_time(clerk, "2026-11-23T09:00")
    assert response.status_code == 422
    assert not Hold.objects.exists()


def test_the_first_day_with_a_free_time_is_shown_when_today_is_full(clerk, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("15:50"), tick=False):
        page = clerk.get(book_url("book-time", "mitte", services=SERVICES))
    assert page.context["times"].day == TOMORROW
    assert page.context["shown"].previous == TODAY
    assert page.context["earliest"] == at("08:00", TOMORROW)


def test_a_time_taken_before_it_is_chosen_is_refused_with_the_times_again(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    world.book("09:00")
    world.book("09:00", channel=PHONE)
    response = choose_time(clerk, "2026-11-23T09:00")
    assert response.status_code == 409
    assert response.context["times"].day == TODAY
    assert [str(message) for message in response.context["messages"]]
    assert not Hold.objects.exists()


def test_a_time_taken_after_the_hold_ran_out_books_nothing(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    contact_url = hold_to_contact(clerk, "2026-11-23T09:00")
    hold_release(hold=Hold.objects.get())  # expired and released while the clerk was on the phone
    world.book("09:00")
    world.book("09:00", channel=PHONE)
    response = clerk.post(contact_url, contact_details())
    assert response.status_code == 302
    assert response["Location"] == book_url("book-time", "mitte", services="personalausweis%3A1", date="2026-11-23")
    assert Appointment.objects.count() == 2
    assert not AuditEntry.objects.exists()
    page = clerk.get(response["Location"])
    assert [str(message) for message in page.context["messages"]]


def test_a_hold_that_ran_out_still_books_while_the_time_is_free(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    contact_url = hold_to_contact(clerk, "2026-11-23T09:00")
    hold_release(hold=Hold.objects.get())
    response = clerk.post(contact_url, contact_details())
    appointment = Appointment.objects.get()
    assert response["Location"] == book_url("slip", appointment.pk)
    assert Slot.objects.get(office=world.office_a, start=at("09:00")).booked_phone == 1


def test_choosing_another_time_releases_the_first_hold(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    hold_to_contact(clerk, "2026-11-23T09:00")
    hold_to_contact(clerk, "2026-11-23T11:00")
    (hold,) = Hold.objects.all()
    assert hold.start == at("11:00")
    assert Slot.objects.get(office=world.office_a, start=at("09:00")).booked_phone == 0


def test_a_phone_booking_may_start_inside_the_minimum_notice(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    world.office_a.min_notice_minutes = 120
    world.office_a.save()
    with pytest.raises(BookingError):
        check_start(office=world.office_a, start=at("08:30"), now=at("08:00"), channel=Appointment.Channel.ONLINE)
    page = clerk.get(book_url("book-time", "mitte", services=SERVICES))
    assert local(page.context["times"].contingent[0]) == "08:05"
    clerk.post(hold_to_contact(clerk, "2026-11-23T08:30"), contact_details())
    assert Appointment.objects.get().start == at("08:30")


def test_a_phone_booking_may_go_beyond_the_day_released_online(clerk, world) -> None:  # type: ignore[no-untyped-def]
    world.office_a.horizon_days = 3
    world.office_a.save()
    thursday = TODAY + datetime.timedelta(days=3)
    with time_machine.travel(at("06:30"), tick=False):  # before the release time: online only up to Wednesday
        with pytest.raises(BookingError):
            check_start(office=world.office_a, start=at("09:00", thursday), now=at("06:30"), channel="online")
        page = clerk.get(book_url("book-time", "mitte", services=SERVICES, date=thursday.isoformat()))
        assert page.context["times"].day == thursday
        assert page.context["shown"].next is None
        clerk.post(hold_to_contact(clerk, "2026-11-26T09:00"), contact_details())
    assert Appointment.objects.get().start == at("09:00", thursday)


def test_days_beyond_the_horizon_or_before_today_are_not_shown(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    for day in ["2026-11-22", "2027-06-01"]:
        page = clerk.get(book_url("book-time", "mitte", services=SERVICES, date=day))
        assert page.status_code == 200
        assert page.context["times"].day == TODAY
        assert [str(message) for message in page.context["messages"]]


@pytest.mark.parametrize("booked", [0, 4])
def test_the_time_page_needs_a_fixed_number_of_queries(clerk, world, frozen, django_assert_num_queries, booked) -> None:  # type: ignore[no-untyped-def]
    for hhmm in ["08:30", "09:00", "09:30", "10:00"][:booked]:
        world.book(hhmm, channel=PHONE)
    # session, user, office, role, services, durations, expired holds, first free, the day, earliest, navigation (2)
    with django_assert_num_queries(12):
        page = clerk.get(book_url("book-time", "mitte", services=SERVICES))
    assert page.status_code == 200


def test_the_slip_needs_a_fixed_number_of_queries(clerk, world, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    appointment = appointment_book(
        office=world.office_a,
        start=at("11:00", TOMORROW),
        needs=[Need(world.service("personalausweis"), 2), Need(world.service("anmeldung"), 1)],
        contact=Contact(name="Olga Oma", phone="0151 23456789", email="olga@example.org"),
        now=at("08:00"),
        channel=PHONE,
    )
    # session, user, appointment, role, services, confirmations, navigation (2)
    with django_assert_num_queries(8):
        slip = clerk.get(book_url("slip", appointment.pk))
    assert (slip.context["sms_to"], slip.context["email_to"]) == ("+4915123456789", "olga@example.org")
    assert [need.persons for need in slip.context["chosen"]] == [2, 1]


# The phone-times selector -------------------------------------------------------------------------


def test_phone_day_on_a_small_known_grid(world) -> None:  # type: ignore[no-untyped-def]
    slots = Slot.objects.filter(office=world.office_a, local_date=TODAY)
    slots.filter(start=at("08:10")).update(counters=0, capacity=0, phone_reserve=0)  # a gap
    slots.filter(start=at("08:30")).update(booked_phone=1)  # the reserve is used up
    slots.filter(start=at("08:45")).update(booked_online=1, booked_phone=1)  # full
    day = phone_day(office=world.office_a, minutes=15, day=TODAY, now=at("08:00"))
    morning_contingent = [local(start) for start in day.contingent if start < at("09:00")]
    assert morning_contingent == ["08:15", "08:50", "08:55"]  # 08:05 meets the gap, 08:35–08:45 the full slot
    assert [local(start) for start in day.online] == ["08:20", "08:25", "08:30"]
    # No run crosses the lunch break or the end of the day.
    assert local(max(start for start in day.contingent if start < at("12:00"))) == "11:45"
    assert local(day.contingent[-1]) == "15:45"
    assert at("12:00") not in day.contingent and at("11:50") not in day.contingent
    assert day.contingent[day.contingent.index(at("11:45")) + 1] == at("13:00")


def test_phone_day_ignores_the_online_rules_but_not_the_clock(world) -> None:  # type: ignore[no-untyped-def]
    Slot.objects.filter(office=world.office_a, local_date=TODAY).update(booked_online=1)  # online takes its one unit
    day = phone_day(office=world.office_a, minutes=15, day=TODAY, now=at("11:30"))
    assert [local(start) for start in day.contingent if start < at("12:00")] == ["11:35", "11:40", "11:45"]
    assert day.online == []


def test_earliest_phone_start_looks_past_full_days(world) -> None:  # type: ignore[no-untyped-def]
    Slot.objects.filter(office=world.office_a, local_date=TOMORROW, start__lt=at("10:00", TOMORROW)).update(
        booked_phone=1
    )
    now = at("15:50")
    assert earliest_phone_start(office=world.office_a, minutes=15, now=now) == at("10:00", TOMORROW)
    assert earliest_phone_start(office=world.office_a, minutes=15, now=now, contingent_only=False) == at(
        "08:00", TOMORROW
    )
    assert earliest_phone_start(office=world.office_a, minutes=15, now=at("15:44")) == at("15:45")


# Access -----------------------------------------------------------------------------------------


def test_a_clerk_of_another_office_gets_404_on_the_book_pages_and_the_slip(  # type: ignore[no-untyped-def]
    client: Client, world, frozen
) -> None:
    client.force_login(world.clerk_a)
    contact_url = hold_to_contact(client, "2026-11-23T09:00")
    appointment = world.book("11:00")
    client.force_login(world.clerk_b)
    assert client.get(book_url("book", "mitte")).status_code == 404
    assert client.get(book_url("book-time", "mitte", services=SERVICES)).status_code == 404
    assert choose_time(client, "2026-11-23T10:00").status_code == 404
    assert client.get(contact_url).status_code == 404
    assert client.post(contact_url, contact_details()).status_code == 404
    assert client.get(book_url("slip", appointment.pk)).status_code == 404
    assert Hold.objects.count() == 1
    assert Appointment.objects.count() == 1


def test_signed_out_visitors_are_sent_to_the_sign_in(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("11:00")
    for url in [book_url("book", "mitte"), book_url("book-time", "mitte"), book_url("slip", appointment.pk)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("desk:staff-login"))


def test_a_hold_of_another_office_or_a_citizens_hold_is_404_at_this_office(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    need = [Need(world.service(), 1)]
    of_b = hold_place(office=world.office_b, start=at("09:00"), needs=need, now=at("08:00"), channel=PHONE)
    online = hold_place(office=world.office_a, start=at("09:00"), needs=need, now=at("08:00"))
    for token in [of_b.token, online.token]:
        assert clerk.get(book_url("book-contact", "mitte", token)).status_code == 404
        assert clerk.post(book_url("book-contact", "mitte", token), contact_details()).status_code == 404
    assert not Appointment.objects.exists()


def test_the_slip_is_open_to_any_staff_of_the_office(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("11:00", channel=PHONE, phone="0151 23456789")
    for user in [world.manager_a, world.administrator]:
        client.force_login(user)
        assert client.get(book_url("slip", appointment.pk)).status_code == 200


# Hostile input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "services",
    [
        "",
        "nothing-like-it",
        "personalausweis:99",
        "personalausweis:0",
        "<script>alert(1)</script>",
        "a," * 40,
        "x" * 500,
    ],
)
def test_a_bad_services_parameter_goes_back_to_screen_one(clerk, world, frozen, services: str) -> None:  # type: ignore[no-untyped-def]
    assert clerk.get(book_url("book", "mitte"), {"services": services}).status_code == 200
    response = clerk.get(book_url("book-time", "mitte"), {"services": services})
    assert response.status_code == 302
    assert response["Location"] == book_url("book", "mitte")
    assert choose_time(clerk, "2026-11-23T09:00", services=services).status_code == 302
    assert not Hold.objects.exists()


def test_a_service_the_office_does_not_offer_cannot_be_booked_there(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    from tests.support.factories import offer

    offer(world.office_b, "fuehrerschein", 20)
    response = clerk.get(book_url("book-time", "mitte"), {"services": "fuehrerschein:1"})
    assert response["Location"] == book_url("book", "mitte")
    page = clerk.get(book_url("book", "mitte"))
    assert "persons-fuehrerschein" not in page.context["form"].fields
    assert "persons-personalausweis" in page.context["form"].fields


@pytest.mark.parametrize("date", ["2026-13-45", "yesterday", "x" * 500, "0000-00-00", "2026-11-23T09:00"])
def test_a_bad_date_shows_a_message_and_a_good_day(clerk, world, frozen, date: str) -> None:  # type: ignore[no-untyped-def]
    page = clerk.get(book_url("book-time", "mitte"), {"services": SERVICES, "date": date})
    assert page.status_code == 200
    assert page.context["times"].day == TODAY


@pytest.mark.parametrize(
    "start", ["", "garbage", "2026-11-23T09:02", "2026-11-23T25:00", "2026-11-29T09:00", "9" * 100, "2026-11-23 09:00"]
)
def test_a_bad_start_is_refused_without_a_hold(clerk, world, frozen, start: str) -> None:  # type: ignore[no-untyped-def]
    response = choose_time(clerk, start)
    assert response.status_code in (409, 422)
    assert not Hold.objects.exists()


@pytest.mark.parametrize("token", ["unknown", "x" * 300, "%3Cscript%3E", "..%2F..%2F"])
def test_an_unknown_hold_token_goes_back_to_screen_one(clerk, world, frozen, token: str) -> None:  # type: ignore[no-untyped-def]
    url = f"/staff/desk/mitte/book/{token}/"
    for response in [clerk.get(url), clerk.post(url, contact_details())]:
        assert response.status_code in (302, 404)
    assert not Appointment.objects.exists()


def test_hostile_persons_values_are_form_errors(clerk, world, frozen) -> None:  # type: ignore[no-untyped-def]
    for value in ["-1", "99", "abc", "<b>", "1e9"]:
        response = clerk.get(book_url("book", "mitte"), {"persons-personalausweis": value})
        assert response.status_code == 200
        assert response.context["form"].errors
