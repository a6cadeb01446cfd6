"""`manage.py seed_demo`: running it twice changes nothing; the administrator login; production guard."""

import io
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from offices.models import (
    Category,
    Office,
    Service,
)
from tests.support.demo_city import TODAY, seed, snapshot
from tests.support.staff import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def demo_var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    with override_settings(VAR_DIR=tmp_path), time_machine.travel(TODAY, tick=False):
        yield tmp_path


def test_running_it_twice_changes_nothing() -> None:
    first_output = seed()
    first = snapshot()
    second_output = seed()
    assert snapshot() == first
    assert first_output == second_output


def test_the_first_office_has_a_day_of_phone_bookings_for_the_clerks_desk() -> None:
    from booking.models import Appointment
    from demo.seed import DESK_DAY_NAMES

    seed()
    appointments = list(Appointment.objects.filter(start__gte=TODAY).order_by("start"))  # not the past visits
    assert [a.name for a in appointments] == DESK_DAY_NAMES
    assert len({(a.office_id, a.start.date()) for a in appointments}) == 1
    assert {a.channel for a in appointments} == {"phone"}
    assert not any(a.email or a.phone for a in appointments)


def test_an_administrator_login_is_printed_and_works(client) -> None:  # type: ignore[no-untyped-def]
    output = seed()
    line = next(line for line in output.splitlines() if line.startswith("Administrator login:"))
    password = line.rsplit("password ", 1)[1]
    assert sign_in(client, "admin", password)
    assert get_user_model().objects.get(username="admin").is_superuser
    assert seed().splitlines()[-1] == line, "a second run prints the same login"


def test_the_admin_password_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, client) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "a demo password for the council")
    assert seed().splitlines()[-1].endswith("password a demo password for the council")
    assert sign_in(client, "admin", "a demo password for the council")


def test_a_changed_password_is_not_printed_and_not_reset() -> None:
    seed()
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed by the administrator")
    admin.save()
    assert "password changed since the demo was created" in seed()
    admin.refresh_from_db()
    assert admin.check_password("changed by the administrator")


def test_it_refuses_to_run_on_a_production_site_without_force() -> None:
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Office.objects.exists()


def test_categories_and_services_have_names_in_every_citizen_language(client) -> None:  # type: ignore[no-untyped-def]
    seed()
    for model in (Category, Service):
        for row in model.objects.all():
            for code in ("tr", "ar", "uk", "ru"):
                assert getattr(row, f"name_{code}"), f"{model.__name__} {row.slug} has no name_{code}"
    service = Service.objects.get(slug="reisepass")
    assert service.name_tr == "Pasaport başvurusu"
    page = client.get("/tr/services/reisepass/")
    assert page.status_code == 200
    assert "Pasaport başvurusu" in page.content.decode()
