"""Celery tasks: thin wrappers that take ids and call monitoring.workflows (stored draw and
milestone states) and monitoring.reminders.sweep (reminders). The beat schedule that runs the
periodic ones is in config/celery.py.

Enqueue with ``transaction.on_commit`` (the row exists when the worker looks). A failed enqueue
(Redis down) loses nothing: the row stays pending in the database, and the next sweep, or
``manage.py send_reminders``, sends it.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.db import transaction

from monitoring.reminders.sweep import reminder_send, reminders_ready_ids, reminders_sweep
from monitoring.workflows import draws_advance

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def advance_states() -> None:
    """The beat's every-5-minutes state advance: draws and milestones whose stored next change
    has come (upcoming -> due -> late -> overdue) move on, so the worklist, the case pages and
    the calendars, which read the stored state, stay true. Set-based and idempotent: a second
    run at the same time selects nothing (workflows.draws_advance)."""
    draws_advance()


@shared_task(ignore_result=True)
def sweep_reminders() -> None:
    """The beat's every-5-minutes sweep: insert due rows, then hand each ready row to a worker."""

    reminders_sweep()
    enqueue_sends(reminders_ready_ids())


@shared_task(ignore_result=True, acks_late=True)
def send_reminder(reminder_id: int) -> None:

    reminder_send(reminder_id)


@shared_task(ignore_result=True)
def remind_urgent_flag(flag_id: int) -> None:
    """An urgent or abnormal flag was raised: sweep (which inserts its row) and send what is ready."""
    sweep_reminders()


def _publish_many(task, arg_lists: list[tuple]) -> int:
    """Publish ``task`` once per argument tuple on one broker connection; return how many were
    published (fewer than asked when the broker cannot be reached or fails midway). Connecting
    is tried once: Celery's default would retry for minutes and hold up the web request whose
    commit triggered this."""
    published = 0
    if not arg_lists:
        return published
    if task.app.conf.task_always_eager:  # run here and now (the operations tests): no broker
        for args in arg_lists:
            task.apply(args)
        return len(arg_lists)
    try:
        with task.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
            for args in arg_lists:
                task.apply_async(args, connection=conn, retry=False)
                published += 1
    except Exception as exc:  # broker down: the database rows wait for the next sweep
        logger.warning(
            "could not enqueue %s (%s): %d of %d published; the next sweep will pick up the rest",
            task.name,
            type(exc).__name__,
            published,
            len(arg_lists),
        )
    return published


def publish_sends(ids: list[int]) -> int:
    """Hand ``ids`` to the workers now; return how many the broker took (the rest stay pending)."""
    return _publish_many(send_reminder, [(reminder_id,) for reminder_id in ids])


def enqueue_sends(ids: list[int]) -> None:
    """Hand ``ids`` to the workers once the current transaction commits."""
    if ids:
        transaction.on_commit(partial(publish_sends, list(ids)))


def enqueue_flag(flag_id: int) -> None:
    transaction.on_commit(partial(_publish_many, remind_urgent_flag, [(flag_id,)]))
