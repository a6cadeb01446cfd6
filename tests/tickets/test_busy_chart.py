"""The "usually busy" chart of an office (tickets/busy.py) and its table on the office's status page."""

import datetime
import itertools
import re

import pytest
import time_machine
from django.core.cache import cache

from tests.support.factories import ClosureFactory, SpecialOpeningFactory
from tests.support.queue_steps import TODAY, at, queue_world
from tickets.busy import Level, busy_chart
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@pytest.fixture
def qw():  # type: ignore[no-untyped-def]
    world = queue_world()
    return world


def _drawn(office, moment: datetime.datetime, queue: str = "W") -> Ticket:  # type: ignore[no-untyped-def]
    """A finished ticket of the past, drawn at ``moment`` (a Berlin time)."""
    return Ticket.objects.create(
        office=office,
        day=moment.date(),
        queue=queue,
        number=next(_numbers),
        status=Ticket.Status.DONE,
        issued_at=moment,
    )


def _cell(chart, weekday: int, hour: int):  # type: ignore[no-untyped-def]
    row = next(row for row in chart.rows if row.hour == hour)
    return next(cell for cell in row.cells if cell.weekday == weekday)


def _day(days_ago: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days_ago)


def test_a_cell_is_the_average_of_the_days_that_weekday_was_open(qw) -> None:  # type: ignore[no-untyped-def]
    # The window: the 28 days before Monday 23 November, 26.10.–22.11.; four Mondays, one of them closed.
    ClosureFactory(office=qw.office_a, start_date=_day(21), end_date=_day(21))  # Monday 2 November
    for days_ago, hhmm in [(7, "08:05"), (7, "08:20"), (7, "08:40"), (14, "08:10"), (14, "08:50"), (28, "08:30")]:
        _drawn(qw.office_a, at(hhmm, _day(days_ago)))
    for days_ago in (7, 14, 28):
        _drawn(qw.office_a, at("10:15", _day(days_ago)), queue="A")  # every queue counts
    _drawn(qw.office_a, at("09:30", _day(6)))  # Tuesday 17 November
    _drawn(qw.office_a, at("09:00", _day(29)))  # Sunday 25 October: before the window
    _drawn(qw.office_a, at("08:05"))  # today: not yet history
    _drawn(qw.office_b, at("08:05", _day(7)))  # another office

    chart = busy_chart(office=qw.office_a, now=at("09:00"))

    assert (chart.first, chart.last, chart.days) == (datetime.date(2026, 10, 26), datetime.date(2026, 11, 22), 28)
    assert chart.tickets == 10
    assert chart.weekdays == [0, 1, 2, 3, 4]  # open Monday to Friday
    assert [row.hour for row in chart.rows] == [8, 9, 10, 11, 12, 13, 14, 15]  # 08:00–16:00, the break included
    monday_eight = _cell(chart, 0, 8)
    assert (monday_eight.average, monday_eight.level, monday_eight.percent) == (2.0, Level.BUSY, 100)  # 6 / 3
    monday_ten = _cell(chart, 0, 10)
    assert (monday_ten.average, monday_ten.level, monday_ten.percent) == (1.0, Level.MODERATE, 50)  # 3 / 3
    tuesday_nine = _cell(chart, 1, 9)
    assert (tuesday_nine.average, tuesday_nine.level, tuesday_nine.percent) == (0.25, Level.QUIET, 12)  # 1 / 4
    assert (_cell(chart, 2, 9).average, _cell(chart, 2, 9).level) == (0.0, Level.QUIET)
    assert _cell(chart, 0, 11).open and not _cell(chart, 0, 12).open  # the lunch break


def test_levels_are_thirds_of_the_busiest_hour(qw) -> None:  # type: ignore[no-untyped-def]
    # Mondays of the window: 16, 9, 2 November and 26 October; per hour 6, 4, 2 tickets over four Mondays.
    for hour, count in [(8, 6), (9, 4), (10, 2)]:
        for n in range(count):
            _drawn(qw.office_a, at(f"{hour:02d}:{n:02d}", _day(7 * (1 + n % 4))))
    chart = busy_chart(office=qw.office_a, now=at("09:00"))
    levels = [(_cell(chart, 0, hour).average, _cell(chart, 0, hour).level) for hour in (8, 9, 10, 11)]
    assert levels == [(1.5, Level.BUSY), (1.0, Level.MODERATE), (0.5, Level.QUIET), (0.0, Level.QUIET)]


