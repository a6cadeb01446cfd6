"""Proof of work before a citizen takes a time: ALTCHA, served by us, with a question for browsers without JavaScript.

Placing a hold (the web flow and the API) and booking through the API without a
hold cost the client some work: it fetches a challenge (``GET /api/v1/challenge``),
finds the counter whose PBKDF2-derived key starts with the challenge's prefix
(the ALTCHA widget does it in the browser's workers; ``altcha.solve_challenge``
in Python) and sends the solution along (the form field ``altcha``; the API
header ``Altcha``). The server checks it without doing the work again: the
challenge carries an HMAC of the expected key.

The work rises with the challenges an address fetched recently: the first
``PROOF_OF_WORK_FREE`` in ten minutes cost about ``PROOF_OF_WORK_COUNTER``
derivations (a second or less in a browser), each further one twice as many as
the one before, up to ``2 ** PROOF_OF_WORK_MAX_LEVEL`` times. A citizen pays
once per hold; a script that wants a day pays for every hold, and more the
faster it asks. Every solution (and every fallback answer) is accepted once
(``UsedProof``). Requests with an API key need none.

Without JavaScript the widget cannot run: the hold is then asked once more with
a small question checked on the server (``question_create``/``question_spend``),
at most ``PROOF_QUESTIONS_PER_HOUR`` per address, and the page names the phone
number as the other way.
"""

import datetime
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from altcha import Payload, create_challenge, verify_solution
from django.conf import settings
from django.core import signing
from django.db import connection
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from limits import RateLimitItemPerMinute

from access.keys import api_key_of
from access.limits import address_identity, counted, identity
from access.models import UsedProof

logger = logging.getLogger(__name__)

ALGORITHM = "PBKDF2/SHA-256"
FIELD = "altcha"  # the widget's hidden input
HEADER = "Altcha"  # the API's
QUESTION_FIELDS = ("proof_token", "proof_answer")
MAX_PAYLOAD = 4000  # a solution is some 700 characters; anything far longer is not one
# Counters whose amounts never refuse: only their windows are used.
_CHALLENGES_WINDOW = RateLimitItemPerMinute(10**9, 10)


def _secret(purpose: str) -> str:
    return salted_hmac(f"access.proof.{purpose}", "altcha").hexdigest()


def proof_needed(request: HttpRequest) -> bool:
    return bool(settings.PROOF_OF_WORK) and api_key_of(request) is None


def _who(request: HttpRequest) -> str:
    who = identity(request)
    return who[0] if who is not None else address_identity(request)


def challenge_level(fetched: int) -> int:
    """How many times the work doubles for an address that fetched ``fetched`` challenges in ten minutes."""
    return max(0, min(settings.PROOF_OF_WORK_MAX_LEVEL, fetched - settings.PROOF_OF_WORK_FREE))


def challenge_create(request: HttpRequest, *, now: datetime.datetime) -> dict:
    """A new signed challenge for this client, as the widget and ``altcha.Challenge.from_dict`` read it."""
    level = challenge_level(counted("challenge", _who(request), per=_CHALLENGES_WINDOW))
    top = settings.PROOF_OF_WORK_COUNTER << level
    counter = secrets.randbelow(top)  # the client tries 0, 1, 2 … until this one: no better place to start
    challenge = create_challenge(
        ALGORITHM,
        settings.PROOF_OF_WORK_COST,
        counter=counter,
        expires_at=now + datetime.timedelta(minutes=settings.PROOF_OF_WORK_MINUTES),
        hmac_secret=_secret("challenge"),
        hmac_key_secret=_secret("key"),
    )
    return challenge.to_dict()


def solution_spend(payload: str, *, now: datetime.datetime) -> bool:
    """Whether ``payload`` solves a challenge of ours that has not expired and was not used before; spends it."""
    if not payload or len(payload) > MAX_PAYLOAD:
        return False
    try:
        parsed = Payload.from_base64(payload)
        result = verify_solution(parsed, _secret("challenge"), hmac_key_secret=_secret("key"))
        parameters = parsed.challenge
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # not base64, JSON, a solution
        return False
    if not result.verified or parameters.parameters.expires_at is None:
        return False
    expires_at = datetime.datetime.fromtimestamp(parameters.parameters.expires_at, tz=datetime.UTC)
    if expires_at <= now:
        return False
    return _spend(f"pow:{parameters.signature}", expires_at=expires_at)


