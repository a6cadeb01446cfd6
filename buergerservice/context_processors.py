from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language, get_language_info


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    url: str
    current: bool


def language_links(request: HttpRequest) -> dict[str, list[LanguageLink]]:
    """This page in every language: German unprefixed, the others under /<code>/ (see urls.py)."""
    current = get_language()
    path = request.get_full_path()
    prefix = f"/{current}/"
    if current != settings.LANGUAGE_CODE and path.startswith(prefix):
        path = path[len(prefix) - 1 :]
    links = [
        LanguageLink(
            code=code,
            name=get_language_info(code)["name_local"],
            url=path if code == settings.LANGUAGE_CODE else f"/{code}{path}",
            current=code == current,
        )
        for code, _name in settings.LANGUAGES
    ]
    return {"language_links": links}
