"""Demo reminders (seed_demo step `demo.reminders`): routes, a sweep, an
acknowledgement with a snooze, and notifications some read and some not. Idempotent.

The routine "due today" and "due tomorrow" reminders are left pending for the running worker:
`make run`'s first beat sweep (5 minutes after start) hands them to the worker, which writes
the e-mails to data/mail/ and the notifications appear, so a newcomer sees reminders work.

Runs after demo.monitoring, so the demo cast's draws exist: "overdue" (NCH) and "lpc_overdue"
(LPC) have a draw past its grace and get their escalation to the site's manager; the LPC one
is then acknowledged by its coordinator with a snooze.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.mail import get_connection
from django.utils import timezone

from common.dates import local_today
from monitoring.models import Acknowledgement, Draw, Notification, Reminder, ReminderKind
from monitoring.reminders.sweep import (
    acknowledgement_record,
    reminder_send,
    reminders_ready_ids,
    reminders_sweep,
    routes_seed_defaults,
)
from monitoring.schedule import OPEN_STATES

ACK_REASON = "Family rescheduled to Thursday; mobile phlebotomy booked"
LEFT_FOR_THE_WORKER = (ReminderKind.DUE_TODAY, ReminderKind.DUE_TOMORROW)


def _acknowledge_lpc_overdue(ctx, now) -> None:
    case = ctx.extra.get("cases", {}).get("lpc_overdue")
    user = ctx.users.get("outsider")  # Oscar Quinn, the LPC coordinator
    if case is None or user is None:
        return
    today = local_today(case.site.timezone, now)
    draw = (
        Draw.objects.filter(case=case, state__in=OPEN_STATES, window_closes__lt=today)
        .order_by("window_closes", "pk")
        .first()
    )
    if draw is None or Acknowledgement.objects.filter(draw=draw).exists():
        return
    acknowledgement_record(draw=draw, by=user, reason=ACK_REASON, snoozed_until=today + timedelta(days=3), today=today)


def seed(ctx) -> None:
    now = timezone.now()
    for site in ctx.sites.values():
        routes_seed_defaults(site)
    reminders_sweep(now=now)
    # The story so far (escalations, flags, reviews) is delivered in-app and to a memory
    # mailbox: loading the demo sends no e-mail itself. The routine ones wait for the worker.
    connection = get_connection("django.core.mail.backends.locmem.EmailBackend")
    story = Reminder.objects.filter(pk__in=reminders_ready_ids(now=now)).exclude(kind__in=LEFT_FOR_THE_WORKER)
    for reminder_id in story.order_by("pk").values_list("pk", flat=True):
        reminder_send(reminder_id, now=now, connection=connection)
    _acknowledge_lpc_overdue(ctx, now)
    # Some notifications read: the routine ones; escalations and flags stay unread.
    Notification.objects.filter(
        read_at__isnull=True, kind__in=[ReminderKind.DUE_TOMORROW, ReminderKind.MILESTONE_DUE]
    ).update(read_at=now)
