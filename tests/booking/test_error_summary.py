"""The error summary lists and links each field at fault (issue 19, point 1, in part), on the citizen's forms."""

import pytest
from django.test import Client

from tests.support.factories import office_from_today

pytestmark = pytest.mark.django_db


def test_the_waitlist_form_lists_and_links_each_field_at_fault(client: Client) -> None:
    office_from_today()
    page = client.post(
        "/waitlist/?services=personalausweis",
        {"first_day": "2020-01-01", "last_day": "2020-01-02", "name": "", "email": "nope", "language": "de"},
    ).content.decode()
    summary = page[page.index('id="error-summary"') : page.index("</div>", page.index('id="error-summary"'))]
    assert '<a href="#id_first_day">Von: Bitte wählen Sie heute oder einen späteren Tag.</a>' in summary  # past
    assert '<a href="#id_name">Ihr Name: Dieses Feld ist erforderlich.</a>' in summary
    assert 'href="#id_email">E-Mail-Adresse:' in summary
    assert 'id="id_first_day"' in page and 'id="id_name"' in page  # the links lead somewhere


def test_the_contact_step_lists_and_links_each_field_at_fault(client: Client) -> None:
    import datetime

    from django.utils import timezone

    from booking.needs import needs_from_param
    from booking.services.appointments import hold_place
    from tests.support.factories import next_weekday_at_nine

    office = office_from_today()
    start = datetime.datetime.fromisoformat(next_weekday_at_nine())
    hold = hold_place(office=office, start=start, needs=needs_from_param("personalausweis"), now=timezone.now())
    session = client.session
    session["booking-hold"] = hold.token
    session.save()
    page = client.post(f"/book/hold/{hold.token}/", {"name": "", "email": "x", "language": "de"}).content.decode()
    assert 'id="error-summary"' in page
    assert '<a href="#id_name">Ihr Name:' in page and '<a href="#id_email">E-Mail-Adresse:' in page
