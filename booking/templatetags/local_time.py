"""Times as people read them in Berlin, unambiguous on the autumn day whose 02:00–02:59 happens twice.

``{{ start|clock }}`` is ``02:30`` on any other day and ``02:30 (MESZ)`` /
``02:30 (MEZ)`` (in English ``CEST`` / ``CET``) in the repeated hour;
``{{ start|start_value }}`` is the value a time button sends: ``2026-11-23T08:00``,
and in the repeated hour with the offset from UTC (``2026-10-25T02:30+01:00``), so
the form books the instant shown.
"""

import datetime

from django import template
from django.utils.translation import pgettext

from booking.grid import BERLIN, is_ambiguous

register = template.Library()


def zone_name(moment: datetime.datetime) -> str:
    """Berlin's zone at ``moment`` as people abbreviate it (German: MEZ/MESZ)."""
    if moment.astimezone(BERLIN).dst():
        return pgettext("time zone", "CEST")
    return pgettext("time zone", "CET")


@register.filter
def clock(moment: datetime.datetime | None) -> str:
    """``HH:MM`` in Berlin, with the zone where that time happens twice that day."""
    if moment is None:
        return ""
    text = moment.astimezone(BERLIN).strftime("%H:%M")
    return f"{text} ({zone_name(moment)})" if is_ambiguous(moment) else text


@register.filter
def start_value(moment: datetime.datetime) -> str:
    """The start as a time button sends it: Berlin's wall clock, with the offset where it is ambiguous."""
    local = moment.astimezone(BERLIN)
    return local.isoformat(timespec="minutes") if is_ambiguous(moment) else local.strftime("%Y-%m-%dT%H:%M")
