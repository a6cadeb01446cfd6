"""Celery reads its configuration from the settings: JSON only, time limits, beat schedule."""

import datetime
import functools

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


def test_the_message_sweep_runs_on_beat_and_message_tasks_are_safe_to_deliver_twice() -> None:
    from notifications.tasks import send_due_messages, send_message

    sweep = settings.CELERY_BEAT_SCHEDULE["send-due-messages"]
    assert sweep["task"] == send_due_messages.name
    assert sweep["schedule"] == settings.MESSAGES_SWEEP_SECONDS
    assert "refresh-all-capacity" in settings.CELERY_BEAT_SCHEDULE  # the slot generation
    for task in (send_message, send_due_messages):
        # acks late (re-delivered if a worker dies) is safe only because each send claims its row first
        assert task.acks_late is True
        assert 0 < task.soft_time_limit < task.time_limit
    assert app.conf.task_reject_on_worker_lost is True


def test_queueing_gives_up_quickly_when_redis_is_down() -> None:
    # A web request queues tasks after its commit; it must not hang on a dead broker.
    assert app.conf.task_publish_retry_policy["max_retries"] <= 1
    assert app.conf.broker_connection_timeout <= 2
    assert app.conf.broker_transport_options["socket_connect_timeout"] <= 2


@pytest.mark.django_db(transaction=True)
def test_a_task_that_cannot_be_queued_after_commit_is_logged_and_the_change_stands(caplog) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    from buergerservice.celery import after_commit

    def broker_down(*args: object) -> None:
        raise ConnectionRefusedError("Redis is down")

    with transaction.atomic():
        PublicHoliday.objects.create(date=datetime.date(2027, 1, 1), name="Neujahr")
        after_commit(broker_down, 1, "2027-01-01", "2027-01-02")
        # Without a __qualname__ of its own (Django's error logging read it and raised AttributeError).
        after_commit(functools.partial(broker_down, 1), "2027-01-01")
    assert PublicHoliday.objects.filter(name="Neujahr").exists()
    logged = [record for record in caplog.records if record.levelname == "ERROR" and "on_commit" in record.msg]
    assert len(logged) == 2


def test_a_dead_workers_message_is_taken_back_within_a_minute_and_no_task_outlives_its_visibility() -> None:
    from notifications.services import SEND_TIME_LIMIT
    from notifications.tasks import send_due_messages, send_message

    # A lease that nobody renews runs out, and the next sweep takes the message back.
    assert settings.MESSAGES_LEASE_SECONDS + settings.MESSAGES_SWEEP_SECONDS <= 60
    # Renewals stop when the send task's soft limit would stop the send.
    assert send_message.soft_time_limit == send_due_messages.soft_time_limit == SEND_TIME_LIMIT.total_seconds()
    # Redis hands a task to a second worker only after the visibility timeout: longer than any task may run.
    app.loader.import_default_modules()
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    limits = [task.time_limit or app.conf.task_time_limit for task in app.tasks.values()]
    assert max(limits) < visibility
