"""Urgent cases (issue 18, point 3): the urgent contingent kept from the open calendar before a day's release and
never sold online, released to everyone before its times, the invitations deadline first from the invite time,
and the clerks' check, invitation by hand and refusal."""

import datetime

import pytest
import time_machine

from booking.errors import BookingError, SlotTaken
from booking.grid import BERLIN
from booking.integrity import integrity_check
from booking.messages import Kind as AppointmentKind
from booking.messages import appointment_messages
from booking.models import URGENT_HOLDER, Appointment, Hold, Slot
from booking.needs import needs_from_param
from booking.services.appointments import Contact, appointment_book, holds_expire
from booking.services.contingent import contingent_keep
from booking.tasks import keep_urgent_contingent
from notifications.models import Message
from offices.models import Office
from tests.support.factories import bookable_office, offer
from waitlist.messages import Kind
from waitlist.models import Registration
from waitlist.services import Wish, offers_sweep, registration_confirm, registration_create
from waitlist.urgent import urgent_check, urgent_invite, urgent_refuse

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
RELEASE = datetime.datetime(2026, 11, 17, 7, 0, tzinfo=BERLIN)  # Monday opens with a horizon of 6 days


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    office = bookable_office(counters=2, first=MONDAY, last=MONDAY, slug="abh", horizon_days=6, urgent_counters=1)
    offer(office, "aufenthaltstitel", 15)
    return office


def at(hhmm: str) -> datetime.datetime:
    return datetime.datetime.combine(MONDAY, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN)


def urgent(name: str, deadline: datetime.date, *, now: datetime.datetime = NOW) -> Registration:
    wish = Wish(
        needs=needs_from_param("aufenthaltstitel"),
        offices=[],
        first_day=MONDAY,
        last_day=MONDAY + datetime.timedelta(days=10),
        weekdays=[],
        parts=[],
    )
    registration = registration_create(
        wish=wish,
        name=name,
        email=f"{name.lower()}@example.org",
        language="de",
        now=now,
        deadline=deadline,
        reason="Aufenthaltstitel läuft ab",
    )
    return registration_confirm(registration=registration, now=now)


def book_online(office: Office, hhmm: str, email: str, now: datetime.datetime) -> Appointment:
    return appointment_book(
        office=office, start=at(hhmm), needs=needs_from_param("aufenthaltstitel"), contact=Contact("X", email), now=now
    )


def test_the_contingent_is_kept_before_the_release_and_never_sold_online(office, frozen) -> None:  # type: ignore[no-untyped-def]
    assert keep_urgent_contingent.delay().get() == 2  # the beat task: the morning's and the afternoon's run
    assert contingent_keep(office=office, now=NOW) == 0  # once
    kept = Hold.objects.filter(holder=URGENT_HOLDER).order_by("start")
    assert [(hold.start, hold.end) for hold in kept] == [(at("08:00"), at("12:00")), (at("13:00"), at("16:00"))]
    assert all(slot.booked_online == 1 for slot in Slot.objects.filter(office=office, local_date=MONDAY))
    frozen.move_to(RELEASE)  # the release minute: a script books every time it can
    booked = 0
    for hour in (8, 9, 10, 11, 13, 14, 15):
        for minute in (0, 15, 30, 45):
            book_online(office, f"{hour:02d}:{minute:02d}", f"bot{hour}{minute}@example.org", RELEASE)
            booked += 1
            with pytest.raises(SlotTaken):  # the second counter is the contingent's
                book_online(office, f"{hour:02d}:{minute:02d}", f"other{hour}{minute}@example.org", RELEASE)
    assert booked == 28 and Hold.objects.filter(holder=URGENT_HOLDER).count() == 2
    assert integrity_check(offices=[office], first=MONDAY).ok


def test_what_urgent_cases_did_not_use_opens_to_everyone_before_its_time(office, frozen) -> None:  # type: ignore[no-untyped-def]
    contingent_keep(office=office, now=NOW)
    released = at("08:00") - datetime.timedelta(hours=office.urgent_release_hours)
    frozen.move_to(released)
    holds_expire(now=released)
    assert not Hold.objects.filter(holder=URGENT_HOLDER).exists()  # the whole day's contingent
    assert contingent_keep(office=office, now=released) == 0  # not kept again within the release hours
    book_online(office, "09:00", "a@example.org", released)
    book_online(office, "09:00", "b@example.org", released)  # both counters now


