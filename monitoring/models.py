"""Monitoring protocol versions, scheduled draws and their results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ProtocolVersion(models.Model):
    """A frozen copy of the label's post-infusion protocol (monitoring.protocol). A case keeps
    the version it started with."""

    version = models.CharField(max_length=40, unique=True)
    rows = models.JSONField()
    window_days = models.PositiveSmallIntegerField(default=2)
    grace_days = models.PositiveSmallIntegerField(default=2)
    source = models.TextField()
    in_force = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.version


class DrawState(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    DUE = "due", "Due"
    LATE = "late", "Late"
    OVERDUE = "overdue", "Overdue"
    DONE = "done", "Done"
    MISSED = "missed", "Missed"


OPEN_STATES = (DrawState.UPCOMING, DrawState.DUE, DrawState.LATE, DrawState.OVERDUE)


class Draw(models.Model):
    """One scheduled post-infusion draw (or review). ``next_change_at`` is when its state next
    changes; the sweep and the dashboard read it through an index (STYLE.md, periodic work)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="draws")
    site = models.ForeignKey("cases.Site", on_delete=models.PROTECT, related_name="draws")
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="draws")
    kind = models.CharField(max_length=20)  # liver | platelets | troponin | steroid_review
    day = models.PositiveSmallIntegerField()
    analytes = models.JSONField(default=list)
    reason = models.CharField(max_length=300)
    is_extension = models.BooleanField(default=False)
    due_on = models.DateField()
    window_opens = models.DateField()
    window_closes = models.DateField()
    state = models.CharField(max_length=10, choices=DrawState.choices, default=DrawState.UPCOMING)
    next_change_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    days_late = models.PositiveSmallIntegerField(default=0)
    missed_reason = models.CharField(max_length=300, blank=True)
    snoozed_until = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "day"], name="draw_unique_case_kind_day"),
        ]
        indexes = [
            models.Index(fields=["next_change_at"], name="draw_next_change_idx"),
            models.Index(fields=["site", "state", "due_on"], name="draw_site_state_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Draw {self.pk} ({self.kind} D{self.day})"


class Result(models.Model):
    """One analyte of a post-infusion draw."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="results")
    analyte = models.CharField(max_length=20)
    value = models.DecimalField(max_digits=12, decimal_places=3)
    unit = models.CharField(max_length=20)
    uln = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    uln_is_fallback = models.BooleanField(default=False)
    value_canonical = models.DecimalField(max_digits=12, decimal_places=3)
    uln_canonical = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    collected_at = models.DateTimeField()
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["collected_at", "analyte"]
        constraints = [models.UniqueConstraint(fields=["draw", "analyte"], name="result_unique_draw_analyte")]


class FlagLevel(models.TextChoices):
    WATCH = "watch", "Watch"
    TAPER_BLOCKED = "taper_blocked", "Taper blocked"
    URGENT = "urgent", "Urgent"


class Flag(models.Model):
    """A flag raised by a result (monitoring.flags). Urgent flags notify the physician at once."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="flags")
    site = models.ForeignKey("cases.Site", on_delete=models.PROTECT, related_name="flags")
    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="flags", null=True, blank=True)
    code = models.CharField(max_length=40)
    level = models.CharField(max_length=20, choices=FlagLevel.choices)
    analyte = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=400)
    source = models.CharField(max_length=300)
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["site", "level", "resolved_at"], name="flag_site_level_idx")]


class Milestone(models.Model):
    """An outcome milestone assessment (6–60 months after infusion; domain.md §8)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="milestones")
    site = models.ForeignKey("cases.Site", on_delete=models.PROTECT, related_name="milestones")
    month = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    window_opens = models.DateField()
    window_closes = models.DateField()
    state = models.CharField(max_length=10, choices=DrawState.choices, default=DrawState.UPCOMING)
    next_change_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on"]
        constraints = [models.UniqueConstraint(fields=["case", "month"], name="milestone_unique_case_month")]
        indexes = [models.Index(fields=["next_change_at"], name="milestone_next_change_idx")]


from monitoring.models_reminders import *  # noqa: E402, F403  (reminders, acknowledgements: issue 7)