def _spend(
    signature: str, *, expires_at: datetime.datetime, who: str = "", now: datetime.datetime | None = None
) -> bool:
    """Record a proof as used; False if it was used before. One statement, safe from two requests at once.

    ``who`` and ``now`` are kept for the answers to the question, which are counted per address.
    """
    table = connection.ops.quote_name(UsedProof._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (signature, expires_at, who, used_at) VALUES (%s, %s, %s, %s) "  # noqa: S608 - our table
            "ON CONFLICT DO NOTHING",
            [signature[:128], adapt(expires_at), who[:100], adapt(now) if now is not None else None],
        )
        return cursor.rowcount == 1


def proofs_forget(*, now: datetime.datetime) -> int:
    """Drop the used proofs whose challenge has expired: they would be refused as expired anyway."""
    deleted, _detail = UsedProof.objects.filter(expires_at__lte=now).delete()
    return deleted


# Without JavaScript


@dataclass(frozen=True)
class Question:
    text: str
    token: str


def _answer_mac(nonce: str, answer: int) -> str:
    return hmac.new(_secret("question").encode(), f"{nonce}:{answer}".encode(), hashlib.sha256).hexdigest()[:32]


def question_create(*, now: datetime.datetime) -> Question:
    """A small sum to answer; the token proves which, without saying the answer (it is signed, not encrypted)."""
    first, second = 2 + secrets.randbelow(8), 2 + secrets.randbelow(8)
    nonce = secrets.token_urlsafe(12)
    expires = now + datetime.timedelta(minutes=settings.PROOF_OF_WORK_MINUTES)
    token = signing.dumps(
        {"n": nonce, "h": _answer_mac(nonce, first + second), "e": int(expires.timestamp())},
        salt="access.proof.question",
    )
    text = _("How much is %(first)s plus %(second)s? Please answer in digits.") % {"first": first, "second": second}
    return Question(text=text, token=token)


def question_spend(request: HttpRequest, *, token: str, answer: str, now: datetime.datetime) -> bool:
    """Whether the answer is right for a question of ours not yet answered; at most a few per address an hour."""
    try:
        data = signing.loads(token[:MAX_PAYLOAD], salt="access.proof.question")
        nonce, mac, expires = str(data["n"]), str(data["h"]), int(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return False
    answer = answer.strip()
    if expires <= now.timestamp() or not re.fullmatch(r"[0-9]{1,2}", answer):  # a sum below 20, in ASCII digits
        return False
    if not hmac.compare_digest(mac, _answer_mac(nonce, int(answer))):
        return False
    # Counted in the database, not in Redis: while Redis is down this path must not become free for scripts.
    who = _who(request)
    hour_ago = now - datetime.timedelta(hours=1)
    if UsedProof.objects.filter(who=who, used_at__gt=hour_ago).count() >= settings.PROOF_QUESTIONS_PER_HOUR:
        return False
    # Kept an hour (not only until the question's expiry): the count above needs it.
    return _spend(f"question:{nonce}", expires_at=now + datetime.timedelta(hours=1), who=who, now=now)


def proof_given(request: HttpRequest, *, now: datetime.datetime) -> bool:
    """A web form's proof: the widget's solution, or the answer to the question asked without JavaScript."""
    if request.POST.get(FIELD):
        return solution_spend(request.POST[FIELD], now=now)
    token, answer = (request.POST.get(name, "") for name in QUESTION_FIELDS)
    return bool(token) and question_spend(request, token=token, answer=answer, now=now)


def widget_settings() -> dict:
    """What a page with the widget needs: the challenge's address and the widget's texts in the active language."""
    return {
        "challenge_url": reverse("api-v1:read_challenge"),
        "language": get_language(),
        "strings": {
            "label": _("Check that I am not a script"),
            "verifying": _("Checking … this takes a second or two."),
            "verified": _("Checked."),
            "verify": _("Check"),
            "waitAlert": _("Checking … please wait."),
            "loading": _("Loading …"),
            "error": _("The check failed. Please try again, or book by phone: 115."),
            "expired": _("The check has run out. Please check again."),
            "verificationRequired": _("Please let the check finish first."),
            "reload": _("Again"),
            "cancel": _("Cancel"),
            "ariaLinkLabel": "ALTCHA",
            "footer": "",
        },
    }
