"""Who comes to the demo city's offices, when, and for what: shared by the recorded past (``demo.history``) and the
played day (``demo.simulation``).

The shape follows what German citizen offices report: a crowd at the door when
the walk-in hours begin, Monday and Tuesday mornings busiest, a dip over lunch,
Thursday afternoons busy (the offices open late, people come after work),
Friday afternoons quiet. Service at the counter takes a little longer than the
office's configured duration for the common matters, less for pickups, and
varies (lognormal), so the waiting estimate has something to learn.
"""

import datetime
import math
import random
from collections import defaultdict
from dataclasses import dataclass

from booking.grid import BERLIN
from offices.models import Office, Weekday
from offices.selectors import active_offers

# How busy an hour is, relative to an ordinary one: the weekday's factor times the hour's.
WEEKDAY_DEMAND: dict[int, float] = {
    Weekday.MONDAY: 1.35,
    Weekday.TUESDAY: 1.25,
    Weekday.WEDNESDAY: 0.85,
    Weekday.THURSDAY: 1.0,
    Weekday.FRIDAY: 0.75,
    Weekday.SATURDAY: 0.9,
}
HOUR_DEMAND: dict[int, float] = {
    7: 1.0,
    8: 1.4,
    9: 1.25,
    10: 1.0,
    11: 0.85,
    12: 0.5,  # lunch
    13: 0.7,
    14: 0.8,
    15: 0.85,
    16: 0.95,
    17: 1.1,
    18: 1.1,
    19: 0.9,
}
THURSDAY_AFTERNOON = 1.6  # from 13:00: the late opening, after work
FRIDAY_AFTERNOON = 0.4  # from 12:00
AFTERNOON = 13

# Of every hundred who come for one of these matters, how many (the rest: 1 each).
POPULARITY: dict[str, float] = {
    "personalausweis": 12,
    "reisepass": 8,
    "reisepass-kind": 3,
    "vorlaeufiger-personalausweis": 2,
    "anmeldung": 12,
    "abmeldung": 3,
    "meldebescheinigung": 6,
    "ummeldung-fahrzeug": 3,
    "bewohnerparkausweis": 2,
    "fuehrungszeugnis": 5,
    "beglaubigung": 2,
    "geburtsurkunde": 6,
    "eheschliessung-anmeldung": 3,
    "sterbefall": 2,
    "aufenthaltstitel-verlaengerung": 8,
    "niederlassungserlaubnis": 3,
    "verpflichtungserklaerung": 2,
    "abholung-ausweis": 6,
    "abholung-aufenthaltstitel": 3,
}
# What a matter really takes at the counter, on average, as a share of the office's configured duration.
TRUE_SHARE: dict[str, float] = {
    "personalausweis": 1.15,
    "reisepass": 1.2,
    "anmeldung": 1.3,
    "meldebescheinigung": 0.9,
    "fuehrungszeugnis": 1.1,
    "abholung-ausweis": 0.8,
    "abholung-aufenthaltstitel": 0.7,
}
DEFAULT_TRUE_SHARE = 1.05
SPREAD = 0.35  # sigma of the lognormal service times
WALK_UP = (0.3, 1.5)  # minutes from the call to the counter
SECOND_LANGUAGE = ("en", 0.1)  # share of tickets and bookings in English


@dataclass(frozen=True)
class Matter:
    """A service as one office offers it."""

    service_id: int
    slug: str
    minutes: int  # the office's configured duration per person
    pickup: bool
    max_persons: int

    @property
    def weight(self) -> float:
        return POPULARITY.get(self.slug, 1.0)


def demand(weekday: int, minute: float) -> float:
    """How busy minute ``minute`` (after midnight, Berlin) of such a weekday is, 1 being ordinary."""
    hour = int(minute // 60)
    value = WEEKDAY_DEMAND.get(weekday, 0.8) * HOUR_DEMAND.get(hour, 0.8)
    if weekday == Weekday.THURSDAY and hour >= AFTERNOON:
        value *= THURSDAY_AFTERNOON
    if weekday == Weekday.FRIDAY and hour >= AFTERNOON - 1:
        value *= FRIDAY_AFTERNOON
    return value


def office_matters(offices: list[Office]) -> dict[int, list[Matter]]:
    """Per office id, its active offers as matters, in a fixed order (one query)."""
    matters: dict[int, list[Matter]] = defaultdict(list)
    rows = (
        active_offers()
        .filter(office__in=offices)
        .order_by("office_id", "service__position", "service_id")
        .values_list(
            "office_id", "service_id", "service__slug", "duration_minutes", "service__pickup", "service__max_persons"
        )
    )
    for office_id, service_id, slug, minutes, pickup, max_persons in rows:
        matters[office_id].append(Matter(service_id, slug, minutes, pickup, max_persons))
    return matters


def choose(rng: random.Random, matters: list[Matter]) -> Matter:
    return rng.choices(matters, weights=[matter.weight for matter in matters])[0]


def service_minutes(rng: random.Random, matter: Matter, *, minutes: float | None = None) -> float:
    """What serving ``matter`` really takes this time (``minutes``: the booked length instead of the configured)."""
    mean = (minutes if minutes is not None else matter.minutes) * TRUE_SHARE.get(matter.slug, DEFAULT_TRUE_SHARE)
    mu = math.log(mean) - SPREAD**2 / 2  # so that the mean is ``mean``
    return max(1.0, rng.lognormvariate(mu, SPREAD))


def language(rng: random.Random) -> str:
    code, share = SECOND_LANGUAGE
    return code if rng.random() < share else "de"


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (Knuth's method: the means here are small)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def moment(day: datetime.date, minute: float) -> datetime.datetime:
    """A wall-clock minute in Berlin on ``day``, in UTC."""
    midnight = datetime.datetime.combine(day, datetime.time(0), tzinfo=BERLIN)
    return (midnight + datetime.timedelta(minutes=minute)).astimezone(datetime.UTC)


def minute_of(instant: datetime.datetime) -> float:
    """Minutes after midnight on Berlin's clock at ``instant``."""
    local = instant.astimezone(BERLIN)
    return local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60_000_000
