"""The audit log: every staff action on an appointment leaves exactly one entry, readable by managers and
administrators, changed by nobody (the database refuses)."""

import datetime

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from booking.errors import BookingError
from booking.models import Appointment
from booking.needs import Need
from booking.services.appointments import Contact
from desk.models import AuditEntry
from desk.services import (
    absence_record,
    appointment_note,
    desk_book,
    desk_cancel,
    desk_move,
    visit_call,
    visit_check_in,
    visit_finish,
    visit_no_show,
    visit_start,
)
from offices.models import Absence
from tests.support.desk_steps import TODAY, at

Action = AuditEntry.Action


def _one_new_entry(seen: set[int]) -> AuditEntry:
    """The single entry written since ``seen`` (the ids before the action)."""
    new = list(AuditEntry.objects.exclude(pk__in=seen))
    assert len(new) == 1, new
    seen.add(new[0].pk)
    return new[0]


def _ids() -> set[int]:
    return set(AuditEntry.objects.values_list("pk", flat=True))


def test_each_step_of_a_visit_writes_one_entry_with_who_what_when_and_the_change(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30", name="Anton Früh")
    clerk = world.clerk_a
    seen = _ids()
    steps = [
        (Action.CHECK_IN, at("08:20"), lambda now: visit_check_in(appointment=appointment, by=clerk, now=now)),
        (Action.CALL, at("08:31"), lambda now: visit_call(appointment=appointment, by=clerk, counter=2, now=now)),
        (Action.START, at("08:32"), lambda now: visit_start(appointment=appointment, by=clerk, now=now)),
        (Action.FINISH, at("08:44"), lambda now: visit_finish(appointment=appointment, by=clerk, now=now)),
    ]
    statuses = []
    for action, now, step in steps:
        step(now)
        entry = _one_new_entry(seen)
        assert entry.action == action
        assert entry.appointment_id == appointment.pk
        assert entry.office == world.office_a
        assert entry.actor == clerk
        assert entry.actor_name == "Clara Kern (clerk-a)"
        assert entry.at == now
        statuses.append((entry.before["status"], entry.after["status"]))
    assert statuses == [
        ("expected", "arrived"),
        ("arrived", "called"),
        ("called", "in_service"),
        ("in_service", "done"),
    ]
    call = AuditEntry.objects.get(action=Action.CALL)
    assert (call.before["counter"], call.after["counter"]) == (None, 2)
    assert call.after["start"] == "2026-11-23 08:30"


def test_a_no_show_writes_one_entry(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:00")
    seen = _ids()
    visit_no_show(appointment=appointment, by=world.clerk_a, now=at("08:20"))
    entry = _one_new_entry(seen)
    assert entry.action == Action.NO_SHOW
    assert (entry.before["status"], entry.after["status"]) == ("expected", "no_show")


def test_a_note_writes_one_entry_and_an_unchanged_note_none(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00")
    seen = _ids()
    appointment_note(appointment=appointment, by=world.clerk_a, note="Bringt Geburtsurkunde", now=at("08:00"))
    entry = _one_new_entry(seen)
    assert entry.action == Action.NOTE
    assert (entry.before["note"], entry.after["note"]) == ("", "Bringt Geburtsurkunde")
    appointment_note(appointment=appointment, by=world.clerk_a, note="Bringt Geburtsurkunde", now=at("08:01"))
    assert _ids() == seen


def test_a_cancellation_by_the_office_writes_one_entry_with_the_reason(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("10:00")
    seen = _ids()
    desk_cancel(appointment=appointment, by=world.manager_a, reason="Drucker defekt", now=at("08:00"))
    entry = _one_new_entry(seen)
    assert (entry.action, entry.actor, entry.reason) == (Action.CANCEL, world.manager_a, "Drucker defekt")
    assert (entry.before["status"], entry.after["status"]) == ("expected", "cancelled")


def test_a_move_writes_one_entry_with_the_old_and_new_start(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("10:00")
    seen = _ids()
    desk_move(appointment=appointment, start=at("13:00"), by=world.clerk_a, reason="Umplanung", now=at("08:00"))
    entry = _one_new_entry(seen)
    assert entry.action == Action.MOVE
    assert (entry.before["start"], entry.after["start"]) == ("2026-11-23 10:00", "2026-11-23 13:00")
    assert entry.reason == "Umplanung"


def test_a_booking_at_the_desk_writes_one_entry(world) -> None:  # type: ignore[no-untyped-def]
    seen = _ids()
    appointment = desk_book(
        office=world.office_a,
        start=at("14:00"),
        needs=[Need(world.service(), 1)],
        contact=Contact(name="Rufus Anrufer"),
        by=world.clerk_a,
        now=at("08:00"),
    )
    entry = _one_new_entry(seen)
    assert (entry.action, entry.appointment) == (Action.BOOK, appointment)
    assert entry.before == {}
    assert entry.after["start"] == "2026-11-23 14:00"


def test_a_sickness_that_leaves_no_room_writes_one_flag_entry_per_appointment_to_rebook(world) -> None:  # type: ignore[no-untyped-def]
    world.book("09:00", name="Erste")
    world.book("09:00", name="Zweite", channel=Appointment.Channel.PHONE)
    seen = _ids()
    _absence, change = absence_record(
        user=world.sick,
        kind=Absence.Kind.SICK,
        first=TODAY,
        last=TODAY,
        note="",
        by=world.manager_a,
        now=at("07:30"),
    )
    assert change.flagged
    new = list(AuditEntry.objects.exclude(pk__in=seen))
    assert sorted(entry.appointment_id for entry in new) == sorted(change.flagged)
    for entry in new:
        assert (entry.action, entry.actor) == (Action.FLAG, world.manager_a)
        assert (entry.before["status"], entry.after["status"]) == ("booked", "needs_rebooking")


def test_a_refused_action_writes_no_entry(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30")
    seen = _ids()
    with pytest.raises(BookingError):
        visit_finish(appointment=appointment, by=world.clerk_a, now=at("08:30"))
    with pytest.raises(BookingError):
        visit_no_show(appointment=appointment, by=world.clerk_a, now=at("08:35"))  # within the grace minutes
    with pytest.raises(BookingError):
        visit_call(appointment=appointment, by=world.clerk_a, counter=0, now=at("08:30"))
    with pytest.raises(BookingError):
        desk_cancel(appointment=appointment, by=world.clerk_a, reason="  ", now=at("08:00"))
    assert _ids() == seen


# The page --------------------------------------------------------------------------------------------


def _history(world) -> Appointment:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30", name="Anton Früh")
    visit_check_in(appointment=appointment, by=world.clerk_a, now=at("08:20"))
    visit_call(appointment=appointment, by=world.clerk_a, counter=2, now=at("08:31"))
    other = world.book("10:00", name="Carl Storno")
    desk_cancel(appointment=other, by=world.manager_a, reason="Drucker defekt", now=at("08:40"))
    return appointment


def _audit(client: Client, slug: str = "mitte", prefix: str = "", **params: str) -> object:
    return client.get(prefix + reverse("desk:audit", args=[slug]), params)


def test_the_manager_reads_the_audit_log_newest_first_with_what_changed(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = _history(world)
    client.force_login(world.manager_a)
    response = _audit(client, prefix="/en")
    assert response.status_code == 200
    html = response.content.decode()
    table = html.split("<tbody>", 1)[1]
    assert table.index("<td>Cancelled</td>") < table.index("<td>Called to a counter</td>")
    assert table.index("<td>Called to a counter</td>") < table.index("<td>Checked in</td>")
    assert "23/11/2026 08:20" in html  # Berlin time, as English writes a date everywhere on the site
    assert "Clara Kern (clerk-a)" in html and "Max Leiter (manager-a)" in html
    assert appointment.booking_code in html
    assert reverse("desk:appointment", args=[appointment.pk]) in html
    assert "Booked → Arrived" in html
    assert "Counter:</span> — → 2" in html
    assert "Drucker defekt" in html
    assert html.count('method="post"') == 1  # signing out: nothing on the page changes the log


def test_the_administrator_reads_the_audit_log_too(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = _history(world)
    client.force_login(world.administrator)
    response = _audit(client)
    assert response.status_code == 200
    assert appointment.booking_code in response.content.decode()


def test_a_clerk_gets_403_and_a_clerk_of_another_office_404(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    _history(world)
    client.force_login(world.clerk_a)
    assert _audit(client).status_code == 403
    client.force_login(world.clerk_b)
    assert _audit(client).status_code == 404
    assert _audit(client, slug="nord").status_code == 403


def test_the_audit_log_filters_by_day_and_by_action(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = _history(world)
    later = world.book("09:00", day=TODAY + datetime.timedelta(days=1), name="Dora Dienstag")
    appointment_note(appointment=later, by=world.clerk_a, note="Morgen", now=at("08:50"))
    client.force_login(world.manager_a)
    only_calls = _audit(client, prefix="/en", action="call").content.decode()
    assert appointment.booking_code in only_calls
    assert "Checked in</td>" not in only_calls and "Drucker defekt" not in only_calls
    other_day = _audit(client, date="2026-11-24").content.decode()
    assert appointment.booking_code not in other_day and later.booking_code not in other_day
    that_day = _audit(client, date="2026-11-23", action="note").content.decode()
    assert later.booking_code in that_day and appointment.booking_code not in that_day


def test_the_audit_log_takes_any_parameters_without_a_server_error(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = _history(world)
    client.force_login(world.manager_a)
    for params in (
        {"date": "2026-02-30"},
        {"date": "<b>x</b>"},
        {"date": "9999-12-31"},
        {"action": "drop table"},
        {"page": "-1"},
        {"page": "999"},
        {"page": "x"},
    ):
        response = _audit(client, **params)
        assert response.status_code == 200, params
    assert appointment.booking_code in _audit(client, action="nonsense").content.decode()


def test_the_audit_log_pages_by_a_hundred(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("09:00")
    for minute in range(101):
        appointment_note(appointment=appointment, by=world.clerk_a, note=f"Notiz {minute}", now=at("07:00"))
    client.force_login(world.manager_a)
    first = _audit(client).content.decode()
    assert "→ Notiz 100<" in first and "→ Notiz 0<" not in first and "page=2" in first
    second = _audit(client, page="2").content.decode()
    assert "→ Notiz 0<" in second and "→ Notiz 1<" not in second


# Nobody changes it ----------------------------------------------------------------------------------


def test_the_database_refuses_to_change_an_entry(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30")
    entry = visit_check_in(appointment=appointment, by=world.clerk_a, now=at("08:20")).audit_entries.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.actor_name = "Jemand anders"
        entry.save()
    entry.refresh_from_db()
    assert (entry.reason, entry.actor_name) == ("", "Clara Kern (clerk-a)")


@pytest.mark.postgres
def test_postgresql_refuses_both_update_and_delete_of_an_entry(world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30")
    entry = visit_check_in(appointment=appointment, by=world.clerk_a, now=at("08:20")).audit_entries.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM desk_auditentry")
    assert AuditEntry.objects.filter(pk=entry.pk, reason="").exists()


def test_the_admin_shows_entries_but_offers_no_add_change_or_delete(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    appointment = world.book("08:30")
    with time_machine.travel(at("08:20"), tick=False):
        entry = visit_check_in(appointment=appointment, by=world.clerk_a, now=at("08:20")).audit_entries.get()
    client.force_login(world.administrator)
    listing = client.get(reverse("admin:desk_auditentry_changelist"))
    assert listing.status_code == 200
    assert "Clara Kern (clerk-a)" in listing.content.decode()
    assert "delete_selected" not in listing.content.decode()
    assert client.get(reverse("admin:desk_auditentry_changelist"), {"q": appointment.booking_code}).status_code == 200
    change_url = reverse("admin:desk_auditentry_change", args=[entry.pk])
    assert client.get(change_url).status_code == 200  # to read
    assert client.post(change_url, {"reason": "x"}).status_code == 403
    assert client.get(reverse("admin:desk_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:desk_auditentry_add"), {"reason": "x"}).status_code == 403
    assert client.post(reverse("admin:desk_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.reason == ""
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_admin_lists_blocked_times_read_only(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    from desk.services import block_create

    block, _change = block_create(
        office=world.office_a,
        date=TODAY,
        starts=datetime.time(10, 0),
        ends=datetime.time(11, 0),
        counters=None,
        reason="Betriebsversammlung",
        by=world.manager_a,
        now=at("07:00"),
    )
    client.force_login(world.administrator)
    listing = client.get(reverse("admin:offices_block_changelist"))
    assert listing.status_code == 200
    assert "Betriebsversammlung" in listing.content.decode()
    assert client.get(reverse("admin:offices_block_add")).status_code == 403
    assert client.post(reverse("admin:offices_block_change", args=[block.pk]), {"reason": "x"}).status_code == 403
    assert client.post(reverse("admin:offices_block_delete", args=[block.pk]), {"post": "yes"}).status_code == 403
