"""Fault suite (all on loopback, bounded in time): a failing mail server, PostgreSQL restarted
during reminder sweeps. Redis down is in tests/reminders/test_real_worker.py; a WeasyPrint failure
in tests/billing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone

from monitoring.models import Reminder, ReminderAttempt, ReminderStatus
from monitoring.reminders.sweep import reminders_run, reminders_sweep
from tests.faults.smtp_sink import SmtpSink
from tests.personas import Personas, make_case
from tests.reminders.helpers import make_draw, overdue_due_on

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_a_failing_mail_server_records_attempts_retries_and_sends_once_it_recovers(settings):
    cast = Personas()
    make_draw(cast.case_a, due_on=overdue_due_on(timezone.localdate()))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = "127.0.0.1", False, 5
    with SmtpSink() as sink:
        settings.EMAIL_PORT = sink.port
        sink.failing = True
        now = timezone.now()
        reminders_run(now=now)
        rows = list(Reminder.objects.all())
        assert rows and all(r.status == ReminderStatus.FAILED for r in rows)
        assert all(r.last_error for r in rows) and not sink.messages
        assert ReminderAttempt.objects.count() == len(rows)
        # Still failing at the first retry: another attempt, still nothing lost.
        reminders_run(now=now + timedelta(minutes=2))
        assert ReminderAttempt.objects.count() == 2 * len(rows)
        sink.failing = False
        reminders_run(now=now + timedelta(hours=1))
        assert {r.status for r in Reminder.objects.all()} == {ReminderStatus.SENT}
        assert len(sink.messages) == len(rows)
        reminders_run(now=now + timedelta(hours=2))
        assert len(sink.messages) == len(rows)  # sent once, never again


def _services_dir() -> Path | None:
    value = os.environ.get("GENEGATE_TEST_SERVICES")
    return Path(value) if value else None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_postgresql_restarted_during_reminder_sweeps_loses_and_duplicates_nothing(tmp_path):
    services = _services_dir()
    if connection.vendor != "postgresql" or services is None or not (services / "pg").exists():
        pytest.skip("needs the PostgreSQL that make test starts (GENEGATE_TEST_SERVICES)")
    cast = Personas()
    today = timezone.localdate()
    for i in range(30):
        case = (
            cast.case_a
            if i == 0
            else make_case(cast.site_a, name=f"Child {i}", mrn=f"PGR-{i}", coordinator=cast.coordinator)
        )
        make_draw(case, due_on=overdue_due_on(today))
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = dict(
        os.environ,
        DATABASE_URL=url,
        GENEGATE_TESTING="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        GENEGATE_DATA_DIR=str(tmp_path),
    )
    (tmp_path / "mail").mkdir()
    connections.close_all()
    sweeper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import os, time, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings'); django.setup()\n"
                "from django.db import connections\n"
                "from monitoring.reminders.sweep import reminders_sweep\n"
                "end = time.monotonic() + 8\n"
                "while time.monotonic() < end:\n"
                "    try:\n"
                "        reminders_sweep()\n"
                "    except Exception as exc:\n"
                "        print('sweep failed:', type(exc).__name__, flush=True)\n"
                "        connections.close_all(); time.sleep(0.2)\n"
            ),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(2)
    subprocess.run(
        [str(ROOT / "scripts" / "services.sh"), "restart-postgres", str(services / "pg")], check=True, timeout=60
    )
    output, _ = sweeper.communicate(timeout=60)
    assert sweeper.returncode == 0, output
    connections.close_all()
    # After the restart: one more sweep and the sends, exactly as the beat would.
    subprocess.run(
        [sys.executable, "manage.py", "send_reminders"], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True
    )
    keys = list(Reminder.objects.values_list("target_key", "kind"))
    assert len(keys) == len(set(keys)) >= 30
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}
    # The file backend appends every message of one connection to one file.
    sent = sum(path.read_text().count("\nSubject: ") for path in (tmp_path / "mail").iterdir())
    assert sent == Reminder.objects.count()
    assert reminders_sweep().offered == 0 or Reminder.objects.count() == len(keys)
