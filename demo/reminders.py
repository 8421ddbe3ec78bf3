"""Demo reminders (seed_demo step `demo.reminders`): routes, a sweep, an
acknowledgement with a snooze, and notifications some read and some not. Idempotent.

Runs after demo.monitoring, so the demo cast's draws exist: "overdue" (NCH) and "lpc_overdue"
(LPC) have a draw past its grace and get their escalation to the site's manager; the LPC one
is then acknowledged by its coordinator with a snooze.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.mail import get_connection
from django.utils import timezone

from common.dates import local_today
from monitoring.models import Acknowledgement, Draw, Notification, ReminderKind
from monitoring.reminders.sweep import acknowledgement_record, reminders_run, routes_seed_defaults
from monitoring.schedule import OPEN_STATES

ACK_REASON = "Family rescheduled to Thursday; mobile phlebotomy booked"


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
    # Deliver in-app and to a memory mailbox: loading the demo sends no real e-mail.
    reminders_run(now=now, connection=get_connection("django.core.mail.backends.locmem.EmailBackend"))
    _acknowledge_lpc_overdue(ctx, now)
    # Some notifications read: the routine ones; escalations and flags stay unread.
    Notification.objects.filter(
        read_at__isnull=True, kind__in=[ReminderKind.DUE_TOMORROW, ReminderKind.MILESTONE_DUE]
    ).update(read_at=now)
