"""German is complete: every text in code and templates has a German translation."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"


def messages(path: Path) -> dict:
    with path.open("rb") as file:
        return {message.id: message for message in read_po(file) if message.id}


def test_every_german_message_is_translated_and_none_is_fuzzy() -> None:
    catalogue = messages(CATALOGUE)
    assert len(catalogue) > 100
    untranslated = [key for key, message in catalogue.items() if not all(message.string or [""])]
    plural_gaps = [key for key, m in catalogue.items() if isinstance(m.string, tuple) and not all(m.string)]
    fuzzy = [key for key, message in catalogue.items() if message.fuzzy]
    assert untranslated == plural_gaps == fuzzy == []


def test_the_compiled_catalogue_is_current() -> None:
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists(), "run `make messages`"
    assert compiled.stat().st_mtime >= CATALOGUE.stat().st_mtime, "run `make messages`"


NEEDS_GETTEXT = pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="needs GNU gettext (apt-get install gettext)"
)
CITIZEN_LANGUAGES = ("tr", "ar", "uk", "ru")  # besides German and English, for citizens only
# Where a text is shown only to staff (desk, admin, commands): the citizen languages need not translate it.
STAFF_ONLY = (
    "desk/", "stats/", "templates/desk/", "templates/staff/", "templates/admin/", "templates/access/", "bench/",
)  # fmt: skip
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def staff_only(path: str) -> bool:
    return path.startswith(STAFF_ONLY) or "admin" in path or "management/commands" in path or "migrations" in path


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """makemessages on a copy of the tree, with the places each text is used."""
    tmp_path = tmp_path_factory.mktemp("messages")
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns(".venv", "node_modules", "var", ".git", "__pycache__", "*.mo", ".*_cache")
    shutil.copytree(ROOT, copy, ignore=ignore)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--ignore=node_modules"],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "VAR_DIR": str(tmp_path / "var")},
        check=True,
        capture_output=True,
    )
    return messages(copy / "locale" / "de" / "LC_MESSAGES" / "django.po")


@NEEDS_GETTEXT
def test_the_catalogue_has_every_text_of_the_code(extracted: dict) -> None:
    """makemessages on a copy of the tree finds no text the committed catalogue lacks."""
    missing = [key for key, message in extracted.items() if not message.string or message.fuzzy]
    assert missing == [], "run `make makemessages` and translate these"


@NEEDS_GETTEXT
@pytest.mark.parametrize("code", CITIZEN_LANGUAGES)
def test_every_text_a_citizen_sees_is_translated(extracted: dict, code: str) -> None:
    """Every text used outside the staff side has a translation: pages, e-mails, SMS, calendar files, kiosk."""
    catalogue = messages(ROOT / "locale" / code / "LC_MESSAGES" / "django.po")
    for_citizens = [key for key, message in extracted.items() if not all(staff_only(p) for p, _ in message.locations)]
    assert len(for_citizens) > 500
    missing = [
        key
        for key in for_citizens
        if key not in catalogue or catalogue[key].fuzzy or not all(_forms(catalogue[key].string))
    ]
    assert missing == [], f"translate these in locale/{code}/LC_MESSAGES/django.po"


def _forms(string: str | tuple[str, ...]) -> tuple[str, ...]:
    return string if isinstance(string, tuple) else (string,)


@pytest.mark.parametrize("code", ("de", *CITIZEN_LANGUAGES))
def test_translations_keep_every_placeholder(code: str) -> None:
    """A translation that loses or renames a placeholder would fail or say the wrong thing at run time."""
    wrong = []
    for key, message in messages(ROOT / "locale" / code / "LC_MESSAGES" / "django.po").items():
        source = set(PLACEHOLDER.findall(key if isinstance(key, str) else " ".join(key)))
        for form in _forms(message.string):
            if form and not set(PLACEHOLDER.findall(form)) <= source:
                wrong.append((key, form))
        singular = key if isinstance(key, str) else key[1]
        if message.string and not isinstance(key, str):
            continue  # a plural form may leave out the number (Arabic "one", "two")
        if message.string and set(PLACEHOLDER.findall(_forms(message.string)[0])) != set(PLACEHOLDER.findall(singular)):
            wrong.append((key, message.string))
    assert wrong == []


@pytest.mark.parametrize("code", CITIZEN_LANGUAGES)
def test_each_citizen_language_is_compiled(code: str) -> None:
    compiled = ROOT / "locale" / code / "LC_MESSAGES" / "django.mo"
    assert compiled.exists() and compiled.stat().st_mtime >= compiled.with_suffix(".po").stat().st_mtime, (
        "run `make messages`"
    )
