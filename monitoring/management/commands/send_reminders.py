"""`python manage.py send_reminders`: the beat's sweep, by hand, for operators.

Sweeps and sends every ready reminder in this process, without the broker, so it works when
Redis is down. `--enqueue` hands the sends to the Celery workers instead (and fails, saying how many the broker
took, when it took fewer than were ready); `--no-send` sweeps only.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from monitoring.reminders.sweep import reminders_ready_ids, reminders_run, reminders_sweep
from monitoring.tasks import publish_sends


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
            enqueued = publish_sends(ids)
            if enqueued < len(ids):
                # Say what happened, and fail (exit 1): an operator or a script must not read
                # "enqueued N" when the broker took nothing (issue 13 item 10).
                raise CommandError(
                    f"Examined {result.examined}, offered {result.offered}; the broker took {enqueued} of "
                    f"{len(ids)} ready reminders. The others stay pending: the next sweep sends them, or "
                    "run send_reminders without --enqueue to send them from this process."
                )
            self.stdout.write(f"Examined {result.examined}, offered {result.offered}, enqueued {enqueued}.")
            return
        outcome = reminders_run(send=not no_send)
        self.stdout.write(
            "Examined {examined}, offered {offered}, cancelled {cancelled_stale} stale; "
            "sent {sent}, failed {failed}, cancelled {cancelled}, skipped {skipped}.".format(**outcome)
        )
