"""Blocked times at the clerks' desk: a manager takes a time range out for one or all counters (a staff meeting,
a broken printer); what no longer fits is to rebook; removing the block gives the capacity back."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation

from booking.models import Appointment, Slot
from offices.models import Block
from tests.support.desk_steps import TODAY, DeskWorld, at

pytestmark = pytest.mark.django_db

NOW = at("08:31")


def url(name: str, *args: object, slug: str = "mitte", english: bool = False) -> str:
    with translation.override("en" if english else "de"):
        return reverse(f"desk:{name}", args=[slug, *args])


@pytest.fixture
def manager(client: Client, world: DeskWorld) -> Client:
    client.force_login(world.manager_a)
    return client


def block(client: Client, english: bool = False, now: datetime.datetime = NOW, **fields: object):  # type: ignore[no-untyped-def]
    data = {
        "date": TODAY.isoformat(),
        "starts": "09:00",
        "ends": "10:00",
        "counters": "",
        "reason": "Dienstbesprechung",
    }
    data.update(fields)
    with time_machine.travel(now, tick=False):
        return client.post(url("blocks", english=english), data, follow=True)


def remove(client: Client, pk: int, slug: str = "mitte", english: bool = False):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        return client.post(url("block-remove", pk, slug=slug, english=english), follow=True)


def counters(office, first: str, last: str) -> set[int]:  # type: ignore[no-untyped-def]
    """The counters on duty in the office's slots starting from first up to (not including) last today."""
    return set(
        Slot.objects.filter(office=office, start__gte=at(first), start__lt=at(last)).values_list("counters", flat=True)
    )


def statuses(*appointments: Appointment) -> list[str]:
    return [Appointment.objects.get(pk=appointment.pk).status for appointment in appointments]


def test_blocking_all_counters_flags_the_appointments_in_that_time(world, manager):
    nine_online = world.book("09:00", email="a@example.org")
    nine_phone = world.book("09:00", email="b@example.org", channel=Appointment.Channel.PHONE)
    half_past_nine = world.book("09:50", email="c@example.org")  # 09:50–10:05 overlaps the block
    ten = world.book("10:05", email="d@example.org")

    response = block(manager, english=True)

    assert response.status_code == 200
    assert "3 appointments no longer fit and are now to rebook." in response.content.decode()
    assert url("rebook", english=True) in response.content.decode()
    [stored] = Block.objects.all()
    assert (stored.office, stored.date, stored.counters, stored.created_by) == (
        world.office_a,
        TODAY,
        None,
        world.manager_a,
    )
    assert counters(world.office_a, "09:00", "10:00") == {0}
    assert counters(world.office_a, "10:00", "10:30") == {2}
    nine, phone, half, later = statuses(nine_online, nine_phone, half_past_nine, ten)
    assert (nine, phone, half) == (Appointment.Status.NEEDS_REBOOKING,) * 3
    assert later == Appointment.Status.BOOKED
    # The units of 10:00–10:05 that the flagged appointment held are free again.
    assert {
        s.booked for s in Slot.objects.filter(office=world.office_a, start__gte=at("09:00"), start__lt=at("10:05"))
    } == {0}
    with time_machine.travel(NOW, tick=False):
        page = manager.get(url("rebook"))
    assert len(page.context["rows"]) == 3


def test_removing_a_block_gives_the_capacity_back(world, manager):
    appointment = world.book("09:00", email="a@example.org")
    block(manager)
    stored = Block.objects.get()

    response = remove(manager, stored.pk, english=True)

    assert response.status_code == 200
    assert "the time can be booked again" in response.content.decode()
    assert not Block.objects.exists()
    assert counters(world.office_a, "09:00", "10:00") == {2}
    # Still to rebook: the manager decides, and its old time is free for it again.
    assert statuses(appointment) == [Appointment.Status.NEEDS_REBOOKING]
    with time_machine.travel(NOW, tick=False):
        [(listed, alternative)] = manager.get(url("rebook")).context["rows"]
    assert alternative.start == at("09:00")


