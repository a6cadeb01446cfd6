"""German is complete: every text in code and templates has a German translation."""

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


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (apt-get install gettext)")
def test_the_catalogue_has_every_text_of_the_code(tmp_path: Path) -> None:
    """makemessages on a copy of the tree finds no text the committed catalogue lacks."""
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns(".venv", "node_modules", "var", ".git", "__pycache__", "*.mo", ".*_cache")
    shutil.copytree(ROOT, copy, ignore=ignore)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-location", "--ignore=node_modules"],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "VAR_DIR": str(tmp_path / "var")},
        check=True,
        capture_output=True,
    )
    extracted = messages(copy / "locale" / "de" / "LC_MESSAGES" / "django.po")
    missing = [key for key, message in extracted.items() if not message.string or message.fuzzy]
    assert missing == [], "run `make makemessages` and translate these"
