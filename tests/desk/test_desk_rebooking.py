"""Sickness and rebooking at the clerks' desk: the manager records an absence, the appointments that no longer fit
are listed with their nearest free alternative, and are moved or cancelled with the citizens told."""

import datetime
import threading
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from booking.messages import Kind as MessageKind
from booking.messages import appointment_messages, as_recorded
from booking.models import Appointment, Slot
from desk.models import AuditEntry
from desk.services import block_create, rebooking_move_all
from notifications.models import Message
from offices.models import Absence
from tests.support.desk_steps import EARLY, TODAY, DeskWorld, at

pytestmark = pytest.mark.django_db

# Not on the 5-minute grid: the free-time readers offer a start equal to now, which booking then refuses as past.
NOW = at("08:31")
MOVE_REASON = "Our office had to change its staffing at short notice. We apologise."
APOLOGY = "We are very sorry: we cannot offer you another time. Please book again."


def url(name: str, slug: str = "mitte", english: bool = False) -> str:
    with translation.override("en" if english else "de"):
        return reverse(f"desk:{name}", args=[slug])


@pytest.fixture
def manager(client: Client, world: DeskWorld) -> Client:
    client.force_login(world.manager_a)
    return client


def two_at_nine(world: DeskWorld) -> tuple[Appointment, Appointment]:
    """Office A's 09:00 is full: one unit booked online, the other (the newer booking) by phone."""
    older = world.book("09:00", name="Anna Alt", email="anna@example.org")
    newer = world.book(
        "09:00", name="Bernd Neu", email="bernd@example.org", phone="0151 23456789", channel=Appointment.Channel.PHONE
    )
    return older, newer


def record_sickness(client: Client, world: DeskWorld, first: datetime.date = TODAY, last: datetime.date = TODAY):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        return client.post(
            url("absences"),
            {"clerk": world.sick.pk, "kind": Absence.Kind.SICK, "first": first.isoformat(), "last": last.isoformat()},
        )


def rebook(client: Client, action: str, english: bool = False, **reasons: str):  # type: ignore[no-untyped-def]
    data = {"action": action, "move_reason": MOVE_REASON, "cancel_reason": APOLOGY, **reasons}
    with time_machine.travel(NOW, tick=False):
        return client.post(url("rebook", english=english), data, follow=True)


def rebook_page(client: Client, english: bool = True):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        return client.get(url("rebook", english=english))


def listed(response) -> list[Appointment]:  # type: ignore[no-untyped-def]
    return [appointment for appointment, _alternative in response.context["rows"]]


def grid_consistent() -> None:
    """verify_integrity finds nothing, and every slot counts exactly the booked appointments covering it."""
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("verify_integrity", stdout=out)  # raises CommandError on any problem
    booked = list(Appointment.objects.filter(status=Appointment.Status.BOOKED))
    for slot in Slot.objects.filter(Q(booked_online__gt=0) | Q(booked_phone__gt=0) | Q(start__gte=at("08:00"))):
        covering = [a for a in booked if a.office_id == slot.office_id and a.start <= slot.start < a.end]
        online = sum(a.channel == Appointment.Channel.ONLINE for a in covering)
        assert (slot.booked_online, slot.booked_phone) == (online, len(covering) - online), slot
        assert slot.booked <= slot.capacity, slot


def moved_messages(appointment: Appointment) -> list[Message]:
    return list(appointment_messages(appointment).filter(kind=MessageKind.MOVED, channel=Message.Channel.EMAIL))


def block_all_of_office_a_but_nine(world: DeskWorld) -> None:
    """Office A has no free time in the week around today: everything but today's 09:00–09:15 is blocked."""
    for starts, ends in (("08:00", "09:00"), ("09:15", "12:00"), ("13:00", "16:00")):
        block_create(
            office=world.office_a,
            date=TODAY,
            starts=datetime.time.fromisoformat(starts),
            ends=datetime.time.fromisoformat(ends),
            counters=None,
            reason="Schulung",
            by=world.manager_a,
            now=EARLY,
        )
    for offset in range(1, 9):
        block_create(
            office=world.office_a,
            date=TODAY + datetime.timedelta(days=offset),
            starts=datetime.time(8),
            ends=datetime.time(16),
            counters=None,
            reason="Schulung",
            by=world.manager_a,
            now=EARLY,
        )


