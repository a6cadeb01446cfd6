from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, get_language_info

from buergerservice.languages import STAFF_PREFIXES, in_language, without_prefix


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    url: str  # through the switch that remembers the choice
    direct_url: str  # the page itself, for a shared screen (the kiosk) that must not remember anyone's choice
    current: bool


def language_links(request: HttpRequest) -> dict[str, list[LanguageLink]]:
    """This page in every language, through the switch that remembers the choice (buergerservice.languages).

    On the staff side only the staff's languages (German and English).
    """
    current = get_language()
    path = request.get_full_path()
    staff = without_prefix(request.path)[1].startswith(STAFF_PREFIXES)
    links = [
        LanguageLink(
            code=code,
            name=get_language_info(code)["name_local"],
            url=f"{reverse('use-language', args=[code])}?{urlencode({'next': in_language(path, code)})}",
            direct_url=in_language(path, code),
            current=code == current,
        )
        for code, _name in settings.LANGUAGES
        if not staff or code in settings.STAFF_LANGUAGES
    ]
    return {"language_links": links}
