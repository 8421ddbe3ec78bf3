"""The reminder sweep: what is due becomes one outbox row per item and kind, set-based."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.models import Reminder, ReminderKind, ReminderStatus
from monitoring.reminders.sweep import reminder_kind_for_draw, reminders_sweep
from tests.personas import make_case
from tests.reminders.helpers import NOW, TODAY, at, late_due_on, make_draw, make_flag, make_milestone, overdue_due_on

K = ReminderKind


def kinds(**filters):
    return sorted(Reminder.objects.filter(**filters).values_list("kind", flat=True))


def test_a_draw_due_tomorrow_gets_one_due_tomorrow_reminder_and_a_rerun_adds_nothing(cast):
    draw = make_draw(cast.case_a, due_on=TODAY + timedelta(days=1))
    reminders_sweep(now=NOW)
    reminders_sweep(now=NOW + timedelta(minutes=5))
    assert kinds(draw=draw) == [K.DUE_TOMORROW]
    row = Reminder.objects.get(draw=draw)
    assert row.status == ReminderStatus.PENDING and row.case == cast.case_a and row.site == cast.site_a


def test_each_day_of_a_draw_gets_its_own_kind_once(cast):
    due = TODAY + timedelta(days=1)
    draw = make_draw(cast.case_a, due_on=due)
    for offset in range(-1, 6):  # from the day before due to well past the grace
        reminders_sweep(now=at(due + timedelta(days=offset)))
        reminders_sweep(now=at(due + timedelta(days=offset), hour=15))
    assert kinds(draw=draw) == sorted([K.DUE_TOMORROW, K.DUE_TODAY, K.LATE, K.OVERDUE])


def test_a_sweep_after_the_due_date_sends_no_due_today_reminder(cast):
    draw = make_draw(cast.case_a, due_on=TODAY - timedelta(days=2))  # window open until today
    reminders_sweep(now=NOW)  # the first sweep since before the due date (a stopped server)
    assert kinds(draw=draw) == []
    reminders_sweep(now=at(TODAY + timedelta(days=1)))
    assert kinds(draw=draw) == [K.LATE]


def test_a_missed_sweep_day_still_sends_the_late_reminder_later(cast):
    draw = make_draw(cast.case_a, due_on=late_due_on())
    reminders_sweep(now=NOW)  # the first sweep in days: late is still owed
    assert kinds(draw=draw) == [K.LATE]


def test_an_overdue_draw_is_escalated_once_a_day_however_often_the_sweep_runs(cast):
    draw = make_draw(cast.case_a, due_on=overdue_due_on())
    reminders_sweep(now=NOW)
    reminders_sweep(now=NOW + timedelta(hours=5))
    assert kinds(draw=draw) == [K.OVERDUE]
    # Escalation repeats are tests/reminders/test_escalation_repeats.py.


def test_the_steroid_review_goes_out_as_its_own_kind(cast):
    draw = make_draw(cast.case_a, due_on=TODAY, kind="steroid_review", day=28)
    reminders_sweep(now=NOW)
    assert kinds(draw=draw) == [K.STEROID_REVIEW]


def test_done_and_missed_draws_get_nothing_and_their_unsent_rows_are_cancelled(cast):
    draw = make_draw(cast.case_a, due_on=TODAY)
    reminders_sweep(now=NOW)
    make_draw(cast.case_a, due_on=TODAY, day=14, state="missed")
    draw.state = "done"
    draw.save()
    result = reminders_sweep(now=NOW + timedelta(minutes=5))
    assert result.cancelled == 1
    assert Reminder.objects.get(draw=draw).status == ReminderStatus.CANCELLED
    assert Reminder.objects.count() == 1


def test_a_rescheduled_draw_cancels_its_old_rows_and_gets_new_ones(cast):
    draw = make_draw(cast.case_a, due_on=TODAY)
    reminders_sweep(now=NOW)
    draw.due_on = TODAY + timedelta(days=1)
    draw.window_opens, draw.window_closes = draw.due_on - timedelta(days=2), draw.due_on + timedelta(days=2)
    draw.save()
    reminders_sweep(now=NOW + timedelta(minutes=5))
    rows = {(r.kind, r.status, r.due_on) for r in Reminder.objects.filter(draw=draw)}
    assert rows == {
        (K.DUE_TODAY, ReminderStatus.CANCELLED, TODAY),
        (K.DUE_TOMORROW, ReminderStatus.PENDING, TODAY + timedelta(days=1)),
    }


def test_a_snooze_pauses_escalation_and_escalates_again_when_it_runs_out(cast):
    draw = make_draw(cast.case_a, due_on=overdue_due_on())
    draw.snoozed_until = TODAY + timedelta(days=2)
    draw.save()
    reminders_sweep(now=NOW)
    assert kinds(draw=draw) == [K.LATE]
    reminders_sweep(now=at(TODAY + timedelta(days=2)))
    overdue = Reminder.objects.get(draw=draw, kind=K.OVERDUE)
    assert overdue.snoozed_until == TODAY + timedelta(days=2)


def test_an_open_milestone_window_reminds_the_coordinator_once(cast):
    milestone = make_milestone(cast.case_a, due_on=TODAY + timedelta(days=10))
    make_milestone(cast.case_a, due_on=TODAY + timedelta(days=200), month=12)
    reminders_sweep(now=NOW)
    reminders_sweep(now=NOW + timedelta(hours=1))
    assert kinds(milestone=milestone) == [K.MILESTONE_DUE]
    assert Reminder.objects.filter(milestone__isnull=False).count() == 1


def test_an_urgent_flag_reminds_once_and_a_watch_flag_does_not(cast):
    urgent = make_flag(cast.case_a)
    make_flag(cast.case_a, level="watch")
    reminders_sweep(now=NOW)
    reminders_sweep(now=NOW)
    assert kinds(flag=urgent) == [K.URGENT_FLAG]
    assert Reminder.objects.count() == 1


def test_a_resolved_flag_cancels_its_unsent_reminder(cast):
    flag = make_flag(cast.case_a)
    reminders_sweep(now=NOW)
    flag.resolved_at = NOW
    flag.save()
    reminders_sweep(now=NOW + timedelta(minutes=5))
    assert Reminder.objects.get(flag=flag).status == ReminderStatus.CANCELLED


@pytest.mark.parametrize(
    ("state", "due_offset", "expected"),
    [
        ("upcoming", 3, None),
        ("due", 1, K.DUE_TOMORROW),
        ("due", 0, K.DUE_TODAY),
        ("due", -1, None),  # due yesterday, window still open: "due today" would be wrong
        ("due", -2, None),
        ("late", -3, K.LATE),
        ("overdue", -9, K.OVERDUE),
    ],
)
def test_the_kind_follows_the_state_and_the_due_date(state, due_offset, expected):
    assert reminder_kind_for_draw("liver", state, TODAY + timedelta(days=due_offset), TODAY) == expected


def _cases_with_due_draws(site, coordinator, count: int, start: int):
    for i in range(start, start + count):
        case = make_case(site, name=f"Bulk Child {i}", mrn=f"MRN-B{i}", coordinator=coordinator)
        make_draw(case, due_on=TODAY + timedelta(days=1), day=7)
        make_draw(case, due_on=late_due_on(), day=14)
        make_draw(case, due_on=overdue_due_on(), day=21)
        make_draw(case, due_on=TODAY - timedelta(days=30), day=28, state="done")


def _sweep_queries() -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        reminders_sweep(now=NOW)
    inserts = sum(1 for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("INSERT"))
    return len(ctx.captured_queries), inserts


def test_the_sweep_uses_the_same_few_queries_at_two_sizes_and_a_rerun_creates_nothing(cast):
    _cases_with_due_draws(cast.site_a, cast.coordinator, 5, 0)
    small_total, small_inserts = _sweep_queries()
    assert Reminder.objects.count() == 15
    Reminder.objects.all().delete()
    _cases_with_due_draws(cast.site_a, cast.coordinator, 60, 100)
    large_total, large_inserts = _sweep_queries()
    assert Reminder.objects.count() == 65 * 3
    # SELECT (one UNION of draws and milestones), SELECT (result flags a physician must hear of),
    # INSERT ... ON CONFLICT DO NOTHING, UPDATE (cancel stale). SQLite splits
    # the INSERT into batches of at most 999 parameters; PostgreSQL sends one statement.
    assert small_total - small_inserts == large_total - large_inserts == 3
    if connection.vendor == "postgresql":
        assert small_total == large_total == 4
    before = Reminder.objects.count()
    rerun_total, rerun_inserts = _sweep_queries()
    assert Reminder.objects.count() == before
    assert rerun_total <= large_total
