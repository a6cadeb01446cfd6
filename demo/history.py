"""The demo city's past: four weeks of finished queue tickets and visited appointments, written in bulk.

What the pages that look back read is written here the way the real services
would have left it:

* ``tickets.busy`` (the "usually busy" chart) counts every ticket by the
  Berlin hour of ``issued_at``: walk-ins (W) drawn at the kiosk in the walk-in
  hours, pickups (A) all day, appointment holders' tickets (T) issued at
  check-in, urgent cases (N) where the office keeps an urgent contingent;
* ``tickets.estimate`` learns each matter's service time from the finished
  W, A and N tickets (``called_at`` to ``finished_at``);
* the desk's day list and its export (``desk.views.records``) show each past
  appointment's visit: arrived, called to a counter, served and finished, or
  a no-show recorded after the grace time.

Every day is built from the office's slots of that day (so a holiday, a
closure or a day without clerks has none, and a mobile site only its dates):
appointments take free bookable units, counted on the slots like a booking
(``verify_integrity --from`` the window's first day finds nothing), walk-ins
draw only while the walk-in capacity left in the day takes them (as
``tickets.selectors.walkin_state`` decides), and the counters serve each
queue first come first served. Random choices are seeded by office and date,
so a day looks the same whenever it is written. A day already having tickets
or visited appointments at an office is left alone: a second run on the same
day writes nothing, a run on the next day adds only the day that has become
history.
"""

import datetime
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Model, Q
from django.db.models.functions import Coalesce, TruncDate

from booking.grid import BERLIN
from booking.models import BOOKING_CODE_ALPHABET, BOOKING_CODE_LENGTH, Appointment, AppointmentService, Slot
from booking.needs import round_to_grid
from demo.citizens import (
    WALK_UP,
    WEEKDAY_DEMAND,
    Matter,
    choose,
    demand,
    language,
    minute_of,
    moment,
    office_matters,
    poisson,
    service_minutes,
)
from demo.city import FIRST_NAMES, LAST_NAMES
from offices.models import Membership, Office
from tickets.models import Kiosk, Ticket, TicketSequence

HISTORY_DAYS = 28  # the "usually busy" chart and the service times look back four weeks (QUEUE_HISTORY_DAYS)

START_CHANCE = 0.2  # at demand 1: the chance that a free bookable unit of a slot begins an appointment
MAX_START_CHANCE = 0.9
PHONE_SHARE = 0.25
SECOND_PERSON_SHARE = 0.1
APPOINTMENT_NO_SHOW = 0.07
TICKET_NO_SHOW = 0.04
ARRIVAL = (-20.0, 4.0)  # minutes from the appointment's start to the check-in (negative: early)
CALLED_AFTER = (0.0, 6.0)  # minutes from the start (or a late arrival) to the call
NO_SHOW_AFTER = (0.0, 20.0)  # minutes after the grace time that the clerk records a no-show
GONE_AFTER = (2.0, 3.5)  # minutes a clerk waits for a called ticket before recording a no-show
# How long before its start an appointment was booked (a few values, so that writing them takes a few UPDATEs).
BOOKED_BEFORE = [datetime.timedelta(days=days, minutes=days * 97 % 600) for days in (1, 2, 3, 5, 8, 13, 21, 34)]
UPDATE_CHUNK = 900  # ids per UPDATE: within SQLite's limit of query parameters

WALK_INS_PER_HOUR = 8.0  # per five clerks of the office, at demand 1
OPENING_CROWD = 5.0  # waiting at the door when the walk-in hours begin, per five clerks
PICKUPS_PER_HOUR = 2.5
URGENT_PER_DAY = 1.5
URGENT_CALLED_AFTER = (3.0, 20.0)
CLERKS_PER_SCALE = 5

Status = Ticket.Status
Queue = Ticket.Queue
Visit = Appointment.Visit


@dataclass(frozen=True)
class HistoryResult:
    first: datetime.date
    last: datetime.date
    office_days: int  # written now
    tickets: int  # written now
    appointments: int


@dataclass
class DaySlot:
    slot: Slot
    start: float  # minutes after midnight, Berlin
    end: float
    opens: float  # the start of its run of consecutive slots (the opening, or the end of the lunch break)

    @property
    def free(self) -> int:
        return self.slot.capacity - self.slot.booked_online - self.slot.booked_phone


