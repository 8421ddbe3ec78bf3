"""The reminder sweep and the send: tell the right person once, escalate when nobody acts.

Modelled on healthchecks (hc/api/management/commands/sendalerts.py, Channel.notify):

- ``reminders_sweep(now=)`` decides from the dates what is due and inserts outbox rows,
  set-based: one SELECT (a UNION of draws and milestones), one SELECT of result flags a
  physician must hear of (urgent or abnormal, notice and escalation), one INSERT with
  ON CONFLICT DO NOTHING (``bulk_create(ignore_conflicts=True)``) and one UPDATE that cancels
  rows whose item was done, missed, resolved or rescheduled. The unique constraint on
  (target_key, kind, repeat) makes two sweeps at once, or a beat firing twice, harmless.
- An escalation (overdue) repeats while the draw stays overdue and nobody acknowledged it since
  the escalation began: repeat 1, 2 ... each ``Site.escalation_repeat_days`` (default 1) after
  the last, to the same routes. An acknowledgement stops the repeats; a snooze starts a new
  run (new target key) once it runs out.
- A result flag's notice and escalation are numbered by the flag's round (``repeat`` =
  ``Flag.ack_round``): a voided acknowledgement starts a new round, so the physician is told
  again and the escalation follows after the site's time from the void (issue 15 item 3).
- ``reminder_send(reminder_id, now=)`` claims one row with a conditional UPDATE, writes the
  attempt row, delivers (in-app notifications, then e-mail) and records the outcome; failures
  retry with exponential backoff; a row left in "sending" by a killed worker is claimed again
  after ``REMINDER_VISIBILITY_SECONDS``. No lock is held across the e-mail send.

The sweep reads dates (window, grace, snooze) through monitoring.schedule.draw_state, never
the stored ``Draw.state`` freshness, except done/missed which are recorded facts. The window
and grace are product policy [D] (monitoring/protocol.py; docs/domain.md §4 "suggested reminder
days"); the steroid review is label §2.1; milestones docs/domain.md §8.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import (
    BooleanField,
    DateField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.lookups import IsNull
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.access import users_at_sites
from common.dates import local_today
from common.wording import day_text, moment_text, plain
from monitoring.flags import ALERT_ABNORMAL, ALERT_URGENT, alert_class
from monitoring.kinds import kind_label
from monitoring.models import (
    ALERT_Q,
    DEFAULT_ROUTES,
    UNSENT,
    Acknowledgement,
    Draw,
    Flag,
    Milestone,
    Notification,
    Reminder,
    ReminderAttempt,
    ReminderKind,
    ReminderRoute,
    ReminderStatus,
)
from monitoring.reminders.freshness import dashboard_changed
from monitoring.schedule import DUE, LATE, OPEN_STATES, OVERDUE, TERMINAL_STATES, UPCOMING, draw_state
from monitoring.workflows import apply_state

logger = logging.getLogger(__name__)

K = ReminderKind
S = ReminderStatus

# Retry after 1, 2, 4 ... minutes, at most every 6 hours (healthchecks retries webhooks alike).
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)

# E-mail subjects carry no patient data: kind and site code only (BRIEF, PHI rule).
SUBJECTS = {
    K.DUE_TOMORROW: "GeneGate: a draw is due tomorrow at {site}",
    K.DUE_TODAY: "GeneGate: a draw is due today at {site}",
    K.LATE: "GeneGate: a draw is late at {site}",
    K.OVERDUE: "GeneGate: an overdue draw was escalated at {site}",
    K.STEROID_REVIEW: "GeneGate: a steroid end-of-course review is due at {site}",
    K.MILESTONE_DUE: "GeneGate: an outcome milestone is due at {site}",
    K.URGENT_FLAG: "GeneGate: an urgent result flag needs a physician at {site}",
    K.ABNORMAL_FLAG: "GeneGate: an abnormal result needs a physician at {site}",
    K.FLAG_ESCALATION: "GeneGate: a result flag has not been acknowledged at {site}",
}

_COLS = (
    "r_src",
    "r_pk",
    "r_case",
    "r_site",
    "r_sub",
    "r_due",
    "r_opens",
    "r_closes",
    "r_snooze",
    "r_grace",
    "r_tz",
    "r_every",  # the site's escalation repeat interval in days
    "r_rep",  # the highest escalation repeat number this draw has for its schedule and snooze
    "r_last",  # when that escalation row was made
)
# Kinds a draw may already have a row of for its current schedule (overdue is filtered in SQL).
_HAVE_KINDS = (K.DUE_TOMORROW, K.DUE_TODAY, K.LATE, K.STEROID_REVIEW)
_HAVE_COLS = tuple(f"r_has_{kind}" for kind in _HAVE_KINDS)


@dataclass(frozen=True)
class SweepResult:
    """What one sweep saw: items examined, rows offered to the INSERT (existing ones are
    skipped by the database), and unsent rows cancelled."""

    examined: int
    offered: int
    cancelled: int


def reminder_kind_for_draw(draw_kind: str, state: str, due_on: date, today: date) -> str | None:
    """Return the reminder kind an open draw calls for on ``today``, or None.

    1. Overdue (grace passed and no snooze running) → ``overdue``, the manager escalation.
    2. A steroid end-of-course review (label §2.1) → ``steroid_review`` once its window opens.
    3. The day before ``due_on`` → ``due_tomorrow``; on ``due_on`` itself → ``due_today``
       (never on a later day of the window: the e-mail would say "today" of a past date);
       after the window closed → ``late``.
    """
    if state == OVERDUE:
        return K.OVERDUE
    if draw_kind == "steroid_review":
        return K.STEROID_REVIEW if state in (DUE, LATE) else None
    if state == LATE:
        return K.LATE
    if state in (UPCOMING, DUE) and today == due_on - timedelta(days=1):
        return K.DUE_TOMORROW
    if state == DUE and today == due_on:
        return K.DUE_TODAY
    return None


def escalation_rows(draw_ref, due_ref, snooze_ref):
    """The escalation rows of one draw as scheduled and snoozed (the refs are OuterRefs, so
    this is a subquery): a snooze starts a new run of escalations."""
    same_snooze = Q(snoozed_until=snooze_ref) | (Q(snoozed_until__isnull=True) & IsNull(snooze_ref, True))
    return Reminder.objects.filter(Q(draw=draw_ref, kind=K.OVERDUE, due_on=due_ref) & same_snooze)


def escalation_repeat_due(last_made_on: date, every_days: int, today: date) -> bool:
    """An overdue draw's escalation repeats ``every_days`` (the site's interval, at least 1) after
    the last one was made, counted in the site's days: a sweep late by hours or a clock that
    jumped forward by days makes one repeat, not one per missed interval."""
    return today >= last_made_on + timedelta(days=max(1, every_days))


def draw_target_key(draw_id: int, due_on: date, kind: str, snoozed_until: date | None) -> str:
    """The key one row per (item as scheduled, kind) is unique on. An escalation after a snooze
    is a new escalation, so the overdue key names the snooze."""
    key = f"draw:{draw_id}:{due_on.isoformat()}"
    if kind == K.OVERDUE and snoozed_until is not None:
        key += f":s{snoozed_until.isoformat()}"
    return key


def state_on(draw: Draw, today: date) -> str:
    """The draw's state on ``today`` from its dates, grace and snooze (draw_state); done and
    missed are recorded facts."""
    return draw_state(
        draw.window_opens,
        draw.window_closes,
        draw.protocol.grace_days,
        today,
        done=draw.state == "done",
        missed=draw.state == "missed",
        snoozed_until=draw.snoozed_until,
    ).state


def _candidates(now: datetime):
    """One UNION query: open draws near or past due and open milestones whose window opened, as rows of _COLS + _HAVE_COLS (which rows a draw
    has already, so a steady-state sweep offers nothing to the INSERT)."""
    bound = now.date() + timedelta(days=2)  # later than "tomorrow" in every time zone
    no_date = Value(None, output_field=DateField())
    no_row = {col: Value(False, output_field=BooleanField()) for col in _HAVE_COLS}
    has_row = {
        col: Exists(Reminder.objects.filter(draw=OuterRef("pk"), kind=kind, due_on=OuterRef("due_on")))
        for col, kind in zip(_HAVE_COLS, _HAVE_KINDS, strict=True)
    }
    escalations = escalation_rows(OuterRef("pk"), OuterRef("due_on"), OuterRef("snoozed_until")).order_by("-repeat")
    first_escalation = escalation_rows(
        OuterRef(OuterRef("pk")), OuterRef(OuterRef("due_on")), OuterRef(OuterRef("snoozed_until"))
    ).order_by("repeat")
    no_int = Value(None, output_field=IntegerField())
    no_time = Value(None, output_field=DateTimeField())
    draws = (
        Draw.objects.filter(state__in=OPEN_STATES, due_on__lte=bound)
        # Leave out draws acknowledged since their escalation began: no repeat follows.
        .exclude(
            Exists(
                Acknowledgement.objects.filter(
                    draw=OuterRef("pk"), created_at__gte=Subquery(first_escalation.values("created_at")[:1])
                )
            )
        )
        .order_by()
        .annotate(
            r_src=Value("draw"),
            r_pk=F("pk"),
            r_case=F("case_id"),
            r_site=F("site_id"),
            r_sub=F("kind"),
            r_due=F("due_on"),
            r_opens=F("window_opens"),
            r_closes=F("window_closes"),
            r_snooze=F("snoozed_until"),
            r_grace=F("protocol__grace_days"),
            r_tz=F("site__timezone"),
            r_every=F("site__escalation_repeat_days"),
            r_rep=Subquery(escalations.values("repeat")[:1]),
            r_last=Subquery(escalations.values("created_at")[:1]),
            **has_row,
        )
        .values_list(*_COLS, *_HAVE_COLS)
    )
    milestones = (
        Milestone.objects.filter(state__in=OPEN_STATES, completed_at__isnull=True, window_opens__lte=bound)
        .exclude(
            Exists(Reminder.objects.filter(milestone=OuterRef("pk"), kind=K.MILESTONE_DUE, due_on=OuterRef("due_on")))
        )
        .order_by()
        .annotate(
            r_src=Value("milestone"),
            r_pk=F("pk"),
            r_case=F("case_id"),
            r_site=F("site_id"),
            r_sub=Value("milestone"),
            r_due=F("due_on"),
            r_opens=F("window_opens"),
            r_closes=F("window_closes"),
            r_snooze=no_date,
            r_grace=Value(0, output_field=IntegerField()),
            r_tz=F("site__timezone"),
            r_every=no_int,
            r_rep=no_int,
            r_last=no_time,
            **no_row,
        )
        .values_list(*_COLS, *_HAVE_COLS)
    )
    return draws.union(milestones, all=True)


def _to_date(value) -> date | None:
    # Dates in a UNION come back typed on PostgreSQL and as ISO text on SQLite.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _to_datetime(value) -> datetime:
    # A datetime in a UNION comes back typed on PostgreSQL and as text on SQLite.
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo("UTC"))


def _rows_for(candidates, now: datetime) -> list[Reminder]:
    """Turn candidate rows into unsaved Reminder objects (no queries)."""
    todays: dict[str, date] = {}
    out = []
    for src, pk, case_id, site_id, sub, due, opens, closes, snooze, grace, tz, every, rep, last, *has in candidates:
        due, opens, closes, snooze = _to_date(due), _to_date(opens), _to_date(closes), _to_date(snooze)
        today = todays.get(tz) or todays.setdefault(tz, local_today(tz, now))
        common = dict(site_id=site_id, case_id=case_id, next_attempt_at=now, created_at=now, updated_at=now)
        if src == "draw":
            state = draw_state(opens, closes, grace, today, done=False, missed=False, snoozed_until=snooze).state
            kind = reminder_kind_for_draw(sub, state, due, today)
            if kind is None or (kind in _HAVE_KINDS and has[_HAVE_KINDS.index(kind)]):
                continue  # nothing due, or this row exists already
            repeat = 0
            if kind == K.OVERDUE and rep is not None:
                if not escalation_repeat_due(local_today(tz, _to_datetime(last)), every, today):
                    continue  # escalated, and the next repeat is not due yet
                repeat = rep + 1
            kept_snooze = snooze if kind == K.OVERDUE else None
            key = draw_target_key(pk, due, kind, kept_snooze)
            out.append(
                Reminder(
                    kind=kind,
                    target_key=key,
                    draw_id=pk,
                    due_on=due,
                    snoozed_until=kept_snooze,
                    repeat=repeat,
                    **common,
                )
            )
        elif src == "milestone":
            if today < opens:
                continue
            key = f"milestone:{pk}:{due.isoformat()}"
            out.append(Reminder(kind=K.MILESTONE_DUE, target_key=key, milestone_id=pk, due_on=due, **common))
    return out


# The reminder that tells the physician of a flag, by its alert class (flags.alert_class).
FLAG_NOTICE_KINDS = {ALERT_URGENT: K.URGENT_FLAG, ALERT_ABNORMAL: K.ABNORMAL_FLAG}


def flag_escalates_at(raised_at: datetime, alert: str, urgent_hours: int, abnormal_hours: int) -> datetime:
    """When an unacknowledged flag goes to every physician and the manager: the site's hours
    for its class after it was raised (defaults 4 h urgent, 24 h abnormal; issue 15 item 1)."""
    return raised_at + timedelta(hours=urgent_hours if alert == ALERT_URGENT else abnormal_hours)


def _flag_rows(now: datetime) -> list[Reminder]:
    """Outbox rows for result flags that must reach a physician (one query).

    1. Open, unacknowledged flags of the urgent or abnormal class (flags.alert_class) that lack
       their notice or their escalation.
    2. The notice (urgent_flag / abnormal_flag, to the physicians) at once.
    3. The escalation (flag_escalation, to every physician and the manager) once the site's
       time for the class has passed without an acknowledgement.
    """
    # A flag whose acknowledgement was voided starts a new round (Flag.ack_round): its notice and
    # escalation are new rows with ``repeat`` = the round, timed from when it awaited again.
    this_round = Reminder.objects.filter(flag=OuterRef("pk"), repeat=OuterRef("ack_round"))
    notice = this_round.filter(kind__in=list(FLAG_NOTICE_KINDS.values()))
    escalation = this_round.filter(kind=K.FLAG_ESCALATION)
    flags = (
        Flag.objects.filter(ALERT_Q, resolved_at__isnull=True, acknowledged_at__isnull=True)
        .annotate(has_notice=Exists(notice), has_escalation=Exists(escalation))
        .filter(Q(has_notice=False) | Q(has_escalation=False))
        .order_by("pk")
        .values_list(
            "pk",
            "case_id",
            "site_id",
            "code",
            "level",
            "raised_at",
            "awaiting_since",
            "ack_round",
            "site__urgent_flag_escalate_hours",
            "site__abnormal_flag_escalate_hours",
            "has_notice",
            "has_escalation",
        )
    )
    out = []
    for row in flags:
        pk, case_id, site_id, code, level, raised_at, since, round_, urgent_hours, abnormal_hours = row[:10]
        has_notice, has_esc = row[10:]
        alert = alert_class(code, level)
        common = dict(
            site_id=site_id,
            case_id=case_id,
            flag_id=pk,
            target_key=f"flag:{pk}",
            repeat=round_,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        if not has_notice:
            out.append(Reminder(kind=FLAG_NOTICE_KINDS[alert], **common))
        if not has_esc and now >= flag_escalates_at(since or raised_at, alert, urgent_hours, abnormal_hours):
            out.append(Reminder(kind=K.FLAG_ESCALATION, **common))
    return out


def _cancel_stale(now: datetime) -> int:
    """One UPDATE: unsent rows whose item is done, missed, resolved or was rescheduled."""
    stale = (
        Q(draw__state__in=TERMINAL_STATES)
        | (Q(draw__isnull=False) & ~Q(due_on=F("draw__due_on")))
        | Q(milestone__state__in=TERMINAL_STATES)
        | Q(milestone__completed_at__isnull=False)
        | (Q(milestone__isnull=False) & ~Q(due_on=F("milestone__due_on")))
        | Q(flag__resolved_at__isnull=False)
        | Q(flag__acknowledged_at__isnull=False)
    )
    return (
        Reminder.objects.filter(status__in=UNSENT)
        .filter(stale)
        .update(status=S.CANCELLED, cancelled_reason="done, missed, resolved or rescheduled", updated_at=now)
    )


def reminders_sweep(*, now: datetime | None = None) -> SweepResult:
    """Insert the outbox rows due at ``now`` and cancel the ones no longer needed.

    1. Read every draw and milestone that may need a reminder in one UNION query
       (``_candidates``), and every result flag a physician must hear of (``_flag_rows``); items
       whose final reminder already exists are left out by the queries themselves.
    2. For each, decide the kind from the dates in the site's time zone, or from the flag's
       class and age (no queries).
    3. Insert them with ON CONFLICT DO NOTHING: the (target_key, kind) constraint keeps one
       row per item and kind however many sweeps run at once.
    4. Cancel unsent rows of items done, missed, resolved or rescheduled (one UPDATE).
    Four queries at any size on PostgreSQL (SQLite splits the INSERT into batches of 999
    parameters).
    """
    now = now or timezone.now()
    candidates = list(_candidates(now))
    rows = _rows_for(candidates, now) + _flag_rows(now)
    if rows:
        Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    cancelled = _cancel_stale(now)
    return SweepResult(examined=len(candidates), offered=len(rows), cancelled=cancelled)


def visibility_timeout() -> timedelta:
    return timedelta(seconds=settings.REMINDER_VISIBILITY_SECONDS)


def _ready_q(now: datetime) -> Q:
    return Q(status__in=UNSENT, next_attempt_at__lte=now) | Q(
        status=S.SENDING, claimed_at__lt=now - visibility_timeout()
    )


def reminders_ready_ids(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Ids of rows to send now: pending or failed and due for an attempt, or stuck in
    "sending" longer than the visibility timeout (a killed worker)."""
    now = now or timezone.now()
    qs = Reminder.objects.filter(_ready_q(now)).order_by("next_attempt_at", "pk").values_list("pk", flat=True)
    return list(qs[:limit] if limit else qs)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 1, 2, 4 ... minutes, capped."""
    return min(BACKOFF_FIRST * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


class NoRecipient(Exception):
    """Nobody at the site has a role this kind is routed to."""


def _roles_for(site_id: int, kind: str) -> list[str]:
    roles = list(ReminderRoute.objects.filter(site_id=site_id, kind=kind).values_list("role", flat=True))
    return roles or list(DEFAULT_ROUTES[kind])


def reminder_recipients(reminder: Reminder) -> list:
    """Active users who get ``reminder``: the site's route for the kind gives roles; the
    coordinator role means the case's coordinator (if still active at the site), else every
    coordinator at the site."""
    users: dict[int, object] = {}
    for role in _roles_for(reminder.site_id, reminder.kind):
        coordinator = reminder.case.coordinator
        if role == "coordinator" and coordinator is not None and coordinator.is_active:
            member = users_at_sites([reminder.site_id], "coordinator").filter(pk=coordinator.pk).exists()
            if member:
                users[coordinator.pk] = coordinator
                continue
        for user in users_at_sites([reminder.site_id], role).order_by("pk"):
            users.setdefault(user.pk, user)
    return list(users.values())


def _still_needed(reminder: Reminder, now: datetime) -> str:
    """Return why ``reminder`` should no longer go out ("" if it should)."""
    today = local_today(reminder.site.timezone, now)
    if reminder.draw_id:
        draw = reminder.draw
        if draw.state in TERMINAL_STATES:
            return f"draw {draw.state}"
        if draw.due_on != reminder.due_on:
            return "draw rescheduled"
        state = state_on(draw, today)
        if reminder.kind == K.OVERDUE and (state != OVERDUE or draw.snoozed_until != reminder.snoozed_until):
            return "escalation snoozed"
        if reminder.kind == K.OVERDUE and reminder.repeat and _acknowledged_since_escalation(reminder):
            return "escalation acknowledged"
        if reminder.kind == K.DUE_TOMORROW and today >= draw.due_on:
            return "superseded by due today"
        if reminder.kind == K.DUE_TODAY and today != draw.due_on:
            return "not due today any more"
    if reminder.milestone_id:
        milestone = reminder.milestone
        if milestone.completed_at is not None or milestone.state in TERMINAL_STATES:
            return "milestone recorded"
    if reminder.flag_id:
        flag = reminder.flag
        if flag.resolved_at is not None or flag.acknowledged_at is not None:
            return "flag resolved or acknowledged"
        if reminder.repeat != flag.ack_round:
            return "superseded by a later round of the flag"
    return ""


def _acknowledged_since_escalation(reminder: Reminder) -> bool:
    """Whether someone acknowledged the draw since the first escalation of this run."""
    first = (
        Reminder.objects.filter(target_key=reminder.target_key, kind=K.OVERDUE)
        .order_by("repeat")
        .values_list("created_at", flat=True)
        .first()
    )
    return (
        first is not None and Acknowledgement.objects.filter(draw_id=reminder.draw_id, created_at__gte=first).exists()
    )


def _subject(reminder: Reminder) -> str:
    subject = SUBJECTS[reminder.kind].format(site=reminder.site.short_code)
    if reminder.flag_id and reminder.repeat:
        subject += " (its acknowledgement was voided)"
    elif reminder.repeat:
        subject += f" (reminder {reminder.repeat + 1}, still unacknowledged)"
    return subject


def _describe(reminder: Reminder) -> dict:
    """Plain words for the e-mail and the notification: initials and case number at most."""
    case = reminder.case
    initials = case.patient.initials
    if reminder.draw_id:
        draw = reminder.draw
        what = kind_label(draw.kind)
        detail = (
            f"{what} (day {draw.day}) due {day_text(draw.due_on)}, "
            f"on time from {day_text(draw.window_opens)} to {day_text(draw.window_closes)}."
        )
        path = (
            reverse("monitoring:reminder_acknowledge", args=[draw.pk])
            if reminder.kind in (K.LATE, K.OVERDUE)
            else reverse("cases:detail", args=[case.pk])
        )
    elif reminder.milestone_id:
        milestone = reminder.milestone
        detail = f"{milestone.month}-month outcome assessment due {day_text(milestone.due_on)}."
        path = reverse("cases:detail", args=[case.pk])
    else:
        flag = reminder.flag
        raised = moment_text(flag.raised_at, ZoneInfo(reminder.site.timezone))
        detail = f"{plain(flag.message)}. Raised {raised}"
        if reminder.kind == K.FLAG_ESCALATION:
            detail += "; not yet acknowledged by a physician"
        detail += ". Acknowledge it with a plan."
        if reminder.repeat:
            detail += " Its earlier acknowledgement was voided, so it needs a new one."
        path = reverse("monitoring:flag_acknowledge", args=[flag.pk])
    if reminder.repeat and not reminder.flag_id:
        detail += f" Reminder {reminder.repeat + 1}: nobody has acknowledged it since it was first escalated."
    return {
        "title": f"{reminder.get_kind_display()}: {initials}, case {case.pk}",
        "detail": detail,
        "initials": initials,
        "case_id": case.pk,
        "site": reminder.site,
        "kind_label": reminder.get_kind_display(),
        "path": path,
        "url": settings.SITE_URL.rstrip("/") + path,
    }


def _deliver(reminder: Reminder, users: list, now: datetime, connection=None) -> None:
    """In-app notifications (once per user), then one e-mail to everyone with an address."""
    info = _describe(reminder)
    Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                reminder=reminder,
                site_id=reminder.site_id,
                case_id=reminder.case_id,
                kind=reminder.kind,
                title=info["title"][:200],
                body=info["detail"][:500],
                url=info["path"],
                created_at=now,
            )
            for user in users
        ],
        ignore_conflicts=True,
    )
    addresses = [user.email for user in users if user.email]
    if not addresses:
        return
    reminder_email(reminder, addresses, info=info, connection=connection).send(fail_silently=False)


def reminder_email(reminder: Reminder, addresses: list[str], *, info: dict | None = None, connection=None):
    """The e-mail for ``reminder``: a subject without patient data, a body in plain words."""
    info = info or _describe(reminder)
    return EmailMessage(
        subject=_subject(reminder),
        body=render_to_string("monitoring/reminders/email.txt", info),
        to=addresses,
        connection=connection,
    )


def _error_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def reminder_send(reminder_id: int, *, now: datetime | None = None, connection=None) -> str:
    """Deliver one reminder at most once; return "sent", "failed", "cancelled" or "skipped".

    1. Claim the row with a conditional UPDATE (pending/failed and due, or stuck in sending
       past the visibility timeout); anything but one updated row means another worker has it.
    2. If its item no longer needs it (done, rescheduled, snoozed, superseded), cancel it.
    3. Write the attempt row, then deliver: in-app notifications and one e-mail.
    4. Record sent, or failed with the error and the next attempt time (exponential backoff).
    """
    now = now or timezone.now()
    claimed = (
        Reminder.objects.filter(pk=reminder_id)
        .filter(_ready_q(now))
        .update(status=S.SENDING, attempts=F("attempts") + 1, claimed_at=now, updated_at=now)
    )
    if claimed != 1:
        return "skipped"
    reminder = Reminder.objects.select_related(
        "site", "case__patient", "case__coordinator", "draw__protocol", "milestone", "flag"
    ).get(pk=reminder_id)
    mine = Reminder.objects.filter(pk=reminder_id, status=S.SENDING, claimed_at=now)
    why_not = _still_needed(reminder, now)
    if why_not:
        mine.update(status=S.CANCELLED, cancelled_reason=why_not[:120], updated_at=now)
        return "cancelled"
    attempt = ReminderAttempt.objects.create(reminder=reminder, number=reminder.attempts, started_at=now)
    users: list = []
    try:
        users = reminder_recipients(reminder)
        if not users:
            roles = ", ".join(_roles_for(reminder.site_id, reminder.kind))
            raise NoRecipient(f"no active user with role {roles} at site {reminder.site.short_code}")
        _deliver(reminder, users, now, connection)
    except Exception as exc:  # any failure is recorded and retried; nothing is lost
        error = _error_text(exc)
        mine.update(status=S.FAILED, last_error=error, next_attempt_at=now + backoff(reminder.attempts), updated_at=now)
        ReminderAttempt.objects.filter(pk=attempt.pk).update(
            finished_at=timezone.now(), ok=False, error=error, recipients=len(users)
        )
        logger.warning("reminder %s attempt %s failed (%s)", reminder_id, reminder.attempts, type(exc).__name__)
        return "failed"
    finished = timezone.now()
    mine.update(status=S.SENT, sent_at=finished, last_error="", updated_at=finished)
    ReminderAttempt.objects.filter(pk=attempt.pk).update(finished_at=finished, ok=True, recipients=len(users))
    dashboard_changed()  # the table shows the last reminder sent; update() sends no signals
    return "sent"


def reminders_run(*, now: datetime | None = None, send: bool = True, connection=None) -> dict:
    """Sweep, then send every ready row in this process (the operators' command; no broker)."""
    now = now or timezone.now()
    result = reminders_sweep(now=now)
    outcomes: dict[str, int] = {"sent": 0, "failed": 0, "cancelled": 0, "skipped": 0}
    if send:
        for reminder_id in reminders_ready_ids(now=now):
            outcomes[reminder_send(reminder_id, now=now, connection=connection)] += 1
    return {"examined": result.examined, "offered": result.offered, "cancelled_stale": result.cancelled, **outcomes}


@transaction.atomic
def acknowledgement_record(*, draw: Draw, by, reason: str, snoozed_until: date | None, today: date) -> Acknowledgement:
    """Record that ``by`` saw a late or overdue draw, and snooze its escalation if asked.

    1. Only an open draw past its window (late or overdue on ``today``) can be acknowledged.
    2. Store the acknowledgement (audited) and the draw's new ``snoozed_until`` (audited).
    3. Refresh the draw's stored state: a snooze turns overdue back into late until it ends
       (monitoring.schedule.draw_state).
    4. Cancel unsent "late" rows (someone knows) and take the late slot, and cancel unsent
       escalations when snoozed (a new one follows if the snooze runs out with the draw open).
    """
    draw = Draw.objects.select_related("protocol", "site").select_for_update(of=("self",)).get(pk=draw.pk)
    state = state_on(draw, today)
    if state not in (LATE, OVERDUE):
        raise ValidationError(f"Only a late or overdue draw can be acknowledged; this one is {state}.")
    ack = Acknowledgement.objects.create(
        draw=draw, case_id=draw.case_id, site_id=draw.site_id, by=by, reason=reason, snoozed_until=snoozed_until
    )
    if snoozed_until is not None:
        draw.snoozed_until = snoozed_until
    apply_state(draw, today)
    draw.save(update_fields=["snoozed_until", "state", "next_change_at", "updated_at"])
    now = timezone.now()
    kinds = [K.LATE, K.OVERDUE] if snoozed_until is not None else [K.LATE]
    Reminder.objects.filter(Q(kind__in=kinds) | Q(kind=K.OVERDUE, repeat__gt=0), draw=draw, status__in=UNSENT).update(
        status=S.CANCELLED, cancelled_reason="acknowledged", updated_at=now
    )
    # Someone knows it is late: take the "late" slot so no late reminder follows (the unique
    # constraint makes this a no-op when one was already made).
    Reminder.objects.bulk_create(
        [
            Reminder(
                kind=K.LATE,
                status=S.CANCELLED,
                cancelled_reason="acknowledged",
                target_key=draw_target_key(draw.pk, draw.due_on, K.LATE, None),
                site_id=draw.site_id,
                case_id=draw.case_id,
                draw=draw,
                due_on=draw.due_on,
                created_at=now,
                updated_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    return ack


def routes_save(*, site, routes: dict[str, list[str]]) -> None:
    """Replace ``site``'s routes with ``routes`` (kind → roles)."""
    with transaction.atomic():
        ReminderRoute.objects.filter(site=site).delete()
        ReminderRoute.objects.bulk_create(
            [ReminderRoute(site=site, kind=kind, role=role) for kind, roles in routes.items() for role in roles]
        )


def routes_seed_defaults(site) -> None:
    """Give ``site`` the default routes for kinds it has none for (idempotent)."""
    have = set(ReminderRoute.objects.filter(site=site).values_list("kind", flat=True))
    ReminderRoute.objects.bulk_create(
        [
            ReminderRoute(site=site, kind=kind, role=role)
            for kind, roles in DEFAULT_ROUTES.items()
            if kind not in have
            for role in roles
        ],
        ignore_conflicts=True,
    )


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


__all__ = [
    "SweepResult",
    "acknowledgement_record",
    "backoff",
    "reminder_kind_for_draw",
    "reminder_recipients",
    "reminder_send",
    "reminders_ready_ids",
    "reminders_run",
    "reminders_sweep",
    "routes_save",
    "routes_seed_defaults",
    "unread_count",
]
