"""The rules of the clerks' desk, one service function each (desk/services.py), without the pages."""

import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from booking.errors import BookingError
from booking.messages import Kind as MessageKind
from booking.messages import appointment_messages, as_recorded
from booking.models import Appointment, Slot
from booking.services.appointments import appointment_cancel, appointment_move
from booking.services.slots import capacity_refresh
from desk import services
from desk.models import AuditEntry
from notifications.models import Message
from offices.models import Block
from tests.support.desk_steps import EARLY, TODAY, at

pytestmark = pytest.mark.django_db

Visit = Appointment.Visit
Action = AuditEntry.Action


def booked_units(office, hhmm: str) -> int:  # type: ignore[no-untyped-def]
    return Slot.objects.get(office=office, start=at(hhmm)).booked


def test_a_visit_goes_from_check_in_to_done_with_the_time_of_each_step(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00")
    clerk = world.clerk_a
    appointment = services.visit_check_in(appointment=appointment, by=clerk, now=at("08:52"))
    appointment = services.visit_call(appointment=appointment, by=clerk, counter=3, now=at("09:01"))
    appointment = services.visit_start(appointment=appointment, by=clerk, now=at("09:02"))
    appointment = services.visit_finish(appointment=appointment, by=clerk, now=at("09:14"))
    appointment.refresh_from_db()
    assert appointment.visit == Visit.DONE
    assert appointment.counter == 3
    assert (appointment.arrived_at, appointment.called_at) == (at("08:52"), at("09:01"))
    assert (appointment.service_started_at, appointment.finished_at) == (at("09:02"), at("09:14"))
    entries = list(appointment.audit_entries.order_by("at"))
    assert [entry.action for entry in entries] == [Action.CHECK_IN, Action.CALL, Action.START, Action.FINISH]
    assert entries[1].before["status"] == Visit.ARRIVED and entries[1].after["status"] == Visit.CALLED
    assert entries[1].after["counter"] == 3
    assert {entry.actor_id for entry in entries} == {clerk.pk}
    assert entries[0].actor_name == "Clara Kern (clerk-a)"


def test_check_in_is_refused_on_another_day(world) -> None:  # type: ignore[no-untyped-def]
    tomorrow = world.book("09:00", day=TODAY + datetime.timedelta(days=1))
    with pytest.raises(BookingError):
        services.visit_check_in(appointment=tomorrow, by=world.clerk_a, now=at("08:30"))
    tomorrow.refresh_from_db()
    assert tomorrow.visit == Visit.EXPECTED
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("counter", [None, 0, 100])
def test_calling_needs_a_counter_from_1_to_99(world, counter) -> None:  # type: ignore[no-untyped-def]
    appointment = services.visit_check_in(appointment=world.book("09:00"), by=world.clerk_a, now=at("08:50"))
    with pytest.raises(BookingError) as refused:
        services.visit_call(appointment=appointment, by=world.clerk_a, counter=counter, now=at("09:00"))
    assert refused.value.field == "counter"


def test_a_citizen_called_to_one_counter_cannot_be_called_to_another_but_again_to_the_same(world) -> None:  # type: ignore[no-untyped-def]
    appointment = services.visit_check_in(appointment=world.book("09:00"), by=world.clerk_a, now=at("08:50"))
    services.visit_call(appointment=appointment, by=world.clerk_a, counter=2, now=at("09:00"))
    with pytest.raises(BookingError):
        services.visit_call(appointment=appointment, by=world.manager_a, counter=5, now=at("09:01"))
    again = services.visit_call(appointment=appointment, by=world.clerk_a, counter=2, now=at("09:03"))
    assert (again.counter, again.called_at) == (2, at("09:03"))


@override_settings(DESK_NO_SHOW_GRACE_MINUTES=15)
def test_a_no_show_only_after_the_start_plus_the_grace_period(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00")
    with pytest.raises(BookingError) as refused:
        services.visit_no_show(appointment=appointment, by=world.clerk_a, now=at("09:14:59"))
    assert "09:15" in str(refused.value.message)
    marked = services.visit_no_show(appointment=appointment, by=world.clerk_a, now=at("09:15"))
    assert (marked.visit, marked.no_show_at) == (Visit.NO_SHOW, at("09:15"))


def test_someone_who_arrived_is_no_no_show_and_a_late_arrival_takes_a_no_show_back(world) -> None:  # type: ignore[no-untyped-def]
    here = services.visit_check_in(appointment=world.book("09:00"), by=world.clerk_a, now=at("08:55"))
    with pytest.raises(BookingError):
        services.visit_no_show(appointment=here, by=world.clerk_a, now=at("10:00"))
    late = services.visit_no_show(appointment=world.book("09:30"), by=world.clerk_a, now=at("09:50"))
    late = services.visit_check_in(appointment=late, by=world.clerk_a, now=at("09:55"))
    assert (late.visit, late.no_show_at, late.arrived_at) == (Visit.ARRIVED, None, at("09:55"))


@pytest.mark.parametrize(
    ("step", "from_visit"),
    [
        (services.visit_finish, "arrived"),
        (services.visit_start, "expected"),
        (services.visit_check_in, "done"),
    ],
)
def test_steps_out_of_order_are_refused_and_change_nothing(world, step, from_visit) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00")
    Appointment.objects.filter(pk=appointment.pk).update(visit=from_visit)
    appointment.refresh_from_db()
    with pytest.raises(BookingError):
        step(appointment=appointment, by=world.clerk_a, now=at("09:05"))
    appointment.refresh_from_db()
    assert appointment.visit == from_visit
    assert not AuditEntry.objects.exists()


def test_cancelled_and_to_rebook_appointments_have_no_visit(world) -> None:  # type: ignore[no-untyped-def]
    cancelled = appointment_cancel(appointment=world.book("09:00"), now=EARLY)
    flagged = world.book("10:00")
    Appointment.objects.filter(pk=flagged.pk).update(status=Appointment.Status.NEEDS_REBOOKING)
    flagged.refresh_from_db()
    for appointment in (cancelled, flagged):
        with pytest.raises(BookingError):
            services.visit_check_in(appointment=appointment, by=world.clerk_a, now=at("08:30"))


def test_the_database_refuses_a_visit_on_an_appointment_that_is_not_booked(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED, visit=Visit.ARRIVED)


def test_once_the_citizen_is_here_the_appointment_is_neither_cancelled_nor_moved(world) -> None:  # type: ignore[no-untyped-def]
    appointment = services.visit_check_in(appointment=world.book("11:00"), by=world.clerk_a, now=at("08:30"))
    with pytest.raises(BookingError):
        appointment_cancel(appointment=appointment, now=at("08:31"))
    with pytest.raises(BookingError):
        appointment_move(appointment=appointment, start=at("11:30"), now=at("08:31"))
    appointment.refresh_from_db()
    assert (appointment.status, appointment.start) == (Appointment.Status.BOOKED, at("11:00"))


def test_the_office_cancels_with_a_reason_the_citizen_is_told(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00", email="erika@example.org")
    with pytest.raises(BookingError):
        services.desk_cancel(appointment=appointment, by=world.clerk_a, reason="   ", now=EARLY)
    cancelled = services.desk_cancel(appointment=appointment, by=world.clerk_a, reason="Stromausfall", now=EARLY)
    assert cancelled.status == Appointment.Status.CANCELLED
    assert booked_units(world.office_a, "09:00") == 0
    message = appointment_messages(appointment).get(kind=MessageKind.CANCELLED_BY_OFFICE)
    assert as_recorded(message).reason == "Stromausfall"
    entry = AuditEntry.objects.get(appointment=appointment)
    assert (entry.action, entry.reason, entry.before["status"], entry.after["status"]) == (
        Action.CANCEL,
        "Stromausfall",
        "expected",
        "cancelled",
    )


def test_the_office_moves_with_a_reason_in_the_moved_message(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00", email="erika@example.org")
    moved = services.desk_move(
        appointment=appointment, start=at("10:30"), by=world.clerk_a, reason="Drucker defekt", now=EARLY
    )
    assert (moved.start, moved.sequence) == (at("10:30"), 1)
    assert booked_units(world.office_a, "09:00") == 0 and booked_units(world.office_a, "10:30") == 1
    message = appointment_messages(appointment).get(kind=MessageKind.MOVED, channel=Message.Channel.EMAIL)
    assert as_recorded(message).reason == "Drucker defekt"
    entry = AuditEntry.objects.get(appointment=appointment)
    assert (entry.before["start"], entry.after["start"]) == ("2026-11-23 09:00", "2026-11-23 10:30")


def test_a_move_to_another_office_takes_its_slots_and_durations_and_frees_the_old_ones(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00", persons=2)  # 30 minutes at A
    world.office_b.offered_services.filter(service__slug="personalausweis").update(duration_minutes=20)
    moved = appointment_move(
        appointment=appointment, start=at("11:00"), now=EARLY, office=world.office_b, reason="Umzug"
    )
    assert (moved.office, moved.start, moved.end) == (world.office_b, at("11:00"), at("11:40"))
    assert moved.lines.get().minutes == 40
    assert booked_units(world.office_a, "09:00") == booked_units(world.office_a, "09:25") == 0
    assert [booked_units(world.office_b, t) for t in ("11:00", "11:35", "11:40")] == [1, 1, 0]
    call_command("verify_integrity")


def test_a_block_takes_counters_out_of_the_grid_and_its_removal_gives_them_back(world) -> None:  # type: ignore[no-untyped-def]
    one, _change = services.block_create(
        office=world.office_a,
        date=TODAY,
        starts=datetime.time(9),
        ends=datetime.time(10),
        counters=1,
        reason="Drucker",
        by=world.manager_a,
        now=EARLY,
    )
    assert Slot.objects.get(office=world.office_a, start=at("09:30")).counters == 1
    assert Slot.objects.get(office=world.office_a, start=at("10:00")).counters == 2
    services.block_create(
        office=world.office_a,
        date=TODAY,
        starts=datetime.time(9, 30),
        ends=datetime.time(9, 45),
        counters=None,
        reason="Besprechung",
        by=world.manager_a,
        now=EARLY,
    )
    assert Slot.objects.get(office=world.office_a, start=at("09:30")).counters == 0
    services.block_remove(block=one, now=EARLY)
    assert Slot.objects.get(office=world.office_a, start=at("09:15")).counters == 2
    assert Block.objects.count() == 1


def test_an_absence_marks_the_newest_booking_of_a_full_slot_to_rebook_with_an_audit_entry(world) -> None:  # type: ignore[no-untyped-def]
    first = world.book("10:00", name="Zuerst")
    second = world.book(
        "10:00", name="Später", channel=Appointment.Channel.PHONE, now=EARLY - datetime.timedelta(days=1)
    )
    _absence, change = services.absence_record(
        user=world.sick, kind="sick", first=TODAY, last=TODAY, note="", by=world.manager_a, now=EARLY
    )
    assert change.flagged == [second.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Appointment.Status.BOOKED, Appointment.Status.NEEDS_REBOOKING)
    entry = AuditEntry.objects.get(appointment=second)
    assert (entry.action, entry.actor, entry.before["status"], entry.after["status"]) == (
        Action.FLAG,
        world.manager_a,
        "booked",
        "needs_rebooking",
    )
    call_command("verify_integrity")


def test_capacity_lost_during_the_day_leaves_the_past_and_those_already_here_alone(world) -> None:  # type: ignore[no-untyped-def]
    served = world.book("09:00", name="Schon dran")
    world.book("09:00", name="Auch", channel=Appointment.Channel.PHONE)
    here = world.book("10:00", name="Wartet")
    world.book("10:00", name="Auch später", channel=Appointment.Channel.PHONE)
    services.visit_check_in(appointment=served, by=world.clerk_a, now=at("08:55"))
    services.visit_check_in(appointment=here, by=world.clerk_a, now=at("09:05"))
    nine = Slot.objects.get(office=world.office_a, start=at("09:00"))
    _absence, change = services.absence_record(
        user=world.sick, kind="sick", first=TODAY, last=TODAY, note="", by=world.manager_a, now=at("09:10")
    )
    # 09:00 has begun: it keeps its counters and both its appointments.
    assert Slot.objects.get(pk=nine.pk).counters == 2
    # 10:00 loses a counter: the one who is already here keeps the time, the other one gives way.
    flagged = Appointment.objects.get(pk__in=change.flagged)
    assert flagged.name == "Auch später"
    assert Appointment.objects.filter(status=Appointment.Status.NEEDS_REBOOKING).count() == 1


def test_the_refresh_task_keeps_slots_that_have_begun(world) -> None:  # type: ignore[no-untyped-def]
    import time_machine

    from desk.tasks import capacity_rebuild

    Block.objects.create(office=world.office_a, date=TODAY, starts=datetime.time(8), ends=datetime.time(12), reason="x")
    with time_machine.travel(at("10:00"), tick=False):
        capacity_rebuild(world.office_a.pk, TODAY.isoformat(), TODAY.isoformat(), None, "")
    assert Slot.objects.get(office=world.office_a, start=at("09:55")).counters == 2
    assert Slot.objects.get(office=world.office_a, start=at("10:00")).counters == 0
    capacity_refresh(office=world.office_a, first=TODAY, last=TODAY)  # without a time: the whole day is rebuilt
    assert Slot.objects.get(office=world.office_a, start=at("09:55")).counters == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_calling_the_same_citizen_at_once_one_wins(world) -> None:  # type: ignore[no-untyped-def]
    appointment = services.visit_check_in(appointment=world.book("09:00"), by=world.clerk_a, now=at("08:50"))
    barrier = threading.Barrier(2)
    outcome: dict[int, str] = {}

    def call(counter: int, clerk) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            services.visit_call(appointment=appointment, by=clerk, counter=counter, now=at("09:00"))
            outcome[counter] = "called"
        except BookingError:
            outcome[counter] = "refused"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=call, args=(n, clerk)) for n, clerk in ((1, world.clerk_a), (2, world.manager_a))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcome.values()) == ["called", "refused"]
    winner = next(counter for counter, result in outcome.items() if result == "called")
    appointment.refresh_from_db()
    assert appointment.counter == winner
    assert AuditEntry.objects.filter(appointment=appointment, action=Action.CALL).count() == 1


def test_a_sickness_mid_morning_keeps_the_counters_those_being_served_need(world) -> None:  # type: ignore[no-untyped-def]
    from booking.integrity import integrity_check

    world.book("09:45", persons=3, name="Online")  # 45 minutes: has begun at 10:05
    world.book("09:45", persons=3, name="Telefon", channel=Appointment.Channel.PHONE)
    _absence, change = services.absence_record(
        user=world.sick, kind="sick", first=TODAY, last=TODAY, note="", by=world.manager_a, now=at("10:05")
    )
    assert change.flagged == []  # both have begun: neither is sent away
    ten = Slot.objects.get(office=world.office_a, start=at("10:10"))
    assert (ten.capacity, ten.booked) == (2, 2)  # the second counter stays until they are done
    assert Slot.objects.get(office=world.office_a, start=at("10:30")).capacity == 1  # then it is gone
    report = integrity_check(offices=[world.office_a], first=TODAY)
    assert report.ok, report.slot_problems


def test_a_block_over_citizens_already_here_sells_nothing_twice_when_it_is_lifted(world) -> None:  # type: ignore[no-untyped-def]
    from booking.integrity import integrity_check

    here = [world.book("10:30", name=name, channel=Appointment.Channel.PHONE, now=EARLY) for name in ("Eins", "Zwei")]
    for appointment in here:
        services.visit_check_in(appointment=appointment, by=world.clerk_a, now=at("10:00"))
    block, change = services.block_create(
        office=world.office_a,
        date=TODAY,
        starts=datetime.time(10, 30),
        ends=datetime.time(11),
        counters=None,
        reason="Besprechung",
        by=world.manager_a,
        now=at("10:00"),
    )
    assert change.flagged == []
    assert Slot.objects.get(office=world.office_a, start=at("10:30")).booked == 2
    assert Slot.objects.get(office=world.office_a, start=at("10:45")).capacity == 0
    services.block_remove(block=block, now=at("10:01"))
    slot = Slot.objects.get(office=world.office_a, start=at("10:30"))
    assert (slot.capacity, slot.booked) == (2, 2)  # nothing free to book on top of the two
    report = integrity_check(offices=[world.office_a], first=TODAY)
    assert report.ok, report.slot_problems


def test_the_nightly_rebuild_audits_what_no_longer_fits_as_the_system(world) -> None:  # type: ignore[no-untyped-def]
    import time_machine

    from desk.models import AuditEntry
    from desk.tasks import capacity_rebuild

    later = world.book("11:00", email="spaet@example.org")
    eleven, noon = datetime.time(11), datetime.time(12)
    Block.objects.create(office=world.office_a, date=TODAY, starts=eleven, ends=noon, reason="x")
    with time_machine.travel(at("10:00"), tick=False):
        flagged = capacity_rebuild(world.office_a.pk, None, None, None, "")
    assert later.pk in flagged
    entry = AuditEntry.objects.get(appointment=later)
    assert (entry.action, entry.actor, entry.actor_name) == ("flag", None, "system")


def test_the_generate_slots_command_audits_what_no_longer_fits_as_the_system(world) -> None:  # type: ignore[no-untyped-def]
    import io

    import time_machine

    later = world.book("11:00", email="spaet-befehl@example.org")
    eleven, noon = datetime.time(11), datetime.time(12)
    Block.objects.create(office=world.office_a, date=TODAY, starts=eleven, ends=noon, reason="x")
    out = io.StringIO()
    with time_machine.travel(at("10:00"), tick=False):
        call_command("generate_slots", "--office", world.office_a.slug, stdout=out)
    assert "1 appointments need rebooking." in out.getvalue()
    later.refresh_from_db()
    assert later.status == Appointment.Status.NEEDS_REBOOKING
    entry = AuditEntry.objects.get(appointment=later)
    assert (entry.action, entry.actor, entry.actor_name, entry.reason) == ("flag", None, "system", "generate_slots")


def test_a_rebuild_queued_under_the_tasks_old_names_is_still_carried_out(world) -> None:  # type: ignore[no-untyped-def]
    import time_machine

    from buergerservice.celery import app

    later = world.book("11:00", email="alter-name@example.org")
    eleven, noon = datetime.time(11), datetime.time(12)
    Block.objects.create(office=world.office_a, date=TODAY, starts=eleven, ends=noon, reason="x")
    with time_machine.travel(at("10:00"), tick=False):
        flagged = app.tasks["booking.tasks.refresh_capacity"](world.office_a.pk, TODAY.isoformat(), TODAY.isoformat())
    assert flagged == [later.pk]
    assert AuditEntry.objects.get(appointment=later).actor_name == "system"
    assert "booking.tasks.refresh_all_capacity" in app.tasks
