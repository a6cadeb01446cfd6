"""The citizen's language: chosen in the language switch, remembered, and kept off the staff side.

German pages have no prefix, the others live under /<code>/ (``i18n_patterns``). The switch's links go
through ``use_language``, which remembers the choice in the language cookie and goes on to the page in that
language. A citizen who chose Turkish and later opens an unprefixed page (a bookmark, the home page typed
in) is sent to its Turkish address; choosing German again in the switch remembers German.

The staff side (desk, admin) is German and English only (``STAFF_LANGUAGES``): a staff address under another
language's prefix is sent to its German one.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import is_valid_path
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language_from_path, get_language_info, get_supported_language_variant
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# Addresses a shared device opens for the next person (the kiosk, the call display), the staff side's and the
# machines': never sent to a remembered language.
NOT_REMEMBERED = ("/kiosk/", "/staff/", "/admin/", "/api/", "/i18n/", "/static/", "/healthz", "/favicon.ico")
STAFF_PREFIXES = ("/staff/", "/admin/")


def _remembers(path: str) -> bool:
    return not path.startswith(NOT_REMEMBERED) and not path.endswith("/display/")


def without_prefix(path: str) -> tuple[str | None, str]:
    """``"/tr/book/"`` → ``("tr", "/book/")``; an unprefixed (German) path → ``(None, path)``."""
    code = get_language_from_path(path)
    if code is None:
        return None, path
    return code, path[len(code) + 1 :] or "/"


def in_language(path: str, code: str) -> str:
    """The same page in another language: German unprefixed, the others under /<code>/."""
    _current, bare = without_prefix(path)
    return bare if code == settings.LANGUAGE_CODE else f"/{code}{bare}"


def _remembered(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    try:
        code = get_supported_language_variant(value)
    except LookupError:
        return None
    return code if code != settings.LANGUAGE_CODE else None


def _exists(path: str, code: str) -> bool:
    with translation.override(code):  # i18n_patterns match the prefix of the active language only
        return is_valid_path(path)


class LanguageChoiceMiddleware:
    """After LocaleMiddleware: staff pages in German or English, unprefixed pages in the remembered language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        code, bare = without_prefix(request.path_info)
        if code is not None and code not in settings.STAFF_LANGUAGES and bare.startswith(STAFF_PREFIXES):
            return HttpResponseRedirect(self._keep_query(request, bare))
        if code is None and request.method == "GET" and _remembers(bare):
            remembered = _remembered(request)
            if remembered and _exists(f"/{remembered}{bare}", remembered):
                return HttpResponseRedirect(self._keep_query(request, f"/{remembered}{bare}"))
        return self.get_response(request)

    @staticmethod
    def _keep_query(request: HttpRequest, path: str) -> str:
        query = request.META.get("QUERY_STRING", "")
        return f"{path}?{query}" if query else path


@never_cache
@require_GET
def use_language(request: HttpRequest, code: str) -> HttpResponse:
    """The language switch's link: remember the language and show the page (``next``) in it.

    A GET on purpose: the switch is a plain link that works without JavaScript. It changes nothing but the
    visitor's own preference, so it needs no CSRF protection; ``next`` must be a path on this site.
    """
    languages = dict(settings.LANGUAGES)
    if code not in languages:
        code = settings.LANGUAGE_CODE
    target = request.GET.get("next", "/")
    unsafe = any(ord(character) < 0x20 or ord(character) == 0x7F for character in target)  # no header injection
    if unsafe or not target.startswith("/") or not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(in_language(target, code))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def language_choices() -> list[tuple[str, str]]:
    """The languages of our messages for a form: each by its own name ("Türkçe", "العربيّة"), as in the switch,
    so a citizen finds their language whatever language the page is in."""
    return [(code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]