# Recording a sickness ---------------------------------------------------------------------------


def test_a_sickness_lists_the_newest_booking_of_a_full_slot_with_an_alternative_at_the_same_office(world, manager):
    older, newer = two_at_nine(world)

    response = record_sickness(manager, world)

    assert response.status_code == 302
    absence = Absence.objects.get()
    assert (absence.user, absence.start_date, absence.end_date) == (world.sick, TODAY, TODAY)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.status == Appointment.Status.BOOKED
    assert newer.status == Appointment.Status.NEEDS_REBOOKING
    page = rebook_page(manager)
    assert page.status_code == 200
    [(appointment, alternative)] = page.context["rows"]
    assert appointment == newer
    assert alternative.office == world.office_a
    assert alternative.same_office
    assert alternative.start != at("09:00")
    assert alternative.start.date() == TODAY
    assert "Bernd Neu" in page.content.decode()
    assert newer.booking_code in page.content.decode()
    assert AuditEntry.objects.filter(appointment=newer, action=AuditEntry.Action.FLAG).count() == 1


def test_the_absence_page_lists_current_and_upcoming_absences_and_says_how_many_are_to_rebook(world, manager):
    two_at_nine(world)
    Absence.objects.create(
        user=world.sick, start_date=TODAY - datetime.timedelta(days=10), end_date=TODAY - datetime.timedelta(days=5)
    )

    with time_machine.travel(NOW, tick=False):
        response = manager.post(
            url("absences", english=True),
            {"clerk": world.sick.pk, "kind": "vacation", "first": "2026-11-23", "last": "2026-11-27", "note": "Kur"},
            follow=True,
        )

    text = response.content.decode()
    assert response.status_code == 200
    assert "1 appointment no longer fits and is now to rebook." in text
    assert url("rebook", english=True) in text
    listed_absences = list(response.context["absences"])
    assert [(a.start_date, a.end_date, a.note) for a in listed_absences] == [
        (TODAY, TODAY + datetime.timedelta(days=4), "Kur")
    ]


def test_an_absence_without_appointments_in_the_way_flags_nothing(world, manager):
    world.book("09:00", email="anna@example.org")

    record_sickness(manager, world)

    assert not Appointment.objects.exclude(status=Appointment.Status.BOOKED).exists()
    assert listed(rebook_page(manager)) == []


@pytest.mark.parametrize(
    "data",
    [
        {"first": "2026-11-24", "last": "2026-11-23"},  # last before first
        {"first": "2026-11-23", "last": "2027-12-31"},  # longer than a year
        {"first": "2026-11-23", "last": "not a date"},
        {"first": "99999-01-01", "last": "2026-11-23"},
        {"first": "0001-01-01", "last": "0001-01-02"},
        {"first": "9999-12-30", "last": "9999-12-31"},
        {"clerk": "abc"},
        {"clerk": "-1"},
        {"kind": "holiday"},
        {"note": "x" * 201},
    ],
)
def test_a_malformed_absence_is_a_form_error_and_saves_nothing(world, manager, data):
    two_at_nine(world)
    fields = {"clerk": world.sick.pk, "kind": "sick", "first": "2026-11-23", "last": "2026-11-23", **data}

    with time_machine.travel(NOW, tick=False):
        response = manager.post(url("absences"), fields)

    assert response.status_code == 400
    assert response.context["form"].errors
    assert not Absence.objects.exists()
    assert not Appointment.objects.exclude(status=Appointment.Status.BOOKED).exists()


def test_an_absence_of_someone_not_working_at_the_office_is_refused(world, manager):
    with time_machine.travel(NOW, tick=False):
        response = manager.post(
            url("absences"), {"clerk": world.clerk_b.pk, "kind": "sick", "first": "2026-11-23", "last": "2026-11-23"}
        )

    assert response.status_code == 400
    assert "clerk" in response.context["form"].errors
    assert not Absence.objects.exists()


