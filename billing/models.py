"""Payers and their policies (data an admin edits), prior authorizations and their history,
PA packets (kept versions), and billing reference data (price, support programs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.db import models
from django.utils import timezone

from billing import pa_rules
from billing.checklist import EVIDENCE, normalize_items
from billing.denials import DENIAL_CHOICES
from billing.letter import letter_fingerprint

# Titer, weight and lab windows an admin may set (days before the infusion). One day is the
# shortest meaningful window; 120 days is a sanity bound beyond any payer's currency rule.
WINDOW_MIN_DAYS = 1
WINDOW_MAX_DAYS = 120
# A payer's own decision clock and appeal window (non-impacted payers): sanity bounds only.
DECISION_DAYS_MIN, DECISION_DAYS_MAX = 1, 90
DECISION_HOURS_MIN, DECISION_HOURS_MAX = 1, 720
APPEAL_DAYS_MIN, APPEAL_DAYS_MAX = 1, 730


def default_allowed_pos() -> list[str]:
    # Billing card, "Site of care": POS 21, 22, 19 allowed; 11, 49, 12 not (payer practice,
    # docs/domain.md §11.10: a payer site-of-care rule, kept per payer).
    return ["21", "22", "19"]


def _window(verbose_name: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        verbose_name,
        default=14,
        validators=[MinValueValidator(WINDOW_MIN_DAYS), MaxValueValidator(WINDOW_MAX_DAYS)],
    )


class CarveOut(models.TextChoices):
    CARVED_OUT = "carved_out", "Carved out: J3399 paid apart from the DRG"
    IN_DRG = "in_drg", "Paid within the DRG"
    UNKNOWN = "unknown", "Not recorded"


class ModifierRule(models.TextChoices):
    NONE = "none", "No drug modifier rule"
    # CMS JW/JZ policy (Medicare Part B, since 1 July 2023; docs/domain.md §13a).
    JW_JZ = "jw_jz", "JW/JZ: JZ when nothing is discarded, JW on a line for the discarded amount"


class MotorRequirement(models.TextChoices):
    """Which baseline motor assessment a payer asks for (docs/domain.md §13c)."""

    NONE = "", "Not required"
    CHOP_INTEND = "chop_intend", "CHOP INTEND"
    HINE2 = "hine2", "HINE-2"
    EITHER = "either", "CHOP INTEND or HINE-2"


MOTOR_REQUIREMENT_SCALES = {
    MotorRequirement.NONE: frozenset(),
    MotorRequirement.CHOP_INTEND: frozenset({"chop_intend"}),
    MotorRequirement.HINE2: frozenset({"hine2"}),
    MotorRequirement.EITHER: frozenset({"chop_intend", "hine2"}),
}
# Sanity bounds on the criteria an admin types (not clinical rules).
MOTOR_MAX_AGE_DAYS_MAX = 365
WBC_LIMIT_MAX = Decimal(100)  # 10^9/L: 100,000 per µL is beyond any policy's limit


class Payer(models.Model):
    """A payer and its Zolgensma policy. Defaults are the billing card's payer practice."""

    class Oba(models.TextChoices):
        YES = "yes", "Yes"
        CASE_BY_CASE = "case_by_case", "Case-by-case"
        COMMON = "common", "Common at large plans"
        NO = "no", "No"

    name = models.CharField(max_length=120, unique=True)
    pa_required = models.BooleanField("Prior authorization required", default=True)
    outcomes_based_agreement = models.CharField(max_length=20, choices=Oba.choices, default=Oba.NO)
    oba_terms = models.TextField(
        "Outcomes-based agreement terms",
        blank=True,
        help_text="Printed in the PA packet for the payer to read: what the clinic documents and when.",
    )
    oba_note = models.TextField(
        "Outcomes-based agreement: internal note",
        blank=True,
        help_text="For the billing office only (contract terms to confirm, contacts); never printed in a packet.",
    )
    policy_reference = models.CharField(
        "Policy id",
        max_length=120,
        blank=True,
        help_text="The payer's public Zolgensma policy id, e.g. Aetna CPB 0953. Every payer rule in the gate and "
        "the PA packet cites it.",
    )
    key_documentation = models.TextField(blank=True)
    documentation_checklist = models.JSONField(default=list, blank=True)
    allowed_pos = models.JSONField("Allowed places of service", default=default_allowed_pos)
    require_certified_center = models.BooleanField(default=True)
    titer_ceiling_denominator = models.PositiveIntegerField(
        "AAV9 titer ceiling (1:N)", default=50, validators=[MinValueValidator(1)]
    )
    titer_max_age_days = _window("Titer drawn within (days)")
    weight_max_age_days = _window("Weight measured within (days)")
    labs_max_age_days = _window("Baseline labs within (days)")
    age_wording = models.CharField(max_length=120, default="< 2 years (FDA label)")
    # --- The payer's own coverage criteria (docs/domain.md §13c): empty = not required ------------
    max_smn2_copies = models.PositiveSmallIntegerField(
        "SMN2 copy number at most",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
        help_text="e.g. 3. Blank: this payer sets no SMN2 limit.",
    )
    motor_assessment = models.CharField(
        "Baseline motor assessment required",
        max_length=12,
        choices=MotorRequirement.choices,
        blank=True,
        default="",
    )
    motor_assessment_max_age_days = models.PositiveSmallIntegerField(
        "Motor assessment done within (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MOTOR_MAX_AGE_DAYS_MAX)],
        help_text="Days before the infusion. Blank: any baseline assessment on file.",
    )
    symptom_onset_before_months = models.PositiveSmallIntegerField(
        "Symptom onset before (months of age)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="e.g. 6 for symptomatic type 1. Blank: no onset limit. Presymptomatic children meet it.",
    )
    max_niv_hours_per_day = models.PositiveSmallIntegerField(
        "Non-invasive ventilation at most (hours/day)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
        help_text="e.g. 15 for a policy that excludes 16 hours a day or more; a tracheostomy never meets it. "
        "Blank: no ventilation limit.",
    )
    wbc_min = models.DecimalField(
        "WBC at least (10⁹/L)",
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(WBC_LIMIT_MAX)],
        help_text="White blood cells × 10⁹/L (1 = 1,000 per µL). Blank: no lower limit.",
    )
    wbc_max = models.DecimalField(
        "WBC at most (10⁹/L)",
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(WBC_LIMIT_MAX)],
        help_text="e.g. 20 for a policy's “WBC ≤ 20,000”. Blank: no upper limit.",
    )
    require_no_active_infection = models.BooleanField(
        "Requires a documented check: no active infection",
        default=False,
        help_text="The newest physician check on the case must show no active infection.",
    )
    accepts_96413 = models.BooleanField("Accepts CPT 96413 for administration", null=True, blank=True)
    # Outcome milestone months of the payer's outcomes-based agreement. Contract months are not
    # public (docs/domain.md §8, §11.17 [U]): empty means the card's 6/12/24/36/60
    # (monitoring.milestones.DEFAULT_MONTHS), read by monitoring.workflows.milestone_months_for.
    milestone_months = models.JSONField("Outcome milestone months", default=list, blank=True)
    source = models.CharField(max_length=300, default="Billing card (CareCost Estimate, Q2 2026), payer table")
    # --- Claim rules (docs/domain.md §13a): payer-policy data, never code --------------------------
    payer_id = models.CharField(
        "Payer ID (X12)",
        max_length=80,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9]{2,80}$", "Letters and digits only, as the payer publishes it.")],
        help_text="The payer's electronic ID for 837 files (loop 2010BB NM109). Required to export an 837.",
    )
    inpatient_drug_carve_out = models.CharField(
        "Inpatient: drug carved out of the DRG",
        max_length=12,
        choices=CarveOut.choices,
        default=CarveOut.UNKNOWN,
        help_text="Whether this payer pays J3399 apart from the inpatient DRG (payer-specific; confirm with the payer).",
    )
    ndc_unit = models.CharField(
        "NDC unit qualifier",
        max_length=2,
        choices=[(u, u) for u in ("UN", "ML", "ME", "GR", "F2")],
        default="UN",
        help_text="The unit the payer wants the kit reported in; one kit is UN 1 (card 'J3399 × 1').",
    )
    ndc_quantity = models.DecimalField(
        "NDC quantity",
        max_digits=9,
        decimal_places=3,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    drug_modifier_rule = models.CharField(
        "Drug modifier rule", max_length=10, choices=ModifierRule.choices, default=ModifierRule.NONE
    )
    drug_modifiers = models.JSONField(
        "Modifiers the payer requires on J3399",
        default=list,
        blank=True,
        help_text="The payer's own modifiers for the drug line, e.g. KX; two letters or digits each.",
    )
    modifier_rule_source = models.CharField("Source of the modifier rule", max_length=300, blank=True)
    claim_filing_indicator = models.CharField(
        "Claim filing indicator (X12 SBR09)",
        max_length=2,
        choices=[
            ("CI", "CI Commercial insurance"),
            ("MC", "MC Medicaid"),
            ("HM", "HM HMO"),
            ("BL", "BL Blue Cross/Blue Shield"),
            ("MB", "MB Medicare Part B"),
            ("MA", "MA Medicare Part A"),
            ("16", "16 HMO Medicare risk"),
            ("ZZ", "ZZ Mutually defined"),
        ],
        default="CI",
    )
    # --- Electronic prior authorization (Da Vinci PAS, billing/pas/) -----------------------------
    pas_endpoint = models.URLField(
        "PAS endpoint (FHIR base URL)",
        max_length=300,
        blank=True,
        validators=[URLValidator(schemes=["https", "http"])],
        help_text="The payer's Da Vinci PAS server, e.g. https://pa.payer.example/fhir. GeneGate posts to "
        "<base>/Claim/$submit and <base>/Claim/$inquire. Blank: requests go out as downloads only.",
    )
    pas_token_env = models.CharField(
        "PAS credential (server environment variable)",
        max_length=80,
        blank=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9_]{2,79}$", "Capital letters, digits and _, e.g. PAS_TOKEN_AETNA.")],
        help_text="The NAME of the environment variable on the GeneGate server that holds the payer's bearer "
        "token (or NAME_FILE: a file holding it). The token itself is never stored in the database nor shown.",
    )
    # --- Decision clocks and appeals (docs: CMS-0057-F) -------------------------------------------
    cms_0057_impacted = models.BooleanField(
        "Impacted by the federal prior authorization rule (CMS-0057-F)",
        default=False,
        help_text="Tick for Medicare Advantage plans, Medicaid and CHIP programs and their managed care plans, and "
        "qualified health plans on the federal exchanges: since 1 Jan 2026 they decide expedited requests within "
        "72 hours and standard ones within 7 calendar days. Employer plans and traditional Medicare are not impacted.",
    )
    standard_decision_days = models.PositiveSmallIntegerField(
        "Standard decision time (calendar days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(DECISION_DAYS_MIN), MaxValueValidator(DECISION_DAYS_MAX)],
        help_text="For payers not impacted by the federal rule: the days the payer's contract or state law gives it "
        "to decide a standard request. Blank: not set (the billing desk says so).",
    )
    expedited_decision_hours = models.PositiveSmallIntegerField(
        "Expedited decision time (hours)",
        null=True,
        blank=True,
        validators=[MinValueValidator(DECISION_HOURS_MIN), MaxValueValidator(DECISION_HOURS_MAX)],
        help_text="For payers not impacted by the federal rule: the hours the payer has to decide an expedited "
        "request. Blank: not set.",
    )
    appeal_window_days = models.PositiveSmallIntegerField(
        "Appeal window (days after a denial)",
        null=True,
        blank=True,
        validators=[MinValueValidator(APPEAL_DAYS_MIN), MaxValueValidator(APPEAL_DAYS_MAX)],
        help_text="How many calendar days after the denial the payer accepts an appeal (from the denial letter or "
        "the payer's manual). Blank: not set.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def checklist_items(self) -> list[dict]:
        """The documentation checklist as ``{"text", "evidence", "evidence_label"}`` items
        (billing.checklist); the label is what a screen shows, never the key."""
        return [
            {**item, "evidence_label": EVIDENCE[item["evidence"]].label}
            for item in normalize_items(self.documentation_checklist)
        ]

    def clean(self) -> None:
        """Criteria that contradict each other are refused next to the field (admin and payer page)."""
        super().clean()
        errors = {}
        if self.wbc_min is not None and self.wbc_max is not None and self.wbc_min > self.wbc_max:
            errors["wbc_max"] = f"The upper limit must be at least the lower limit ({self.wbc_min})."
        if self.motor_assessment_max_age_days is not None and not self.motor_assessment:
            errors["motor_assessment_max_age_days"] = (
                "Choose the motor assessment the payer requires, or leave the days blank."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def criteria_lines(self) -> list[str]:
        """The payer's own criteria in words, one line each (empty when it sets none)."""
        lines = []
        if self.max_smn2_copies is not None:
            lines.append(f"SMN2 copy number ≤ {self.max_smn2_copies}")
        if self.motor_assessment:
            days = self.motor_assessment_max_age_days
            within = f", within {days} days" if days else ""
            lines.append(f"Baseline {self.get_motor_assessment_display()} with score and date{within}")
        if self.symptom_onset_before_months is not None:
            lines.append(f"Symptom onset before {self.symptom_onset_before_months} months of age")
        if self.max_niv_hours_per_day is not None:
            lines.append(f"Non-invasive ventilation at most {self.max_niv_hours_per_day} h/day, no tracheostomy")
        if self.wbc_min is not None or self.wbc_max is not None:
            low = f"≥ {self.wbc_min.normalize():f}" if self.wbc_min is not None else ""
            high = f"≤ {self.wbc_max.normalize():f}" if self.wbc_max is not None else ""
            lines.append(f"WBC {' and '.join(x for x in (low, high) if x)} × 10⁹/L")
        if self.require_no_active_infection:
            lines.append("No active infection documented")
        return lines

    @property
    def motor_scales(self) -> frozenset[str]:
        """The scales the payer accepts for its baseline motor assessment (empty: not required)."""
        return MOTOR_REQUIREMENT_SCALES.get(self.motor_assessment, frozenset())

    @property
    def policy_source(self) -> str:
        """What the gate and the packet cite for this payer's rules: the policy id, else its name."""
        return self.policy_reference or f"{self.name} Zolgensma policy"

    @property
    def has_oba(self) -> bool:
        return self.outcomes_based_agreement != self.Oba.NO

    @property
    def decision_clock(self) -> pa_rules.DecisionClock:
        """The payer's decision times as plain values, for pa_rules.decision_due."""
        return pa_rules.DecisionClock(
            impacted=self.cms_0057_impacted,
            standard_days=self.standard_decision_days,
            expedited_hours=self.expedited_decision_hours,
        )

    @property
    def decision_time_lines(self) -> list[str]:
        """The payer's decision times and appeal window in words, "not set" where none is recorded."""
        clock = self.decision_clock
        return [
            pa_rules.clock_words(clock, expedited=False) or "standard: not set",
            pa_rules.clock_words(clock, expedited=True) or "expedited: not set",
            f"appeal within {self.appeal_window_days} days of a denial"
            if self.appeal_window_days
            else "appeal window: not set",
        ]

    @property
    def sends_pas(self) -> bool:
        """True when requests can go to this payer electronically (an endpoint is recorded)."""
        return bool(self.pas_endpoint)


class PAStatus(models.TextChoices):
    """Prior authorization states (DESIGN.md); the moves between them live in billing/pa.py."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    PENDED = "pended", "Pended (more information requested)"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    APPEALED = "appealed", "Appealed"


class PriorAuthorization(models.Model):
    """The prior authorization for one case's J3399 (one per case: a once-per-lifetime therapy).

    Its status changes only through billing.pa.pa_transition, which records a PAEvent.
    """

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="prior_authorization")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="prior_authorizations", null=True)
    status = models.CharField(max_length=12, choices=PAStatus.choices, default=PAStatus.DRAFT)
    submitted_on = models.DateField("Submission date", null=True, blank=True)
    reference_number = models.CharField("Payer reference number", max_length=60, blank=True)
    auth_number = models.CharField("Authorization number", max_length=60, blank=True)
    # J3399 is always 1 unit (docs/domain.md §6a): the field records what the payer approved.
    approved_units = models.PositiveSmallIntegerField(
        "Approved units (J3399)", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1)]
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_through = models.DateField(null=True, blank=True)
    denial_reason = models.CharField(max_length=20, choices=DENIAL_CHOICES, blank=True)
    # Drives 96365 vs 96365 + 96366 on the packet (docs/domain.md §6b, §11.8); the label's run is 60 min.
    planned_infusion_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(16), MaxValueValidator(600)]
    )
    notes = models.TextField(blank=True)
    # CMS-0057-F (docs/domain.md §13b): impacted payers decide expedited requests within 72 hours and
    # standard ones within 7 calendar days. The clock starts when the request reaches the payer.
    expedited = models.BooleanField(
        "Expedited request", default=False, help_text="The prescriber asks for an expedited (72-hour) decision."
    )
    decision_due_at = models.DateTimeField("Payer decision due", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"PA {self.pk}"

    def covers(self, day) -> bool:
        """True when this PA is approved and its validity includes ``day``. The infusion day
        (cases.infusion.pa) asks this through the case's reverse relation, so the clinical
        app never imports billing."""
        return (
            self.status == PAStatus.APPROVED
            and self.valid_from is not None
            and self.valid_through is not None
            and self.valid_from <= day <= self.valid_through
        )

    def decision_due_from(self, received) -> datetime | None:
        """When the payer's decision is due for this request received at ``received`` (a time, or
        a day when no time was recorded), by the payer's clock in the site's zone; None when the
        payer has no decision time set (pa_rules.decision_due). Reads payer and case.site."""
        if self.payer is None:
            return None
        return pa_rules.decision_due(
            received, expedited=self.expedited, clock=self.payer.decision_clock, tz=_zone(self.case.site.timezone)
        )

    @property
    def clock_words(self) -> str:
        """This request's decision time in words ("standard: 7 calendar days, CMS-0057-F"), "" when
        the payer has none set."""
        if self.payer is None:
            return ""
        return pa_rules.clock_words(self.payer.decision_clock, expedited=self.expedited)

    @property
    def awaiting_decision(self) -> bool:
        return self.status in pa_rules.AWAITING_DECISION

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.case_id}


def _zone(name: str | None):
    try:
        return ZoneInfo(name) if name else None
    except (ValueError, ZoneInfoNotFoundError):
        return None


class PAEvent(models.Model):
    """One status change of a prior authorization: dated, attributed, never edited."""

    prior_authorization = models.ForeignKey(PriorAuthorization, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, choices=PAStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=PAStatus.choices)
    on = models.DateField(help_text="The day it happened (e.g. the payer's decision date).")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    note = models.TextField(blank=True)
    denial_reason = models.CharField(max_length=20, choices=DENIAL_CHOICES, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"PA event {self.pk}"

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.prior_authorization.case_id}


def packet_path(instance: PAPacket, filename: str) -> str:
    # No patient data in the stored name: site, case and version ids and the hash only.
    return (
        f"packets/site-{instance.case.site_id}/case-{instance.case_id}/v{instance.version}-{instance.sha256[:16]}.pdf"
    )


class PAPacket(models.Model):
    """One generated PA packet PDF. Kept forever and never edited; generating again adds a version."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="pa_packets")
    version = models.PositiveIntegerField()
    final = models.BooleanField(default=False, help_text="False: a DRAFT (watermarked) packet.")
    file = models.FileField(upload_to=packet_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    page_count = models.PositiveSmallIntegerField()
    snapshot = models.JSONField(help_text="The case facts the packet was built from.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["case", "version"], name="papacket_unique_case_version")]

    def __str__(self) -> str:
        return f"Packet {self.pk} v{self.version}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("A PA packet is never edited; generate a new version instead.")
        super().save(*args, **kwargs)

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.case_id}


class PacketJob(models.Model):
    """One request to generate a PA packet, carried out by the worker (issue 13 item 3, issue 17
    item 8): rendering a packet (WeasyPrint, attachments) can take seconds and memory, so it runs
    under the worker's time and memory limits, never in a web request. One active job per case:
    a second click while one is queued or running is refused by the database."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Generating"
        DONE = "done", "Done"
        FAILED = "failed", "Not generated"

    ACTIVE = (State.QUEUED, State.RUNNING)

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="packet_jobs")
    final = models.BooleanField(default=False)
    # Document id → "append" or the reason to leave it out, as chosen on generation (issue 17 item 6).
    document_choices = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    packet = models.ForeignKey(PAPacket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.TextField(blank=True, help_text="Why it was not generated, in words for the user.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state__in=["queued", "running"]),
                name="packetjob_one_active_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"Packet job {self.pk}"

    @property
    def active(self) -> bool:
        return self.state in self.ACTIVE

    def get_additional_data(self) -> dict:
        return {"case_id": self.case_id}


class ReferencePrice(models.Model):
    """A list price with its effective date (reference data; the newest effective row is current)."""

    code = models.CharField(max_length=10, default="J3399")
    kind = models.CharField(max_length=20, default="WAC", help_text="e.g. WAC (wholesale acquisition cost)")
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    effective_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code", "-effective_on"]
        constraints = [
            models.UniqueConstraint(fields=["code", "kind", "effective_on"], name="referenceprice_unique_effective")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.kind} {self.effective_on}"


class SupportProgram(models.Model):
    """A manufacturer or patient support program shown on every case (reference data)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=40, blank=True)
    web = models.CharField(max_length=200, blank=True)
    services = models.JSONField(default=list, blank=True, help_text="One service per entry.")
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class OneGeneEnrollment(models.Model):
    """The case's enrollment in the Novartis OneGene Program and the services requested."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="onegene_enrollment")
    enrolled_on = models.DateField()
    reference = models.CharField("OneGene reference", max_length=60, blank=True)
    services_requested = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"OneGene enrollment {self.pk}"

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.case_id}


# --- Site billing settings (chargemaster): what a facility puts on its claims ------------------
_DIGITS = {
    9: RegexValidator(r"^\d{9}$", "Enter 9 digits."),
    4: RegexValidator(r"^\d{4}$", "Enter 4 digits."),
    10: RegexValidator(r"^\d{10}$", "Enter 10 digits."),
}


class SiteBilling(models.Model):
    """A site's billing settings: who bills (TIN, address for the 837), the type of bill, and
    whether its physicians bill their services apart. Edited by the site's admin (Django admin)."""

    site = models.OneToOneField("accounts.Site", on_delete=models.CASCADE, related_name="billing_settings")
    tin = models.CharField("Tax ID (EIN)", max_length=9, validators=[_DIGITS[9]], help_text="9 digits, no hyphen.")
    taxonomy_code = models.CharField(
        "Billing provider taxonomy",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^[0-9A-Z]{9}X$", "A taxonomy code is 10 characters ending in X.")],
        help_text="e.g. 282N00000X (general acute care hospital).",
    )
    street = models.CharField("Billing address", max_length=55)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2, validators=[RegexValidator(r"^[A-Z]{2}$", "Two capital letters.")])
    zip_code = models.CharField(
        "ZIP+4", max_length=9, validators=[_DIGITS[9]], help_text="9 digits: the 837 needs the billing ZIP+4."
    )
    type_of_bill_outpatient = models.CharField(
        "Type of bill, hospital outpatient",
        max_length=4,
        default="0131",
        validators=[RegexValidator(r"^013\d$", "Hospital outpatient bills are 013x, e.g. 0131.")],
    )
    type_of_bill_inpatient = models.CharField(
        "Type of bill, hospital inpatient",
        max_length=4,
        default="0111",
        validators=[RegexValidator(r"^011\d$", "Hospital inpatient bills are 011x, e.g. 0111.")],
    )
    contact_name = models.CharField("Billing contact", max_length=60, help_text="Named on the 837 (submitter contact).")
    contact_phone = models.CharField(
        "Billing contact phone",
        max_length=10,
        validators=[_DIGITS[10]],
        help_text="10 digits, no punctuation.",
    )
    submitter_id = models.CharField(
        "EDI submitter ID",
        max_length=15,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9]{2,15}$", "Letters and digits, up to 15.")],
        help_text="The ID your clearinghouse assigned; blank uses the tax ID.",
    )
    physician_bills_separately = models.BooleanField(
        "Physicians bill their services on their own claim",
        default=True,
        help_text="In a hospital setting the physician's CMS-1500 never carries J3399, 96365 or 96366.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "site billing settings"
        verbose_name_plural = "site billing settings"

    def __str__(self) -> str:
        return f"Billing settings of {self.site}"


class ChargeItem(models.Model):
    """One chargemaster line of a site: the code, its revenue code and the charge."""

    class Code(models.TextChoices):
        J3399 = "J3399", "J3399 Zolgensma kit"
        CPT_96365 = "96365", "96365 IV infusion, initial hour"
        CPT_96366 = "96366", "96366 IV infusion, each additional hour"

    settings = models.ForeignKey(SiteBilling, on_delete=models.CASCADE, related_name="charges")
    code = models.CharField(max_length=5, choices=Code.choices)
    revenue_code = models.CharField(
        max_length=4,
        validators=[_DIGITS[4]],
        help_text="Institutional claims: 0636 for J3399 (drugs requiring detailed coding), 0260 for "
        "IV therapy (unverified: confirm with the payer).",
    )
    charge = models.DecimalField(
        "Charge (USD)",
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"), "A charge is a positive amount.")],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["settings", "code"], name="chargeitem_unique_site_code"),
            models.CheckConstraint(condition=models.Q(charge__gt=0), name="chargeitem_charge_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} at {self.settings.site}"


class MedicalNecessityLetter(models.Model):
    """One version of a case's letter of medical necessity from the prescriber.

    GeneGate drafts the text from the case's facts (``facts``: the label/value pairs the letter
    states, frozen with the version); the physician edits it and signs it with their password.
    A version is never edited: an edit adds a version, and signing fills the signature fields
    once. The signature binds to ``fingerprint``, the SHA-256 of the text and the facts, so a
    final packet can tell whether the case still matches what was signed (billing/lmn.py).
    """

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial request"
        APPEAL = "appeal", "Reconsideration after a denial"
        RETRO = "retro", "Post-service (retrospective) request"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="medical_necessity_letters")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INITIAL)
    body = models.TextField(help_text="The letter's text; paragraphs separated by a blank line.")
    facts = models.JSONField(help_text="[label, value] pairs of the case facts the letter states.")
    facts_sha256 = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the kind, text and facts.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signer_name = models.CharField(max_length=200, blank=True)
    signer_credentials = models.CharField(max_length=40, blank=True)
    signer_specialty = models.CharField(max_length=60, blank=True)
    signer_npi = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["case", "version"], name="lmn_unique_case_version")]

    def __str__(self) -> str:
        return f"Letter of medical necessity {self.pk} v{self.version}"

    def save(self, *args, **kwargs) -> None:
        """Refuse any change to a signed version, and any change of text, kind or facts at all: a
        version is what it was saved as; signing only fills the signature fields, once."""
        if letter_fingerprint(self.kind, self.body, self.facts) != self.fingerprint:
            raise ValueError("The letter's fingerprint does not match its text and facts.")
        if not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values("signed_at", "fingerprint").first()
            if stored and (stored["signed_at"] is not None or stored["fingerprint"] != self.fingerprint):
                raise ValueError("A signed letter is never edited; save the changes as a new version and sign it.")
        super().save(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.case_id}