def test_a_block_of_one_counter_takes_only_one_counter(world, manager):
    older = world.book("09:00", email="a@example.org")
    newer = world.book("09:00", email="b@example.org", channel=Appointment.Channel.PHONE)

    block(manager, counters="1", starts="09:00", ends="09:30")

    assert Block.objects.get().counters == 1
    assert counters(world.office_a, "09:00", "09:30") == {1}
    assert counters(world.office_a, "09:30", "10:00") == {2}
    assert statuses(older, newer) == [Appointment.Status.BOOKED, Appointment.Status.NEEDS_REBOOKING]
    assert counters(world.office_b, "09:00", "09:30") == {2}


def test_block_times_off_the_office_grid_are_a_form_error(world, manager):
    response = block(manager, starts="09:02", ends="09:30")

    assert response.status_code == 400
    assert "starts" in response.context["form"].errors
    assert not Block.objects.exists()
    assert counters(world.office_a, "09:00", "09:30") == {2}


def test_a_block_ending_before_it_starts_is_a_form_error(world, manager):
    response = block(manager, starts="10:00", ends="09:00")

    assert response.status_code == 400
    assert "ends" in response.context["form"].errors
    assert not Block.objects.exists()


def test_a_block_in_the_past_is_refused(world, manager):
    yesterday = block(manager, date=(TODAY - datetime.timedelta(days=1)).isoformat())
    this_morning = block(manager, starts="07:00", ends="08:00")

    assert yesterday.status_code == 400
    assert "date" in yesterday.context["form"].errors
    assert this_morning.status_code == 400
    assert "date" in this_morning.context["form"].errors
    assert not Block.objects.exists()


def test_the_page_lists_upcoming_blocks_with_a_way_to_remove_each(world, manager):
    block(manager, reason="Drucker defekt")
    block(manager, date=(TODAY + datetime.timedelta(days=1)).isoformat(), counters="1", reason="Schulung")
    Block.objects.create(
        office=world.office_b, date=TODAY, starts=datetime.time(9), ends=datetime.time(10), reason="Nord"
    )

    with time_machine.travel(NOW, tick=False):
        response = manager.get(url("blocks", english=True))

    text = response.content.decode()
    assert [b.reason for b in response.context["blocks"]] == ["Drucker defekt", "Schulung"]
    for stored in Block.objects.filter(office=world.office_a):
        assert url("block-remove", stored.pk, english=True) in text
    assert "Nord" not in text


def test_a_block_of_another_office_cannot_be_removed_here(world, manager):
    other = Block.objects.create(
        office=world.office_b, date=TODAY, starts=datetime.time(9), ends=datetime.time(10), reason="Nord"
    )

    assert remove(manager, other.pk).status_code == 404
    assert remove(manager, other.pk, slug="nord").status_code == 404
    assert remove(manager, 987654321).status_code == 404
    assert Block.objects.filter(pk=other.pk).exists()


def test_removing_needs_a_post(world, manager):
    block(manager)
    stored = Block.objects.get()

    assert manager.get(url("block-remove", stored.pk)).status_code == 405
    assert Block.objects.exists()


def test_a_block_that_is_over_stays_on_record(world, manager):
    block(manager, starts="09:00", ends="09:30")
    stored = Block.objects.get()

    with time_machine.travel(at("10:00"), tick=False):
        manager.post(url("block-remove", stored.pk))

    assert Block.objects.filter(pk=stored.pk).exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"date": "2026-13-45"},
        {"date": "99999-01-01"},
        {"date": "0001-01-01"},
        {"date": "9999-12-31"},
        {"date": ""},
        {"starts": "25:00"},
        {"starts": "abc"},
        {"ends": ""},
        {"counters": "-1"},
        {"counters": "0"},
        {"counters": "abc"},
        {"counters": "100000000000000000000"},
        {"reason": ""},
        {"reason": "x" * 201},
        {"reason": "<script>alert(1)</script>", "starts": "09:01"},
    ],
)
def test_malformed_blocks_are_form_errors_never_failures(world, manager, fields):
    response = block(manager, **fields)

    assert response.status_code == 400
    assert response.context["form"].errors
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not Block.objects.exists()
