"""The office's message list, for its managers."""

import pytest
from django.urls import reverse

from notifications import sms
from notifications.models import Message
from offices.models import Membership
from tests.support.factories import MembershipFactory, UserFactory, bookable_office
from tests.support.messages import (
    MONDAY,
    leipzig_office,
)

pytestmark = pytest.mark.django_db

Status, Channel = Message.Status, Message.Channel


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> None:
    sms.outbox.clear()


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    return leipzig_office()


def test_the_office_message_list_is_only_for_its_managers(office, client) -> None:  # type: ignore[no-untyped-def]
    url = reverse("desk:office-messages", args=[office.slug])
    assert client.get(url).status_code == 302  # to the sign-in
    other = bookable_office(counters=1, first=MONDAY, last=MONDAY)
    stranger = UserFactory(username="stranger")
    MembershipFactory(user=stranger, office=other, role=Membership.Role.MANAGER)
    clerk = UserFactory(username="clerk")
    MembershipFactory(user=clerk, office=office, role=Membership.Role.CLERK)
    for user in (stranger, clerk):
        client.force_login(user)
        assert client.get(url).status_code == 404
    both = UserFactory(username="both")
    for each in (office, other):
        MembershipFactory(user=both, office=each, role=Membership.Role.MANAGER)
    client.force_login(both)
    page = client.get(url + "?status=sent").content.decode()
    assert f'href="/staff/messages/{other.slug}/?status=sent"' in page


def test_the_admin_office_list_links_to_each_office_message_list(office, admin_client) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get(reverse("admin:offices_office_changelist")).content.decode()
    assert f'href="/staff/messages/{office.slug}/"' in page
