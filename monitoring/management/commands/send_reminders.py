"""`python manage.py send_reminders`: the beat's sweep, by hand, for operators.

Sweeps and sends every ready reminder in this process, without the broker, so it works when
Redis is down. `--enqueue` hands the sends to the Celery workers instead; `--no-send` sweeps only.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from monitoring.reminders.sweep import reminders_ready_ids, reminders_run, reminders_sweep
from monitoring.tasks import _publish_sends


class Command(BaseCommand):
    help = "Insert due reminders and send the ready ones (same sweep as the Celery beat)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--enqueue", action="store_true", help="Hand sends to the Celery workers.")
        group.add_argument("--no-send", action="store_true", help="Only insert the due rows.")

    def handle(self, *args, enqueue: bool = False, no_send: bool = False, **options):
        if enqueue:
            result = reminders_sweep()
            ids = reminders_ready_ids()
            _publish_sends(ids)
            self.stdout.write(f"Examined {result.examined}, offered {result.offered}, enqueued {len(ids)}.")
            return
        outcome = reminders_run(send=not no_send)
        self.stdout.write(
            "Examined {examined}, offered {offered}, cancelled {cancelled_stale} stale; "
            "sent {sent}, failed {failed}, cancelled {cancelled}, skipped {skipped}.".format(**outcome)
        )
