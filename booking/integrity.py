"""The slot grid's counts recomputed from what occupies it: appointments that are booked, and holds.

A booked appointment or a hold occupies one unit, of its channel, in every
slot of its office with ``start <= slot.start < end``. ``integrity_check``
reads each office's slots, appointments and holds once (three queries per
office, whatever their number) and compares in memory; it writes nothing.
"""

import datetime
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from booking.grid import BERLIN, local_datetime
from booking.models import Appointment, Hold, Slot
from offices.models import Office


@dataclass(frozen=True)
class SlotProblem:
    """A slot whose stored counts differ from what occupies it, or that is over capacity."""

    office: Office
    start: datetime.datetime
    capacity: int
    booked_online: int
    booked_phone: int
    expected_online: int
    expected_phone: int

    @property
    def over_capacity(self) -> bool:
        """More units stored, or needed by its appointments and holds, than the slot has."""
        return max(self.booked_online + self.booked_phone, self.expected_online + self.expected_phone) > self.capacity

    @property
    def counts_differ(self) -> bool:
        return (self.booked_online, self.booked_phone) != (self.expected_online, self.expected_phone)

    def __str__(self) -> str:
        return (
            f"{_office_label(self.office)} {_local(self.start):%a %d.%m.%Y %H:%M}: "
            f"online {self.booked_online} (expected {self.expected_online}), "
            f"phone {self.booked_phone} (expected {self.expected_phone}), capacity {self.capacity}"
        )


@dataclass(frozen=True)
class UncoveredBooking:
    """A booked appointment or a hold with a part of its time that has no slot (a closure, a shorter day)."""

    kind: str  # "appointment" or "hold"
    label: str  # the booking code, or the hold's id
    office: Office
    start: datetime.datetime
    end: datetime.datetime
    missing_from: datetime.datetime  # the first moment without a slot

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.label} at {_office_label(self.office)} "
            f"{_local(self.start):%a %d.%m.%Y %H:%M}–{_local(self.end):%H:%M}: "
            f"no slot from {_local(self.missing_from):%H:%M}"
        )


@dataclass
class IntegrityReport:
    first: datetime.date
    last: datetime.date | None  # None: up to the last slot there is
    offices: int = 0
    slots: int = 0
    appointments: int = 0
    holds: int = 0
    last_slot_date: datetime.date | None = None
    slot_problems: list[SlotProblem] = field(default_factory=list)
    uncovered: list[UncoveredBooking] = field(default_factory=list)

    @property
    def over_capacity(self) -> list[SlotProblem]:
        return [problem for problem in self.slot_problems if problem.over_capacity]

    @property
    def counts_differ(self) -> list[SlotProblem]:
        return [problem for problem in self.slot_problems if problem.counts_differ]

    @property
    def ok(self) -> bool:
        return not self.slot_problems and not self.uncovered

    def summary(self) -> str:
        until = self.last.isoformat() if self.last else f"the last slot ({self.last_slot_date or 'none'})"
        return (
            f"Checked {self.slots} slots of {self.offices} offices from {self.first.isoformat()} to {until} "
            f"against {self.appointments} booked appointments and {self.holds} holds: "
            f"{len(self.over_capacity)} slots over capacity, {len(self.counts_differ)} slots with wrong counts, "
            f"{len(self.uncovered)} appointments or holds without slots."
        )


def _local(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(BERLIN)


def _office_label(office: Office) -> str:
    return f"{office.name} ({office.slug})"


def integrity_check(
    *, offices: Iterable[Office], first: datetime.date, last: datetime.date | None = None
) -> IntegrityReport:
    """Compare every slot of these offices from ``first`` to ``last`` (None: all later ones) with its occupants."""
    report = IntegrityReport(first=first, last=last)
    for office in offices:
        report.offices += 1
        _check_office(office=office, report=report)
    return report


Occupant = tuple[str, str, datetime.datetime, datetime.datetime, str]  # kind, label, start, end, channel


def _check_office(*, office: Office, report: IntegrityReport) -> None:
    window_start = local_datetime(report.first, 0)
    window_end = local_datetime(report.last + datetime.timedelta(days=1), 0) if report.last else None
    slots = Slot.objects.filter(office=office, local_date__gte=report.first)
    appointments = Appointment.objects.filter(office=office, status=Appointment.Status.BOOKED, end__gt=window_start)
    holds = Hold.objects.filter(office=office, end__gt=window_start)
    if window_end is not None:
        slots = slots.filter(local_date__lte=report.last)
        appointments = appointments.filter(start__lt=window_end)
        holds = holds.filter(start__lt=window_end)
    rows = list(
        slots.order_by("start").values_list("local_date", "start", "end", "capacity", "booked_online", "booked_phone")
    )
    occupants: list[Occupant] = [
        ("appointment", code, start, end, channel)
        for code, start, end, channel in appointments.values_list("booking_code", "start", "end", "channel")
    ]
    report.appointments += len(occupants)
    held = [
        (f"#{pk}", start, end, channel)
        for pk, start, end, channel in holds.values_list("pk", "start", "end", "channel")
    ]
    report.holds += len(held)
    occupants += [("hold", label, start, end, channel) for label, start, end, channel in held]

    report.slots += len(rows)
    if rows:
        report.last_slot_date = max(report.last_slot_date or rows[-1][0], rows[-1][0])
    starts = [row[1] for row in rows]
    ends = [row[2] for row in rows]
    # Per channel, +1 where an occupant's slots begin and -1 after them; the running sum is the expected count.
    changes = {Appointment.Channel.ONLINE: [0] * (len(rows) + 1), Appointment.Channel.PHONE: [0] * (len(rows) + 1)}
    for kind, label, start, end, channel in occupants:
        first_index, stop_index = bisect_left(starts, start), bisect_left(starts, end)
        changes[channel][first_index] += 1
        changes[channel][stop_index] -= 1
        missing = _first_gap(
            starts[first_index:stop_index],
            ends[first_index:stop_index],
            begin=max(start, window_start),
            end=end if window_end is None else min(end, window_end),
        )
        if missing is not None:
            report.uncovered.append(UncoveredBooking(kind, label, office, start, end, missing))

    online = phone = 0
    for index, (_day, start, _end, capacity, booked_online, booked_phone) in enumerate(rows):
        online += changes[Appointment.Channel.ONLINE][index]
        phone += changes[Appointment.Channel.PHONE][index]
        problem = SlotProblem(office, start, capacity, booked_online, booked_phone, online, phone)
        if problem.counts_differ or problem.over_capacity:
            report.slot_problems.append(problem)


def _first_gap(
    starts: list[datetime.datetime], ends: list[datetime.datetime], *, begin: datetime.datetime, end: datetime.datetime
) -> datetime.datetime | None:
    """The first moment from begin to end that none of these consecutive slots covers; None if they cover it all."""
    cursor = begin
    for slot_start, slot_end in zip(starts, ends, strict=True):
        if slot_start != cursor:
            return cursor
        cursor = slot_end
    return cursor if cursor < end else None
