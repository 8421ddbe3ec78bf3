"""Monitoring protocol versions, scheduled draws and their results.

The reminder models (routes, outbox, attempts, notifications, acknowledgements) live in
monitoring/reminders/models.py, the results inbox's (messages, laboratories, endpoint tokens) in
monitoring/inbox/models.py; both are imported here so Django registers them with this app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.analytes import ANALYTES, LAB_ANALYTE_ALIASES
from cases.models import CaseChild, Voidable
from monitoring.flags import ABNORMAL_CODES, ABNORMAL_LEVELS, URGENT, alert_class
from monitoring.inbox.models import InboxMessage, InboxSource, InboxStatus, InboxToken, Laboratory
from monitoring.kinds import DrawKind, kind_label
from monitoring.reminders.models import (
    DEFAULT_ROUTES,
    UNSENT,
    Acknowledgement,
    Notification,
    Reminder,
    ReminderAttempt,
    ReminderKind,
    ReminderRoute,
    ReminderStatus,
)

__all__ = [
    "ALERT_Q",
    "DEFAULT_ROUTES",
    "UNSENT",
    "Acknowledgement",
    "Assessment",
    "Draw",
    "DrawState",
    "Flag",
    "FlagLevel",
    "InboxMessage",
    "InboxSource",
    "InboxStatus",
    "InboxToken",
    "Laboratory",
    "Milestone",
    "ProtocolVersion",
    "Notification",
    "Reminder",
    "ReminderAttempt",
    "ReminderKind",
    "ReminderRoute",
    "ReminderStatus",
    "Result",
    "ResultAcknowledgement",
    "SteroidCourse",
    "SteroidDecision",
]


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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    change_note = models.CharField(max_length=300, blank=True)

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
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="draws")
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="draws")
    kind = models.CharField(max_length=20, choices=DrawKind.choices)
    day = models.PositiveSmallIntegerField()
    analytes = models.JSONField(default=list)
    reason = models.CharField(max_length=300)
    is_extension = models.BooleanField(default=False)
    # A result collected outside every scheduled window (issue 19 item 2): the draw exists only
    # to hold it, dated by the collection (due_on = window = that day), done from the start. It
    # is never reminded, missed or counted in the on-time rate, and plans no extension.
    unscheduled = models.BooleanField(default=False)
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
            models.UniqueConstraint(
                fields=["case", "kind", "day"], condition=models.Q(unscheduled=False), name="draw_unique_case_kind_day"
            ),
            # One unscheduled draw per kind and day: a second message of that day joins it.
            models.UniqueConstraint(
                fields=["case", "kind", "day"], condition=models.Q(unscheduled=True), name="draw_unique_unscheduled_day"
            ),
        ]
        indexes = [
            models.Index(fields=["next_change_at"], name="draw_next_change_idx"),
            models.Index(fields=["site", "state", "due_on"], name="draw_site_state_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Draw {self.pk} ({self.kind} D{self.day}{' unscheduled' if self.unscheduled else ''})"

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def records(self, analyte: str) -> bool:
        """Whether a result of ``analyte`` belongs on this draw (its analytes; INR goes with PT)."""
        return analyte in self.analytes or LAB_ANALYTE_ALIASES.get(analyte) in self.analytes


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

    def __str__(self) -> str:
        return f"Result {self.pk}"

    def get_additional_data(self) -> dict | None:
        """On the result's audit entries: its case (for the case page's history) and, when it
        was moved, from which draw to which and why (monitoring.workflows.result_move sets
        ``audit_move``)."""
        # The case id on each entry: the case's history finds it (cases/audit.py).
        data = {"case_id": self.draw.case_id}
        move = getattr(self, "audit_move", None)
        if move:
            data["moved"] = move
        return data

    @property
    def analyte_label(self) -> str:
        """The analyte's display name (cases.analytes.ANALYTES), e.g. "Total bilirubin"."""
        info = ANALYTES.get(self.analyte)
        return info.label if info else self.analyte

    @property
    def uln_multiple(self):
        """value ÷ ULN in canonical units, or None without a ULN (monitoring.flags)."""
        if not self.uln_canonical:
            return None
        return self.value_canonical / self.uln_canonical


