"""Celery tasks of electronic prior authorization: thin wrappers taking ids (never patient data)
around billing/pas/workflow.py. The beat schedule that runs the sweep is in config/celery.py.

Enqueue with ``transaction.on_commit`` (the row exists when the worker looks). A failed enqueue
(Redis down) loses nothing: the request stays queued in the database and the next sweep sends it.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.db import transaction

from billing.pas.workflow import pas_attempt, pas_due

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def send_pas_request(request_pk: int) -> None:
    """One attempt of a PAS request; a retryable failure schedules the next one with backoff
    (the claim in pas_attempt keeps an early or duplicate message from sending twice)."""
    result = pas_attempt(request_pk)
    if result is not None and result.retry_in is not None:
        publish(request_pk, countdown=result.retry_in)


@shared_task(ignore_result=True)
def sweep_pas() -> None:
    """The beat's sweep: status inquiries for pended requests, queued requests, due retries."""
    for request_pk in pas_due():
        publish(request_pk)


def publish(request_pk: int, *, countdown: float | None = None) -> bool:
    """Hand ``request_pk`` to a worker now (or after ``countdown`` seconds); False when the broker
    cannot be reached (the sweep sends it later). Connecting is tried once, so a web request whose
    commit triggered this is not held up for minutes."""
    task = send_pas_request
    if task.app.conf.task_always_eager:  # run here and now (tests): no broker
        task.apply((request_pk,))
        return True
    try:
        with task.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
            task.apply_async((request_pk,), connection=conn, retry=False, countdown=countdown)
    except Exception as exc:  # broker down: the database row waits for the next sweep
        logger.warning("could not enqueue PAS request %s (%s); the next sweep sends it", request_pk, type(exc).__name__)
        return False
    return True


def enqueue_send(request_pk: int) -> None:
    """Hand the request to a worker once the current transaction commits."""
    transaction.on_commit(partial(publish, request_pk))
