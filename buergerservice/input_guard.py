"""One guard for the whole site against input no query may carry, before any view sees it.

PostgreSQL refuses a NUL character in text with an error, and a lone UTF-16
surrogate (``"\\ud800"`` in JSON) cannot even be encoded for it: wherever
such a value reached a query it was a 500. Rather than a check in every view,
this middleware refuses it once, early (before the session is read):

- in the path: 404, the page or the API's ``{"detail": msg}``, as for any
  address that does not exist;
- in a query parameter, a form field or a string (or key) of a JSON body: 400
  with a short page in the page's language, under /api/ the API's 422
  ``{"detail": [{"type", "loc", "msg"}]}`` naming the field;
- in a request header (a User-Agent the sign-in lockout stores): as a field;
- in a cookie: the cookie is dropped (the visitor cannot easily fix it; a
  fresh session is the kind answer).

Under /api/ it also refuses a body that is not ``application/json`` with
415: a cross-site form may post text/plain, urlencoded or multipart without a
CORS preflight, so reading any body as JSON let every web page place holds and
bookings from its visitors' browsers. A JSON body that does not parse is 400.
buergerservice.openapi declares these answers in the schema.
"""

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

API_PREFIX = "/api/"
JSON_TYPE = "application/json"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# NUL: PostgreSQL's text types cannot hold it. Surrogates: no UTF-8 encoding exists for them alone.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

Loc = list[str | int]


def unstorable(text: str) -> bool:
    """Whether ``text`` holds a character no database column can store."""
    return _UNSTORABLE.search(text) is not None


def _json_strings(value: Any) -> Iterator[tuple[Loc, str]]:
    """Every string of a parsed JSON document with its place, keys included, in document order.

    Iterative: a document as deep as the parser allows must not exhaust the stack here.
    """
    stack: list[tuple[Loc, Any]] = [([], value)]
    while stack:
        loc, item = stack.pop()
        if isinstance(item, str):
            yield loc, item
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):  # reversed onto the stack: popped in order
                stack.append(([*loc, key], child))
                stack.append(([*loc, key], key))
        elif isinstance(item, list):
            stack.extend(reversed([([*loc, index], child) for index, child in enumerate(item)]))


def _first_bad_json_string(document: Any) -> Loc | None:
    return next((loc for loc, text in _json_strings(document) if unstorable(text)), None)


def _first_bad_field(data: Any) -> str | None:
    """The first key of a QueryDict whose name or any of whose values cannot be stored."""
    for key, values in data.lists():
        if unstorable(key) or any(isinstance(value, str) and unstorable(value) for value in values):
            return key
    return None


def _form_or_none(request: HttpRequest) -> Any:
    """The posted form, or None when Django cannot read it (another charset than UTF-8, a broken multipart)."""
    try:
        return request.POST
    except (BadRequest, SuspiciousOperation, MultiPartParserError):
        return None


def _first_bad_header(request: HttpRequest) -> str | None:
    """The first request header (but the cookies, dropped instead) holding a character that cannot be stored."""
    for key, value in request.META.items():
        if key.startswith("HTTP_") and key != "HTTP_COOKIE" and isinstance(value, str) and unstorable(value):
            return key[5:].lower().replace("_", "-")
    return None


def _media_type(request: HttpRequest) -> str:
    return request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()


class InputGuardMiddleware:
    """Refuses unstorable characters anywhere in a request, and non-JSON bodies under /api/ (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self._drop_unstorable_cookies(request)
        api = request.path_info.startswith(API_PREFIX)
        # The API speaks Accept-Language; pages their path's language (German without a prefix), as LocaleMiddleware.
        language = (
            translation.get_language_from_request(request)
            if api
            else translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        )
        with translation.override(language):
            refusal = self._refusal(request, api=api)
        if refusal is None:
            return self.get_response(request)
        refusal.headers["Content-Language"] = language
        return refusal

    @staticmethod
    def _drop_unstorable_cookies(request: HttpRequest) -> None:
        cookies = request.COOKIES
        if any(unstorable(name) or unstorable(value) for name, value in cookies.items()):
            request.COOKIES = {name: value for name, value in cookies.items() if not unstorable(name + value)}

    def _refusal(self, request: HttpRequest, *, api: bool) -> HttpResponse | None:
        if unstorable(request.path_info):
            if api:
                return JsonResponse({"detail": _("Not found.")}, status=404)
            return render(request, "404.html", status=404)
        header = _first_bad_header(request)
        if header is not None:  # e.g. a User-Agent the sign-in lockout would store
            return self._bad_field(request, ["header", header], api=api)
        field = _first_bad_field(request.GET)
        if field is not None:
            return self._bad_field(request, ["query", field], api=api)
        if request.method not in BODY_METHODS:  # a GET's body is never read: not refused either
            return None
        if api:
            return self._api_body_refusal(request)
        if request.method == "POST" and _media_type(request) in FORM_TYPES:
            form = _form_or_none(request)
            if form is None:  # a charset other than UTF-8, a broken multipart: Django's 400 view would fail on it too
                return render(request, "400.html", {"message": _("This form could not be read.")}, status=400)
            field = _first_bad_field(form)
            if field is not None:
                return self._bad_field(request, ["body", field], api=False)
        if _media_type(request) == JSON_TYPE and request.body:
            loc = _first_bad_json_string(self._json(request.body))
            if loc is not None:
                return self._bad_field(request, ["body", *loc], api=False)
        return None

    def _api_body_refusal(self, request: HttpRequest) -> HttpResponse | None:
        if not request.body:  # nothing to read: the operation says whether it needed a body
            return None
        media_type = _media_type(request)
        if media_type in FORM_TYPES and _form_or_none(request) == {} and not request.FILES:
            return None  # an empty form (a bare multipart end marker) carries nothing either
        if media_type != JSON_TYPE:
            return JsonResponse({"detail": _("Send the body as application/json.")}, status=415)
        document = self._json(request.body)
        if document is _UNPARSABLE:
            return JsonResponse({"detail": _("The body is not valid JSON.")}, status=400)
        loc = _first_bad_json_string(document)
        if loc is None:
            return None
        return self._bad_field(request, ["body", *loc], api=True)

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):  # ValueError: also bytes that are no UTF-8/16/32
            return _UNPARSABLE

    @staticmethod
    def _bad_field(request: HttpRequest, loc: Loc, *, api: bool) -> HttpResponse:
        message = _("This text contains a character that is not allowed, such as a null character.")
        if api:
            error = {"type": "forbidden_character", "loc": loc, "msg": message}
            return JsonResponse({"detail": [error]}, status=422)
        return render(request, "400.html", {"message": message}, status=400)


_UNPARSABLE = object()
