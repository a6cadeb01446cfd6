"""Confirmation of the e-mail address (issue 17, point 5): where an office or a service asks for it, an online
booking keeps its units but is final only once the citizen opens the link in time; otherwise it lapses, its
units are freed and the citizen is told. Clerks' bookings for callers need none."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client

from booking.errors import BookingError
from booking.integrity import integrity_check
from booking.messages import Kind, appointment_messages, reminders_plan
from booking.models import Appointment, Slot
from booking.services.appointments import appointment_cancel, appointment_move
from booking.services.confirmation import appointment_confirm, appointments_lapse
from booking.services.slots import capacity_refresh
from booking.tasks import lapse_unconfirmed
from notifications.models import Message
from notifications.services import messages_send_due
from offices.models import Office, Service
from tests.support.factories import ClosureFactory
from tests.support.messages import MONDAY, NOW, at, book, ics_of, leipzig_office, sent_now

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    office = leipzig_office()
    office.confirm_email = True
    office.save()
    return office


def units(office: Office, hhmm: str) -> int:
    return Slot.objects.get(office=office, start=at(MONDAY, hhmm)).booked_online


def kinds(appointment: Appointment) -> list[str]:
    return list(appointment_messages(appointment).order_by("pk").values_list("kind", flat=True))


def test_a_booking_that_needs_confirming_keeps_its_units_and_asks_for_the_link_only(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    assert appointment.awaiting_confirmation
    assert appointment.confirm_by == NOW + HOUR and appointment.confirm_token
    assert units(office, "09:00") == units(office, "09:15") == 1  # nobody else can take the time meanwhile
    assert kinds(appointment) == [Kind.ACTIVATION]  # no confirmation with calendar file, and no reminder yet
    (message,) = appointment_messages(appointment)
    assert message.expires_at == appointment.confirm_by  # never sent after the deadline


def test_a_service_can_ask_for_confirmation_at_every_office(office) -> None:  # type: ignore[no-untyped-def]
    office.confirm_email = False
    office.save()
    assert not book(office, at(MONDAY, "09:00")).awaiting_confirmation
    Service.objects.filter(slug="personalausweis").update(confirm_email=True)
    assert book(office, at(MONDAY, "10:00"), email="max@example.org").awaiting_confirmation


def test_without_it_asked_a_booking_is_final_at_once(office) -> None:  # type: ignore[no-untyped-def]
    office.confirm_email = False
    office.save()
    appointment = book(office, at(MONDAY, "09:00"))
    assert (appointment.confirm_by, appointment.confirm_token, appointment.awaiting_confirmation) == (None, None, False)
    assert kinds(appointment) == [Kind.CONFIRMATION]


def test_a_clerk_s_booking_for_a_caller_needs_no_confirmation(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"), channel=Appointment.Channel.PHONE)
    assert not appointment.awaiting_confirmation and appointment.confirm_by is None
    assert kinds(appointment) == [Kind.CONFIRMATION]


def test_the_deadline_is_the_office_s_and_never_after_the_start(office, frozen) -> None:  # type: ignore[no-untyped-def]
    office.confirm_within_minutes = 20
    office.save()
    assert book(office, at(MONDAY, "09:00")).confirm_by == NOW + datetime.timedelta(minutes=20)
    soon = datetime.datetime.combine(MONDAY, datetime.time(8, 15), tzinfo=NOW.tzinfo)
    frozen.move_to(soon)
    office.confirm_within_minutes = 60
    office.save()
    appointment = book(office, at(MONDAY, "09:00"), now=soon, email="late@example.org")
    assert appointment.confirm_by == at(MONDAY, "09:00")  # 45 minutes before the start: until the start


def test_the_request_says_where_to_confirm_and_by_when_without_a_calendar_file(  # type: ignore[no-untyped-def]
    office, django_capture_on_commit_callbacks, settings
) -> None:
    settings.SITE_URL = "https://termine.example.de"
    appointment = sent_now(django_capture_on_commit_callbacks, lambda: book(office, at(MONDAY, "09:00")))
    (email,) = mail.outbox
    assert email.subject == "Bitte bestätigen Sie Ihren Termin am 23. November 2026 um 09:00"
    link = f"https://termine.example.de/book/confirm/{appointment.confirm_token}/"
    assert link in email.body and f'href="{link}"' in email.alternatives[0][0]
    assert "bis 10:00 am 16. November 2026" in email.body
    assert "Montag, 23. November 2026, 09:00–09:30" in email.body
    assert email.attachments == []  # not final: nothing to put in a calendar yet
    assert appointment.manage_token not in email.body  # the link to confirm is the one that proves the address


def test_opening_the_link_shows_a_button_and_only_the_button_confirms(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    url = f"/book/confirm/{appointment.confirm_token}/"
    page = client.get(url)  # a mail scanner opening every link
    assert page.status_code == 200 and "Meinen Termin bestätigen" in page.content.decode()
    appointment.refresh_from_db()
    assert appointment.awaiting_confirmation
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == f"/appointment/{appointment.manage_token}/"
    appointment.refresh_from_db()
    assert appointment.confirmed_at == NOW and not appointment.awaiting_confirmation
    assert kinds(appointment) == [Kind.ACTIVATION, Kind.CONFIRMATION, Kind.REMINDER]  # now final: calendar, reminder
    again = client.post(url)  # a second click
    assert again.status_code == 302 and kinds(appointment) == [Kind.ACTIVATION, Kind.CONFIRMATION, Kind.REMINDER]
    manage = client.get(again["Location"])
    assert "Ihr Termin ist bestätigt" in manage.content.decode()


def test_an_unknown_link_is_not_found(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    book(office, at(MONDAY, "09:00"))
    assert client.get("/book/confirm/not-a-token/").status_code == 404
    assert client.post("/book/confirm/not-a-token/").status_code == 404


def test_the_manage_page_says_one_step_is_left(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    body = client.get(f"/appointment/{appointment.manage_token}/").content.decode()
    assert "Ein Schritt fehlt noch" in body and "erika@example.org" in body and "bis 10:00" in body


def test_activation_lapsing_frees_the_units_and_tells_the_citizen(  # type: ignore[no-untyped-def]
    office, frozen, client: Client, django_capture_on_commit_callbacks
) -> None:
    appointment = book(office, at(MONDAY, "09:00"))
    other = book(office, at(MONDAY, "10:00"), email="max@example.org")
    frozen.shift(HOUR - datetime.timedelta(seconds=1))
    assert appointments_lapse(now=NOW + HOUR - datetime.timedelta(seconds=1)) == 0  # not before its deadline
    assert appointment_confirm(appointment=other, now=NOW + HOUR - datetime.timedelta(seconds=1)).confirmed_at
    frozen.move_to(NOW + HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        assert lapse_unconfirmed.delay().get() == 1  # the beat task
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_at) == (Appointment.Status.CANCELLED, NOW + HOUR)
    assert units(office, "09:00") == units(office, "09:15") == 0  # free again at once, no pause
    assert units(office, "10:00") == 1  # the confirmed one keeps its time
    assert integrity_check(offices=[office], first=MONDAY).ok
    assert kinds(appointment) == [Kind.ACTIVATION, Kind.LAPSED]
    messages_send_due(now=NOW + HOUR)
    (told,) = [email for email in mail.outbox if email.to == ["erika@example.org"]]
    assert "nicht rechtzeitig bestätigt" in told.body
    assert ics_of(told)["METHOD"] == "CANCEL"  # a move may have put the time into a calendar before
    activation = appointment_messages(appointment).get(kind=Kind.ACTIVATION)
    assert activation.status == Message.Status.WITHDRAWN  # the request was not sent after its deadline
    page = client.post(f"/book/confirm/{appointment.confirm_token}/")  # the citizen clicks too late
    assert page.status_code == 410 and "nicht rechtzeitig bestätigt" in page.content.decode()
    assert appointments_lapse(now=NOW + 2 * HOUR) == 0  # once


def test_a_late_click_before_the_sweep_is_refused_and_the_sweep_still_frees(office, frozen, client: Client) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    frozen.move_to(NOW + HOUR + datetime.timedelta(seconds=5))
    page = client.get(f"/book/confirm/{appointment.confirm_token}/")
    assert page.status_code == 410
    with pytest.raises(BookingError):
        appointment_confirm(appointment=appointment, now=NOW + HOUR)
    assert appointments_lapse(now=NOW + HOUR) == 1 and units(office, "09:00") == 0


def test_a_confirmed_booking_never_lapses(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    appointment_confirm(appointment=appointment, now=NOW + datetime.timedelta(minutes=5))
    assert appointments_lapse(now=NOW + 2 * HOUR) == 0
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED and units(office, "09:00") == 1


def test_a_booking_cancelled_before_its_deadline_is_not_lapsed_again(office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_CANCEL_PAUSE_MINUTES = 0
    appointment = book(office, at(MONDAY, "09:00"))
    appointment_cancel(appointment=appointment, now=NOW + datetime.timedelta(minutes=5))
    assert units(office, "09:00") == 0
    assert appointments_lapse(now=NOW + 2 * HOUR) == 0
    assert integrity_check(offices=[office], first=MONDAY).ok
    with pytest.raises(BookingError, match="abgesagt"):
        appointment_confirm(appointment=Appointment.objects.get(pk=appointment.pk), now=NOW)


def test_a_moved_unconfirmed_booking_lapses_from_its_new_time_and_its_mail_repeats_the_link(  # type: ignore[no-untyped-def]
    office, django_capture_on_commit_callbacks, settings
) -> None:
    settings.BOOKING_CANCEL_PAUSE_MINUTES = 0
    appointment = book(office, at(MONDAY, "09:00"), reminders_consent=True)
    with django_capture_on_commit_callbacks(execute=True):
        moved = appointment_move(appointment=appointment, start=at(MONDAY, "11:00"), now=NOW)
    assert moved.awaiting_confirmation and (units(office, "09:00"), units(office, "11:00")) == (0, 1)
    moved_mail = next(email for email in mail.outbox if "verschoben" in email.subject)
    assert f"/book/confirm/{appointment.confirm_token}/" in moved_mail.body
    assert kinds(appointment) == [Kind.ACTIVATION, Kind.MOVED]  # no reminder while unconfirmed
    assert reminders_plan(now=at(MONDAY, "11:00") - 30 * HOUR) == 0  # nor from the hourly safety net
    assert appointments_lapse(now=NOW + HOUR) == 1
    assert units(office, "11:00") == 0 and integrity_check(offices=[office], first=MONDAY).ok


def test_a_citizen_already_checked_in_at_the_desk_does_not_lapse(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    Appointment.objects.filter(pk=appointment.pk).update(visit=Appointment.Visit.ARRIVED)
    assert appointments_lapse(now=NOW + HOUR) == 0


def test_unconfirmed_bookings_count_against_the_person_s_limit(office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_MAX_ACTIVE_PER_EMAIL = 1
    book(office, at(MONDAY, "09:00"), email="bot+1@example.org")
    with pytest.raises(BookingError):
        book(office, at(MONDAY, "10:00"), email="bot+2@example.org")


def test_the_api_answers_with_the_deadline_and_none_once_confirmed(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    payload = {
        "office": office.slug,
        "start": at(MONDAY, "09:00").isoformat(),
        "services": [{"service": "personalausweis", "persons": 2}],
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }
    response = client.post("/api/v1/appointments", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["confirm_by"] == (NOW + HOUR).isoformat()
    appointment = Appointment.objects.get(manage_token=body["manage_token"])
    assert appointment.confirm_token not in response.content.decode()  # the API caller does not get the link
    appointment_confirm(appointment=appointment, now=NOW)
    assert client.get(f"/api/v1/appointments/{body['manage_token']}").json()["confirm_by"] is None


def test_the_check_page_says_a_link_will_come(office, client: Client) -> None:  # type: ignore[no-untyped-def]
    from booking.needs import needs_from_param
    from booking.services.appointments import hold_place
    from booking.views.citizen import SESSION_HOLD, _contact_key

    hold = hold_place(office=office, start=at(MONDAY, "09:00"), needs=needs_from_param("personalausweis:2"), now=NOW)
    session = client.session
    session[SESSION_HOLD] = hold.token
    contact = {"name": "Erika", "email": "erika@example.org", "phone": "", "language": "de"}
    contact |= {"reminders_consent": False, "interpreter_language": "", "step_free_access": False}
    session[_contact_key(hold.token)] = contact
    session.save()
    page = client.get(f"/book/hold/{hold.token}/check/")
    assert page.status_code == 200
    assert "innerhalb von 60 Minuten" in page.content.decode()


@pytest.mark.parametrize(("for_callers", "asked"), [(True, False), (False, True)])
def test_an_api_key_of_staff_booking_for_callers_skips_it_and_a_portal_s_does_not(  # type: ignore[no-untyped-def]
    office, client: Client, for_callers: bool, asked: bool
) -> None:
    from access.keys import api_key_create

    key, secret = api_key_create(name="115 service centre" if for_callers else "city portal")
    key.books_for_callers = for_callers
    key.save()
    payload = {
        "office": office.slug,
        "start": at(MONDAY, "09:00").isoformat(),
        "services": [{"service": "personalausweis", "persons": 2}],
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }
    response = client.post(
        "/api/v1/appointments", payload, content_type="application/json", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201, response.content
    appointment = Appointment.objects.get()
    assert appointment.awaiting_confirmation is asked
    assert kinds(appointment) == [Kind.ACTIVATION if asked else Kind.CONFIRMATION]


def flagged(office: Office) -> None:
    """The office closes on the Monday: its appointments there are flagged to rebook, their units freed."""
    ClosureFactory(office=office, start_date=MONDAY, end_date=MONDAY, reason_de="Wasserschaden")
    capacity_refresh(office=office, first=MONDAY, last=MONDAY, now=NOW)


def test_an_unconfirmed_booking_the_office_must_rebook_still_lapses_at_its_deadline(office) -> None:  # type: ignore[no-untyped-def]
    appointment = book(office, at(MONDAY, "09:00"))
    flagged(office)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NEEDS_REBOOKING and appointment.awaiting_confirmation
    assert appointments_lapse(now=NOW + HOUR) == 1  # not left in the office's list to rebook for ever
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert kinds(appointment) == [Kind.ACTIVATION, Kind.LAPSED]
    assert integrity_check(offices=[office], first=MONDAY).ok  # nothing given back twice


def test_confirming_one_the_office_must_rebook_confirms_the_address_but_sends_no_booked_time(  # type: ignore[no-untyped-def]
    office, client: Client
) -> None:
    appointment = book(office, at(MONDAY, "09:00"))
    flagged(office)
    response = client.post(f"/book/confirm/{appointment.confirm_token}/", follow=True)
    appointment.refresh_from_db()
    assert appointment.confirmed_at == NOW and appointment.status == Appointment.Status.NEEDS_REBOOKING
    assert kinds(appointment) == [Kind.ACTIVATION]  # no "booked" mail with a calendar file for a time not kept
    body = response.content.decode()
    assert "E-Mail-Adresse ist bestätigt" in body and "Er gehört Ihnen" not in body
    assert appointments_lapse(now=NOW + HOUR) == 0


def test_a_move_keeps_the_deadline_before_the_new_start_and_is_refused_once_it_passed(office, frozen) -> None:  # type: ignore[no-untyped-def]
    soon = datetime.datetime.combine(MONDAY, datetime.time(8, 0), tzinfo=NOW.tzinfo)
    frozen.move_to(soon)
    appointment = book(office, at(MONDAY, "11:00"), now=soon)
    assert appointment.confirm_by == at(MONDAY, "09:00")
    moved = appointment_move(appointment=appointment, start=at(MONDAY, "08:45"), now=soon)
    assert moved.confirm_by == at(MONDAY, "08:45")  # it never begins unconfirmed
    moved = appointment_move(appointment=moved, start=at(MONDAY, "10:00"), now=soon)
    assert moved.confirm_by == at(MONDAY, "08:45")  # a later start gives no more time
    with pytest.raises(BookingError, match="nicht rechtzeitig bestätigt"):
        appointment_move(appointment=moved, start=at(MONDAY, "10:30"), now=at(MONDAY, "08:50"))


def test_a_request_still_waiting_after_a_move_is_withdrawn_the_move_s_mail_has_the_link(office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BOOKING_CANCEL_PAUSE_MINUTES = 0
    appointment = book(office, at(MONDAY, "09:00"))
    appointment_move(appointment=appointment, start=at(MONDAY, "11:00"), now=NOW)
    messages_send_due(now=NOW)
    activation = appointment_messages(appointment).get(kind=Kind.ACTIVATION)
    assert activation.status == Message.Status.WITHDRAWN  # it would tell the old time
    (moved,) = mail.outbox
    assert (
        f"/book/confirm/{appointment.confirm_token}/" in moved.body
        and "bis 10:00 Uhr am 16. November 2026" in moved.body
    )
