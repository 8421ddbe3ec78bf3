"""Faults under the deployed beat schedule (in-process, eager Celery, frozen clock): the clock
jumping forward a day (a server stopped overnight) and Redis down during a sweep each leave no
duplicate, no lost reminder, and the worklist in the right groups. Real processes (the worker
killed mid-send, the beat restarted twice in a minute, Redis down with a real worker) are in
tests/reminders/test_real_worker.py."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from config.celery import app as celery_app
from monitoring import tasks
from monitoring.models import Notification, Reminder, ReminderKind, ReminderStatus
from tests.operations.test_unattended import _beat, _check_worklist, _tick
from tests.personas import make_case
from tests.reminders.helpers import make_draw

K = ReminderKind
NY = ZoneInfo("America/New_York")
START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York


def _run(beat, clock, start: datetime, minutes: int) -> datetime:
    """The beat's jobs at their real intervals, the clock stepped 5 minutes at a time."""
    now = start
    for _ in range(minutes // 5):
        now += timedelta(minutes=5)
        clock.move_to(now)
        _tick(beat, now)
    return now


def _sent() -> Counter:
    return Counter(
        (r.draw_id, r.kind, r.repeat) for r in Reminder.objects.filter(status=ReminderStatus.SENT, draw__isnull=False)
    )


def _no_duplicates_and_notifications_agree_with_emails() -> None:
    sent = _sent()
    assert all(n == 1 for n in sent.values()), sent
    assert len(mail.outbox) == Reminder.objects.filter(status=ReminderStatus.SENT).count()
    for reminder in Reminder.objects.filter(status=ReminderStatus.SENT):
        message_count = sum(1 for m in mail.outbox if f"case {reminder.case_id}" in m.body)
        assert message_count >= 1
        assert Notification.objects.filter(reminder=reminder).count() >= 1


@pytest.fixture
def draws(cast):
    today = START.astimezone(NY).date()
    other = make_case(cast.site_a, name="Jump Jess", mrn="MRN-J", coordinator=cast.coordinator)
    return {
        "tomorrow": make_draw(cast.case_a, due_on=today + timedelta(days=1), day=14),
        "today": make_draw(other, due_on=today, day=14),
        "overdue": make_draw(other, due_on=today - timedelta(days=6), day=7),
    }


def test_the_clock_jumping_forward_a_day_loses_nothing_and_duplicates_nothing(
    transactional_db, cast, draws, client, eager_celery
):
    with time_machine.travel(START, tick=False) as clock:
        beat = _beat(celery_app.now())
        now = _run(beat, clock, START, 30)
        assert _sent() == Counter(
            {
                (draws["tomorrow"].pk, K.DUE_TOMORROW, 0): 1,
                (draws["today"].pk, K.DUE_TODAY, 0): 1,
                (draws["overdue"].pk, K.OVERDUE, 0): 1,
            }
        )
        # The server stops for a day and an hour; the beat's first run after is late.
        now += timedelta(days=1, hours=1)
        clock.move_to(now)
        _tick(beat, now)
        now = _run(beat, clock, now, 30)
        today = now.astimezone(NY).date()
        assert _sent() == Counter(
            {
                (draws["tomorrow"].pk, K.DUE_TOMORROW, 0): 1,
                (draws["tomorrow"].pk, K.DUE_TODAY, 0): 1,  # now due today: told once, today
                (draws["today"].pk, K.DUE_TODAY, 0): 1,  # yesterday's; no "due today" for it again
                (draws["overdue"].pk, K.OVERDUE, 0): 1,
                (draws["overdue"].pk, K.OVERDUE, 1): 1,  # one repeat for the missed day, not two
            }
        )
        _no_duplicates_and_notifications_agree_with_emails()
        _check_worklist(client, cast.coordinator, today, f"after the jump, {now}")


def test_redis_down_during_a_sweep_loses_nothing_and_the_next_sweep_sends_once(
    transactional_db, cast, draws, client, eager_celery, monkeypatch
):
    """The sweep's hand-off to the worker fails (broker down): the rows wait in the database
    and the next sweep after Redis returns sends each once."""
    real = tasks.publish_sends
    monkeypatch.setattr(tasks, "publish_sends", lambda ids: 0)  # the broker takes none
    with time_machine.travel(START, tick=False) as clock:
        beat = _beat(celery_app.now())
        now = _run(beat, clock, START, 15)
        assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == 3
        assert len(mail.outbox) == 0
        monkeypatch.setattr(tasks, "publish_sends", real)  # Redis is back
        now = _run(beat, clock, now, 15)
        assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 3
        _no_duplicates_and_notifications_agree_with_emails()
        _check_worklist(client, cast.coordinator, now.astimezone(NY).date(), "after Redis returned")
