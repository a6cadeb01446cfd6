"""Step 3 of the citizen's booking (and moving an appointment): a day's free times by part of the day and by
hour, the earliest first, only one part opened when there are many; all of it plain HTML."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from booking.grid import BERLIN, UTC
from booking.views.citizen import ALL_OPEN_UP_TO, day_parts
from offices.models import Office
from tests.support.factories import bookable_office, offer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
NOW = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=BERLIN)
AT = "/book/at/mitte/"


def at(hhmm: str, day: datetime.date = MONDAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=BERLIN).astimezone(UTC)


def every_five_minutes(first: str, last: str) -> list[datetime.datetime]:
    start, end = at(first), at(last)
    return [start + datetime.timedelta(minutes=5 * n) for n in range(int((end - start).total_seconds()) // 300 + 1)]


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def office() -> Office:
    # Open 08:00–12:00 and 13:00–16:00 with two counters: 84 starts for a 15-minute service on a free day.
    office = bookable_office(first=MONDAY, last=MONDAY + datetime.timedelta(days=4), slug="mitte", counters=2)
    offer(office, "personalausweis", 15, name_de="Personalausweis")
    return office


def text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_a_full_day_is_grouped_by_part_and_hour_in_berlin_time_with_only_the_first_part_open() -> None:
    times = every_five_minutes("08:00", "11:55") + every_five_minutes("13:00", "15:45")
    with translation.override("en"):
        parts = day_parts(times)
    assert [(part.label, len(part.starts), part.open) for part in parts] == [
        ("Morning", 36, True),
        ("Midday", 24, False),  # 11:00–11:55 and 13:00–13:55, the lunch break between
        ("Afternoon", 22, False),
    ]
    assert [hour for hour, _starts in parts[0].hours] == [8, 9, 10]
    assert [hour for hour, _starts in parts[1].hours] == [11, 13]
    assert parts[0].hours[0][1][0] == at("08:00")  # 07:00 UTC is 08:00 in Berlin
    assert sum(len(part.starts) for part in parts) == len(times)


def test_a_day_with_few_times_shows_them_all_and_leaves_out_empty_parts() -> None:
    times = [at("09:00"), at("09:30"), at("15:00")]
    assert len(times) <= ALL_OPEN_UP_TO
    with translation.override("en"):
        parts = day_parts(times)
    assert [(part.label, part.open) for part in parts] == [("Morning", True), ("Afternoon", True)]
    assert parts[1].hours == [(15, [at("15:00")])]


def test_the_day_shows_its_earliest_time_first_then_its_parts(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    html = text(client.get(f"/en{AT}", {"services": "personalausweis", "date": "2026-11-23"}))
    times = html[html.index('id="times"') :]
    earliest = re.search(r'<div class="times-earliest mb-3" id="times-earliest">\s*<button [^>]*value="([^"]+)"', times)
    assert earliest and earliest.group(1) == "2026-11-23T08:00"
    assert times.index('id="times-earliest"') < times.index("data-times-part")
    assert "Earliest free time this day" in times
    assert "80 free times on this day, by part of the day:" in times
    summaries = re.findall(r"<details class=\"times-part\" data-times-part( open)?>\s*<summary>(.*?)</summary>", times)
    assert [(bool(opened), re.sub(r"<[^>]+>", "", summary)) for opened, summary in summaries] == [
        (True, "Morning 08:00–10:55 · 36 free times"),
        (False, "Midday 11:00–13:55 · 22 free times"),  # the last start before the break is 11:45
        (False, "Afternoon 14:00–15:45 · 22 free times"),
    ]
    assert 'role="group" aria-label="From 13 o’clock"' in times
    assert times.count('name="start"') == 80 + 1  # every time once, and the earliest again


def test_the_parts_are_in_the_page_language(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    html = text(client.get(AT, {"services": "personalausweis", "date": "2026-11-23"}))
    assert "Vormittag" in html and "Nachmittag" in html
    assert 'aria-label="Ab 9 Uhr"' in html


def test_without_a_day_the_earliest_free_time_can_be_taken_at_once(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    html = text(client.get(f"/en{AT}", {"services": "personalausweis"}))
    form = re.search(
        r'<form method="post" action="/en/book/at/mitte/hold/" class="times-earliest mb-3".*?</form>', html, re.S
    )
    assert form, "the earliest time is a form of its own"
    assert 'name="services" value="personalausweis:1"' in form.group(0)
    assert 'name="start" value="2026-11-23T08:00"' in form.group(0)
    assert (
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", form.group(0)))
        .strip()
        .endswith("Earliest free time Monday, 23 November 2026, 08:00")
    )
    assert "Or choose a day in the calendar to see all its free times." in html
    assert "data-times-part" not in html


def test_the_earliest_time_is_held_like_any_other(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"{AT}hold/", {"services": "personalausweis:1", "start": "2026-11-23T08:00"})
    assert response.status_code == 302 and "/book/hold/" in response["Location"]


def test_a_booked_time_is_no_longer_the_earliest(client: Client, office) -> None:  # type: ignore[no-untyped-def]
    for _counter in range(2):  # both counters at 08:00
        client.cookies.clear()
        client.post(f"{AT}hold/", {"services": "personalausweis:1", "start": "2026-11-23T08:00"})
    html = text(client.get(f"/en{AT}", {"services": "personalausweis", "date": "2026-11-23"}))
    earliest = re.search(r'id="times-earliest">\s*<button [^>]*value="([^"]+)"', html)
    assert earliest and earliest.group(1) == "2026-11-23T08:15"