def test_hours_are_berlin_hours_also_across_the_change_of_the_clocks(qw) -> None:  # type: ignore[no-untyped-def]
    # Summer time ends on Sunday 25 October 2026 at 03:00. The window before Monday 9 November runs from
    # 12 October to 8 November: two Mondays in summer time (UTC+2), two in winter time (UTC+1).
    SpecialOpeningFactory(
        office=qw.office_a, date=datetime.date(2026, 10, 25), opens=datetime.time(9), closes=datetime.time(12)
    )
    on_the_day = _drawn(qw.office_a, at("09:10", datetime.date(2026, 10, 25)))  # 08:10 UTC, winter time
    summer = _drawn(qw.office_a, at("08:30", datetime.date(2026, 10, 19)))  # 06:30 UTC
    winter = _drawn(qw.office_a, at("08:30", datetime.date(2026, 10, 26)))  # 07:30 UTC
    assert (on_the_day.issued_at.utcoffset(), summer.issued_at.utcoffset(), winter.issued_at.utcoffset()) == (
        datetime.timedelta(hours=1),
        datetime.timedelta(hours=2),
        datetime.timedelta(hours=1),
    )

    chart = busy_chart(office=qw.office_a, now=at("09:00", datetime.date(2026, 11, 9)))

    assert chart.weekdays == [0, 1, 2, 3, 4, 6]  # the Sunday opening adds Sunday
    assert chart.rows[0].hour == 8  # nothing counted at 06:00 or 07:00
    assert _cell(chart, 0, 8).average == 0.5  # both Mondays at 08:xx, over four Mondays
    assert _cell(chart, 6, 9).average == 1.0  # the one Sunday open, at 09:xx
    assert (_cell(chart, 6, 8).open, _cell(chart, 6, 10).average) == (False, 0.0)


def test_without_tickets_the_chart_has_no_data(qw) -> None:  # type: ignore[no-untyped-def]
    chart = busy_chart(office=qw.office_a, now=at("09:00"))
    assert not chart.has_data
    assert chart.peak == 0.0
    assert {cell.level for row in chart.rows for cell in row.cells} == {Level.QUIET}


def test_the_chart_is_cached_for_the_day_only_when_the_status_is_cached(  # type: ignore[no-untyped-def]
    qw, settings, django_assert_num_queries
) -> None:
    _drawn(qw.office_a, at("08:05", _day(7)))
    with django_assert_num_queries(5):  # the hours (4 queries), the tickets counted (1)
        busy_chart(office=qw.office_a, now=at("09:00"))
    with django_assert_num_queries(5):  # QUEUE_STATUS_CACHE_SECONDS is 0 in the tests: no cache
        busy_chart(office=qw.office_a, now=at("09:00"))

    settings.QUEUE_STATUS_CACHE_SECONDS = 10
    cache.clear()
    try:
        first = busy_chart(office=qw.office_a, now=at("09:00"))
        _drawn(qw.office_a, at("09:05", _day(7)))
        with django_assert_num_queries(0):
            again = busy_chart(office=qw.office_a, now=at("09:59"))
        assert again == first and again.tickets == 1
        assert busy_chart(office=qw.office_b, now=at("09:00")).tickets == 0  # per office
        assert busy_chart(office=qw.office_a, now=at("09:00", _day(-1))).tickets == 2  # a new day, a new chart
    finally:
        cache.clear()


def test_the_office_page_shows_the_chart_as_a_table_with_bars_words_and_numbers(client, qw) -> None:  # type: ignore[no-untyped-def]
    for days_ago, hhmm in [(7, "08:05"), (7, "08:20"), (14, "08:10"), (14, "08:50"), (7, "10:30")]:
        _drawn(qw.office_a, at(hhmm, _day(days_ago)))
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get("/en/status/mitte/").content.decode()
    table = re.search(r'<table class="table table-sm busy-chart"[^>]*>.*?</table>', html, re.S).group(0)
    text = " ".join(re.sub(r"<[^>]+>", " ", table).split())
    assert text.startswith(
        "Tickets drawn per hour on an average opening day of the last 28 days (26/10/2026 to 22/11/2026) "
        "Hour Monday Tuesday Wednesday Thursday Friday "
        "08:00–09:00 busy 1.0 quiet 0.0 quiet 0.0 quiet 0.0 quiet 0.0 "
        "09:00–10:00 quiet 0.0"
    )
    assert "10:00–11:00 quiet 0.3 quiet 0.0" in text  # 1 ticket over 4 Mondays
    assert "12:00–13:00 – closed – closed" in text
    assert '<th scope="col" role="columnheader">Monday</th>' in table
    assert '<th scope="row" role="rowheader">08:00–09:00</th>' in table
    assert '<td role="cell" class="busy-busy" data-label="Mon">' in table  # the label of the stacked phone layout
    assert '<span class="busy-bar" aria-hidden="true"><span style="width: 100%"></span></span>' in table
    assert '<span style="width: 25%"></span>' in table  # Monday 10:00, a quarter of the busiest hour


def test_an_office_without_history_says_so_instead_of_an_empty_chart(client, qw) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("09:00"), tick=False):
        html = client.get("/en/status/mitte/").content.decode()
    assert "busy-chart" not in html
    assert "Not enough tickets have been drawn here in the last weeks" in html
