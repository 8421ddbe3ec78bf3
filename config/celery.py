"""The Celery app. Every beat schedule lives here, in one place.

The periodic jobs (README, "Periodic jobs"); intervals in seconds, read from the environment so
the real-process test can shorten them:

- ``draw-states-advance`` every ``STATE_ADVANCE_SECONDS`` (300): stored draw and milestone
  states move on when their next change has come (local midnight at the site).
- ``reminders-sweep`` every ``REMINDER_SWEEP_SECONDS`` (300): due reminders in, ready ones out.
"""

from __future__ import annotations

import os

from celery import Celery

from config.env import env_int

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("genegate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
}