class FlagLevel(models.TextChoices):
    WATCH = "watch", "Watch"
    TAPER_BLOCKED = "taper_blocked", "Taper blocked"
    URGENT = "urgent", "Urgent"


# Flags of the urgent or abnormal class (flags.alert_class) as a query: they must reach a physician.
ALERT_Q = models.Q(level=URGENT) | models.Q(level__in=ABNORMAL_LEVELS) | models.Q(code__in=ABNORMAL_CODES)


class Flag(models.Model):
    """A flag raised by a result (monitoring.flags). Urgent and abnormal flags notify the physician
    at once and escalate until one acknowledges them with a plan."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="flags")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="flags")
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
    # The physician's acknowledgement (issue 15 item 1): what they saw and what happens next.
    ack_note = models.CharField("Acknowledgement note", max_length=1000, blank=True)
    ack_plan = models.CharField("Plan", max_length=1000, blank=True)
    ack_repeat_on = models.DateField("Repeat draw on", null=True, blank=True)
    # When the sample behind the flag was collected: a newer normal result resolves only
    # flags observed before it, so a late-entered old panel never clears a newer finding.
    observed_at = models.DateTimeField(null=True, blank=True)
    # A voided acknowledgement puts the flag back to awaiting (issue 15 item 3): the round counts
    # the voids, so the notice and escalation of the new round are new outbox rows (their
    # ``repeat``), and the escalation time runs again from ``awaiting_since``.
    ack_round = models.PositiveSmallIntegerField(default=0)
    awaiting_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["site", "level", "resolved_at"], name="flag_site_level_idx")]

    def __str__(self) -> str:
        return f"Flag {self.pk} ({self.code})"

    def get_additional_data(self) -> dict:
        return {"case_id": self.case_id}

    @property
    def alert(self) -> str | None:
        """ "urgent", "abnormal" or None: whether the flag must reach a physician (flags.alert_class)."""
        return alert_class(self.code, self.level)

    @property
    def needs_acknowledgement(self) -> bool:
        return self.alert is not None and self.acknowledged_at is None and self.resolved_at is None


class ResultAcknowledgement(Voidable, CaseChild):
    """One physician's acknowledgement of result flags: what they saw and the plan (issue 15).

    The flags carry the current acknowledgement's words (Flag.ack_*) for the pages and the
    sweep; this row is the history. A plan is needed unless the physician recorded an override
    (cases.overrides, kind "no_plan"). Voided with a reason (monitoring.workflows.
    acknowledgement_void): it stays here struck through, its flags go back to awaiting
    acknowledgement and the escalation runs again; a correction voids it and records a new one.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="result_acknowledgements")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    flags = models.ManyToManyField(Flag, related_name="acknowledgements")
    note = models.CharField("What was seen", max_length=1000)
    plan = models.CharField(max_length=1000, blank=True)
    repeat_on = models.DateField("Repeat draw on", null=True, blank=True)
    # The repeat draws this acknowledgement added to the schedule (a void takes back the open ones).
    repeat_draws = models.ManyToManyField(Draw, blank=True, related_name="+")
    override = models.ForeignKey(
        "cases.ClinicalOverride", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"Acknowledgement {self.pk}"


class Milestone(models.Model):
    """An outcome milestone assessment (6–60 months after infusion; docs/domain.md §8)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="milestones")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="milestones")
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


class SteroidCourse(models.Model):
    """A case's prophylactic prednisolone course: Day -1 at 1 mg/kg/day (label §2.1; docs/domain.md §3).

    ``status`` moves full_dose -> tapering only through a physician's SteroidDecision."""

    class Status(models.TextChoices):
        FULL_DOSE = "full_dose", "Full dose (1 mg/kg/day)"
        TAPERING = "tapering", "Tapering over 28 days"

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="steroid_course")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="steroid_courses")
    started_on = models.DateField()
    weight_kg = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    full_dose_mg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.FULL_DOSE)
    taper_starts_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Steroid course {self.pk}"


