"""The day view of an office and the clerks' actions on one appointment (issue 6, points 2 and 3)."""

import datetime
import re

import pytest
import time_machine
from django.contrib import messages
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse as django_reverse
from django.utils import translation

from booking.messages import Kind as MessageKind
from booking.messages import appointment_messages, as_recorded
from booking.models import Appointment, Slot
from desk.models import AuditEntry
from desk.services import appointment_note, visit_check_in
from tests.support.desk_steps import EARLY, TODAY, at

TOMORROW = TODAY + datetime.timedelta(days=1)


def reverse(name: str, args: list[object] | None = None) -> str:
    """The German address (an /en/ request leaves English active in the test's thread)."""
    with translation.override("de"):
        return django_reverse(name, args=args)


def en(url: str) -> str:
    """The English page (texts are asserted in English: the German catalogue is filled later)."""
    return "/en" + url


def day_url(slug: str = "mitte") -> str:
    return reverse("desk:day", args=[slug])


def act_url(appointment: Appointment, action: str) -> str:
    return reverse("desk:act", args=[appointment.pk, action])


def signed_in(client: Client, user: object) -> Client:
    client.force_login(user)
    return client


def levels(response: object) -> list[int]:
    return [message.level for message in get_messages(response.wsgi_request)]


def refresh(appointment: Appointment) -> Appointment:
    appointment.refresh_from_db()
    return appointment


# The page for the signed-in staff member --------------------------------------------------------


def test_staff_page_sends_a_clerk_of_one_office_to_its_day(client, world):
    response = signed_in(client, world.clerk_a).get(reverse("desk:home"))
    assert response.status_code == 302
    assert response["Location"] == day_url("mitte")


def test_staff_page_lists_the_offices_of_someone_working_for_several(client, world):
    response = signed_in(client, world.administrator).get(en(reverse("desk:home")))
    assert response.status_code == 200
    assert day_url("mitte") in response.content.decode()
    assert day_url("nord") in response.content.decode()


def test_staff_page_tells_someone_without_an_office_so(client, world, citizen_user):
    response = signed_in(client, citizen_user).get(en(reverse("desk:home")))
    assert response.status_code == 200
    assert "not assigned to an office" in response.content.decode()


