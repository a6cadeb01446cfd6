"""The walk-in queue's little world: the desk's two offices with walk-in hours, a pickup service and a kiosk.

On top of ``tests.support.desk_steps.desk_world`` (Monday 23 November 2026, offices "mitte"
and "nord", 08:00–12:00 and 13:00–16:00, two counters each): on Mondays one
of office A's two counters serves walk-ins from 08:00 to 12:00; both offices
offer "abholung-ausweis", the pickup of a finished document (5 minutes); office
A has a kiosk at its entrance. Walk-in tickets stop 30 minutes before closing
(the default).
"""

import datetime
from dataclasses import dataclass

from booking.models import Appointment
from booking.services.slots import capacity_refresh
from offices.models import Office, Service, WalkInWindow
from tests.support.desk_steps import LAST, TODAY, DeskWorld, at, desk_world
from tests.support.factories import offer
from tickets.models import Kiosk, Ticket
from tickets.services import ticket_issue

__all__ = ["TODAY", "at", "QueueWorld", "queue_world"]


@dataclass
class QueueWorld(DeskWorld):
    kiosk: Kiosk

    def book(self, hhmm: str, **kwargs: object) -> Appointment:
        """As the desk's, but by phone: on office A the walk-in counter leaves one bookable unit, the phone's."""
        kwargs.setdefault("channel", Appointment.Channel.PHONE)
        return super().book(hhmm, **kwargs)

    def pickup(self) -> Service:
        return Service.objects.get(slug="abholung-ausweis")

    def draw(
        self,
        hhmm: str,
        *,
        queue: str = Ticket.Queue.WALK_IN,
        service: str | None = "personalausweis",
        office: Office | None = None,
        day: datetime.date = TODAY,
    ) -> Ticket:
        """A ticket drawn at ``hhmm`` through ``tickets.services.ticket_issue`` (urgent ones by clerk A)."""
        return ticket_issue(
            office=office or self.office_a,
            queue=queue,
            service=self.service(service) if service else None,
            now=at(hhmm, day),
            by=self.clerk_a if queue == Ticket.Queue.URGENT else None,
        )


def queue_world() -> QueueWorld:
    world = desk_world()
    for office in (world.office_a, world.office_b):
        offer(
            office,
            "abholung-ausweis",
            5,
            name_de="Abholung Ausweis",
            name_en="Pickup of an identity card",
            pickup=True,
        )
    WalkInWindow.objects.create(
        office=world.office_a, weekday=0, starts=datetime.time(8), ends=datetime.time(12), counters=1
    )
    capacity_refresh(office=world.office_a, first=TODAY, last=LAST)
    kiosk = Kiosk.objects.create(office=world.office_a, name="Eingang")
    fields = {name: getattr(world, name) for name in DeskWorld.__dataclass_fields__}
    return QueueWorld(**fields, kiosk=kiosk)