# Moving -------------------------------------------------------------------------------------------


def test_moving_all_books_each_again_at_a_new_time_tells_each_citizen_and_empties_the_list(world, manager):
    two_at_nine(world)
    later_older = world.book("10:00", name="Carla Früh", email="carla@example.org")
    later_newer = world.book("10:00", name="Dora Spät", email="dora@example.org", channel=Appointment.Channel.PHONE)
    record_sickness(manager, world)
    to_move = listed(rebook_page(manager))
    assert {a.name for a in to_move} == {"Bernd Neu", "Dora Spät"}

    response = rebook(manager, "move-all", english=True)

    assert response.status_code == 200
    assert "2 appointments moved; the citizens are told." in response.content.decode()
    assert listed(response) == []
    for before in to_move:
        after = Appointment.objects.get(pk=before.pk)
        assert after.status == Appointment.Status.BOOKED
        assert after.office == world.office_a
        assert after.start != before.start
        assert after.sequence == before.sequence + 1
        [message] = moved_messages(after)
        assert as_recorded(message).reason == MOVE_REASON
        assert as_recorded(message).start == after.start
    assert Appointment.objects.get(pk=later_older.pk).start == at("10:00")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.MOVE).count() == 2
    grid_consistent()
    assert later_newer.pk in {a.pk for a in to_move}


def test_when_the_office_has_no_free_time_the_appointment_moves_to_the_other_office(world, manager):
    older, newer = two_at_nine(world)
    block_all_of_office_a_but_nine(world)
    record_sickness(manager, world)

    [(appointment, alternative)] = rebook_page(manager).context["rows"]
    assert appointment == newer
    assert alternative.office == world.office_b
    assert not alternative.same_office
    assert world.office_b.name in rebook_page(manager).content.decode()

    response = rebook(manager, "move-all", english=True)

    moved = Appointment.objects.get(pk=newer.pk)
    assert moved.status == Appointment.Status.BOOKED
    assert moved.office == world.office_b
    assert moved.start == alternative.start
    assert [line.minutes for line in moved.lines.all()] == [15]
    assert len(moved_messages(moved)) == 1
    assert as_recorded(moved_messages(moved)[0]).office_id == world.office_b.pk
    assert listed(response) == []
    assert Appointment.objects.get(pk=older.pk).office == world.office_a
    grid_consistent()


def test_moving_one_moves_only_that_one(world, manager):
    two_at_nine(world)
    world.book("10:00", name="Carla Früh", email="carla@example.org")
    dora = world.book("10:00", name="Dora Spät", email="dora@example.org", channel=Appointment.Channel.PHONE)
    record_sickness(manager, world)
    bernd = Appointment.objects.get(name="Bernd Neu")

    response = rebook(manager, f"move-{bernd.pk}", english=True)

    assert "Bernd Neu" in response.content.decode()
    assert "moved to Citizen office Mitte" in response.content.decode()
    assert Appointment.objects.get(pk=bernd.pk).status == Appointment.Status.BOOKED
    assert len(moved_messages(bernd)) == 1
    assert listed(response) == [dora]
    grid_consistent()


def test_a_second_click_on_move_changes_nothing_more(world, manager):
    two_at_nine(world)
    record_sickness(manager, world)
    bernd = Appointment.objects.get(name="Bernd Neu")
    rebook(manager, f"move-{bernd.pk}")
    moved = Appointment.objects.get(pk=bernd.pk)

    response = rebook(manager, f"move-{bernd.pk}", english=True)

    assert "no longer to rebook" in response.content.decode()
    again = Appointment.objects.get(pk=bernd.pk)
    assert (again.start, again.sequence) == (moved.start, moved.sequence)
    assert len(moved_messages(bernd)) == 1
    grid_consistent()


def test_an_appointment_of_another_office_cannot_be_moved_from_this_page(world, manager):
    other = world.book("09:00", office=world.office_b, email="x@example.org")
    Appointment.objects.filter(pk=other.pk).update(status=Appointment.Status.NEEDS_REBOOKING)

    rebook(manager, f"move-{other.pk}")
    rebook(manager, f"cancel-{other.pk}")

    assert Appointment.objects.get(pk=other.pk).status == Appointment.Status.NEEDS_REBOOKING
    assert not appointment_messages(other).exclude(kind=MessageKind.CONFIRMATION).exists()


