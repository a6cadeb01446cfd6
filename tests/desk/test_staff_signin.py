"""Staff sign in with Django's auth; repeated failures lock the user name out (django-axes)."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.support.desk_steps import at
from tests.support.factories import TEST_PASSWORD
from tests.support.staff import sign_in

pytestmark = pytest.mark.django_db


def fail(client: Client, username: str, times: int) -> None:
    for _attempt in range(times):
        assert not sign_in(client, username, "wrong password")


def test_a_clerk_signs_in_and_lands_on_the_desk(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("desk:staff-login"), {"username": "clerk-a", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("desk:home")
    assert "_auth_user_id" in client.session


def test_a_wrong_password_is_refused_with_the_form_again(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("desk:staff-login"), {"username": "clerk-a", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_after_the_failure_limit_even_the_right_password_is_refused(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        fail(client, "clerk-a", settings.AXES_FAILURE_LIMIT)
        response = client.post(reverse("desk:staff-login"), {"username": "clerk-a", "password": TEST_PASSWORD})
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
    assert client.get(reverse("desk:staff-logout")).status_code == 405
    client.post(reverse("desk:staff-logout"))
    assert "_auth_user_id" not in client.session


def at_address(address: str, **extra: str) -> Client:
    return Client(REMOTE_ADDR=address, **extra)


def test_failures_from_one_address_do_not_lock_the_clerk_out_from_another(world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        attacker = at_address("203.0.113.66")
        fail(attacker, "clerk-a", settings.AXES_FAILURE_LIMIT)
        assert (
            attacker.post(reverse("desk:staff-login"), {"username": "clerk-a", "password": TEST_PASSWORD}).status_code
            == 429
        )
        assert sign_in(at_address("198.51.100.7"), "clerk-a")


def test_one_address_trying_many_user_names_is_refused_after_the_address_limit(world) -> None:  # type: ignore[no-untyped-def]
    limit = settings.STAFF_LOGIN_ADDRESS_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT  # a few typos of one office never reach it
    with time_machine.travel(at("08:00"), tick=False):
        sprayer = at_address("203.0.113.66")
        for number in range(limit):
            assert not sign_in(sprayer, f"guess-{number}", "Sommer2026!")
        # even a real user name with its right password is refused from there now
        response = sprayer.post(reverse("desk:staff-login"), {"username": "clerk-a", "password": TEST_PASSWORD})
        assert response.status_code == 429
        assert sign_in(at_address("198.51.100.7"), "clerk-a")  # elsewhere the city signs in as usual
    later = at("08:00") + settings.AXES_COOLOFF_TIME + datetime.timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert sign_in(at_address("203.0.113.66"), "clerk-a")


def test_one_failure_fewer_than_the_address_limit_still_lets_a_clerk_in_from_there(world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("08:00"), tick=False):
        office = at_address("192.0.2.10")
        for number in range(settings.STAFF_LOGIN_ADDRESS_FAILURE_LIMIT - 1):
            assert not sign_in(office, f"typo-{number}", "wrong")
        assert sign_in(office, "clerk-a")


def test_behind_a_trusted_proxy_the_forwarded_address_counts_not_the_proxys(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    with time_machine.travel(at("08:00"), tick=False):
        attacker = at_address(proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
        fail(attacker, "clerk-a", settings.AXES_FAILURE_LIMIT)
        assert not sign_in(attacker, "clerk-a")
        # a spoofed left-hand entry does not make the attacker someone else
        spoofed = at_address(proxy, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.66")
        assert not sign_in(spoofed, "clerk-a")
        assert sign_in(at_address(proxy, HTTP_X_FORWARDED_FOR="198.51.100.7"), "clerk-a")


@pytest.mark.parametrize("url", ["desk:staff-login", "admin:login"])
def test_a_user_name_longer_than_any_is_refused_and_counted_not_a_server_error(client: Client, world, url) -> None:  # type: ignore[no-untyped-def]
    """axes stores the attempt's user name in 255 characters: a longer one failed the insert on PostgreSQL."""
    long_name = "u" * 300
    with time_machine.travel(at("08:00"), tick=False):
        for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            response = client.post(reverse(url), {"username": long_name, "password": "x"})
            assert response.status_code == 200
        response = client.post(reverse(url), {"username": long_name, "password": "x"})
    assert response.status_code == 429  # counted as its first 150 characters, and locked like any other
