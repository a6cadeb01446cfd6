"""Today's queue at one office, played through the real services: the kiosk's draw, the desk's check-in, and
the clerks' "call next", start, finish and no-show (``manage.py simulate_day``).

Citizens arrive as in ``demo.citizens`` (seeded): walk-ins in the walk-in
hours (a crowd at the door when they begin), pickups all day, and the day's
booked appointment holders a few minutes before their time (some never come,
and the clerk records the no-show after the grace time). A counter is staffed
while the slot grid has that many counters on shift; a free clerk calls the
next ticket the queue order gives the counter (``desk.queue.queue_call_next``),
the citizen walks up, is served and leaves. After closing the clerks serve
whoever still waits. Every step is its own transaction with ``now`` the
simulated time, so the status page, the call display and the ticket pages show
it as it happens.
"""

import datetime
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Max, Min

from booking.errors import BookingError
from booking.models import Appointment, Slot
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
from demo.history import (
    APPOINTMENT_NO_SHOW,
    ARRIVAL,
    GONE_AFTER,
    OPENING_CROWD,
    PICKUPS_PER_HOUR,
    TICKET_NO_SHOW,
    WALK_INS_PER_HOUR,
)
from desk.queue import queue_call_next, queue_step
from desk.selectors import day_range
from desk.services import visit_check_in, visit_no_show
from offices.models import Membership, Office, Service
from tickets.models import Kiosk, Ticket
from tickets.services import ticket_draw_at_kiosk, ticket_issue

CLERKS_PER_SCALE = 5


@dataclass
class Counter:
    number: int
    clerk: AbstractBaseUser
    busy: bool = False


@dataclass
class Tally:
    drawn: int = 0
    refused: int = 0
    checked_in: int = 0
    called: int = 0
    finished: int = 0
    no_shows: int = 0

    def __str__(self) -> str:
        return (
            f"{self.drawn} tickets drawn, {self.refused} refused, {self.checked_in} appointments checked in, "
            f"{self.called} calls, {self.finished} finished, {self.no_shows} no-shows"
        )


