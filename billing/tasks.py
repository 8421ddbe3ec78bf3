"""Celery tasks of the billing app (ids only as arguments: no patient data in the broker)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from billing.packet_jobs import job_fail, job_run

log = logging.getLogger(__name__)

SOFT_SECONDS = settings.PACKET_SOFT_SECONDS


@shared_task(ignore_result=True, soft_time_limit=SOFT_SECONDS, time_limit=SOFT_SECONDS + 30)
def generate_packet(job_id: int) -> None:
    """Render the PA packet of one PacketJob under the worker's time limits."""
    try:
        job_run(job_id)
    except SoftTimeLimitExceeded:
        log.warning("packet job %s stopped at the soft time limit", job_id)
        job_fail(
            job_id,
            f"Generating the packet took longer than {SOFT_SECONDS} seconds and was stopped. A very large "
            "document is the usual cause: void it and upload a smaller copy, then generate again.",
        )
    except Exception:
        log.exception("packet job %s failed", job_id)  # ids only: no patient data in the log
        job_fail(job_id, "The packet could not be generated because of an error; the team was told. Try again.")
        raise


def enqueue_packet(job_id: int) -> None:
    """Hand a job to the worker; when the broker cannot be reached, end it with a message."""
    try:
        if generate_packet.app.conf.task_always_eager:
            generate_packet.apply((job_id,))
            return
        # Connecting is tried once: Celery's default would retry for minutes in the web request.
        with generate_packet.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
            generate_packet.apply_async((job_id,), connection=conn, retry=False)
    except Exception as exc:  # broker down
        log.warning("could not enqueue packet job %s (%s)", job_id, type(exc).__name__)
        job_fail(
            job_id, "The background worker could not be reached, so the packet was not generated. Try again shortly."
        )