def test_urgent_cases_are_invited_deadline_first_from_the_invite_time(office, frozen) -> None:  # type: ignore[no-untyped-def]
    contingent_keep(office=office, now=NOW)
    early = datetime.datetime(2026, 11, 17, 7, 15, tzinfo=BERLIN)
    frozen.move_to(early)
    later = urgent("Later", MONDAY + datetime.timedelta(days=3), now=early)
    sooner = urgent("Sooner", MONDAY + datetime.timedelta(days=1), now=early)
    assert offers_sweep(now=early).invited == 0  # before the office's invite time (07:30)
    invite = datetime.datetime(2026, 11, 17, 7, 30, tzinfo=BERLIN)
    frozen.move_to(invite)
    result = offers_sweep(now=invite)
    assert result.invited == 2
    sooner.refresh_from_db()
    later.refresh_from_db()
    assert (sooner.status, later.status) == (Registration.Status.BOOKED, Registration.Status.BOOKED)
    assert (sooner.appointment.start, later.appointment.start) == (at("08:00"), at("08:15"))  # deadline first
    assert not sooner.appointment.awaiting_confirmation
    (invitation,) = appointment_messages(sooner.appointment)
    assert invitation.kind == AppointmentKind.CONFIRMATION  # time, what to bring, calendar file
    kept = Hold.objects.filter(holder=URGENT_HOLDER).order_by("start")
    assert [(hold.start, hold.end) for hold in kept] == [(at("08:30"), at("12:00")), (at("13:00"), at("16:00"))]
    assert integrity_check(offices=[office], first=MONDAY).ok
    assert offers_sweep(now=invite).invited == 0  # each case once


def test_a_clerk_checks_invites_by_hand_and_refuses_with_a_reason(office, frozen) -> None:  # type: ignore[no-untyped-def]
    frozen.move_to(RELEASE)
    case = urgent("Case", MONDAY, now=RELEASE)
    assert urgent_check(registration=case, now=RELEASE).checked_at == RELEASE
    appointment = urgent_invite(registration=case, now=RELEASE)  # no contingent kept: the earliest free time
    assert appointment is not None and appointment.start == at("08:00")
    other = urgent("Other", MONDAY, now=RELEASE)
    with pytest.raises(BookingError):
        urgent_refuse(registration=other, reason="  ", now=RELEASE)
    refused = urgent_refuse(registration=other, reason="Der Titel gilt noch drei Monate.", now=RELEASE)
    assert (refused.status, refused.refused_reason) == (Registration.Status.REFUSED, "Der Titel gilt noch drei Monate.")
    assert Message.objects.filter(subject_type="waitlist", subject_id=other.pk, kind=Kind.REFUSED).count() == 1
    assert urgent_invite(registration=other, now=RELEASE) is None  # refused: never invited


def test_a_citizen_sends_an_urgent_case_through_the_public_form(office, client) -> None:  # type: ignore[no-untyped-def]
    from offices.models import Service

    assert client.get("/waitlist/urgent/?services=aufenthaltstitel").status_code == 302  # no urgent cases for it yet
    Service.objects.filter(slug="aufenthaltstitel").update(urgent_within_days=7)
    register = client.get("/waitlist/?services=aufenthaltstitel").content.decode()
    assert "/waitlist/urgent/?services=aufenthaltstitel" in register
    data = {
        "deadline": "2026-12-31",
        "reason": "Titel läuft ab",
        "name": "Ali",
        "email": "ali@example.org",
        "language": "de",
    }
    too_far = client.post("/waitlist/urgent/?services=aufenthaltstitel", data)
    assert too_far.status_code == 422 and "innerhalb von 7 Tagen" in too_far.content.decode()
    sent = client.post("/waitlist/urgent/?services=aufenthaltstitel", data | {"deadline": "2026-11-20"})
    case = Registration.objects.get()
    assert sent.status_code == 302 and (case.deadline, case.reason) == (datetime.date(2026, 11, 20), "Titel läuft ab")
    assert case.status == Registration.Status.UNCONFIRMED  # confirmed by the link, as every registration