@dataclass
class OfficeDay:
    """One office's day of the past, built in memory; ``history_record`` writes all days at once."""

    office: Office
    day: datetime.date
    slots: list[DaySlot]
    matters: list[Matter]
    clerks: list[int]  # user ids, the counter's clerk is clerks[(counter - 1) % len]
    kiosk: Kiosk | None
    codes: set[str]  # booking codes taken (in the database or by this run)
    rng: random.Random = field(init=False)
    appointments: list[Appointment] = field(default_factory=list)
    lines: list[AppointmentService] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"demo-history:{self.office.slug}:{self.day.isoformat()}")  # noqa: S311 - demo data
        self.weekday = self.day.weekday()
        self.scale = max(1, len(self.clerks)) / CLERKS_PER_SCALE
        self.closes = max(slot.end for slot in self.slots)
        # Counters: the pickup fast lane's, an urgent counter, the walk-in counters, then those for appointments.
        self.pickup_counters = sorted(self.office.pickup_counter_numbers)
        after = max(self.pickup_counters, default=0) + 1
        self.urgent_counter = after if self.office.urgent_counters else None
        after += 1 if self.urgent_counter else 0
        walkin = max(slot.slot.walkin_capacity for slot in self.slots)
        self.walkin_counters = list(range(after, after + walkin))
        after += walkin
        self.appointment_counters = list(range(after, after + max(slot.slot.capacity for slot in self.slots)))

    def build(self) -> "OfficeDay":
        self._appointments()
        if self.kiosk is not None:
            self._walk_ins()
            self._pickups()
        if self.urgent_counter is not None:
            self._urgent_cases()
        for queue in Queue.values:
            of_queue = sorted((t for t in self.tickets if t.queue == queue), key=lambda t: t.issued_at)
            for number, ticket in enumerate(of_queue, start=1):
                ticket.number = number
        return self

    # Helpers ------------------------------------------------------------------------------------

    def _at(self, minute: float) -> datetime.datetime:
        return moment(self.day, minute)

    def _uniform(self, bounds: tuple[float, float]) -> float:
        return self.rng.uniform(*bounds)

    def _clerk(self, counter: int) -> int | None:
        return self.clerks[(counter - 1) % len(self.clerks)] if self.clerks else None

    def _ticket(self, *, queue: str, matter: Matter | None, issued: float, **fields: object) -> Ticket:
        ticket = Ticket(
            office=self.office,
            day=self.day,
            queue=queue,
            number=0,  # numbered in the order drawn once the day is complete
            service_id=matter.service_id if matter else None,
            kiosk=self.kiosk if queue in (Queue.WALK_IN, Queue.PICKUP) else None,
            language=language(self.rng),
            issued_at=self._at(issued),
            **fields,
        )
        self.tickets.append(ticket)
        return ticket

    def _serve(self, ticket: Ticket, *, counter: int, called: float, matter: Matter) -> float:
        """Call ``ticket`` to ``counter`` at ``called``; it is served, or gone. Returns when the counter is free."""
        ticket.counter = counter
        ticket.called_by_id = self._clerk(counter)
        ticket.called_at = self._at(called)
        if self.rng.random() < TICKET_NO_SHOW:
            gone = called + self._uniform(GONE_AFTER)
            ticket.status, ticket.no_show_at = Status.NO_SHOW, self._at(gone)
            return gone
        started = called + self._uniform(WALK_UP)
        finished = started + service_minutes(self.rng, matter)
        ticket.status = Status.DONE
        ticket.service_started_at, ticket.finished_at = self._at(started), self._at(finished)
        return finished + self._uniform((0.2, 1.0))

    def _booking_code(self) -> str:
        while True:
            code = "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(BOOKING_CODE_LENGTH))
            if code not in self.codes:
                self.codes.add(code)
                return code

    # Appointments and their holders' tickets ----------------------------------------------------

    def _appointments(self) -> None:
        """Free units begin appointments, more often in busy hours; each takes its units in every slot it covers."""
        bookable = [matter for matter in self.matters if not matter.pickup]
        if not bookable:
            return
        step = self.office.slot_minutes
        counters_free = dict.fromkeys(self.appointment_counters, 0.0)
        for index, slot in enumerate(self.slots):
            chance = min(MAX_START_CHANCE, START_CHANCE * demand(self.weekday, slot.start))
            for _unit in range(slot.free):
                if self.rng.random() >= chance:
                    continue
                matter = choose(self.rng, bookable)
                persons = 2 if matter.max_persons >= 2 and self.rng.random() < SECOND_PERSON_SHARE else 1
                span = self.slots[index : index + round_to_grid(matter.minutes * persons, step) // step]
                if not self._fits(span, round_to_grid(matter.minutes * persons, step) // step):
                    continue
                channel = Appointment.Channel.PHONE if self.rng.random() < PHONE_SHARE else Appointment.Channel.ONLINE
                for covered in span:
                    if channel == Appointment.Channel.PHONE:
                        covered.slot.booked_phone += 1
                    else:
                        covered.slot.booked_online += 1
                self._visit(slot, span[-1].slot.end, matter, persons, channel, counters_free)

    @staticmethod
    def _fits(span: list[DaySlot], needed: int) -> bool:
        if len(span) < needed or any(slot.free <= 0 for slot in span):
            return False
        return all(before.slot.end == after.slot.start for before, after in zip(span, span[1:], strict=False))

    def _visit(
        self,
        slot: DaySlot,
        end: datetime.datetime,
        matter: Matter,
        persons: int,
        channel: str,
        counters_free: dict[int, float],
    ) -> None:
        """The appointment, how its visit went, and its holder's ticket (from the check-in on)."""
        start = slot.start
        booked_at = self._at(start) - self.rng.choice(BOOKED_BEFORE)
        appointment = Appointment(
            office=self.office,
            start=slot.slot.start,
            end=end,
            channel=channel,
            booking_code=self._booking_code(),
            name=f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}",
            language=language(self.rng),
            created_at=booked_at,
        )
        self.appointments.append(appointment)
        self.lines.append(
            AppointmentService(
                appointment=appointment, service_id=matter.service_id, persons=persons, minutes=matter.minutes * persons
            )
        )
        if self.rng.random() < APPOINTMENT_NO_SHOW:
            gone = start + settings.DESK_NO_SHOW_GRACE_MINUTES + self._uniform(NO_SHOW_AFTER)
            appointment.visit, appointment.no_show_at = Visit.NO_SHOW, self._at(gone)
            appointment.updated_at = appointment.no_show_at
            return
        arrived = max(slot.opens, start + self._uniform(ARRIVAL))
        called = max(start, arrived) + self._uniform(CALLED_AFTER)
        counter = min(counters_free, key=lambda number: (counters_free[number] > called, counters_free[number]))
        started = called + self._uniform(WALK_UP)
        finished = started + service_minutes(self.rng, matter, minutes=matter.minutes * persons)
        counters_free[counter] = finished
        appointment.visit, appointment.counter = Visit.DONE, counter
        appointment.arrived_at, appointment.called_at = self._at(arrived), self._at(called)
        appointment.service_started_at, appointment.finished_at = self._at(started), self._at(finished)
        appointment.updated_at = appointment.finished_at
        self._ticket(
            queue=Queue.APPOINTMENT,
            matter=matter,
            issued=arrived,
            appointment=appointment,
            status=Status.DONE,
            issued_by_id=self._clerk(counter),
            called_by_id=self._clerk(counter),
            counter=counter,
            called_at=appointment.called_at,
            service_started_at=appointment.service_started_at,
            finished_at=appointment.finished_at,
        ).language = appointment.language

    # Walk-ins, pickups, urgent cases ------------------------------------------------------------

    def _arrivals(self, slots: list[DaySlot], per_hour: float) -> list[float]:
        minutes = []
        for slot in slots:
            mean = per_hour * self.scale * demand(self.weekday, slot.start) * (slot.end - slot.start) / 60
            minutes += [self._uniform((slot.start, slot.end)) for _ in range(poisson(self.rng, mean))]
        return sorted(minutes)

    def _walk_ins(self) -> None:
        """Walk-ins draw while the walk-in counter-minutes left today take them; the walk-in counters serve them."""
        window = [slot for slot in self.slots if slot.slot.walkin_capacity > 0]
        matters = [matter for matter in self.matters if not matter.pickup]
        if not window or not matters or not self.walkin_counters:
            return
        crowd = poisson(self.rng, OPENING_CROWD * self.scale * WEEKDAY_DEMAND.get(self.weekday, 1.0))
        arrivals = sorted(
            [window[0].start + self._uniform((0.0, 3.0)) for _ in range(crowd)]
            + self._arrivals(window, WALK_INS_PER_HOUR)
        )
        cut_off = self.closes - self.office.walkin_cutoff_minutes
        free = dict.fromkeys(self.walkin_counters, window[0].start)
        drawn: list[tuple[float, float, float]] = []  # (called, counter free again, expected minutes)
        for arrived in arrivals:
            if arrived >= cut_off:
                break
            matter = choose(self.rng, matters)
            left = sum(
                slot.slot.walkin_capacity * (slot.end - max(slot.start, arrived))
                for slot in window
                if slot.end > arrived
            )
            load = matter.minutes + sum(
                expected if called > arrived else max(0.0, expected - (arrived - called))
                for called, done, expected in drawn
                if done > arrived
            )
            if load > left:
                continue  # the kiosk says: no more walk-in tickets today
            counter = min(free, key=lambda number: (free[number], number))
            called = max(arrived + self._uniform((0.2, 1.0)), free[counter])
            ticket = self._ticket(queue=Queue.WALK_IN, matter=matter, issued=arrived)
            free[counter] = self._serve(ticket, counter=counter, called=called, matter=matter)
            drawn.append((called, free[counter], float(matter.minutes)))

    def _pickups(self) -> None:
        matters = [matter for matter in self.matters if matter.pickup]
        if not matters or not self.pickup_counters:
            return
        free = dict.fromkeys(self.pickup_counters, 0.0)
        for arrived in self._arrivals(self.slots, PICKUPS_PER_HOUR):
            matter = choose(self.rng, matters)
            counter = min(free, key=lambda number: (free[number], number))
            called = max(arrived + self._uniform((0.2, 1.0)), free[counter])
            ticket = self._ticket(queue=Queue.PICKUP, matter=matter, issued=arrived)
            free[counter] = self._serve(ticket, counter=counter, called=called, matter=matter)

    def _urgent_cases(self) -> None:
        matters = [matter for matter in self.matters if not matter.pickup]
        if not matters or self.urgent_counter is None:
            return
        free = 0.0
        count = poisson(self.rng, URGENT_PER_DAY * WEEKDAY_DEMAND.get(self.weekday, 1.0))
        for arrived in sorted(self._uniform((self.slots[0].start, self.closes - 30)) for _ in range(count)):
            matter = matters[0]  # the first matter an immigration office offers: the residence title
            called = max(arrived + self._uniform(URGENT_CALLED_AFTER), free)
            ticket = self._ticket(
                queue=Queue.URGENT, matter=matter, issued=arrived, issued_by_id=self._clerk(self.urgent_counter)
            )
            free = self._serve(ticket, counter=self.urgent_counter, called=called, matter=matter)


def _day_slots(slots: list[Slot]) -> list[DaySlot]:
    day_slots: list[DaySlot] = []
    for slot in slots:
        start, end = minute_of(slot.start), minute_of(slot.end)
        follows = day_slots and day_slots[-1].slot.end == slot.start
        day_slots.append(DaySlot(slot, start, end, day_slots[-1].opens if follows else start))
    return day_slots


def _days_with_history(offices: list[Office], first: datetime.date, last: datetime.date) -> set[tuple[int, object]]:
    """(office id, date) of the days that have tickets, ticket numbers or visited appointments already."""
    window = Q(office__in=offices, day__range=(first, last))
    days = set(Ticket.objects.filter(window).values_list("office_id", "day").distinct())
    days |= set(TicketSequence.objects.filter(window).values_list("office_id", "day").distinct())
    visited = (
        Appointment.objects.filter(office__in=offices, visit__in=[Visit.DONE, Visit.NO_SHOW])
        .annotate(local=TruncDate("start", tzinfo=BERLIN))
        .filter(local__range=(first, last))
        .values_list("office_id", "local")
        .distinct()
    )
    return days | set(visited)


def history_window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return today - datetime.timedelta(days=HISTORY_DAYS), today - datetime.timedelta(days=1)


def history_record(*, offices: list[Office], today: datetime.date) -> HistoryResult:
    """Write the past of these offices for the ``HISTORY_DAYS`` before ``today`` where it is missing.

    Needs the slots of those days (``capacity_refresh``); takes the units of the appointments it writes on them.
    Call it inside the seeding transaction.
    """
    first, last = history_window(today)
    done = _days_with_history(offices, first, last)
    matters = office_matters(offices)
    clerks: dict[int, list[int]] = defaultdict(list)
    for office_id, user_id in (
        Membership.objects.filter(office__in=offices)
        .order_by("office_id", "user__username")
        .values_list("office_id", "user_id")
    ):
        clerks[office_id].append(user_id)
    kiosks = {kiosk.office_id: kiosk for kiosk in Kiosk.objects.filter(office__in=offices, active=True).order_by("pk")}
    slots: dict[tuple[int, datetime.date], list[Slot]] = defaultdict(list)
    for slot in Slot.objects.filter(office__in=offices, local_date__range=(first, last)).order_by("office_id", "start"):
        slots[slot.office_id, slot.local_date].append(slot)
    codes = set(Appointment.objects.values_list("booking_code", flat=True))

    days: list[OfficeDay] = []
    for office in offices:
        day = first
        while day <= last:
            day_slots = _day_slots(slots.get((office.pk, day), []))
            if (office.pk, day) not in done and any(slot.slot.counters for slot in day_slots):
                days.append(
                    OfficeDay(
                        office=office,
                        day=day,
                        slots=day_slots,
                        matters=matters[office.pk],
                        clerks=clerks[office.pk],
                        kiosk=kiosks.get(office.pk),
                        codes=codes,
                    ).build()
                )
            day += datetime.timedelta(days=1)
    _write(days)
    return HistoryResult(
        first=first,
        last=last,
        office_days=len(days),
        tickets=sum(len(day.tickets) for day in days),
        appointments=sum(len(day.appointments) for day in days),
    )


def _write(days: list[OfficeDay]) -> None:
    """Insert in bulk, then set what ``bulk_create`` cannot, with one UPDATE per distinct value (not per row)."""
    appointments = [appointment for day in days for appointment in day.appointments]
    booked_before = [appointment.start - appointment.created_at for appointment in appointments]
    Appointment.objects.bulk_create(appointments, batch_size=1000)
    # bulk_create stamps created_at and updated_at with the present (auto_now): the booking's and visit's times.
    by_lead: dict[datetime.timedelta, list[int]] = defaultdict(list)
    for appointment, lead in zip(appointments, booked_before, strict=True):
        by_lead[lead].append(appointment.pk)
    for lead, ids in by_lead.items():
        _update(Appointment, ids, created_at=F("start") - lead)
    _update(Appointment, [a.pk for a in appointments], updated_at=Coalesce("finished_at", "no_show_at"))
    AppointmentService.objects.bulk_create([line for day in days for line in day.lines], batch_size=1000)
    Ticket.objects.bulk_create([ticket for day in days for ticket in day.tickets], batch_size=1000)
    TicketSequence.objects.bulk_create(
        [
            TicketSequence(office=day.office, day=day.day, queue=queue, last=count)
            for day in days
            for queue, count in _counts(day.tickets).items()
        ],
        batch_size=1000,
    )
    by_counts: dict[tuple[int, int], list[int]] = defaultdict(list)
    for day in days:
        for slot in day.slots:
            if slot.slot.booked_online or slot.slot.booked_phone:
                by_counts[slot.slot.booked_online, slot.slot.booked_phone].append(slot.slot.pk)
    for (online, phone), ids in by_counts.items():
        _update(Slot, ids, booked_online=online, booked_phone=phone)


def _update(model: type[Model], ids: list[int], **values: object) -> None:
    for start in range(0, len(ids), UPDATE_CHUNK):
        model.objects.filter(pk__in=ids[start : start + UPDATE_CHUNK]).update(**values)


def _counts(tickets: list[Ticket]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for ticket in tickets:
        counts[ticket.queue] += 1
    return counts
