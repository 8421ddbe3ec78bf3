"""The Celery app. Every beat schedule lives here, in one place.

The periodic jobs (README, "Periodic jobs"); intervals in seconds, read from the environment so
the real-process test can shorten them:

- ``draw-states-advance`` every ``STATE_ADVANCE_SECONDS`` (300): stored draw and milestone
  states move on when their next change has come (local midnight at the site).
- ``reminders-sweep`` every ``REMINDER_SWEEP_SECONDS`` (300): due reminders in, ready ones out.
- ``pas-sweep`` every ``PAS_SWEEP_SECONDS`` (300): electronic prior authorization requests that
  are queued or due for a retry go out; pended ones get a status inquiry (Claim/$inquire) every
  ``PAS_INQUIRY_SECONDS`` until the payer decides.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import beat_init, celeryd_init
from django.conf import settings

from config.env import env_int

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("genegate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["billing.pas"])  # billing/pas/tasks.py (a package inside the billing app)

app.conf.beat_schedule = {
    # Stored states (monitoring/workflows.py draws_advance): the worklist, case pages and
    # calendars read them. The sweep does not wait for it: it decides from the dates.
    "draw-states-advance": {
        "task": "monitoring.tasks.advance_states",
        "schedule": float(env_int("STATE_ADVANCE_SECONDS", 300)),
    },
    # The reminder sweep (monitoring/reminders/sweep.py): due rows in, ready rows out. Also runnable
    # by hand: `python manage.py send_reminders`.
    "reminders-sweep": {
        "task": "monitoring.tasks.sweep_reminders",
        "schedule": float(env_int("REMINDER_SWEEP_SECONDS", 300)),
    },
    # Electronic prior authorization (billing/pas/workflow.py pas_due): sends, retries, inquiries.
    "pas-sweep": {
        "task": "billing.pas.tasks.sweep_pas",
        "schedule": float(env_int("PAS_SWEEP_SECONDS", 300)),
    },
}


class RunningAsRoot(RuntimeError):
    """A production worker or beat was started as root (README, "Production processes")."""


def refuse_root(euid: int, *, debug: bool, testing: bool) -> None:
    """Refuse to run a worker or beat as root in production: the worker renders e-mails from
    patient data and talks to SMTP, the database and Redis; as root a bug in any of them owns
    the machine. Run them as the ``genegate`` user (``--uid genegate --gid genegate``, or the
    service manager's ``User=``); development and tests may run as anyone."""
    if euid == 0 and not (debug or testing):
        raise RunningAsRoot(
            "the Celery worker and beat must not run as root in production: "
            "start them with --uid genegate --gid genegate (README, Production processes)"
        )


@celeryd_init.connect
def _worker_not_root(**_kwargs) -> None:
    # celeryd_init fires after --uid/--gid dropped privileges.
    refuse_root(os.geteuid(), debug=settings.DEBUG, testing=settings.TESTING)


@beat_init.connect
def _beat_not_root(**_kwargs) -> None:
    refuse_root(os.geteuid(), debug=settings.DEBUG, testing=settings.TESTING)
