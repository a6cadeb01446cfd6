"""Pages that are the same for everybody, kept whole in the shared cache until what they show changes.

A page such as the home page or an office's page shows the catalogue (offices,
services, their hours), not the person asking: for the same address and
language its bytes are the same for everybody. ``shared_page`` keeps those
bytes with ``buergerservice.versions.reuse`` (so a change of the catalogue is
shown by the next read from any process), gives them an ETag (a client that
has them gets a 304) and lets browsers and proxies keep them for
``PUBLIC_SECONDS``.

What must never be shared, and how it is kept out:
- messages waiting in the request's session or cookie (a confirmation, an
  error): such a request gets the page rendered for it, which is not kept;
- a CSRF token, a cookie set, any answer but 200: a page whose rendering used
  the token or set a cookie is not kept (it is valid only "until now");
- an address with a query string: rendered each time, not kept, so that any
  number of made-up addresses cannot fill the cache.
The language is part of the key (and of the address: German unprefixed, the
others under /<code>/). Responses say ``Vary: Cookie``: a proxy keeps the
shared page apart from what a visitor with a cookie (and maybe a message) gets.
"""

import datetime
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.translation import get_language

from buergerservice import versions

# How long browsers and proxies may keep a shared page without asking again: the longest a change of the
# catalogue can stay unseen by them (the server itself shows it with the next read).
PUBLIC_SECONDS = 60


@dataclass(frozen=True)
class SharedPage:
    body: bytes
    content_type: str
    etag: str


def _personal(request: HttpRequest) -> bool:
    """Whether the request carries something for this person only (messages waiting), or an unusual address."""
    if request.META.get("QUERY_STRING"):
        return True
    # Without a messages cookie this reads no session (the cookie storage says so first).
    return len(get_messages(request)) > 0


def _shareable(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # the page used a CSRF token: it is this visitor's
        and "no-store" not in response.get("Cache-Control", "")
    )


def shared_page(
    request: HttpRequest,
    name: str,
    render: Callable[[], HttpResponse],
    *,
    versions_of: Sequence[str] = (versions.CATALOGUE,),
    valid_until: datetime.datetime | None = None,
    max_age: int = PUBLIC_SECONDS,
) -> HttpResponse:
    """The page ``render()`` gives, kept under ``name``, this language and this path until ``versions_of`` change.

    ``valid_until``: when the page would differ even with no change (e.g. a
    calendar's "today" moving on); None: not before the versions change.
    ``max_age``: how long browsers and proxies may keep it.
    """
    if _personal(request):
        return render()
    now = timezone.now()
    rendered: list[HttpResponse] = []

    def compute() -> tuple[SharedPage, datetime.datetime | None]:
        response = render()
        rendered.append(response)
        body = response.content if not response.streaming else b""
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        page = SharedPage(body, response.get("Content-Type", ""), etag)
        return page, (valid_until if _shareable(request, response) else now)  # "until now": not kept

    key = f"page:{name}:{get_language()}:{request.path}"
    page = versions.reuse(key, list(versions_of), compute, now=now)
    if rendered and not _shareable(request, rendered[0]):
        return rendered[0]
    response = rendered[0] if rendered else HttpResponse(page.body, content_type=page.content_type)
    response["ETag"] = page.etag
    patch_cache_control(response, public=True, max_age=max_age)
    patch_vary_headers(response, ["Cookie"])
    return get_conditional_response(request, etag=page.etag, response=response) or response
