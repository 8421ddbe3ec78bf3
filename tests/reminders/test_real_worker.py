"""Real components: real Celery worker and beat processes on a real Redis, against the test's
database.

The worker is a subprocess, so it must see the rows this test writes: that needs PostgreSQL
(`make test` runs on it; locally: scripts/services.sh start-postgres DIR PORT and
DATABASE_URL=postgres://genegate@127.0.0.1:PORT/genegate). On SQLite the test database lives
in memory and these tests skip, saying so. The Redis-down test of the web half runs everywhere.
Every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from monitoring import tasks
from monitoring.models import Draw, Notification, Reminder, ReminderAttempt, ReminderKind, ReminderStatus
from monitoring.reminders.sweep import reminders_sweep
from tests.personas import make_case
from tests.reminders.helpers import point_celery_at

pytestmark = [pytest.mark.services, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "scripts" / "services.sh"
DEADLINE = 60  # seconds any one wait may take


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, what: str, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class OwnRedis:
    """A Redis server of this test's own (scripts/services.sh), stoppable and restartable."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run([str(SERVICES), "start-redis", str(self.dir), str(self.port)], check=True, timeout=30)

    def stop(self) -> None:
        subprocess.run([str(SERVICES), "stop-redis", str(self.dir)], check=True, timeout=30)
        _wait_for(lambda: not _listening(self.port), "redis to stop", 15)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def own_redis(tmp_path):
    redis = OwnRedis(tmp_path / "redis")
    redis.start()
    yield redis
    subprocess.run([str(SERVICES), "stop", str(redis.dir)], check=False, timeout=30)


@pytest.fixture
def broker_url(tmp_path):
    """The Redis of `make test` when there is one (database 7, to keep to ourselves), else our own."""
    shared = os.environ.get("REDIS_URL") if os.environ.get("GENEGATE_TEST_SERVICES") else None
    if shared:
        yield shared.rsplit("/", 1)[0] + "/7"
        return
    redis = OwnRedis(tmp_path / "redis")
    redis.start()
    yield redis.url
    subprocess.run([str(SERVICES), "stop", str(redis.dir)], check=False, timeout=30)


@pytest.fixture
def celery_broker(broker_url, settings):
    settings.REDIS_URL = broker_url
    old = point_celery_at(broker_url)
    yield broker_url
    point_celery_at(old)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """`python -m celery -A config worker --pool=solo` with the test's database and a file
    mailbox in ``mail_dir``."""

    def __init__(self, tmp_path: Path, broker: str):
        self.tmp = tmp_path
        self.broker = broker
        self.mail_dir = tmp_path / "data" / "mail"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, **extra_env: str) -> None:
        self.starts += 1
        log = self.tmp / f"worker-{self.starts}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GENEGATE_TEST_MAIL")}
        env.update(
            GENEGATE_TESTING="1",
            GENEGATE_DATA_DIR=str(self.tmp / "data"),
            DATABASE_URL=_database_url(),
            REDIS_URL=self.broker,
            CELERY_BROKER_URL=self.broker,
            EMAIL_BACKEND="tests.reminders.backends.SlowFileBackend",
            SITE_URL="https://genegate.example.org",
            **extra_env,
        )
        self.log = log
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
                f"--hostname=test{self.starts}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        _wait_for(lambda: "ready." in log.read_text() or self.proc.poll() is not None, "the worker to start")
        assert self.proc.poll() is None, log.read_text()[-3000:]

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def messages(self) -> list[str]:
        """Every e-mail written so far (the file backend separates messages with a rule)."""
        if not self.mail_dir.exists():
            return []
        text = "".join(path.read_text() for path in sorted(self.mail_dir.iterdir()))
        return [part for part in text.split("-" * 79) if "Subject:" in part]


@pytest.fixture
def worker(transactional_db, celery_broker, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "The worker subprocess must share the test's database; SQLite's test database is in "
            "memory. make test runs this on PostgreSQL."
        )
    w = Worker(tmp_path, celery_broker)
    yield w
    w.stop()


