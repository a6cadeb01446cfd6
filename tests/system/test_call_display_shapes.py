"""The call display fills any screen shape (static/css/display.css): 4:3, 16:10, 16:9 and portrait, in a real browser.

At each size, with seven calls of the longest labels and counters there are, nothing scrolls, every called
number and counter lies whole inside the screen and inside its own call, the newest number is large, and the
sound button covers no call. Screenshots go to display-<width>x<height>.png in $SCREENSHOTS_DIR (/tmp by
default) for a look by eye.
"""

import datetime
import os
import tempfile

import pytest
import time_machine

from booking.grid import BERLIN
from tests.support.factories import OfficeFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("SCREENSHOTS_DIR", tempfile.gettempdir())  # /tmp unless told otherwise
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)  # the live server runs in this process and sees it
SHAPES = {
    "4:3": (1024, 768),
    "16:10": (1280, 800),
    "16:10 large": (1920, 1200),
    "16:9": (1920, 1080),
    "16:9 small": (1280, 720),
    "portrait full HD": (1080, 1920),
    "portrait tablet": (768, 1024),
}
# Newest first: the longest number there is (a 1,234th walk-in of the day) at the highest counter (99).
CALLS = [("W", 1234, 99), ("A", 123, 12), ("W", 999, 88), ("W", 100, 10), ("N", 42, 7), ("W", 1000, 99), ("A", 1, 1)]


@pytest.fixture(autouse=True)
def _fixed_clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    office = OfficeFactory(slug="mitte", name_de="Bürgerbüro Leipzig-Mitte im Neuen Rathaus")
    for minutes_ago, (queue, number, counter) in enumerate(CALLS):
        called = NOW - datetime.timedelta(minutes=minutes_ago)
        Ticket.objects.create(
            office=office,
            day=NOW.date(),
            queue=queue,
            number=number,
            status=Ticket.Status.CALLED if minutes_ago == 0 else Ticket.Status.DONE,
            counter=counter,
            issued_at=called - datetime.timedelta(minutes=30),
            called_at=called,
        )
    return office


MEASURE = """() => {
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  };
  const calls = [...document.querySelectorAll(".calls > li")].map((li) => {
    const parts = [...li.querySelectorAll(".call-number, .call-counter")].map((element) => ({
      kind: element.className,
      text: element.textContent.trim(),
      box: box(element),
      scrollWidth: element.scrollWidth,
      clientWidth: element.clientWidth,
      scrollHeight: element.scrollHeight,
      clientHeight: element.clientHeight,
      fontSize: parseFloat(getComputedStyle(element).fontSize),
    }));
    return {newest: li.classList.contains("call-newest"), box: box(li), parts};
  });
  const sound = document.querySelector("[data-display-sound]");
  return {
    innerWidth: window.innerWidth,
    innerHeight: window.innerHeight,
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
    bodyScrollHeight: document.body.scrollHeight,
    calls,
    header: box(document.querySelector(".display-header")),
    office: box(document.querySelector(".display-office")),
    clock: box(document.querySelector(".display-clock")),
    sound: sound.hidden ? null : box(sound),
  };
}"""


def _inside(inner: dict[str, float], outer: dict[str, float], slack: float = 0.5) -> bool:
    return (
        inner["left"] >= outer["left"] - slack
        and inner["top"] >= outer["top"] - slack
        and inner["right"] <= outer["right"] + slack
        and inner["bottom"] <= outer["bottom"] + slack
    )


def _overlap(one: dict[str, float], other: dict[str, float]) -> bool:
    return (
        one["left"] < other["right"]
        and other["left"] < one["right"]
        and one["top"] < other["bottom"]
        and other["top"] < one["bottom"]
    )


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_call_display_fills_the_screen_without_clipping_a_number(page, office, shape: str) -> None:  # type: ignore[no-untyped-def]
    width, height = SHAPES[shape]
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/offices/mitte/display/")
    page.wait_for_selector("[data-display-sound]:not([hidden])")  # display.js has run
    page.screenshot(path=os.path.join(SHOTS, f"display-{width}x{height}.png"), animations="disabled")
    shown = page.evaluate(MEASURE)
    screen = {"left": 0, "top": 0, "right": width, "bottom": height}

    assert (shown["innerWidth"], shown["innerHeight"]) == (width, height)
    assert shown["scrollWidth"] <= width and shown["scrollHeight"] <= height and shown["bodyScrollHeight"] <= height
    texts = [[part["text"] for part in call["parts"]] for call in shown["calls"]]
    assert texts == [[f"{queue}{number:03d}", f"Schalter {counter}"] for queue, number, counter in CALLS]
    for call in shown["calls"]:
        assert _inside(call["box"], screen), (shape, call)
        for part in call["parts"]:
            label = (shape, part["text"])
            assert _inside(part["box"], screen), label  # whole on the screen
            assert _inside(part["box"], call["box"]), label  # whole inside its call, spilling into no other
            assert part["scrollWidth"] <= part["clientWidth"], label  # nothing cut off inside its own box
            assert part["scrollHeight"] <= part["clientHeight"] + 1, label
        if shown["sound"] is not None:
            assert not _overlap(shown["sound"], call["box"]), (shape, "the sound button covers a call")
    newest, *earlier = shown["calls"]
    assert newest["newest"]
    number = newest["parts"][0]
    # Read from across the room: the newest number at least a ninth of the screen's shorter side, at least 80
    # pixels; the earlier ones at least a thirtieth, and all smaller than the newest.
    shorter = min(width, height)
    assert number["fontSize"] >= max(80, shorter / 9), (shape, number["fontSize"])
    for call in earlier:
        assert shorter / 30 <= call["parts"][0]["fontSize"] < number["fontSize"], (shape, call)
    # The header stays above the calls and the clock never covers the office's name.
    assert shown["header"]["bottom"] <= min(call["box"]["top"] for call in shown["calls"]) + 0.5
    assert not _overlap(shown["clock"], shown["office"]), shape


@pytest.mark.parametrize("shape", ["4:3", "portrait tablet"])
def test_before_the_first_call_the_note_fits_too(page, shape: str) -> None:  # type: ignore[no-untyped-def]
    OfficeFactory(slug="nord", name_de="Bürgerbüro Nord")
    width, height = SHAPES[shape]
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/offices/nord/display/")
    note = page.locator(".calls-none")
    assert note.inner_text() == "Heute wurden noch keine Nummern aufgerufen."
    box = note.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
    sizes = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert sizes[0] <= width and sizes[1] <= height