# --- Electronic prior authorization: Da Vinci PAS requests and their answers (billing/pas/) -------
class PASRequest(models.Model):
    """One Da Vinci PAS request GeneGate built for a prior authorization: the exact Bundle, which
    every attempt sends byte for byte (so a retry carries the same identifier), and where it stands.

    Patient data: reached only through the PA's case (site-scoped), audited without its body,
    never logged.
    """

    class Kind(models.TextChoices):
        SUBMIT = "submit", "Request (Claim/$submit)"
        INQUIRE = "inquire", "Status inquiry (Claim/$inquire)"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Waiting to try again"
        ANSWERED = "answered", "Answered"
        FAILED = "failed", "Not delivered"

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        PENDED = "pended", "Pended"
        DENIED = "denied", "Denied"
        ERROR = "error", "Refused by the payer (error)"
        NONE = "none", "No decision yet"

    prior_authorization = models.ForeignKey(PriorAuthorization, on_delete=models.CASCADE, related_name="pas_requests")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    request_id = models.CharField(max_length=64, unique=True, help_text="The Bundle's and Claim's identifier value.")
    about = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="inquiries", help_text="For an inquiry."
    )
    certification = models.CharField(max_length=1, blank=True, help_text="X12 1322: I initial, N reconsideration.")
    endpoint = models.URLField(max_length=300, help_text="Where it is sent (the payer's base URL at the time).")
    body = models.TextField(help_text="The Bundle as JSON, exactly as sent.")
    sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    message = models.TextField(
        blank=True, help_text="What the payer's answer, or its absence, means; shown to billing."
    )
    requested_info = models.JSONField(default=list, blank=True, help_text="What a pended answer asks for.")
    payer_reference = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind", "state"], name="pasrequest_kind_state_idx")]

    def __str__(self) -> str:
        return f"PAS {self.kind} {self.pk}"

    def get_additional_data(self) -> dict:
        return {"case_id": self.prior_authorization.case_id}

    def last_attempt(self) -> PASAttempt | None:
        return self.attempt_rows.order_by("-number").first()