class Beat:
    """`python -m celery -A config beat` with the deployed schedule at shortened intervals."""

    def __init__(self, tmp_path: Path, broker: str):
        self.tmp = tmp_path
        self.broker = broker
        self.proc: subprocess.Popen | None = None
        self.log = tmp_path / "beat.log"

    def start(self, seconds: int) -> None:
        env = dict(
            os.environ,
            GENEGATE_TESTING="1",
            GENEGATE_DATA_DIR=str(self.tmp / "data"),
            DATABASE_URL=_database_url(),
            REDIS_URL=self.broker,
            CELERY_BROKER_URL=self.broker,
            STATE_ADVANCE_SECONDS=str(seconds),
            REMINDER_SWEEP_SECONDS=str(seconds),
        )
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                "--max-interval=1",
                f"--schedule={self.tmp / 'celerybeat-schedule'}",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


@pytest.fixture
def beat(worker, tmp_path):
    b = Beat(tmp_path, worker.broker)
    yield b
    b.stop()


def _due_draws(cast, count: int):
    """``count`` cases, each with one draw due today at site A (local date)."""
    from tests.reminders.helpers import make_draw

    today = timezone.localdate(timezone=ZoneInfo(cast.site_a.timezone))
    draws = []
    for i in range(count):
        case = make_case(cast.site_a, name=f"Worker Child {i}", mrn=f"MRN-W{i}", coordinator=cast.coordinator)
        draws.append(make_draw(case, due_on=today, day=7))
    return draws


def test_a_real_worker_sends_exactly_one_email_per_due_draw_even_if_the_beat_fires_twice(cast, worker):
    draws = _due_draws(cast, 3)
    worker.start()
    tasks.sweep_reminders.apply_async(retry=False)
    tasks.sweep_reminders.apply_async(retry=False)  # a beat firing twice
    _wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).count() == 3, "three sent reminders")
    time.sleep(1.5)  # let any duplicate work surface before counting
    messages = worker.messages()
    assert len(messages) == 3, worker.log.read_text()[-3000:]
    assert all("Subject: GeneGate: a draw is due today at A" in m for m in messages)
    assert Reminder.objects.count() == 3
    assert {r.draw_id for r in Reminder.objects.all()} == {d.pk for d in draws}


def test_the_real_beat_advances_a_stale_state_and_its_sweep_sends_the_due_reminder(cast, worker, beat):
    """Nothing but the deployed beat schedule (intervals shortened to 2 s) drives this: the
    stored state of a draw due today moves on, and the worker sends its one e-mail."""
    (draw,) = _due_draws(cast, 1)  # stored as of an earlier day: upcoming, its change past due
    assert draw.state == "upcoming" and draw.next_change_at < timezone.now()
    worker.start()
    beat.start(seconds=2)
    _wait_for(lambda: Draw.objects.get(pk=draw.pk).state == "due", "the beat's state advance")
    _wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).exists(), "the beat's sweep to send")
    _wait_for(lambda: len(worker.messages()) == 1, "the e-mail file")
    log = beat.log.read_text()
    assert "draw-states-advance" in log and "reminders-sweep" in log, log[-3000:]
    time.sleep(5)  # more beats: still one reminder, one e-mail
    assert Reminder.objects.count() == 1 and len(worker.messages()) == 1
    assert "Subject: GeneGate: a draw is due today at A" in worker.messages()[0]


def test_two_sweeps_at_once_make_one_row_per_draw_and_kind(cast, transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises writes in one file)")
    _due_draws(cast, 40)
    now = timezone.now()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sweep():
        try:
            barrier.wait(timeout=30)
            reminders_sweep(now=now)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE)
    assert not errors and not any(t.is_alive() for t in threads)
    assert Reminder.objects.filter(kind=ReminderKind.DUE_TODAY).count() == 40
    assert Reminder.objects.count() == 40


