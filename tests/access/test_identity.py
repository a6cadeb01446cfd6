"""The forms in which the per-person limit compares e-mail addresses and phone numbers."""

import pytest

from access.identity import email_key, phone_key


@pytest.mark.parametrize(
    ("typed", "compared"),
    [
        ("erika@example.org", "erika@example.org"),
        ("  Erika@Example.ORG ", "erika@example.org"),
        ("erika+termin@example.org", "erika@example.org"),
        ("erika+a+b@example.org", "erika@example.org"),
        ("e.rika@example.org", "e.rika@example.org"),  # most providers deliver dots to another mailbox
        ("E.Rika.M+1@gmail.com", "erikam@gmail.com"),
        ("erikam@googlemail.com", "erikam@gmail.com"),
        ("erika@example.org.", "erika@example.org"),
        ("+erika@example.org", "+erika@example.org"),  # nothing before the tag: kept, not emptied
        ("not an address", "not an address"),
        ("", ""),
    ],
)
def test_addresses_that_reach_one_mailbox_compare_equal(typed: str, compared: str) -> None:
    assert email_key(typed) == compared


@pytest.mark.parametrize(
    ("typed", "compared"),
    [
        ("0151 1234567", "+491511234567"),
        ("+49 151 1234567", "+491511234567"),
        ("0049 (151) 123-4567", "+491511234567"),
        ("030 1234567", "+49301234567"),
        ("+43 1 5120000", "+4315120000"),
        ("12", ""),
        ("call me", ""),
        ("", ""),
    ],
)
def test_phone_numbers_compare_in_e164(typed: str, compared: str) -> None:
    assert phone_key(typed) == compared
