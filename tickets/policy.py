"""The queue order: which waiting ticket a counter calls next. The one place this policy lives.

For a counter, the waiting tickets are ranked:

1. urgent cases (N), which only a clerk issues, when a clerk decides a case
   cannot wait, in the order they were issued;
2. pickups of finished documents (A) at the counters the office designates
   for the pickup fast lane (``Office.pickup_counters``), in the order drawn;
   where an office designates none, every counter takes pickups here;
3. appointment holders (T) whose time has come, by their appointment time:
   an appointment is kept at its time, not behind the walk-ins who came first;
4. walk-ins (W), first come first served; how many may draw a ticket is the
   walk-in capacity's business (``tickets.selectors.walkin_state``), not the
   order's;
5. appointment holders who came early, by their appointment time: a counter
   with nobody else waiting need not sit idle until their time;
6. pickups at a counter not designated for them: the last resort, so that a
   day on which no pickup counter is staffed leaves nobody waiting for ever.

Within a queue the numbers keep the order in which they were drawn. Tickets already called, in service, done or
missed are not in the queue.
"""

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass

from tickets.models import Ticket

Queue = Ticket.Queue

URGENT, PICKUP_LANE, DUE, WALK_IN, EARLY, PICKUP_ELSEWHERE = range(6)


@dataclass(frozen=True)
class Lane:
    """A counter as the policy sees it: whether it serves the pickup fast lane."""

    pickup: bool

    @classmethod
    def of(cls, *, counter: int | None, pickup_counters: frozenset[int]) -> "Lane":
        return cls(pickup=not pickup_counters or counter in pickup_counters)


def rank(ticket: Ticket, *, lane: Lane, now: datetime.datetime) -> tuple[int, float, float]:
    """The ticket's place for a counter of ``lane``: lower is called first (T tickets need their appointment).

    A ticket not yet saved (the one a kiosk is about to issue) comes after every saved one of its rank and time.
    """
    # The number, not the time taken before waiting for it, orders the draws of one queue (tickets.visits).
    number = float(ticket.number) if ticket.number is not None else math.inf
    if ticket.queue == Queue.URGENT:
        return (URGENT, number, 0.0)
    if ticket.queue == Queue.PICKUP:
        return (PICKUP_LANE if lane.pickup else PICKUP_ELSEWHERE, number, 0.0)
    if ticket.queue == Queue.APPOINTMENT:
        return (DUE if ticket.appointment.start <= now else EARLY, ticket.appointment.start.timestamp(), number)
    return (WALK_IN, number, 0.0)


def queue_order(tickets: Iterable[Ticket], *, lane: Lane, now: datetime.datetime) -> list[Ticket]:
    """The waiting tickets in the order a counter of ``lane`` calls them."""
    waiting = [ticket for ticket in tickets if ticket.status == Ticket.Status.WAITING]
    return sorted(waiting, key=lambda ticket: rank(ticket, lane=lane, now=now))


def lane_of(ticket: Ticket, *, pickup_counters: frozenset[int]) -> Lane:
    """The lane that serves a ticket: the fast lane for pickups where the office has one, else the general one."""
    return Lane(pickup=ticket.queue == Queue.PICKUP or not pickup_counters)