def test_a_worker_killed_mid_send_is_retried_after_restart_and_sends_exactly_once(cast, worker, tmp_path):
    _due_draws(cast, 1)
    sleeping = tmp_path / "sleeping"
    worker.start(
        GENEGATE_TEST_MAIL_SLEEP="60", GENEGATE_TEST_MAIL_SLEEPING=str(sleeping), REMINDER_VISIBILITY_SECONDS="2"
    )
    tasks.sweep_reminders.apply_async(retry=False)
    _wait_for(sleeping.exists, "the send to start")
    worker.kill()
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.SENDING and reminder.attempts == 1
    assert ReminderAttempt.objects.get().finished_at is None  # written before the send, never finished
    assert worker.messages() == []

    worker.start(REMINDER_VISIBILITY_SECONDS="2")
    time.sleep(2.5)  # the visibility timeout passes
    tasks.sweep_reminders.apply_async(retry=False)  # the next beat
    _wait_for(lambda: Reminder.objects.get().status == ReminderStatus.SENT, "the reminder to be sent")
    time.sleep(1.5)
    assert len(worker.messages()) == 1
    reminder.refresh_from_db()
    assert reminder.attempts == 2
    assert list(ReminderAttempt.objects.order_by("number").values_list("number", "ok")) == [(1, None), (2, True)]


def test_with_redis_down_the_web_serves_healthz_is_503_and_nothing_is_lost(
    cast, client, own_redis, settings, django_capture_on_commit_callbacks
):
    settings.REDIS_URL = own_redis.url
    old = point_celery_at(own_redis.url)
    try:
        _due_draws(cast, 2)
        assert client.get(reverse("healthz")).status_code == 200
        own_redis.stop()

        assert client.get(reverse("healthz")).status_code == 503
        client.force_login(cast.manager)
        assert client.get(reverse("home")).status_code == 200
        assert client.get(reverse("monitoring:dashboard")).status_code == 200
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            tasks.sweep_reminders()  # the enqueue fails; the rows stay pending
        assert time.monotonic() - started < 5
        assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == 2

        own_redis.start()
        assert client.get(reverse("healthz")).status_code == 200
    finally:
        point_celery_at(old)


def test_reminders_catch_up_through_a_real_worker_when_redis_returns(
    cast, transactional_db, own_redis, settings, tmp_path, django_capture_on_commit_callbacks
):
    if connection.vendor != "postgresql":
        pytest.skip("The worker subprocess must share the test's database (PostgreSQL; see the module docstring).")
    settings.REDIS_URL = own_redis.url
    old = point_celery_at(own_redis.url)
    worker = Worker(tmp_path, own_redis.url)
    try:
        _due_draws(cast, 2)
        own_redis.stop()
        with django_capture_on_commit_callbacks(execute=True):
            tasks.sweep_reminders()  # rows inserted, enqueue refused
        assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == 2
        own_redis.start()
        worker.start()
        tasks.sweep_reminders.apply_async(retry=False)  # the first beat once Redis is back
        _wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).count() == 2, "the catch-up")
        time.sleep(1.5)
        assert len(worker.messages()) == 2
    finally:
        worker.stop()
        point_celery_at(old)


def test_beat_restarted_twice_in_a_minute_sends_each_reminder_once_and_the_worklist_stays_right(
    cast, worker, beat, client
):
    """A beat killed and started again twice within a minute (a crash loop, a redeploy): its
    jobs may run early or twice, and still each due draw gets one row, one e-mail, one
    notification, and the coordinator's worklist shows them due today."""
    draws = _due_draws(cast, 2)
    worker.start()
    started = time.monotonic()
    for _ in range(3):  # the first start and two restarts
        beat.start(seconds=2)
        time.sleep(4)
        beat.stop()
    assert time.monotonic() - started < 60
    beat.start(seconds=2)
    _wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).count() == 2, "two sent reminders")
    time.sleep(5)  # more beats: nothing more
    assert len(worker.messages()) == 2, worker.log.read_text()[-3000:]
    assert sorted(Reminder.objects.values_list("draw_id", flat=True)) == sorted(d.pk for d in draws)
    assert Notification.objects.filter(user=cast.coordinator).count() == 2
    client.force_login(cast.coordinator)
    page = client.get(reverse("home"))
    groups = {g["key"]: g["count"] for g in page.context["monitoring"]["draw_groups"]}
    assert groups["today"] == 2 and groups["overdue"] == 0