def test_an_appointment_with_no_free_time_anywhere_stays_listed_and_moving_all_reports_it(world, manager):
    two_at_nine(world)
    block_all_of_office_a_but_nine(world)
    world.office_b.active = False
    world.office_b.save()
    record_sickness(manager, world)

    page = rebook_page(manager)
    [(appointment, alternative)] = page.context["rows"]
    assert alternative is None
    assert "No free time found." in page.content.decode()

    response = rebook(manager, "move-all", english=True)

    text = response.content.decode()
    assert "Not done for Bernd Neu" in text
    assert "No free time was found" in text
    assert listed(response) == [appointment]
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.NEEDS_REBOOKING
    assert moved_messages(appointment) == []
    grid_consistent()


# Cancelling ---------------------------------------------------------------------------------------


def test_cancelling_all_with_an_apology_tells_each_citizen_and_empties_the_list(world, manager):
    two_at_nine(world)
    world.book("10:00", email="carla@example.org")
    world.book("10:00", email="dora@example.org", channel=Appointment.Channel.PHONE)
    record_sickness(manager, world)
    to_cancel = listed(rebook_page(manager))
    assert len(to_cancel) == 2

    response = rebook(manager, "cancel-all", english=True)

    assert "2 appointments cancelled; the citizens are told." in response.content.decode()
    assert listed(response) == []
    for appointment in to_cancel:
        assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED
        [message] = appointment_messages(appointment).filter(
            kind=MessageKind.CANCELLED_BY_OFFICE, channel=Message.Channel.EMAIL
        )
        assert as_recorded(message).reason == APOLOGY
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CANCEL, reason=APOLOGY).count() == 2
    grid_consistent()


def test_cancelling_one_cancels_only_that_one(world, manager):
    two_at_nine(world)
    world.book("10:00", email="carla@example.org")
    dora = world.book("10:00", name="Dora Spät", email="dora@example.org", channel=Appointment.Channel.PHONE)
    record_sickness(manager, world)
    bernd = Appointment.objects.get(name="Bernd Neu")

    response = rebook(manager, f"cancel-{bernd.pk}")

    assert Appointment.objects.get(pk=bernd.pk).status == Appointment.Status.CANCELLED
    assert appointment_messages(bernd).filter(kind=MessageKind.CANCELLED_BY_OFFICE, context__reason=APOLOGY).exists()
    assert listed(response) == [dora]
    grid_consistent()


@pytest.mark.parametrize("action", ["move-all", "cancel-all"])
def test_an_empty_text_for_the_citizens_refuses_and_changes_nothing(world, manager, action):
    two_at_nine(world)
    record_sickness(manager, world)

    with time_machine.travel(NOW, tick=False):
        response = manager.post(url("rebook"), {"action": action, "move_reason": "  ", "cancel_reason": ""})

    assert response.status_code == 400
    assert response.context["form"].errors
    assert Appointment.objects.filter(status=Appointment.Status.NEEDS_REBOOKING).count() == 1
    assert not Message.objects.exclude(kind=MessageKind.CONFIRMATION).exists()


@pytest.mark.parametrize(
    "action",
    ["", "move", "move-", "move-abc", "move--1", "move-0", "move-99999999999999999999", "delete-all", "MOVE-ALL"],
)
def test_unknown_actions_change_nothing_and_never_fail(world, manager, action):
    two_at_nine(world)
    record_sickness(manager, world)

    with time_machine.travel(NOW, tick=False):
        response = manager.post(url("rebook"), {"action": action, "move_reason": "x", "cancel_reason": "y"})

    assert response.status_code == 400
    assert Appointment.objects.filter(status=Appointment.Status.NEEDS_REBOOKING).count() == 1


def test_a_move_of_an_unknown_appointment_is_refused_politely(world, manager):
    response = rebook(manager, "move-987654321")

    assert response.status_code == 200
    assert listed(response) == []


