"""The operators' command, the thin Celery tasks, and enqueueing that never loses a row."""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from monitoring import tasks
from monitoring.models import Reminder, ReminderStatus
from tests.reminders.helpers import NOW, TODAY, make_draw, make_flag, overdue_due_on, point_celery_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_send_reminders_sweeps_and_sends_without_the_broker(cast, clock):
    make_draw(cast.case_a, due_on=TODAY)
    make_draw(cast.case_a, due_on=overdue_due_on(), day=14)
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert "sent 2" in out.getvalue()
    assert len(mail.outbox) == 2
    call_command("send_reminders", stdout=out)
    assert len(mail.outbox) == 2 and Reminder.objects.count() == 2


def test_send_reminders_no_send_only_inserts(cast, clock):
    make_draw(cast.case_a, due_on=TODAY)
    call_command("send_reminders", "--no-send", stdout=StringIO())
    assert Reminder.objects.get().status == ReminderStatus.PENDING and mail.outbox == []


def test_the_sweep_task_enqueues_sends_after_commit(cast, clock, monkeypatch, django_capture_on_commit_callbacks):
    make_draw(cast.case_a, due_on=TODAY)
    published = []
    monkeypatch.setattr(tasks, "_publish_many", lambda task, arg_lists: published.append((task.name, arg_lists)))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasks.sweep_reminders()
    assert len(callbacks) == 1
    assert published == [("monitoring.tasks.send_reminder", [(Reminder.objects.get().pk,)])]  # ids only


def test_the_send_task_takes_an_id_and_sends(cast, clock):
    make_draw(cast.case_a, due_on=TODAY)
    call_command("send_reminders", "--no-send", stdout=StringIO())
    tasks.send_reminder(Reminder.objects.get().pk)
    assert len(mail.outbox) == 1


def test_a_broker_that_is_down_loses_nothing_and_fails_fast(cast, clock, settings, django_capture_on_commit_callbacks):
    make_draw(cast.case_a, due_on=TODAY)
    old = point_celery_at("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            tasks.sweep_reminders()
        assert time.monotonic() - started < 5
    finally:
        point_celery_at(old)
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.PENDING  # still there for the next sweep or the command
    call_command("send_reminders", stdout=StringIO())
    assert len(mail.outbox) == 1


def test_send_reminders_enqueue_with_the_broker_down_says_nothing_was_queued_and_fails(cast, clock):
    """Issue 13 item 10: with Redis down, "--enqueue" said "enqueued 138" though nothing was queued."""
    from django.core.management.base import CommandError

    make_draw(cast.case_a, due_on=TODAY)
    make_draw(cast.case_a, due_on=overdue_due_on(), day=14)
    out = StringIO()
    old = point_celery_at("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        with pytest.raises(CommandError) as refused:
            call_command("send_reminders", "--enqueue", stdout=out)
    finally:
        point_celery_at(old)
    message = str(refused.value)
    assert "the broker took 0 of 2 ready reminders" in message and "stay pending" in message
    assert "enqueued" not in out.getvalue()
    assert {r.status for r in Reminder.objects.all()} == {ReminderStatus.PENDING}  # nothing lost
    call_command("send_reminders", stdout=out)
    assert len(mail.outbox) == 2


def test_send_reminders_enqueue_reports_what_the_broker_took(cast, clock, monkeypatch):
    make_draw(cast.case_a, due_on=TODAY)
    monkeypatch.setattr(tasks, "_publish_many", lambda task, arg_lists: len(arg_lists))
    out = StringIO()
    call_command("send_reminders", "--enqueue", stdout=out)
    assert "enqueued 1." in out.getvalue()


def test_a_broker_failing_midway_counts_only_what_it_took(monkeypatch):
    calls = []

    class Conn:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def ensure_connection(self, max_retries):
            return self

    def apply_async(args, connection, retry):
        if len(calls) == 2:
            raise ConnectionError("broker went away")
        calls.append(args)

    monkeypatch.setattr(tasks.send_reminder.app, "connection_for_write", lambda: Conn())
    monkeypatch.setattr(tasks.send_reminder, "apply_async", apply_async)
    assert tasks.publish_sends([1, 2, 3, 4]) == 2


def test_an_urgent_flag_is_enqueued_at_once_and_a_watch_flag_is_not(
    cast, clock, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(tasks, "_publish_many", lambda task, arg_lists: published.append((task.name, arg_lists)))
    with django_capture_on_commit_callbacks(execute=True):
        make_flag(cast.case_a, level="watch")
    assert published == []
    with django_capture_on_commit_callbacks(execute=True):
        flag = make_flag(cast.case_a)
    assert published == [("monitoring.tasks.remind_urgent_flag", [(flag.pk,)])]


def test_the_beat_runs_the_sweep_every_five_minutes():
    from config.celery import app

    entry = app.conf.beat_schedule["reminders-sweep"]
    assert entry["task"] == "monitoring.tasks.sweep_reminders"
    assert timedelta(seconds=entry["schedule"]) == timedelta(minutes=5)
