"""The one-way layers (.importlinter, docs/architecture.md): the tree keeps them, and an upward import fails by name.

`make lint` (part of `make test` and CI) runs the same command; these tests
make sure the contract is the one the code keeps, and that it can fail.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "buergerservice",
    "stats",
    "demo",
    "desk",
    "tickets",
    "waitlist",
    "booking",
    "offices",
    "notifications",
    "access",
]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The apps and the contract, copied without migrations, templates or tests."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_code_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "named"),
    [
        ("booking/upward.py", "from desk import views\n", "booking.upward -> desk"),
        ("offices/upward.py", "import booking.models\n", "offices.upward -> booking.models"),
        ("notifications/sideways.py", "from offices.models import Office\n", "notifications.sideways -> offices"),
        ("access/upward.py", "from booking.models import Hold\n", "access.upward -> booking.models"),
        ("tickets/upward.py", "def late():\n    from desk import services\n", "tickets.upward -> desk.services"),
        ("booking/root.py", "from buergerservice import urls\n", "booking.root -> buergerservice.urls"),
        ("buergerservice/cache.py", "import tickets  # appended\n", "buergerservice.cache -> tickets"),
    ],
)
def test_an_import_against_the_layers_fails_the_build_and_names_it(
    tree_copy: Path, module: str, statement: str, named: str
) -> None:
    path = tree_copy / module
    path.write_text((path.read_text() if path.exists() else "") + statement)
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert named in result.stdout, result.stdout


def test_the_copy_without_changes_keeps_the_contract(tree_copy: Path) -> None:
    """The failures above come from the added line, not from the copy."""
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout
