"""Demo reminders (idempotent) and the synthetic bulk cases used by the benchmarks."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case
from demo import context as demo
from demo import reminders as demo_reminders
from demo.bulk import seed_bulk
from monitoring import tasks
from monitoring.models import Acknowledgement, Draw, Notification, Reminder, ReminderKind, ReminderRoute
from monitoring.reminders.sweep import reminders_sweep
from tests.personas import make_case
from tests.reminders.helpers import NOW, TODAY, make_draw, make_milestone, overdue_due_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx():
    with time_machine.travel(NOW, tick=False):
        context = demo.DemoContext(today=timezone.localdate())
        demo.seed(context)
        overdue = make_case(
            context.sites["NCH"], name="Benjamin Lee", mrn="D-1", coordinator=context.users["coordinator"]
        )
        lpc = make_case(context.sites["LPC"], name="Grace Young", mrn="D-2", coordinator=context.users["outsider"])
        make_draw(overdue, due_on=overdue_due_on(), day=21)
        make_draw(lpc, due_on=overdue_due_on() - timedelta(days=2), day=14)
        make_draw(overdue, due_on=TODAY + timedelta(days=1), day=28)  # left for the worker
        make_milestone(lpc, due_on=TODAY + timedelta(days=10))  # delivered, then marked read
        context.extra["cases"] = {"overdue": overdue, "lpc_overdue": lpc}
        yield context


def _snapshot():
    return (
        sorted(Reminder.objects.values_list("target_key", "kind", "status")),
        Acknowledgement.objects.count(),
        Notification.objects.filter(read_at__isnull=True).count(),
        Notification.objects.count(),
        ReminderRoute.objects.count(),
    )


def test_the_demo_escalates_both_overdue_cases_acknowledges_one_and_is_idempotent(ctx):
    with time_machine.travel(NOW, tick=False):
        demo_reminders.seed(ctx)
        first = _snapshot()
        demo_reminders.seed(ctx)
        assert _snapshot() == first
    escalations = Reminder.objects.filter(kind=ReminderKind.OVERDUE, status="sent")
    assert {r.case_id for r in escalations} == {c.pk for c in ctx.extra["cases"].values()}
    managers = set(Notification.objects.filter(kind=ReminderKind.OVERDUE).values_list("user__username", flat=True))
    assert managers == {"manager", "manager2"}
    ack = Acknowledgement.objects.get()
    assert ack.case == ctx.extra["cases"]["lpc_overdue"] and ack.snoozed_until == TODAY + timedelta(days=3)
    assert Notification.objects.filter(read_at__isnull=False).exists()
    assert Notification.objects.filter(read_at__isnull=True).exists()


def test_seed_demo_leaves_routine_reminders_for_the_worker_and_the_beat_sweep_sends_them(
    db, eager_celery, django_capture_on_commit_callbacks
):
    """`make run` must show reminders working: the demo leaves some due, and the first sweep
    (the beat's task, its sends run by Celery here) delivers them."""
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())
        pending = list(Reminder.objects.filter(status="pending").values_list("pk", "kind"))
        assert len(pending) >= 2
        assert {kind for _, kind in pending} <= {ReminderKind.DUE_TODAY, ReminderKind.DUE_TOMORROW}
        assert Reminder.objects.filter(status="sent", kind=ReminderKind.OVERDUE).exists()  # the story
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            tasks.sweep_reminders()
    sent = Reminder.objects.filter(pk__in=[pk for pk, _ in pending], status="sent")
    assert sent.count() == len(pending)
    assert len(mail.outbox) == len(pending)
    assert all(m.subject.startswith("GeneGate: a draw is due") for m in mail.outbox)
    assert not Reminder.objects.filter(status="pending").exists()


def test_the_demo_without_the_story_cases_still_seeds_routes(db):
    context = demo.DemoContext(today=timezone.localdate())
    demo.seed(context)
    demo_reminders.seed(context)
    assert ReminderRoute.objects.filter(site=context.sites["LPC"], kind="overdue", role="manager").exists()


def test_seed_bulk_makes_cases_with_about_twenty_draws_each_and_a_rerun_makes_none(ctx):
    with time_machine.travel(NOW, tick=False):
        assert seed_bulk(ctx, 30) == 30
        assert seed_bulk(ctx, 30) == 0
    synthetic = Case.objects.filter(patient__mrn__startswith="SYN-")
    assert synthetic.count() == 30
    per_case = Draw.objects.filter(case__in=synthetic).count() / 30
    assert 20 <= per_case <= 25
    assert not Reminder.objects.filter(case__in=synthetic, status="pending").exists()  # history, not a mail flood
    assert "Synthetic Patient" in synthetic.first().patient.legal_name


def _sweep(now) -> tuple[int, int, int]:
    before = Reminder.objects.count()
    with CaptureQueriesContext(connection) as captured:
        reminders_sweep(now=now)
    inserts = sum(1 for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("INSERT"))
    return len(captured.captured_queries), inserts, Reminder.objects.count() - before


def test_on_bulk_data_the_sweep_takes_the_same_queries_at_two_sizes_and_a_rerun_creates_nothing(ctx):
    with time_machine.travel(NOW, tick=False):
        seed_bulk(ctx, 40)
        Reminder.objects.all().delete()  # sweep the backlog ourselves
        small_total, small_inserts, small_created = _sweep(NOW)
        seed_bulk(ctx, 160)
        Reminder.objects.all().delete()
        large_total, large_inserts, large_created = _sweep(NOW)
        rerun_total, rerun_inserts, rerun_created = _sweep(NOW + timedelta(minutes=5))
    assert 0 < small_created < large_created
    # SELECT draws and milestones, SELECT result flags, UPDATE (cancel stale)
    assert small_total - small_inserts == large_total - large_inserts == 3
    if connection.vendor == "postgresql":
        assert small_total == large_total == 4
    assert rerun_created == 0 and rerun_inserts == 0 and rerun_total == 3
