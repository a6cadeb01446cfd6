"""The appointment's own page at the desk offers the visit's steps like the day list (issue 19, point 2): the same
buttons from the same partial, posting to the same endpoint, and the clerk comes back to the appointment's page
with a message."""

import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse as django_reverse
from django.utils import translation

from booking.models import Appointment
from desk.models import AuditEntry
from tests.support.desk_steps import at

pytestmark = pytest.mark.django_db


def reverse(name: str, args: list[object] | None = None) -> str:
    with translation.override("de"):
        return django_reverse(name, args=args)


def en(url: str) -> str:
    return "/en" + url


def signed_in(user: object, counter: int | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if counter is not None:
        session = client.session
        session[f"desk-counter-{user.memberships.first().office_id}"] = counter
        session.save()
    return client


def page_url(appointment: Appointment) -> str:
    return en(reverse("desk:appointment", args=[appointment.pk]))


def get(client: Client, url: str, hhmm: str) -> str:
    with time_machine.travel(at(hhmm), tick=False):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def act(client: Client, appointment: Appointment, action: str, hhmm: str, **data: str) -> str:
    """Press a step's button on the appointment's page (its form's fields) and follow back; the page shown."""
    with time_machine.travel(at(hhmm), tick=False):
        response = client.post(
            en(reverse("desk:act", args=[appointment.pk, action])), {"next": page_url(appointment), **data}
        )
        assert response.status_code == 302
        assert response["Location"] == page_url(appointment)
        followed = client.get(response["Location"])
    return followed.content.decode()


def buttons(html: str, name: str) -> list[tuple[str, str]]:
    """The (action, label) of each step's button for the appointment of ``name``."""
    found = re.findall(
        r'<form method="post" action="/en/staff/appointments/\d+/act/(\w+)/".*?<button[^>]*>([^<]+)'
        r'<span class="visually-hidden">: ' + re.escape(name),
        html,
        re.DOTALL,
    )
    return [(action, label.strip()) for action, label in found]


def day_row(html: str, name: str) -> str:
    return html.split(f">{name}</a>", 1)[1].split("</tr>", 1)[0]


def visit_section(html: str) -> str:
    return html.split('<section aria-labelledby="visit-heading"', 1)[1].split("</section>", 1)[0]


def test_the_appointment_page_offers_the_same_steps_as_the_day_list(world) -> None:
    appointment = world.book("09:00", name="Anna Albers")
    client = signed_in(world.clerk_a, counter=4)
    day_url = en(reverse("desk:day", args=["mitte"]))
    for hhmm, expected in (
        ("08:55", [("check_in", "Check in")]),
        ("09:20", [("check_in", "Check in"), ("no_show", "No-show")]),
    ):
        listed = buttons(day_row(get(client, day_url, hhmm), "Anna Albers"), "Anna Albers")
        shown = buttons(visit_section(get(client, page_url(appointment), hhmm)), "Anna Albers")
        assert listed == shown == expected, hhmm
    # The list's forms swap the list by htmx; the page's are plain forms that come back to the page.
    day = day_row(get(client, day_url, "09:20"), "Anna Albers")
    section = visit_section(get(client, page_url(appointment), "09:20"))
    assert 'hx-post="/en/staff/appointments/' in day and "hx-post" not in section
    assert f'<input type="hidden" name="next" value="/en/staff/appointments/{appointment.pk}/">' in section


def test_check_in_call_start_and_finish_from_the_appointment_s_page(world) -> None:
    appointment = world.book("09:00", name="Anna Albers")
    client = signed_in(world.clerk_a, counter=4)
    html = act(client, appointment, "check_in", "08:55")
    assert f"Anna Albers ({appointment.booking_code}): Checked in." in html
    assert "Queue ticket T001: please give the citizen this number." in html
    assert '<span class="badge text-bg-secondary">Arrived</span>' in html
    assert buttons(visit_section(html), "Anna Albers") == [("call", "Call to counter 4"), ("start", "Start")]

    html = act(client, appointment, "call", "09:01")
    assert f"Anna Albers ({appointment.booking_code}): Called to a counter." in html
    assert "Counter 4" in html

    html = act(client, appointment, "start", "09:02")
    assert buttons(visit_section(html), "Anna Albers") == [("finish", "Finish")]

    html = act(client, appointment, "finish", "09:14")
    assert f"Anna Albers ({appointment.booking_code}): Finished." in html
    assert '<span class="badge text-bg-secondary">Done</span>' in html
    assert 'aria-labelledby="visit-heading"' not in html  # nothing left to do
    appointment.refresh_from_db()
    assert (appointment.visit, appointment.counter, appointment.finished_at) == (Appointment.Visit.DONE, 4, at("09:14"))
    assert list(AuditEntry.objects.filter(appointment=appointment).order_by("at").values_list("action", flat=True)) == [
        "check_in",
        "call",
        "start",
        "finish",
    ]


def test_without_a_counter_the_call_button_asks_for_it_and_remembers_it(world) -> None:
    appointment = world.book("09:00", name="Anna Albers")
    client = signed_in(world.clerk_a)
    html = act(client, appointment, "check_in", "08:55")
    call_form = visit_section(html).split("/act/call/", 1)[1].split("</form>", 1)[0]
    assert '<label class="form-label small mb-0" for="visit-counter">Your counter</label>' in call_form
    assert 'name="counter" min="1" max="99" required' in call_form
    assert buttons(visit_section(html), "Anna Albers")[0] == ("call", "Call")

    html = act(client, appointment, "call", "09:01", counter="6")
    appointment.refresh_from_db()
    assert (appointment.visit, appointment.counter) == (Appointment.Visit.CALLED, 6)
    assert "Counter 6" in html
    assert 'name="counter"' not in visit_section(html)  # remembered for the office now
    assert buttons(visit_section(html), "Anna Albers")[0] == ("call", "Call to counter 6")


def test_a_no_show_from_the_appointment_s_page_and_a_refused_one(world) -> None:
    appointment = world.book("09:00", name="Nora Nichtda")
    client = signed_in(world.clerk_a, counter=2)
    early = act(client, appointment, "no_show", "09:10")
    assert "A no-show can be recorded from 09:15 (the start plus 15 minutes)." in early
    assert Appointment.objects.get(pk=appointment.pk).visit == Appointment.Visit.EXPECTED

    html = act(client, appointment, "no_show", "09:20")
    assert f"Nora Nichtda ({appointment.booking_code}): Marked as no-show." in html
    assert '<span class="badge text-bg-secondary">No-show</span>' in html
    # She comes after all: checking in is still offered, as on the list.
    assert buttons(visit_section(html), "Nora Nichtda") == [("check_in", "Check in")]
    assert Appointment.objects.get(pk=appointment.pk).visit == Appointment.Visit.NO_SHOW


def test_a_cancelled_appointment_s_page_offers_no_step(world) -> None:
    appointment = world.book("09:00", name="Anna Albers")
    client = signed_in(world.clerk_a, counter=2)
    with time_machine.travel(at("08:00"), tick=False):
        client.post(en(reverse("desk:cancel", args=[appointment.pk])), {"reason": "Office closed"})
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED
    html = get(client, page_url(appointment), "09:20")
    assert 'aria-labelledby="visit-heading"' not in html and "/act/" not in html


def test_a_clerk_of_another_office_can_neither_see_nor_press_them(world) -> None:
    appointment = world.book("09:00", name="Anna Albers")
    client = signed_in(world.clerk_b, counter=1)
    with time_machine.travel(at("08:55"), tick=False):
        assert client.get(page_url(appointment)).status_code == 404
        assert client.post(en(reverse("desk:act", args=[appointment.pk, "check_in"]))).status_code == 404
    assert Appointment.objects.get(pk=appointment.pk).visit == Appointment.Visit.EXPECTED
