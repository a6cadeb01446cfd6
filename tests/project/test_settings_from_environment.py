"""Settings come from environment variables with safe defaults, and refuse malformed values."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST", ""),
    "EAGER": settings.CELERY_TASK_ALWAYS_EAGER, "BROKER": settings.CELERY_BROKER_URL,
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "EMAIL_BACKEND": settings.EMAIL_BACKEND, "EMAIL_FILE_PATH": settings.EMAIL_FILE_PATH,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS, "TIME_ZONE": settings.TIME_ZONE, "USE_TZ": settings.USE_TZ,
    "LANGUAGE_CODE": settings.LANGUAGE_CODE, "LANGUAGES": [code for code, _ in settings.LANGUAGES],
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT, "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
}))
"""


def clean_environment(tmp_path: Path, **env: str) -> dict[str, str]:
    """Only what a shell gives, plus the variables under test: nothing leaks in from CI."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return base | {"DJANGO_SETTINGS_MODULE": "buergerservice.settings", "VAR_DIR": str(tmp_path / "var")} | env


def load(tmp_path: Path, **env: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PROBE],
        cwd=ROOT,
        env=clean_environment(tmp_path, **env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def refusal(tmp_path: Path, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean_environment(tmp_path, **env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0, "settings should have refused this environment"
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_a_local_run_needs_nothing_but_debug(tmp_path: Path) -> None:
    settings = load(tmp_path, DEBUG="1")
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == str(tmp_path / "var" / "db.sqlite3")
    assert (settings["EAGER"], settings["BROKER"]) == (True, "memory://")
    assert settings["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert (settings["TIME_ZONE"], settings["USE_TZ"]) == ("Europe/Berlin", True)
    assert (settings["LANGUAGE_CODE"], settings["LANGUAGES"]) == ("de", ["de", "en", "tr", "ar", "uk", "ru"])
    assert settings["SECURE_SSL_REDIRECT"] is False


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    assert "SECRET_KEY must be set" in refusal(tmp_path)


def test_production_defaults_are_strict(tmp_path: Path) -> None:
    settings = load(tmp_path, SECRET_KEY="x" * 60)
    assert settings["DEBUG"] is False
    assert (settings["SECURE_SSL_REDIRECT"], settings["SESSION_COOKIE_SECURE"]) == (True, True)


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    settings = load(tmp_path, DEBUG="1", DATABASE_URL="postgres://bs:secret@db.internal:5432/buergerservice")
    assert (settings["ENGINE"], settings["HOST"], settings["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        "buergerservice",
    )


def test_redis_url_turns_on_the_real_broker_and_shared_cache(tmp_path: Path) -> None:
    settings = load(tmp_path, DEBUG="1", REDIS_URL="redis://cache.internal:6379/0")
    assert (settings["EAGER"], settings["BROKER"]) == (False, "redis://cache.internal:6379/0")
    assert settings["CACHE"] == "buergerservice.cache.ResilientRedisCache"  # Django's RedisCache, degrading


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("file", "django.core.mail.backends.filebased.EmailBackend"),
        ("smtp", "django.core.mail.backends.smtp.EmailBackend"),
        ("django.core.mail.backends.smtp.EmailBackend", "django.core.mail.backends.smtp.EmailBackend"),
    ],
)
def test_mail_can_go_to_files_or_smtp(tmp_path: Path, backend: str, expected: str) -> None:
    settings = load(tmp_path, DEBUG="1", EMAIL_BACKEND=backend, EMAIL_FILE_PATH=str(tmp_path / "mail"))
    assert settings["EMAIL_BACKEND"] == expected
    assert settings["EMAIL_FILE_PATH"] == str(tmp_path / "mail")


def test_allowed_hosts_is_a_comma_separated_list(tmp_path: Path) -> None:
    settings = load(tmp_path, DEBUG="1", ALLOWED_HOSTS="termine.musterstadt.de, intern.musterstadt.de")
    assert settings["ALLOWED_HOSTS"] == ["termine.musterstadt.de", "intern.musterstadt.de"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"DEBUG": "1", "DATABASE_URL": "carrier-pigeon://loft/1"}, "DATABASE_URL is not a database URL"),
        ({"DEBUG": "1", "EMAIL_BACKEND": "fax"}, "EMAIL_BACKEND must be one of"),
        ({"DEBUG": "1", "EMAIL_PORT": "twenty-five"}, "EMAIL_PORT must be a whole number"),
        ({"DEBUG": "1", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "cannot both be on"),
        ({"DEBUG": "1", "HOLIDAYS_SUBDIVISION": "XX"}, "HOLIDAYS_SUBDIVISION must be one of"),
        ({"DEBUG": "1", "SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS must be at least 0"),
    ],
)
def test_malformed_values_stop_start_up_with_a_clear_message(tmp_path: Path, env: dict[str, str], message: str) -> None:
    assert message in refusal(tmp_path, **env)


def deploy_check(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = clean_environment(
        tmp_path,
        SECRET_KEY="k7#Qp2vLx9!mZr4sT8wYb1nC6dF3gH0jK5aE-uI_oPq+Wz8Rt3Yv6Nm1Bx4",
        ALLOWED_HOSTS="termine.musterstadt.de",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **extra,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_deployment_check_passes_with_production_values(tmp_path: Path) -> None:
    result = deploy_check(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stdout + result.stderr
    # Nothing silenced: axes.W006 (no address among the lockout parameters) no longer applies.
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_deployment_check_warns_when_no_redis_would_send_reminders(tmp_path: Path) -> None:
    result = deploy_check(tmp_path)
    assert result.returncode == 1
    assert "notifications.W001" in result.stderr + result.stdout
