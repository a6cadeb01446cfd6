"""Pages of the booking flow rendered once for everyone and completed on every request.

What such a page shows is the same for every citizen who asks the same (the
layout, the catalogue's form, an office's month of free times): it is rendered
once per language and kept with ``buergerservice.versions.reuse`` until the data
it was rendered from changes. It is rendered without the request, so nothing of
one citizen can get into it; what belongs to the request is left as a slot and
filled on every request: the links to this address in the other languages, the
session's messages and the CSRF token.
"""

import datetime
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from buergerservice import versions
from buergerservice.context_processors import LanguageLink, language_links

# A slot in the rendered text: a name between two ASCII record separators, which no template writes.
_SLOT = "\x1e{}\x1e"
_SLOTS = re.compile("\x1e(language_links|messages|csrf_token)\x1e")

Note = tuple[int, str]  # a message (level, text) that every request for the page gets, e.g. "no free times that day"


@dataclass(frozen=True)
class SharedPage:
    parts: tuple[str, ...]  # the text between the slots, and the slots' names: text, slot, text, ..., text
    notes: tuple[Note, ...] = ()


def shared_render(template: str, context: dict, *, notes: Sequence[Note] = ()) -> SharedPage:
    """The page as it is for everyone: rendered without the request, the per-request parts left as slots.

    The template extends ``booking/_layout.html``, which puts the slots where the
    layout shows the language links and the messages; ``{% csrf_token %}`` writes
    its slot too.
    """
    slots = {name: mark_safe(_SLOT.format(name)) for name in ("language_links", "messages")}  # noqa: S308 - our own
    text = render_to_string(template, {**context, "slots": slots, "csrf_token": _SLOT.format("csrf_token")})
    return SharedPage(parts=tuple(_SLOTS.split(text)), notes=tuple(notes))


def shared_reuse(
    key: str,
    names: Sequence[str],
    compute: Callable[[], tuple[SharedPage, datetime.datetime | None]],
    *,
    now: datetime.datetime,
) -> SharedPage:
    """The page kept under ``key`` in the current language (``versions.reuse``), or ``compute()``'s."""
    return versions.reuse(shared_key(key), names, compute, now=now)


def shared_key(key: str) -> str:
    """The cache key of a page in the current language."""
    return f"page:{get_language()}:{key}"


def shared_response(request: HttpRequest, page: SharedPage, *, status: int = 200) -> HttpResponse:
    """The page completed for this request: its notes become messages, then every slot is filled."""
    for level, text in page.notes:
        messages.add_message(request, level, text)
    filled: dict[str, str] = {}
    out = []
    for index, part in enumerate(page.parts):
        if index % 2 == 0:
            out.append(part)
            continue
        if part not in filled:
            filled[part] = _fill(request, part)
        out.append(filled[part])
    return HttpResponse("".join(out), status=status)


def _fill(request: HttpRequest, slot: str) -> str:
    if slot == "csrf_token":
        return get_token(request)  # also sets the cookie, as {% csrf_token %} would
    if slot == "messages":
        return render_to_string("_messages.html", {"messages": messages.get_messages(request)})
    return _language_links(request)


_URL_SLOTS = re.compile("\x1eurl(\\d+)\x1e")


def _language_links(request: HttpRequest) -> str:
    """``_language_links.html`` for this address: the template rendered once per process and language with the
    addresses as slots (all else in it is the same on every page), the addresses filled in as it would."""
    links = language_links(request)["language_links"]
    parts = _language_links_parts(tuple(replace(link, url=_SLOT.format(f"url{n}")) for n, link in enumerate(links)))
    return "".join(part if n % 2 == 0 else escape(links[int(part)].url) for n, part in enumerate(parts))


@functools.lru_cache(maxsize=16)
def _language_links_parts(links: tuple[LanguageLink, ...]) -> tuple[str, ...]:
    return tuple(_URL_SLOTS.split(render_to_string("_language_links.html", {"language_links": links})))
