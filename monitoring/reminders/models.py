"""Reminders: who is told what per site (routes), the outbox (one row per item and kind),
each send attempt, in-app notifications, and acknowledgements of late or overdue draws.

Imported by monitoring/models.py so the models belong to the monitoring app.
The workflows that fill these tables live in monitoring/reminders/sweep.py (STYLE.md, periodic work:
healthchecks' Flip and Notification rows are the model for Reminder and ReminderAttempt).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Role

__all__ = [
    "DEFAULT_ROUTES",
    "SHORT_KIND_LABELS",
    "UNSENT",
    "Acknowledgement",
    "Notification",
    "Reminder",
    "ReminderAttempt",
    "ReminderKind",
    "ReminderRoute",
    "ReminderStatus",
]


class ReminderKind(models.TextChoices):
    DUE_TOMORROW = "due_tomorrow", "Draw due tomorrow"
    DUE_TODAY = "due_today", "Draw due today"
    LATE = "late", "Draw late (its on-time window has closed)"
    OVERDUE = "overdue", "Draw overdue: escalated to the manager"
    STEROID_REVIEW = "steroid_review", "Steroid end-of-course review"
    MILESTONE_DUE = "milestone_due", "Outcome milestone due"
    URGENT_FLAG = "urgent_flag", "Urgent result flag"
    ABNORMAL_FLAG = "abnormal_flag", "Abnormal result flag"
    FLAG_ESCALATION = "flag_escalation", "Result flag not acknowledged: escalated to the physicians and the manager"


# Short words for tables (the dashboard's "last reminder").
SHORT_KIND_LABELS = {
    ReminderKind.DUE_TOMORROW: "Due tomorrow",
    ReminderKind.DUE_TODAY: "Due today",
    ReminderKind.LATE: "Late",
    ReminderKind.OVERDUE: "Escalated",
    ReminderKind.STEROID_REVIEW: "Steroid review",
    ReminderKind.MILESTONE_DUE: "Milestone due",
    ReminderKind.URGENT_FLAG: "Urgent flag",
    ReminderKind.ABNORMAL_FLAG: "Abnormal flag",
    ReminderKind.FLAG_ESCALATION: "Flag escalated",
}


# Who gets which kind unless a site changes it (issue 7 item 2): the coordinator runs the
# schedule, the site's manager receives escalations, the physician the steroid review (label
# §2.1) and urgent and abnormal result flags; a flag nobody acknowledged in the site's time goes to
# every physician and the manager (issue 15 item 1).
DEFAULT_ROUTES: dict[str, tuple[str, ...]] = {
    ReminderKind.DUE_TOMORROW: (Role.COORDINATOR,),
    ReminderKind.DUE_TODAY: (Role.COORDINATOR,),
    ReminderKind.LATE: (Role.COORDINATOR,),
    ReminderKind.OVERDUE: (Role.MANAGER,),
    ReminderKind.STEROID_REVIEW: (Role.PHYSICIAN,),
    ReminderKind.MILESTONE_DUE: (Role.COORDINATOR,),
    ReminderKind.URGENT_FLAG: (Role.PHYSICIAN,),
    ReminderKind.ABNORMAL_FLAG: (Role.PHYSICIAN,),
    ReminderKind.FLAG_ESCALATION: (Role.PHYSICIAN, Role.MANAGER),
}


class ReminderRoute(models.Model):
    """At ``site``, reminders of ``kind`` go to users with ``role`` (one row per role)."""

    site = models.ForeignKey("accounts.Site", on_delete=models.CASCADE, related_name="reminder_routes")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    role = models.CharField(max_length=20)

    class Meta:
        ordering = ["site", "kind", "role"]
        constraints = [
            models.UniqueConstraint(fields=["site", "kind", "role"], name="reminderroute_unique_site_kind_role")
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.role} @ site {self.site_id}"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (will retry)"
    CANCELLED = "cancelled", "Cancelled"


UNSENT = (ReminderStatus.PENDING, ReminderStatus.FAILED)


class Reminder(models.Model):
    """One outbox row: a reminder of ``kind`` about one draw, milestone or flag.

    ``target_key`` names the item *as scheduled* ("draw:12:2026-05-04"): the database allows one
    row per (target_key, kind), so two sweeps or a beat firing twice cannot make two rows, and
    a rescheduled draw gets a new key (its old unsent rows are cancelled). Status moves
    pending → sending → sent | failed (retried with backoff) | cancelled.
    """

    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    target_key = models.CharField(max_length=80)
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="reminders")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="reminders")
    draw = models.ForeignKey(
        "monitoring.Draw", on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    milestone = models.ForeignKey(
        "monitoring.Milestone", on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    flag = models.ForeignKey(
        "monitoring.Flag", on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    # The item's due date and snooze when the row was made: a change means it was rescheduled.
    due_on = models.DateField(null=True, blank=True)
    snoozed_until = models.DateField(null=True, blank=True)
    # 0 for the first reminder of its kind; 1, 2 ... for the repeats of an escalation while the
    # draw stays overdue and unacknowledged (Site.escalation_repeat_days apart).
    repeat = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    cancelled_reason = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["target_key", "kind", "repeat"], name="reminder_unique_target_kind_repeat")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="reminder_status_next_idx"),
            models.Index(fields=["draw", "status"], name="reminder_draw_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.pk} ({self.kind}, {self.status})"


class ReminderAttempt(models.Model):
    """One try at delivering a reminder, written before the send and updated after it."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveSmallIntegerField(default=0)
    ok = models.BooleanField(null=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["reminder", "number"]

    def __str__(self) -> str:
        return f"Attempt {self.number} of reminder {self.reminder_id}"


class Notification(models.Model):
    """An in-app notice for one user (the in-app half of a reminder)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="notifications")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    title = models.CharField(max_length=200)  # initials at most
    body = models.CharField(max_length=500)
    url = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["reminder", "user"], name="notification_unique_reminder_user")]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_read_idx")]

    def __str__(self) -> str:
        return f"Notification {self.pk}"


class Acknowledgement(models.Model):
    """Someone saw a late or overdue draw and said why (and may have snoozed escalation)."""

    draw = models.ForeignKey("monitoring.Draw", on_delete=models.CASCADE, related_name="acknowledgements")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    snoozed_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Acknowledgement {self.pk} of draw {self.draw_id}"

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.case_id}
