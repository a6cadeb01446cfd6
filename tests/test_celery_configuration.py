"""Celery reads its configuration from the settings: JSON only, time limits, beat schedule."""

import datetime

import pytest
import time_machine
from django.conf import settings

from buergerservice.celery import app
from offices.models import PublicHoliday
from offices.tasks import sync_public_holidays


def test_celery_speaks_json_only_and_has_time_limits() -> None:
    assert app.conf.task_serializer == app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.timezone == "Europe/Berlin"


def test_every_scheduled_task_exists() -> None:
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


@pytest.mark.django_db
def test_the_daily_holiday_task_keeps_this_and_next_year() -> None:
    with time_machine.travel(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC), tick=False):
        # 00:30 on 1 January in Berlin: the task thinks in local time
        sync_public_holidays.delay()
    years = set(PublicHoliday.objects.values_list("date__year", flat=True))
    assert years == {2027, 2028}
