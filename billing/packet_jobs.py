"""Generating a PA packet in the worker (issue 13 item 3, issue 17 item 8).

The web request only records a ``PacketJob`` and hands its id to the worker once the transaction
commits; ``billing.tasks.generate_packet`` renders under Celery's soft and hard time limits
(``PACKET_SOFT_SECONDS``) in a worker child that is replaced once it grows past
``CELERY_WORKER_MAX_MEMORY_PER_CHILD``. The case page polls the job (htmx) and shows the packet,
or why there is none, when it ends. A second click while a job is queued or running is refused
by a partial unique index, not by a check that two clicks could both pass.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import PacketJob
from billing.packet import PacketError, packet_create

log = logging.getLogger(__name__)

# How long after the hard time limit a queued or running job counts as lost (a worker restart).
STUCK_GRACE_SECONDS = 120


class JobRefused(Exception):
    """A job was not started; the message says why, in words for the user."""


def job_request(*, case, by, final: bool, enqueue, document_choices: dict[int, str] | None = None) -> PacketJob:
    """Record a job for ``case`` (with the user's choice of documents) and call ``enqueue(job_id)``
    after commit; JobRefused when one is already queued or running for the case."""
    for stale in PacketJob.objects.filter(case=case, state__in=PacketJob.ACTIVE):
        job_expire_if_stuck(stale)
    try:
        with transaction.atomic():
            job = PacketJob.objects.create(
                case=case,
                final=final,
                requested_by=by,
                document_choices={str(k): v for k, v in (document_choices or {}).items()},
            )
    except IntegrityError:
        running = PacketJob.objects.filter(case=case, state__in=PacketJob.ACTIVE).first()
        when = f" (asked for at {timezone.localtime(running.requested_at):%H:%M %Z})" if running else ""
        raise JobRefused(
            f"A packet for this case is already being generated{when}; it appears here when it is ready."
        ) from None
    transaction.on_commit(lambda: enqueue(job.pk))
    return job


def job_fail(job_id: int, message: str) -> None:
    """End an unfinished job with ``message`` (the worker could not take it, or it ran out of time)."""
    PacketJob.objects.filter(pk=job_id, state__in=PacketJob.ACTIVE).update(
        state=PacketJob.State.FAILED, message=message, finished_at=timezone.now()
    )


def job_expire_if_stuck(job: PacketJob, *, now=None) -> None:
    """A job still queued or running well past the hard time limit lost its worker (killed for
    memory, restarted): end it with a message so the case can ask again (in place, for the page)."""
    limit = settings.PACKET_SOFT_SECONDS + 30 + STUCK_GRACE_SECONDS
    now = now or timezone.now()
    if job.active and (now - (job.started_at or job.requested_at)).total_seconds() > limit:
        job_fail(
            job.pk,
            "The worker stopped before the packet was finished (it may have run out of memory on a "
            "very large document). Generate it again; if it stops again, void the largest document.",
        )
        job.refresh_from_db()


def job_run(job_id: int) -> None:
    """Carry out one job: claim it (queued → running, once), render, and end it done or failed."""
    claimed = PacketJob.objects.filter(pk=job_id, state=PacketJob.State.QUEUED).update(
        state=PacketJob.State.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return  # done already, or taken by another worker: a redelivered message does nothing
    job = PacketJob.objects.select_related("case", "requested_by").get(pk=job_id)
    try:
        choices = {int(k): v for k, v in job.document_choices.items()}
        packet = packet_create(case=job.case, by=job.requested_by, final=job.final, document_choices=choices)
    except PacketError as exc:
        job_fail(job_id, str(exc))
        return
    except MemoryError:
        job_fail(job_id, "Generating the packet needed more memory than allowed; a document is too large to append.")
        return
    PacketJob.objects.filter(pk=job_id).update(state=PacketJob.State.DONE, packet=packet, finished_at=timezone.now())
