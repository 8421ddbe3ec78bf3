"""The product as deployed, left alone: load the demo, then run only the tasks of the real beat
schedule (``config.celery.app.conf.beat_schedule``, at their own intervals), hour by hour over
100 simulated days, with a frozen clock (time-machine) and Celery in eager mode. Twice a
simulated day, what users see is compared with what the dates say (monitoring.schedule, the
pure rule): the coordinators' worklist groups and the managers' dashboard (summary, table,
CSV). Every reminder sent is checked in the hour it goes: "due today" only on the due date,
nothing for a done or missed draw, escalations only while overdue and repeated at the site's
interval to the routes' roles until acknowledged, milestone reminders inside their windows,
steroid reviews from their day, and its notifications agree with its e-mail.

Nothing here calls draws_advance or the sweep directly: a periodic job missing from the beat
schedule shows up as a wrong page.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import maybe_schedule
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse

from accounts.access import sites_for
from config.celery import app as celery_app
from monitoring import tasks  # noqa: F401  (registers the tasks the beat names)
from monitoring.models import (
    DEFAULT_ROUTES,
    Acknowledgement,
    Draw,
    Milestone,
    Notification,
    Reminder,
    ReminderKind,
    ReminderRoute,
    ReminderStatus,
)
from monitoring.schedule import DUE, LATE, OVERDUE, TERMINAL_STATES, UPCOMING, draw_state
from monitoring.workflows import MILESTONE_GRACE_DAYS
from tests.pages import badge_after, table

pytestmark = pytest.mark.slow

# 06:00 UTC: 01:00 in New York, midnight in Chicago (the demo's two sites). US clocks spring
# forward on 14 March 2027, inside the run.
START = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
DAYS = 100
# Checkpoints in UTC hours: just after both sites' midnight, and their afternoon. Both sites
# are on the same calendar day at these hours, the day the pages call today.
CHECK_HOURS = (6, 18)
NEW_YORK = ZoneInfo("America/New_York")


@dataclass
class BeatEntry:
    name: str
    task: object
    schedule: object
    last_run_at: datetime


def _beat(now: datetime) -> list[BeatEntry]:
    """The deployed beat schedule, each entry as beat starts it: last run = now."""
    entries = [
        BeatEntry(name, celery_app.tasks[entry["task"]], maybe_schedule(entry["schedule"], app=celery_app), now)
        for name, entry in celery_app.conf.beat_schedule.items()
    ]
    assert entries, "the beat schedule is empty"
    return entries


def _tick(beat: list[BeatEntry], now: datetime) -> None:
    for entry in beat:
        if entry.schedule.is_due(entry.last_run_at).is_due:
            entry.task.apply_async()
            entry.last_run_at = now


# --- What the dates say ------------------------------------------------------------------------


def _state_by_dates(draw: Draw, today: date) -> str:
    return draw_state(
        draw.window_opens,
        draw.window_closes,
        draw.protocol.grace_days,
        today,
        done=draw.state == "done",
        missed=draw.state == "missed",
        snoozed_until=draw.snoozed_until,
    ).state


def _expected_group(draw: Draw, today: date) -> str | None:
    state = _state_by_dates(draw, today)
    if state == OVERDUE:
        return "overdue"
    if state == LATE:
        return "late"
    if state in (UPCOMING, DUE) and draw.due_on <= today:
        return "today"
    if state in (UPCOMING, DUE) and draw.due_on <= today + timedelta(days=7):
        return "week"
    return None


def _expected_milestones(site_ids, today: date) -> set[int]:
    out = set()
    for m in Milestone.objects.filter(site_id__in=site_ids).exclude(state__in=TERMINAL_STATES):
        state = draw_state(m.window_opens, m.window_closes, MILESTONE_GRACE_DAYS, today, done=False, missed=False)
        if state.state in (DUE, LATE, OVERDUE):
            out.add(m.pk)
    return out


def _dashboard_status(draw: Draw, today: date) -> str | None:
    """The dashboard's row status: window closed before today; overdue, else snoozed while a
    snooze runs, else late."""
    if draw.state in TERMINAL_STATES or draw.window_closes >= today:
        return None
    if _state_by_dates(draw, today) == OVERDUE:
        return "overdue"
    if draw.snoozed_until is not None and draw.snoozed_until > today:
        return "snoozed"
    return "late"


# --- What users see ----------------------------------------------------------------------------


def _check_worklist(client, user, today: date, when: str) -> None:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    site_ids = list(sites_for(user).values_list("pk", flat=True))
    draws = Draw.objects.filter(site_id__in=site_ids).select_related("protocol").order_by("due_on", "pk")
    expected: dict[str, list[int]] = {"overdue": [], "late": [], "today": [], "week": []}
    for draw in draws:
        group = _expected_group(draw, today)
        if group:
            expected[group].append(draw.pk)
    shown = {g["key"]: g for g in response.context["monitoring"]["draw_groups"]}
    html = response.content.decode()
    for key, pks in expected.items():
        where = f"{when}, {user.username}, group {key}"
        assert shown[key]["count"] == len(pks), where
        assert [d.pk for d in shown[key]["draws"]] == pks[: len(shown[key]["draws"])], where
        assert badge_after(html, f"worklist-{key}") == (len(pks) or None), where
    milestones = {m.pk for m in response.context["monitoring"]["milestones_due"]}
    assert milestones == _expected_milestones(site_ids, today), f"{when}, {user.username}, milestones"


def _check_dashboard(client, manager, today: date, when: str) -> dict[str, int]:
    client.force_login(manager)
    site_ids = list(sites_for(manager).values_list("pk", flat=True))
    expected = {}
    for draw in Draw.objects.filter(site_id__in=site_ids).select_related("protocol"):
        status = _dashboard_status(draw, today)
        if status:
            expected[draw.pk] = status
    page = client.get(reverse("monitoring:dashboard"))
    assert page.status_code == 200
    html = page.content.decode()
    export = client.get(reverse("monitoring:dashboard_csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    by_id = {(int(r["case"]), r["draw"], int(r["day"])): r["status"] for r in rows}
    keyed = {(d.case_id, d.kind_label, d.day): expected[d.pk] for d in Draw.objects.filter(pk__in=expected).order_by()}
    assert by_id == keyed, f"{when}, {manager.username}: the CSV rows"
    assert badge_after(html, "table-h") == len(expected), f"{when}, {manager.username}: the table's count"
    totals = {"late": 0, "snoozed": 0, "overdue": 0}
    for status in expected.values():
        totals[status] += 1
    for summary in ("by-site-h", "by-coord-h"):
        shown = dict.fromkeys(totals, 0)
        for row in table(html, summary):
            for column, status in enumerate(totals, start=1):
                shown[status] += int(row[column])
        assert shown == totals, f"{when}, {manager.username}: the summary {summary}"
    # The table's first page, most days late first, each row's status as the dates say.
    order = Draw.objects.filter(pk__in=expected).order_by("window_closes", "due_on", "pk")
    statuses = [row[6].split(" ")[0].lower() for row in table(html, "table-h") if len(row) > 6]
    assert statuses == [expected[d.pk] for d in order[:25]], f"{when}, {manager.username}: the table's rows"
    return totals


def _check_new_emails(since: datetime, now: datetime, outbox_before: int, kinds: Counter) -> int:
    """Reminders sent in this hour, each against the dates: a "due today" one names a draw due
    today at its site; none for a done or missed draw; an escalation only for a draw overdue by
    the dates, a repeat only the site's interval after the last and with no acknowledgement
    since the first, to the routes' roles; a milestone reminder inside its window; a steroid
    review once its window opened. Notifications agree with the e-mails."""
    sent = list(
        Reminder.objects.filter(status=ReminderStatus.SENT, sent_at__gte=since).select_related(
            "draw__protocol", "milestone", "site"
        )
    )
    new_mail = mail.outbox[outbox_before:]
    assert len(new_mail) == len(sent), f"{now}: {len(new_mail)} e-mails for {len(sent)} reminders"
    for reminder in sent:
        local = now.astimezone(ZoneInfo(reminder.site.timezone)).date()
        kinds[(reminder.kind, reminder.repeat > 0)] += 1
        notes = list(Notification.objects.filter(reminder=reminder).select_related("user"))
        notified = {n.user.email for n in notes if n.user.email}
        assert notes and any(set(m.to) == notified for m in new_mail), f"{now}: notifications and e-mail differ"
        routed = ReminderRoute.objects.filter(site_id=reminder.site_id, kind=reminder.kind).values_list(
            "role", flat=True
        )
        roles = set(routed) or set(DEFAULT_ROUTES[reminder.kind])
        for note in notes:
            assert roles & set(note.user.groups.values_list("name", flat=True)), f"{now}: {reminder} to {note.user}"
        if reminder.draw_id:
            assert reminder.draw.state not in TERMINAL_STATES, f"{now}: {reminder} for a {reminder.draw.state} draw"
        if reminder.kind == ReminderKind.OVERDUE:
            assert _state_by_dates(reminder.draw, local) == OVERDUE, f"{now}: escalation of a draw not overdue"
            if reminder.repeat:
                run = Reminder.objects.filter(target_key=reminder.target_key, kind=ReminderKind.OVERDUE)
                before = run.get(repeat=reminder.repeat - 1)
                made = before.created_at.astimezone(ZoneInfo(reminder.site.timezone)).date()
                assert (local - made).days >= reminder.site.escalation_repeat_days, f"{now}: {reminder} too soon"
                first = run.get(repeat=0).created_at
                assert not Acknowledgement.objects.filter(draw=reminder.draw, created_at__gte=first).exists()
        if reminder.kind == ReminderKind.MILESTONE_DUE:
            assert reminder.milestone.window_opens <= local, f"{now}: milestone reminder before its window"
            assert reminder.milestone.completed_at is None
        if reminder.kind == ReminderKind.STEROID_REVIEW:
            assert reminder.draw.kind == "steroid_review"
            assert reminder.draw.window_opens <= local, f"{now}: steroid review before its day"
        if reminder.kind == ReminderKind.DUE_TODAY:
            local = now.astimezone(ZoneInfo(reminder.site.timezone)).date()
            assert reminder.draw.due_on == local, f"{now}: due today e-mail for a draw due {reminder.draw.due_on}"
        if reminder.kind == ReminderKind.DUE_TOMORROW:
            local = now.astimezone(ZoneInfo(reminder.site.timezone)).date()
            assert reminder.draw.due_on == local + timedelta(days=1), f"{now}: due tomorrow for {reminder.draw.due_on}"
    return len(sent)


def test_a_hundred_unattended_days_from_the_demo_keep_every_page_true(transactional_db, client, eager_celery):
    User = get_user_model()
    with time_machine.travel(START, tick=False) as clock:
        call_command("seed_demo", stdout=io.StringIO())
        users = {u.username: u for u in User.objects.filter(username__in=["coordinator", "outsider", "admin"])}
        managers = list(User.objects.filter(username__in=["manager", "manager2"]).order_by("username"))
        mail_at_start = len(mail.outbox)
        sent_at_start = Reminder.objects.filter(status=ReminderStatus.SENT).count()
        beat = _beat(celery_app.now())
        sent_in_run = 0
        kinds: Counter = Counter()
        seen = {"overdue": 0, "snoozed": 0, "late": 0}
        for hour in range(1, DAYS * 24 + 1):  # the beat's first runs come one interval after start
            now = START + timedelta(hours=hour)
            clock.move_to(now)
            outbox_before = len(mail.outbox)
            _tick(beat, now)
            sent_in_run += _check_new_emails(now, now, outbox_before, kinds)
            if now.hour in CHECK_HOURS:
                today = now.astimezone(NEW_YORK).date()
                when = f"{now:%Y-%m-%d %H:%M} UTC (day {hour // 24})"
                for user in users.values():
                    _check_worklist(client, user, today, when)
                for manager in managers:
                    for status, n in _check_dashboard(client, manager, today, when).items():
                        seen[status] = max(seen[status], n)
    # The run went through every state the pages show, and every sent reminder was one e-mail.
    assert seen["overdue"] > 10 and seen["snoozed"] >= 1 and seen["late"] >= 1, seen
    assert sent_in_run > 0
    # Escalations repeated while draws stayed overdue and unacknowledged.
    assert kinds[(ReminderKind.OVERDUE, True)] > 0, kinds
    assert len(mail.outbox) - mail_at_start == sent_in_run
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == sent_at_start + sent_in_run
    duplicates = (
        Reminder.objects.filter(status=ReminderStatus.SENT)
        .values("draw", "milestone", "flag", "due_on", "kind", "snoozed_until", "repeat")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
