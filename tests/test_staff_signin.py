"""Staff sign in with Django's auth; repeated failures lock the user name out (django-axes)."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.desk import at
from tests.factories import TEST_PASSWORD
from tests.staff import sign_in

pytestmark = pytest.mark.django_db


def fail(client: Client, username: str, times: int) -> None:
    for _attempt in range(times):
        assert not sign_in(client, username, "wrong password")


def test_a_clerk_signs_in_and_lands_on_the_desk(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("booking:staff-login"), {"username": "clerk-a", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("desk:home")
    assert "_auth_user_id" in client.session


def test_a_wrong_password_is_refused_with_the_form_again(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("booking:staff-login"), {"username": "clerk-a", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_after_the_failure_limit_even_the_right_password_is_refused(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        fail(client, "clerk-a", settings.AXES_FAILURE_LIMIT)
        response = client.post(reverse("booking:staff-login"), {"username": "clerk-a", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert b"15" in response.content  # the page says for how many minutes


def test_the_lockout_page_speaks_english_under_en(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        fail(client, "clerk-a", settings.AXES_FAILURE_LIMIT)
        response = client.post("/en/staff/login/", {"username": "clerk-a", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content


def test_one_failure_fewer_than_the_limit_still_lets_the_clerk_in(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        fail(client, "clerk-a", settings.AXES_FAILURE_LIMIT - 1)
        assert sign_in(client, "clerk-a")


def test_a_successful_sign_in_resets_the_count(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        fail(client, "clerk-a", settings.AXES_FAILURE_LIMIT - 1)
        assert sign_in(client, "clerk-a")
        client.logout()
        fail(client, "clerk-a", settings.AXES_FAILURE_LIMIT - 1)
        assert sign_in(client, "clerk-a")


def test_the_lock_lifts_after_the_cool_off(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        fail(client, "clerk-a", settings.AXES_FAILURE_LIMIT)
        assert not sign_in(client, "clerk-a")
    later = at("08:00") + settings.AXES_COOLOFF_TIME + datetime.timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert sign_in(client, "clerk-a")


def test_the_lock_is_per_user_name_so_colleagues_can_still_sign_in(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        fail(client, "clerk-a", settings.AXES_FAILURE_LIMIT)
        assert not sign_in(client, "clerk-a")
        assert sign_in(Client(), "manager-a")


def test_the_admin_sign_in_is_locked_out_too(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            client.post("/admin/login/", {"username": "administrator", "password": "wrong"})
        response = client.post("/admin/login/", {"username": "administrator", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_signing_out_needs_a_post_and_ends_the_session(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "clerk-a")
    assert client.get(reverse("booking:staff-logout")).status_code == 405
    client.post(reverse("booking:staff-logout"))
    assert "_auth_user_id" not in client.session