@dataclass
class DaySimulation:
    """One office's day from ``start`` to ``until`` (minutes after midnight, Berlin); ``say`` prints an event."""

    office: Office
    day: datetime.date
    start: float
    until: float
    seed: int
    say: Callable[[float, str], None]
    tally: Tally = field(default_factory=Tally)
    profiles: dict[int, tuple[float, bool]] = field(default_factory=dict)  # ticket id: (service minutes, gone)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"demo-simulation:{self.office.slug}:{self.day.isoformat()}:{self.seed}")  # noqa: S311
        self.events: list[tuple[float, int, Callable[[float], None]]] = []
        self.order = 0
        self.kiosk = Kiosk.objects.filter(office=self.office, active=True).order_by("pk").first()
        self.matters = office_matters([self.office])[self.office.pk]
        memberships = Membership.objects.filter(office=self.office).select_related("user").order_by("user__username")
        clerks = [membership.user for membership in memberships]
        if not clerks:
            raise ValueError(f"{self.office.slug} has no clerks to call anybody")
        self.services = {service.pk: service for service in Service.objects.filter(offices=self.office)}
        begins, ends = day_range(self.day)
        self.slots = [
            (minute_of(start), minute_of(end), counters, walkin)
            for start, end, counters, walkin in Slot.objects.filter(
                office=self.office, start__gte=begins, end__lte=ends
            )
            .order_by("start")
            .values_list("start", "end", "counters", "walkin_capacity")
        ]
        most = max((counters for _s, _e, counters, _w in self.slots), default=0)
        self.counters = [Counter(number, clerks[(number - 1) % len(clerks)]) for number in range(1, most + 1)]
        self.closes = max((end for _s, end, _c, _w in self.slots), default=0.0)
        self.scale = len(clerks) / CLERKS_PER_SCALE

    # The clock ----------------------------------------------------------------------------------

    def at(self, minute: float, action: Callable[[float], None]) -> None:
        if minute <= self.until:
            self.order += 1
            heapq.heappush(self.events, (minute, self.order, action))

    def next_minute(self) -> float | None:
        return self.events[0][0] if self.events else None

    def run_next(self) -> None:
        minute, _order, action = heapq.heappop(self.events)
        action(minute)

    # Who comes ----------------------------------------------------------------------------------

    def plan(self) -> None:
        """Schedule today's citizens from ``start`` on, and a first look by the clerks."""
        weekday = self.day.weekday()
        walkin_slots = [(s, e) for s, e, _c, walkin in self.slots if walkin]
        walk_ins = [m for m in self.matters if not m.pickup]
        pickups = [m for m in self.matters if m.pickup]
        if self.kiosk is not None and walkin_slots and walk_ins:
            crowd = poisson(self.rng, OPENING_CROWD * self.scale * WEEKDAY_DEMAND.get(weekday, 1.0))
            for _ in range(crowd):
                self._arrival(walkin_slots[0][0] + self.rng.uniform(0.0, 3.0), walk_ins)
            self._arrivals(walkin_slots, WALK_INS_PER_HOUR, walk_ins)
        if self.kiosk is not None and pickups and self.office.pickup_counters:
            self._arrivals([(s, e) for s, e, _c, _w in self.slots], PICKUPS_PER_HOUR, pickups)
        self._appointment_holders()
        self.at(self.start, self.clerks_look)

    def _arrivals(self, ranges: list[tuple[float, float]], per_hour: float, matters: list[Matter]) -> None:
        weekday = self.day.weekday()
        for first, last in ranges:
            mean = per_hour * self.scale * demand(weekday, first) * (last - first) / 60
            for _ in range(poisson(self.rng, mean)):
                self._arrival(self.rng.uniform(first, last), matters)

    def _arrival(self, minute: float, matters: list[Matter]) -> None:
        matter = choose(self.rng, matters)
        gone = self.rng.random() < TICKET_NO_SHOW
        serving = service_minutes(self.rng, matter)
        speaks = language(self.rng)
        if minute >= self.start:
            self.at(minute, lambda m: self.draw(m, matter, serving, gone, speaks))

    def _appointment_holders(self) -> None:
        begins, ends = day_range(self.day)
        booked = Appointment.objects.filter(
            office=self.office,
            start__gte=begins,
            start__lt=ends,
            status=Appointment.Status.BOOKED,
            visit=Appointment.Visit.EXPECTED,
        ).order_by("start", "pk")
        grace = settings.DESK_NO_SHOW_GRACE_MINUTES
        for appointment in booked:
            start = minute_of(appointment.start)
            if self.rng.random() < APPOINTMENT_NO_SHOW:
                self.at(
                    max(self.start, start + grace + self.rng.uniform(0, 10)), lambda m, a=appointment: self.missed(m, a)
                )
                continue
            arrives = max(self.start, self.opens_before(start), start + self.rng.uniform(*ARRIVAL))
            self.at(arrives, lambda m, a=appointment: self.check_in(m, a))

    def opens_before(self, minute: float) -> float:
        """The opening of the run of slots that ``minute`` falls in (nobody is checked in before the door opens)."""
        index = next((i for i, (_s, end, _c, _w) in enumerate(self.slots) if end > minute), None)
        if index is None:
            return minute
        while index > 0 and self.slots[index - 1][1] == self.slots[index][0]:
            index -= 1
        return self.slots[index][0]

    # What happens -------------------------------------------------------------------------------

    def now(self, minute: float) -> datetime.datetime:
        return moment(self.day, minute)

    def draw(self, minute: float, matter: Matter, serving: float, gone: bool, speaks: str) -> None:
        service = self.services[matter.service_id]
        try:
            if self.kiosk is not None:
                ticket = ticket_draw_at_kiosk(kiosk=self.kiosk, service=service, now=self.now(minute), language=speaks)
            else:
                queue = Ticket.Queue.PICKUP if matter.pickup else Ticket.Queue.WALK_IN
                ticket = ticket_issue(office=self.office, queue=queue, service=service, now=self.now(minute))
        except BookingError as error:
            self.tally.refused += 1
            self.say(minute, f"a citizen wanting {service.name} is turned away: {error.message}")
            return
        self.tally.drawn += 1
        self.profiles[ticket.pk] = (serving, gone)
        self.say(minute, f"{ticket.label} drawn for {service.name}")
        self.clerks_look(minute)

    def check_in(self, minute: float, appointment: Appointment) -> None:
        try:
            visit_check_in(appointment=appointment, by=self.counters[0].clerk, now=self.now(minute))
        except BookingError as error:
            self.say(minute, f"appointment {appointment.booking_code} not checked in: {error.message}")
            return
        ticket = Ticket.objects.get(appointment=appointment)
        booked = (appointment.end - appointment.start).total_seconds() / 60
        self.profiles[ticket.pk] = (max(1.0, booked * self.rng.uniform(0.6, 1.1)), False)
        self.tally.checked_in += 1
        self.say(minute, f"{ticket.label} checked in for the appointment at {clock(minute_of(appointment.start))}")
        self.clerks_look(minute)

    def missed(self, minute: float, appointment: Appointment) -> None:
        try:
            visit_no_show(appointment=appointment, by=self.counters[0].clerk, now=self.now(minute))
        except BookingError:
            return  # checked in meanwhile, or no longer booked
        self.tally.no_shows += 1
        self.say(minute, f"appointment {appointment.booking_code} did not come: no-show recorded")

    def on_shift(self, minute: float) -> tuple[int, int]:
        """The counters staffed at ``minute`` and how many of them the grid keeps for walk-ins: the slot's; after
        closing, those of the last slot (they finish the queue)."""
        for start, end, counters, walkin in self.slots:
            if start <= minute < end:
                return counters, walkin
        if self.slots and minute >= self.closes:
            return self.slots[-1][2], 0
        return 0, 0

    def clerks_look(self, minute: float) -> None:
        """Every free clerk on shift calls somebody: at the pickup and walk-in counters the next ticket the queue
        order gives the counter ("call next"); at the others, kept for appointments, the appointment holder due
        first, and in the hours without walk-in counters the next ticket when no appointment holder waits."""
        staffed, walkin = self.on_shift(minute)
        pickup = self.office.pickup_counter_numbers
        general = [counter.number for counter in self.counters[:staffed] if counter.number not in pickup]
        queue_counters = pickup | set(general[:walkin])
        nobody, no_holder = False, False
        for counter in self.counters[:staffed]:
            if counter.busy:
                continue
            ticket = None
            if counter.number not in queue_counters and not no_holder:
                ticket = self.call_holder(counter, minute)
                no_holder = ticket is None
            if ticket is None and not nobody and (counter.number in queue_counters or not walkin):
                ticket = queue_call_next(
                    office=self.office, counter=counter.number, by=counter.clerk, now=self.now(minute)
                )
                nobody = ticket is None
            if ticket is not None:
                self.called(minute, counter, ticket)

    def call_holder(self, counter: Counter, minute: float) -> Ticket | None:
        """Call the waiting appointment holder whose time is first, as a clerk does from the day's list."""
        waiting = Ticket.objects.filter(
            office=self.office, day=self.day, queue=Ticket.Queue.APPOINTMENT, status=Ticket.Status.WAITING
        ).order_by("appointment__start", "pk")
        for ticket in waiting:
            try:
                return queue_step(
                    ticket=ticket,
                    step="call",
                    by=counter.clerk,
                    now=self.now(minute),
                    counter=counter.number,
                    only_waiting=True,
                )
            except BookingError:
                continue
        return None

    def called(self, minute: float, counter: Counter, ticket: Ticket) -> None:
        counter.busy = True
        self.tally.called += 1
        self.say(minute, f"{ticket.label} called to counter {counter.number}")
        serving, gone = self.profiles.get(ticket.pk, (10.0, False))
        if gone:
            self.at(minute + self.rng.uniform(*GONE_AFTER), lambda m: self.gone(m, counter, ticket))
        else:
            walk = self.rng.uniform(*WALK_UP)
            self.at(minute + walk, lambda m: self.serve(m, counter, ticket, serving))

    def gone(self, minute: float, counter: Counter, ticket: Ticket) -> None:
        queue_step(ticket=ticket, step="no_show", by=counter.clerk, now=self.now(minute))
        self.tally.no_shows += 1
        self.say(minute, f"{ticket.label} did not come to counter {counter.number}: no-show")
        counter.busy = False
        self.clerks_look(minute)

    def serve(self, minute: float, counter: Counter, ticket: Ticket, serving: float) -> None:
        queue_step(ticket=ticket, step="start", by=counter.clerk, now=self.now(minute))
        self.say(minute, f"{ticket.label} at counter {counter.number}")
        self.at(minute + serving, lambda m: self.finish(m, counter, ticket, serving))

    def finish(self, minute: float, counter: Counter, ticket: Ticket, serving: float) -> None:
        queue_step(ticket=ticket, step="finish", by=counter.clerk, now=self.now(minute))
        self.tally.finished += 1
        self.say(minute, f"{ticket.label} finished at counter {counter.number} after {serving:.0f} min")
        counter.busy = False
        self.clerks_look(minute)


def clock(minute: float) -> str:
    """``HH:MM`` of a minute after midnight."""
    whole = int(minute)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def opening_minutes(office: Office, day: datetime.date) -> tuple[float, float] | None:
    """When the office's slots of ``day`` begin and end (minutes after midnight, Berlin); None: closed."""
    begins, ends = day_range(day)
    bounds = Slot.objects.filter(office=office, start__gte=begins, end__lte=ends).aggregate(
        first=Min("start"), last=Max("end")
    )
    if bounds["first"] is None:
        return None
    return minute_of(bounds["first"]), minute_of(bounds["last"])