def test_the_rebooking_list_loads_the_services_once_for_all_rows(world, manager):
    for hhmm in ("09:00", "09:30", "10:00", "10:30"):
        world.book(hhmm, email=f"a-{hhmm}@example.org")
        world.book(hhmm, email=f"b-{hhmm}@example.org", channel=Appointment.Channel.PHONE)
    record_sickness(manager, world)

    with CaptureQueriesContext(connection) as queries:
        page = rebook_page(manager)

    assert len(page.context["rows"]) == 4
    line_queries = [q["sql"] for q in queries.captured_queries if '"booking_appointmentservice"' in q["sql"]]
    assert len(line_queries) == 1


# Who may ---------------------------------------------------------------------------------------


PAGES = ["rebook", "absences", "blocks"]


@pytest.mark.parametrize("name", [*PAGES, "block-remove"])
def test_a_clerk_of_the_office_is_forbidden(world, client, name):
    client.force_login(world.clerk_a)
    target = reverse(f"desk:{name}", args=["mitte", 1]) if name == "block-remove" else url(name)

    assert client.get(target).status_code in (403, 405)
    assert client.post(target, {"action": "move-all", "move_reason": "x"}).status_code == 403


@pytest.mark.parametrize("name", [*PAGES, "block-remove"])
@pytest.mark.parametrize("who", ["clerk_b", "manager_b"])
def test_staff_of_another_office_see_no_such_page(world, client, name, who):
    from offices.models import Membership
    from tests.support.factories import MembershipFactory, UserFactory

    if who == "manager_b":
        user = UserFactory(username="manager-b")
        MembershipFactory(user=user, office=world.office_b, role=Membership.Role.MANAGER)
    else:
        user = world.clerk_b
    client.force_login(user)
    target = reverse(f"desk:{name}", args=["mitte", 1]) if name == "block-remove" else url(name)

    assert client.post(target, {"action": "move-all", "move_reason": "x"}).status_code == 404


@pytest.mark.parametrize("name", [*PAGES, "block-remove"])
def test_anonymous_visitors_are_sent_to_sign_in(world, client, name):
    target = reverse(f"desk:{name}", args=["mitte", 1]) if name == "block-remove" else url(name)

    response = client.get(target)

    assert response.status_code == 302
    assert reverse("desk:staff-login") in response["Location"]


def test_an_administrator_may_rebook_at_any_office(world, client):
    client.force_login(world.administrator)
    with time_machine.travel(NOW, tick=False):
        assert client.get(url("rebook", slug="nord")).status_code == 200
        assert client.get(url("absences", slug="nord")).status_code == 200


def test_an_unknown_office_is_404(world, manager):
    assert manager.get(url("rebook", slug="nirgendwo")).status_code == 404


# Two managers at once (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_moving_all_at_once_move_each_appointment_exactly_once(world):
    for hhmm in ("09:00", "09:30", "10:00", "10:30", "11:00"):
        world.book(hhmm, email=f"early-{hhmm}@example.org")
        world.book(hhmm, email=f"late-{hhmm}@example.org", channel=Appointment.Channel.PHONE)
    Absence.objects.create(user=world.sick, start_date=TODAY, end_date=TODAY)
    from booking.services.slots import capacity_refresh

    capacity_refresh(office=world.office_a, first=TODAY, last=TODAY, now=NOW)
    flagged = list(Appointment.objects.filter(status=Appointment.Status.NEEDS_REBOOKING))
    assert len(flagged) == 5
    barrier = threading.Barrier(2)
    results, errors = [], []

    def move_all() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(rebooking_move_all(office=world.office_a, by=world.manager_a, reason=MOVE_REASON, now=NOW))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=move_all) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(len(result.done) for result in results) == 5
    for appointment in flagged:
        after = Appointment.objects.get(pk=appointment.pk)
        assert after.status == Appointment.Status.BOOKED
        assert after.sequence == appointment.sequence + 1
        assert len(moved_messages(after)) == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.MOVE).count() == 5
    grid_consistent()
