"""Who is placing a hold, read from the request (the caps are ``booking.services.appointments.Holder``)."""

import hashlib

from django.conf import settings
from django.http import HttpRequest

from access.limits import address_identity, identity
from booking.services.appointments import Holder


def holder_of(request: HttpRequest, *, browser: bool) -> Holder:
    """The request's address or API key, with its cap of live holds; in the web flow also its session.

    The session key itself is never stored on a hold (whoever reads the table could take over the
    browser's session); a hash of it is enough to recognise it again.
    """
    who = identity(request)  # None only for a wrong API key, which the limits answered 401 already
    address, scale = who if who is not None else (address_identity(request), 1)
    session = ""
    if browser:
        if request.session.session_key is None:
            request.session.save()
        session = hashlib.blake2s(str(request.session.session_key).encode(), digest_size=16).hexdigest()
    return Holder(address=address, holds=settings.BOOKING_HOLDS_PER_ADDRESS * scale, session=session)