def test_the_desk_lists_urgent_cases_by_deadline_and_acts_on_them(office, client, frozen) -> None:  # type: ignore[no-untyped-def]
    from offices.models import Service

    Service.objects.filter(slug="aufenthaltstitel").update(urgent_within_days=7)
    frozen.move_to(RELEASE)
    later = urgent("Later", MONDAY + datetime.timedelta(days=3), now=RELEASE)
    sooner = urgent("Sooner", MONDAY, now=RELEASE)
    clerk = office.memberships.first().user
    client.force_login(clerk)
    page = client.get("/en/staff/desk/abh/urgent/").content.decode()
    assert page.index("Sooner") < page.index("Later")  # earliest deadline first
    client.post(f"/staff/desk/abh/urgent/{sooner.pk}/check/")
    client.post(f"/staff/desk/abh/urgent/{sooner.pk}/invite/")
    sooner.refresh_from_db()
    assert sooner.checked_at == RELEASE and sooner.status == Registration.Status.BOOKED
    client.post(f"/staff/desk/abh/urgent/{later.pk}/refuse/", {"reason": "Keine Frist in Sicht."})
    later.refresh_from_db()
    assert later.status == Registration.Status.REFUSED
    caller = {
        "service": Service.objects.get(slug="aufenthaltstitel").pk,
        "persons": "1",
        "deadline": "2026-11-24",
        "reason": "Anruf: Titel läuft ab",
        "name": "Anrufer",
        "email": "anrufer@example.org",
    }
    assert client.post("/staff/desk/abh/urgent/", caller).status_code == 302
    registered = Registration.objects.get(name="Anrufer")
    assert (registered.status, registered.checked_at) == (Registration.Status.WAITING, RELEASE)  # no link to open
    assert [office.slug for office in registered.offices.all()] == ["abh"]


def test_the_urgent_form_asks_for_the_matter_when_no_service_was_chosen(office, client) -> None:  # type: ignore[no-untyped-def]
    from offices.models import Service

    Service.objects.filter(slug="aufenthaltstitel").update(urgent_within_days=7)
    assert 'href="/waitlist/urgent/"' in client.get("/book/").content.decode()
    form = client.get("/waitlist/urgent/").content.decode()
    assert "Worum geht es?" in form
    matter = Service.objects.get(slug="aufenthaltstitel").pk
    data = {"matter": matter, "deadline": "2026-11-30", "reason": "Titel", "name": "Ali", "email": "ali@example.org"}
    too_far = client.post("/waitlist/urgent/", data | {"language": "de"})
    assert too_far.status_code == 422 and not Registration.objects.exists()  # 14 days ahead, the matter takes 7
    assert client.post("/waitlist/urgent/", data | {"language": "de", "deadline": "2026-11-19"}).status_code == 302
    case = Registration.objects.get()
    assert case.needs == [[matter, 1]] and case.deadline == datetime.date(2026, 11, 19)


def test_a_caller_without_e_mail_is_registered_by_the_desk_and_invited_by_sms(office, client, frozen) -> None:  # type: ignore[no-untyped-def]
    from notifications import sms
    from notifications.services import messages_send_due
    from offices.models import Service

    sms.outbox.clear()
    Service.objects.filter(slug="aufenthaltstitel").update(urgent_within_days=7)
    contingent_keep(office=office, now=NOW)
    frozen.move_to(RELEASE)
    client.force_login(office.memberships.first().user)
    caller = {
        "service": Service.objects.get(slug="aufenthaltstitel").pk,
        "persons": "1",
        "deadline": "2026-11-24",
        "reason": "Anruf: Titel läuft ab",
        "name": "Anrufer",
        "email": "",
        "phone": "",
    }
    assert client.post("/staff/desk/abh/urgent/", caller).status_code == 422  # no way to invite them
    assert client.post("/staff/desk/abh/urgent/", caller | {"phone": "0151 23456789"}).status_code == 302
    case = Registration.objects.get()
    assert (case.email, case.phone, case.status) == ("", "0151 23456789", Registration.Status.WAITING)
    assert not Message.objects.filter(subject_type="waitlist").exists()  # nothing to confirm: the clerk has them
    invite = datetime.datetime(2026, 11, 17, 7, 30, tzinfo=BERLIN)
    frozen.move_to(invite)
    assert offers_sweep(now=invite).invited == 1
    case.refresh_from_db()
    assert case.appointment.start == at("08:00")
    messages_send_due(now=invite)
    (text,) = sms.outbox
    assert text.to == "+4915123456789" and "08:00" in text.text
