"""Signing staff in the way they do it: through the sign-in form (the lockout sees every attempt)."""

from django.test import Client
from django.urls import reverse

from tests.support.factories import TEST_PASSWORD


def sign_in(client: Client, username: str, password: str = TEST_PASSWORD) -> bool:
    """POST the staff sign-in form; True when the client is now signed in."""
    client.post(reverse("desk:staff-login"), {"username": username, "password": password})
    return "_auth_user_id" in client.session
