"""The Celery app. Every beat schedule lives here, in one place."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("genegate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # The reminder sweep (monitoring/reminders/sweep.py): due rows in, ready rows out. Also runnable
    # by hand: `python manage.py send_reminders`.
    "reminders-sweep": {"task": "monitoring.tasks.sweep_reminders", "schedule": 300.0},
}
