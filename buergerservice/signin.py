"""Staff sign-in lockout: per user name and address, plus a higher limit per address.

django-axes counts failed sign-ins per (user name, address): five wrong
passwords from one address lock that user name there only, so nobody can lock a
clerk out from elsewhere by typing their name. Against one address trying many
user names (password spraying), the failures of all user names from one address
are summed as well and refused beyond STAFF_LOGIN_ADDRESS_FAILURE_LIMIT within
the cool-off time. axes has one failure limit for all its lockout parameters,
hence this check beside it, on the attempts axes itself records.
"""

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


class AddressLimitedAxesHandler(AxesDatabaseHandler):
    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        return super().is_locked(request, credentials) or _address_locked(request)

    def user_login_failed(
        self, sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        """As axes records it; a failure that reaches the address limit answers with the lockout page, too.

        axes decides that page from its own count only (per user name and
        address), so a refusal by the address limit would otherwise look like
        a wrong password.
        """
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and not getattr(request, "axes_locked_out", False) and _address_locked(request):
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = credentials  # type: ignore[attr-defined]


def _address_locked(request: HttpRequest) -> bool:
    return address_failures(request) >= settings.STAFF_LOGIN_ADDRESS_FAILURE_LIMIT


def address_failures(request: HttpRequest) -> int:
    """Failed sign-ins from the request's address, all user names together, within the cool-off time."""
    attempts = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address,  # type: ignore[attr-defined]  # set by axes before it asks
        attempt_time__gte=get_cool_off_threshold(request),
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def client_address(request: HttpRequest) -> str | None:
    """The address a sign-in comes from (AXES_CLIENT_IP_CALLABLE).

    Behind TRUSTED_PROXY_COUNT reverse proxies the connection comes from the
    nearest proxy; the client is the entry the outermost one appended to
    X-Forwarded-For (counted from the right: entries further left are the
    client's own to invent). Without that every clerk would share the proxy's
    address, and its limit would lock the whole city out at once.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


USERNAME_STORED_LENGTH = 150  # Django's user name length; axes's column holds 255, a longer name was a 500


def client_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The user name a sign-in tried (AXES_USERNAME_CALLABLE), cut to what a user name can be.

    As axes's own lookup (credentials first, else the posted form), but no
    longer than Django's user names: a name typed longer than any user's is
    counted and locked as its first 150 characters instead of failing the
    insert of the attempt.
    """
    if credentials:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = getattr(request, "data", request.POST).get(settings.AXES_USERNAME_FORM_FIELD)
    return username[:USERNAME_STORED_LENGTH] if isinstance(username, str) else username
