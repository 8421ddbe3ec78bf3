"""Payers and their policies (data an admin edits), prior authorizations and their history,
PA packets (kept versions), and billing reference data (price, support programs)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from billing.denials import DENIAL_CHOICES

# Titer, weight and lab windows an admin may set (days before the infusion). One day is the
# shortest meaningful window; 120 days is a sanity bound beyond any payer's currency rule.
WINDOW_MIN_DAYS = 1
WINDOW_MAX_DAYS = 120


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
    oba_terms = models.TextField("Outcomes-based agreement terms", blank=True)
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
    accepts_96413 = models.BooleanField("Accepts CPT 96413 for administration", null=True, blank=True)
    # Outcome milestone months of the payer's outcomes-based agreement. Contract months are not
    # public (docs/domain.md §8, §11.17 [U]): empty means the card's 6/12/24/36/60
    # (monitoring.milestones.DEFAULT_MONTHS), read by monitoring.workflows.milestone_months_for.
    milestone_months = models.JSONField("Outcome milestone months", default=list, blank=True)
    source = models.CharField(max_length=300, default="Billing card (CareCost Estimate, Q2 2026), payer table")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_oba(self) -> bool:
        return self.outcomes_based_agreement != self.Oba.NO


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

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.case_id}


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
