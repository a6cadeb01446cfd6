"""The proof-of-work challenge, for the widget and for API clients (``access.proof``)."""

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Router, Schema
from ninja.decorators import decorate_view

from access.limits import limited
from access.proof import challenge_create

router = Router()


class ChallengeParametersOut(Schema):
    algorithm: str
    nonce: str
    salt: str
    cost: int
    keyLength: int  # noqa: N815 - ALTCHA's names
    keyPrefix: str  # noqa: N815
    keySignature: str | None = None  # noqa: N815
    expiresAt: int | None = None  # noqa: N815


class ChallengeOut(Schema):
    parameters: ChallengeParametersOut
    signature: str


@router.get(
    "/challenge",
    response={200: ChallengeOut},
    tags=["proof of work"],
    summary="A proof-of-work challenge (ALTCHA v2) for the next hold, or booking without a hold",
)
@decorate_view(limited("read"))
def read_challenge(request: HttpRequest) -> JsonResponse:
    """Find the counter whose PBKDF2 key starts with ``keyPrefix`` (``altcha.solve_challenge`` in Python, the
    ``altcha`` widget in a browser) and send the solution, base64-encoded as ALTCHA's ``Payload``, in the header
    ``Altcha`` of ``POST /holds`` or ``POST /appointments``. Each solution is accepted once, until ``expiresAt``.
    The work doubles with every challenge beyond a few that one address fetches in ten minutes. Requests with
    an API key need none."""
    response = JsonResponse(challenge_create(request, now=timezone.now()))
    response["Cache-Control"] = "no-store"
    return response
