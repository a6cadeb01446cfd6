"""One person, one budget: e-mail addresses and phone numbers in the form the per-person limits compare.

``Erika.Mustermann+termin1@GoogleMail.com `` and ``erikamustermann@gmail.com``
reach the same inbox, so they are one person's: a script that adds ``+1``,
``+2``… or moves a dot must not get a new budget each time. The stored address
stays as typed (lower-case); only the comparison uses these keys.
"""

import phonenumbers

# Providers that deliver a.b.c@ to abc@: dots in the local part are ignored there (and the domains are one).
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
PHONE_REGION = "DE"  # a number without a country code is German
MIN_DIGITS = 6  # Germany's shortest subscriber numbers with area code; fewer digits are no way to reach a person


def email_key(email: str) -> str:
    """The address as the limit compares it: lower-case, trimmed, ``+tag`` removed, Gmail's dots removed."""
    address = email.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return address
    domain = domain.rstrip(".")
    local = local.split("+", 1)[0] or local  # "+tag" is the same mailbox; a bare "+x@" stays as it is
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


def phone_key(phone: str) -> str:
    """The number in E.164 (``+4915112345678``) as the limit compares it; "" for what is no phone number."""
    if not phone.strip():
        return ""
    try:
        number = phonenumbers.parse(phone, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number) or len(str(number.national_number)) < MIN_DIGITS:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