def test_every_desk_page_asks_for_sign_in_first(client, world):
    appointment = world.book("09:00")
    for url in [
        reverse("desk:home"),
        day_url(),
        reverse("desk:appointment", args=[appointment.pk]),
        reverse("desk:move", args=[appointment.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("desk:staff-login"))


# The day ----------------------------------------------------------------------------------------


def test_the_day_lists_its_appointments_in_time_order_with_services_persons_needs_and_note(client, world):
    zoe = world.book("10:00", name="Zoe Zimmer", email="zoe@example.org")
    anna = world.book(
        "09:00",
        name="Anna Albers",
        email="anna@example.org",
        persons=2,
        interpreter_language="Arabisch",
        step_free_access=True,
    )
    world.book("09:30", name="Paul Phone", channel=Appointment.Channel.PHONE, service="anmeldung")
    world.book("09:00", day=TOMORROW, name="Otto Morgen")
    appointment_note(appointment=anna, by=world.clerk_a, note="Bring the old passport", now=EARLY)
    with time_machine.travel(at("08:30"), tick=False):
        response = signed_in(client, world.clerk_a).get(en(day_url()))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Anna Albers") < html.index("Paul Phone") < html.index("Zoe Zimmer")
    assert "Identity card × 2" in html
    assert "Registration × 1" in html
    assert "Interpreter: Arabisch" in html
    assert "Step-free access" in html
    assert "Bring the old passport" in html
    assert anna.booking_code in html and zoe.booking_code in html
    assert "Otto Morgen" not in html


def test_the_day_marks_online_bookings_whose_e_mail_is_not_confirmed_yet(client, world):
    world.office_a.confirm_email = True
    world.office_a.save()
    world.book("10:00", name="Una Unconfirmed", email="una@example.org", now=at("08:00"))
    world.book("10:30", name="Paul Phone", channel=Appointment.Channel.PHONE, now=at("08:00"))
    with time_machine.travel(at("08:30"), tick=False):
        html = signed_in(client, world.clerk_a).get(en(day_url())).content.decode()
    row = html[html.index("Una Unconfirmed") : html.index("Paul Phone")]
    assert "e-mail not confirmed yet" in row
    assert html.count("e-mail not confirmed yet") == 1  # the clerk's booking for a caller needs none


def test_the_date_parameter_selects_a_day_and_a_bad_date_shows_today(client, world):
    world.book("09:00", name="Heute Hanna")
    world.book("09:00", day=TOMORROW, name="Morgen Moritz")
    signed_in(client, world.clerk_a)
    with time_machine.travel(at("08:30"), tick=False):
        tomorrow = client.get(day_url(), {"date": TOMORROW.isoformat()})
        bad = client.get(day_url(), {"date": "2026-13-45"})
        traversal = client.get(day_url(), {"date": "../../"})
        last = client.get(day_url(), {"date": "9999-12-31"})
        first = client.get(day_url(), {"date": "0001-01-01"})
    assert "Morgen Moritz" in tomorrow.content.decode()
    assert "Heute Hanna" not in tomorrow.content.decode()
    for response in (bad, traversal, last, first):
        assert response.status_code == 200
        assert "Heute Hanna" in response.content.decode()
        assert messages.ERROR in levels(response)


def test_the_status_filter_shows_only_that_status_and_an_unknown_status_shows_all(client, world):
    arrived = world.book("09:00", name="Arne Angekommen")
    world.book("10:00", name="Erwin Erwartet")
    visit_check_in(appointment=arrived, by=world.clerk_a, now=at("08:50"))
    signed_in(client, world.clerk_a)
    with time_machine.travel(at("09:00"), tick=False):
        only = client.get(day_url(), {"status": "arrived"}).content.decode()
        unknown = client.get(day_url(), {"status": "<script>"})
    assert "Arne Angekommen" in only and "Erwin Erwartet" not in only
    assert unknown.status_code == 200
    assert "Arne Angekommen" in unknown.content.decode() and "Erwin Erwartet" in unknown.content.decode()


def test_search_finds_a_booking_code_in_any_case_and_a_part_of_the_name(client, world):
    sought = world.book("09:00", name="Gesine Gesucht")
    world.book("10:00", name="Andere Person")
    signed_in(client, world.clerk_a)
    with time_machine.travel(at("08:30"), tick=False):
        by_code = client.get(day_url(), {"q": sought.booking_code.lower()}).content.decode()
        by_name = client.get(day_url(), {"q": "esuch"}).content.decode()
    for html in (by_code, by_name):
        assert "Gesine Gesucht" in html
        assert "Andere Person" not in html


def test_an_htmx_request_gets_only_the_list(client, world):
    world.book("09:00", name="Lisa Liste")
    with time_machine.travel(at("08:30"), tick=False):
        response = signed_in(client, world.clerk_a).get(day_url(), {"q": "Lisa"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lisa Liste" in html
    assert "<html" not in html
    assert 'id="day-filter"' not in html


def test_the_full_page_polls_the_list_and_keeps_the_filter_form_outside_it(client, world, settings):
    settings.DESK_REFRESH_SECONDS = 20
    world.book("09:00", name="Paula Poll")
    with time_machine.travel(at("08:30"), tick=False):
        html = signed_in(client, world.clerk_a).get(day_url()).content.decode()
    assert "<html" in html
    container = html.index('id="day-table"')
    assert 'hx-trigger="every 20s"' in html[container : container + 300]
    assert 'hx-include="#day-filter"' in html[container : container + 300]
    assert html.index('id="day-filter"') < container
    assert 'name="q"' not in html[container:]  # the search field is not inside what is replaced
    search = html[html.index('id="day-q"') : container]
    assert 'hx-trigger="input changed delay:300ms' in search


# The visit's actions ----------------------------------------------------------------------------


def test_each_action_through_the_view_changes_the_visit_and_is_audited(client, world):
    appointment = world.book("09:00", name="Vera Verlauf")
    signed_in(client, world.clerk_a)
    session = client.session
    session[f"desk-counter-{world.office_a.pk}"] = 3
    session.save()
    steps = [
        ("check_in", "08:55", Appointment.Visit.ARRIVED),
        ("call", "09:01", Appointment.Visit.CALLED),
        ("start", "09:02", Appointment.Visit.IN_SERVICE),
        ("finish", "09:14", Appointment.Visit.DONE),
    ]
    for action, hhmm, visit in steps:
        with time_machine.travel(at(hhmm), tick=False):
            response = client.post(act_url(appointment, action), {"next": day_url()})
        assert response.status_code == 302
        assert response["Location"] == day_url()
        assert refresh(appointment).visit == visit
    assert appointment.counter == 3
    assert appointment.finished_at == at("09:14")
    assert list(AuditEntry.objects.filter(appointment=appointment).order_by("at").values_list("action", flat=True)) == [
        "check_in",
        "call",
        "start",
        "finish",
    ]
    assert set(AuditEntry.objects.filter(appointment=appointment).values_list("actor", flat=True)) == {world.clerk_a.pk}


def test_an_action_by_htmx_answers_the_list_with_the_new_state_and_keeps_the_filter(client, world):
    appointment = world.book("09:00", name="Hanna Htmx")
    world.book("10:00", name="Nicht Gesucht")
    with time_machine.travel(at("08:55"), tick=False):
        response = signed_in(client, world.clerk_a).post(
            en(act_url(appointment, "check_in")),
            {"date": TODAY.isoformat(), "status": "", "q": "Hanna"},
            HTTP_HX_REQUEST="true",
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Hanna Htmx" in html and "Nicht Gesucht" not in html
    assert "Arrived" in html
    assert 'id="day-messages"' in html and "hx-swap-oob" in html
    assert refresh(appointment).visit == Appointment.Visit.ARRIVED


def test_call_uses_the_counter_saved_for_the_office(client, world):
    appointment = world.book("09:00")
    signed_in(client, world.clerk_a)
    response = client.post(reverse("desk:counter", args=["mitte"]), {"counter": "7", "next": day_url()})
    assert response.status_code == 302
    with time_machine.travel(at("08:55"), tick=False):
        client.post(act_url(appointment, "check_in"))
        client.post(act_url(appointment, "call"))
    assert refresh(appointment).visit == Appointment.Visit.CALLED
    assert appointment.counter == 7


def test_call_without_a_counter_asks_for_it_and_changes_nothing(client, world):
    appointment = world.book("09:00")
    signed_in(client, world.clerk_a)
    with time_machine.travel(at("08:55"), tick=False):
        client.post(act_url(appointment, "check_in"))
        response = client.post(act_url(appointment, "call"))
    assert response.status_code == 302
    assert messages.ERROR in levels(response)
    assert refresh(appointment).visit == Appointment.Visit.ARRIVED
    assert appointment.counter is None
    assert not AuditEntry.objects.filter(appointment=appointment, action="call").exists()


def test_a_no_show_is_refused_before_the_start_plus_grace_and_allowed_after(client, world, settings):
    settings.DESK_NO_SHOW_GRACE_MINUTES = 15
    appointment = world.book("09:00", name="Nora Nichtda")
    signed_in(client, world.clerk_a)
    with time_machine.travel(at("09:14"), tick=False):
        page = client.get(en(day_url())).content.decode()
        early = client.post(act_url(appointment, "no_show"))
    assert "No-show" not in page.split("Nora Nichtda", 1)[1].split("</tr>", 1)[0]
    assert messages.ERROR in levels(early)
    assert refresh(appointment).visit == Appointment.Visit.EXPECTED
    with time_machine.travel(at("09:15"), tick=False):
        page = client.get(en(day_url())).content.decode()
        client.post(act_url(appointment, "no_show"))
    assert "No-show" in page.split("Nora Nichtda", 1)[1].split("</tr>", 1)[0]
    assert refresh(appointment).visit == Appointment.Visit.NO_SHOW
    assert AuditEntry.objects.filter(appointment=appointment, action="no_show").count() == 1


def test_check_in_is_refused_on_another_day(client, world):
    appointment = world.book("09:00", day=TOMORROW)
    with time_machine.travel(at("09:00"), tick=False):
        response = signed_in(client, world.clerk_a).post(act_url(appointment, "check_in"))
    assert messages.ERROR in levels(response)
    assert refresh(appointment).visit == Appointment.Visit.EXPECTED
    assert not AuditEntry.objects.filter(appointment=appointment).exists()


def test_an_unknown_action_is_404_and_get_is_405(client, world):
    appointment = world.book("09:00")
    signed_in(client, world.clerk_a)
    assert client.post(act_url(appointment, "delete")).status_code == 404
    assert client.get(act_url(appointment, "check_in")).status_code == 405
    assert client.get(reverse("desk:counter", args=["mitte"])).status_code == 405
    assert refresh(appointment).visit == Appointment.Visit.EXPECTED


def test_next_must_stay_on_this_site(client, world):
    appointment = world.book("09:00")
    with time_machine.travel(at("08:55"), tick=False):
        response = signed_in(client, world.clerk_a).post(
            act_url(appointment, "check_in"), {"next": "https://evil.example/phish"}
        )
    assert response.status_code == 302
    assert response["Location"].startswith(day_url())


# One appointment --------------------------------------------------------------------------------


def test_the_appointment_page_shows_contact_needs_and_times(client, world):
    appointment = world.book(
        "09:00", name="Kai Kontakt", email="kai@example.org", phone="0151 2345678", interpreter_language="Türkisch"
    )
    visit_check_in(appointment=appointment, by=world.clerk_a, now=at("08:52"))
    with time_machine.travel(at("08:55"), tick=False):
        html = signed_in(client, world.clerk_a).get(en(reverse("desk:appointment", args=[appointment.pk]))).content
    html = html.decode()
    assert "Kai Kontakt" in html and "kai@example.org" in html and "0151 2345678" in html
    assert "Türkisch" in html
    assert "08:52" in html
    assert reverse("desk:slip", args=[appointment.pk]) in html


def test_the_history_is_shown_to_managers_not_to_clerks(client, world):
    appointment = world.book("09:00")
    appointment_note(appointment=appointment, by=world.clerk_a, note="Secret-ish remark", now=EARLY)
    url = en(reverse("desk:appointment", args=[appointment.pk]))
    manager_page = signed_in(Client(), world.manager_a).get(url).content.decode()
    clerk_page = signed_in(client, world.clerk_a).get(url).content.decode()
    assert "History" in manager_page and "Clara Kern (clerk-a)" in manager_page
    assert "History" not in clerk_page and "Clara Kern (clerk-a)" not in clerk_page


def test_the_note_is_saved_and_audited(client, world):
    appointment = world.book("09:00")
    response = signed_in(client, world.clerk_a).post(
        reverse("desk:note", args=[appointment.pk]), {"note": "Needs a wheelchair"}
    )
    assert response.status_code == 302
    assert refresh(appointment).staff_note == "Needs a wheelchair"
    assert AuditEntry.objects.filter(appointment=appointment, action="note").count() == 1


def test_cancelling_with_a_reason_tells_the_citizen_and_frees_the_slot(client, world):
    appointment = world.book("11:00", email="citizen@example.org")
    slot = Slot.objects.get(office=world.office_a, start=at("11:00"))
    assert slot.booked_online == 1
    with time_machine.travel(at("08:30"), tick=False):
        response = signed_in(client, world.clerk_a).post(
            reverse("desk:cancel", args=[appointment.pk]), {"reason": "Our system is down"}
        )
    assert response.status_code == 302
    assert refresh(appointment).status == Appointment.Status.CANCELLED
    message = appointment_messages(appointment).get(kind=MessageKind.CANCELLED_BY_OFFICE)
    assert as_recorded(message).reason == "Our system is down"
    slot.refresh_from_db()
    assert slot.booked_online == 0
    assert AuditEntry.objects.get(appointment=appointment, action="cancel").reason == "Our system is down"


def test_cancelling_without_a_reason_is_refused(client, world):
    appointment = world.book("11:00", email="citizen@example.org")
    with time_machine.travel(at("08:30"), tick=False):
        response = signed_in(client, world.clerk_a).post(
            reverse("desk:cancel", args=[appointment.pk]), {"reason": "   "}
        )
    assert response.status_code == 400
    assert refresh(appointment).status == Appointment.Status.BOOKED
    assert not appointment_messages(appointment).filter(kind=MessageKind.CANCELLED_BY_OFFICE).exists()


def test_the_move_page_lists_free_times_and_the_nearest_alternative(client, world):
    appointment = world.book("11:00", email="citizen@example.org")
    with time_machine.travel(at("08:30"), tick=False):
        response = signed_in(client, world.clerk_a).get(
            en(reverse("desk:move", args=[appointment.pk])), {"date": TOMORROW.isoformat()}
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{world.office_a.pk}-{TOMORROW.isoformat()}T09:00"' in html
    assert "Suggested: the nearest free time" in html


def test_moving_with_a_reason_changes_the_time_and_tells_the_citizen(client, world):
    appointment = world.book("11:00", email="citizen@example.org")
    choice = f"{world.office_a.pk}-{TOMORROW.isoformat()}T09:30"
    with time_machine.travel(at("08:30"), tick=False):
        response = signed_in(client, world.clerk_a).post(
            reverse("desk:move", args=[appointment.pk]),
            {"date": TOMORROW.isoformat(), "choice": choice, "reason": "The counter is closed"},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:appointment", args=[appointment.pk])
    assert messages.SUCCESS in levels(response)
    assert refresh(appointment).start == at("09:30", TOMORROW)
    message = appointment_messages(appointment).get(kind=MessageKind.MOVED)
    assert as_recorded(message).reason == "The counter is closed"
    assert AuditEntry.objects.get(appointment=appointment, action="move").reason == "The counter is closed"


def test_moving_without_a_reason_or_to_a_time_not_offered_changes_nothing(client, world):
    appointment = world.book("11:00", email="citizen@example.org")
    signed_in(client, world.clerk_a)
    url = reverse("desk:move", args=[appointment.pk])
    with time_machine.travel(at("08:30"), tick=False):
        no_reason = client.post(
            url, {"date": TOMORROW.isoformat(), "choice": f"{world.office_a.pk}-{TOMORROW.isoformat()}T09:30"}
        )
        not_offered = client.post(
            url,
            {
                "date": TOMORROW.isoformat(),
                "choice": f"{world.office_a.pk}-{TOMORROW.isoformat()}T03:00",
                "reason": "x",
            },
        )
        past = client.post(url, {"date": "2020-01-01", "choice": "1-2020-01-01T09:00", "reason": "x"})
    for response in (no_reason, not_offered, past):
        assert response.status_code == 400
    assert refresh(appointment).start == at("11:00")
    assert not appointment_messages(appointment).filter(kind=MessageKind.MOVED).exists()


# Access and hostile input -----------------------------------------------------------------------


def test_a_clerk_of_another_office_gets_404_everywhere(client, world):
    appointment = world.book("11:00", email="citizen@example.org")
    signed_in(client, world.clerk_b)
    with time_machine.travel(at("08:55"), tick=False):
        assert client.get(day_url("mitte")).status_code == 404
        assert client.post(reverse("desk:counter", args=["mitte"]), {"counter": "1"}).status_code == 404
        assert client.get(reverse("desk:appointment", args=[appointment.pk])).status_code == 404
        assert client.post(act_url(appointment, "check_in")).status_code == 404
        assert client.post(reverse("desk:note", args=[appointment.pk]), {"note": "x"}).status_code == 404
        assert client.post(reverse("desk:cancel", args=[appointment.pk]), {"reason": "x"}).status_code == 404
        assert client.get(reverse("desk:move", args=[appointment.pk])).status_code == 404
        assert client.post(reverse("desk:move", args=[appointment.pk]), {"reason": "x"}).status_code == 404
    appointment = refresh(appointment)
    assert appointment.visit == Appointment.Visit.EXPECTED and appointment.status == Appointment.Status.BOOKED
    assert appointment.staff_note == ""
    assert not AuditEntry.objects.exists()


def test_hostile_input_never_fails_and_is_escaped(client, world):
    world.book("09:00", name="Ida Input")
    appointment = world.book("10:00", name="Olaf Other")
    signed_in(client, world.clerk_a)
    hostile = "<script>alert(1)</script>' OR 1=1 --"
    with time_machine.travel(at("08:30"), tick=False):
        search = client.get(day_url(), {"q": hostile, "status": "'; DROP TABLE", "date": "../../etc/passwd"})
        long = client.get(day_url(), {"q": "x" * 5000})
        partial = client.get(day_url(), {"q": hostile}, HTTP_HX_REQUEST="true")
        move = client.get(reverse("desk:move", args=[appointment.pk]), {"date": "<b>"})
        move_far = client.get(reverse("desk:move", args=[appointment.pk]), {"date": "9999-12-31"})
        counters = [
            client.post(reverse("desk:counter", args=["mitte"]), {"counter": value})
            for value in ["abc", "-1", "1000", "", "1e3"]
        ]
        call = client.post(act_url(appointment, "call"), {"counter": "abc"})
    for response in (search, long, partial, move, move_far):
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert "&lt;script&gt;" in search.content.decode()
    for response in counters:
        assert response.status_code == 302
        assert messages.ERROR in levels(response)
    assert f"desk-counter-{world.office_a.pk}" not in client.session
    assert call.status_code == 302
    assert refresh(appointment).visit == Appointment.Visit.EXPECTED


# Query count ------------------------------------------------------------------------------------


def _day_queries(client: Client) -> int:
    with time_machine.travel(at("08:30"), tick=False), CaptureQueriesContext(connection) as queries:
        response = client.get(day_url())
    assert response.status_code == 200
    return len(queries)


def test_the_day_page_costs_the_same_queries_for_3_and_10_appointments(client, world):
    times = ["08:00", "08:15", "08:30", "08:45", "09:00", "09:15", "09:30", "09:45", "10:00", "10:15"]
    for index, hhmm in enumerate(times[:3]):
        world.book(hhmm, name=f"Person {index}", interpreter_language="Polnisch")
    signed_in(client, world.clerk_a)
    three = _day_queries(client)
    for index, hhmm in enumerate(times[3:]):
        appointment = world.book(hhmm, name=f"Later {index}", service="anmeldung", step_free_access=True)
        appointment_note(appointment=appointment, by=world.clerk_a, note="note", now=EARLY)
    assert Appointment.objects.count() == 10
    ten = _day_queries(client)
    assert three == ten


# In a real browser ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_list_refreshes_and_acts_in_place_while_the_search_keeps_its_text(
    browser, live_server, client, settings
):
    from tests.support.desk_steps import desk_world

    settings.DESK_REFRESH_SECONDS = 1
    with time_machine.travel(at("08:55"), tick=True):
        world = desk_world()
        anna = world.book("09:00", name="Anna Albers")
        world.book("10:00", name="Bernd Berg")
        client.force_login(world.clerk_a)
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        tab = context.new_page()
        errors: list[str] = []
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        tab.goto("/en" + day_url())
        table = tab.locator("#day-table")
        table.get_by_role("link", name="Bernd Berg", exact=True).wait_for()

        search = tab.get_by_label("Search by booking code or name")
        search.press_sequentially("Ann", delay=50)
        table.get_by_role("link", name="Bernd Berg", exact=True).wait_for(state="detached")
        # Two refreshes later the typed text and the focus are still there, and the list still filtered.
        for _ in range(2):
            with tab.expect_response(lambda response: "/staff/desk/mitte/" in response.url):
                pass
        assert search.input_value() == "Ann"
        assert tab.evaluate("document.activeElement.id") == "day-q"
        assert table.get_by_role("link", name="Bernd Berg", exact=True).count() == 0

        address = tab.url
        table.get_by_role("button", name=re.compile(r"^Check in")).click()
        table.get_by_text("Arrived", exact=True).wait_for()
        tab.locator("#day-messages").get_by_text(re.compile("Anna Albers")).wait_for()
        assert tab.url == address  # swapped in place, no navigation
        assert refresh(anna).visit == Appointment.Visit.ARRIVED
        assert search.input_value() == "Ann"
        assert [error for error in errors if "favicon" not in error and "404" not in error] == []
        context.close()


def test_checking_in_tells_the_clerk_the_queue_ticket_to_give_the_citizen(client, world):
    appointment = world.book("09:00", name="Anna Albers")
    signed_in(client, world.clerk_a)
    with time_machine.travel(at("08:55"), tick=False):
        response = client.post(act_url(appointment, "check_in"))
    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert said == [
        f"Anna Albers ({appointment.booking_code}): Ankunft erfasst. "
        "Wartemarke T001: Bitte geben Sie der Person diese Nummer."
    ]