class PASAttempt(models.Model):
    """One HTTP exchange of a PAS request: written before the request leaves, completed after."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "In flight"
        ANSWERED = "answered", "Answered"
        TIMEOUT = "timeout", "No answer in time"
        UNREACHABLE = "unreachable", "Payer not reachable"
        HTTP_ERROR = "http_error", "HTTP error"
        INVALID = "invalid", "Answer not a valid PAS response"
        REFUSED = "refused", "Answer refused by GeneGate"

    request = models.ForeignKey(PASRequest, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The payer's answer as received (capped).")
    response_sha256 = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["request", "number"]
        constraints = [models.UniqueConstraint(fields=["request", "number"], name="pasattempt_unique_number")]

    def __str__(self) -> str:
        return f"PAS attempt {self.pk}"

    @property
    def delivery_uncertain(self) -> bool:
        """True when the payer may have received the request although no usable answer came back
        (no answer in time, a dropped connection, a server error): only the same request, with the
        same identifier, may follow it; a new request could be a duplicate."""
        if self.outcome in (self.Outcome.PENDING, self.Outcome.TIMEOUT, self.Outcome.UNREACHABLE):
            return True
        return self.outcome == self.Outcome.HTTP_ERROR and (self.http_status or 0) >= 500

    def get_additional_data(self) -> dict:
        return {"case_id": self.request.prior_authorization.case_id}


class Claim(models.Model):
    """One version of a case's claim, built from the signed infusion record (billing.claims.store).

    ``data`` is the whole claim as plain values (billing.claims.lines.ClaimSummary: header facts,
    lines, scrubber findings, what the payer expects); the claim page, the billing panel, the
    CSV, the PDF and the X12 837 file all render it. A version is never edited: when the signed
    record is amended, or the billing data the claim reads changes (payer policy, price list, PA,
    diagnoses, ...), a new version is added with the reason and what changed; old versions stay
    viewable. Audited (billing.signals).
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="claims")
    version = models.PositiveIntegerField()
    record = models.ForeignKey("cases.InfusionRecord", on_delete=models.PROTECT, related_name="claims")
    record_version = models.PositiveIntegerField(help_text="The infusion record's version the claim was built from.")
    claim_type = models.CharField(max_length=13)
    place_of_service = models.CharField(max_length=2, blank=True)
    reason = models.CharField(max_length=500, help_text="Why this version was built.")
    changes = models.JSONField(default=list, blank=True, help_text="What differs from the previous version.")
    data = models.JSONField(help_text="The claim as built (billing.claims.lines.ClaimSummary).")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the data, in one canonical form.")
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    built_by_name = models.CharField(max_length=200, blank=True)
    built_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["case", "version"], name="claim_unique_case_version")]

    def __str__(self) -> str:
        return f"Claim {self.pk} v{self.version}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("A claim version is never edited; build a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A claim version is kept; it is never deleted.")

    @property
    def summary(self):
        """The stored claim as a ClaimSummary (decoded once per instance)."""
        cached = self.__dict__.get("_summary")
        if cached is None:
            cached = self.__dict__["_summary"] = self.decode_summary(self.data)
        return cached

    # Set in BillingConfig.ready() to ClaimSummary.from_data: the claim's lines (billing.claims)
    # sit above the models they read, so the model is told how to decode rather than importing.
    decode_summary = None