class SteroidDecision(models.Model):
    """One physician decision at a liver review: taper or continue full dose, with who and why.

    A taper the label's rule advises against needs an override (a reason from OverrideReason,
    confirmed with the physician's password); a mistaken decision is never edited or deleted but
    superseded by a correcting decision with its reason (issue 15 item 2)."""

    class Action(models.TextChoices):
        TAPER = "taper", "Unremarkable: taper over 28 days"
        CONTINUE = "continue", "Continue full dose (1 mg/kg/day)"

    class OverrideReason(models.TextChoices):
        HEPATOLOGY_ADVISED = "hepatology_advised", "Pediatric hepatology advised the taper"
        SPURIOUS_RESULT = "spurious_result", "Result thought spurious (e.g. hemolysed sample); repeat ordered"
        STEROID_HARM = "steroid_harm", "Steroid adverse effects outweigh the liver risk"
        OTHER = "other", "Other clinical reason (explained in the reason)"

    course = models.ForeignKey(SteroidCourse, on_delete=models.CASCADE, related_name="decisions")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="steroid_decisions")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="steroid_decisions")
    liver_draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="steroid_decisions")
    action = models.CharField(max_length=10, choices=Action.choices)
    recommended = models.CharField(max_length=10, choices=Action.choices)
    recommendation = models.JSONField(default=list)
    consult_hepatology = models.BooleanField(default=False)
    clinical_exam_normal = models.BooleanField()
    reason = models.TextField()
    taper_starts_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    # A taper while the rule says continue (label §2.1): the override and its listed reason.
    against_recommendation = models.BooleanField(default=False)
    override_reason = models.CharField(max_length=30, choices=OverrideReason.choices, blank=True)
    # Corrections: the new decision names the one it corrects and why; the old one is kept,
    # marked superseded (never deleted).
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    correction_reason = models.CharField(max_length=1000, blank=True)
    superseded_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    superseded_at = models.DateTimeField(null=True, blank=True)
    # The override row (cases.ClinicalOverride) of a taper against the rule.
    override = models.ForeignKey(
        "cases.ClinicalOverride", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["decided_at", "pk"]

    def __str__(self) -> str:
        return f"Steroid decision {self.pk}"

    def get_additional_data(self) -> dict:
        return {"case_id": self.case_id}

    @property
    def is_current(self) -> bool:
        return self.superseded_by_id is None

    @property
    def taper_overridden(self) -> bool:
        """A taper recorded against the rule's "continue" (shown as an override)."""
        return self.against_recommendation and self.action == self.Action.TAPER


class Assessment(Voidable, CaseChild):
    """An outcome milestone assessment (docs/domain.md §8): scores in range, the WHO checklist and
    ventilator-free survival by the label §14 definition.

    A mistaken assessment is voided with a reason, or corrected by a new one that names it
    (``corrects``); the old one stays struck through, and the milestone counts as done only
    while a current (not voided) assessment exists (issue 15 item 3)."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="assessments")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="assessments")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField()
    sits = models.BooleanField("Sits without support")
    walks = models.BooleanField("Walks alone")
    chop_intend = models.PositiveSmallIntegerField("CHOP INTEND", null=True, blank=True)
    hine2 = models.PositiveSmallIntegerField("HINE-2", null=True, blank=True)
    hfmse = models.PositiveSmallIntegerField("HFMSE", null=True, blank=True)
    rhs = models.PositiveSmallIntegerField("RHS", null=True, blank=True)
    who_milestones = models.JSONField(default=dict)
    ventilator_free = models.BooleanField("Alive and free of permanent ventilation")
    notes = models.TextField(blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")

    class Meta:
        ordering = ["-assessed_on", "-pk"]

    def __str__(self) -> str:
        return f"Assessment {self.pk}"

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.case_id}
