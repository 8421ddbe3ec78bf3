"""Patients, cases and the pre-treatment facts the gate reads.

Every patient-data model here is registered with django-auditlog (cases/apps.py), and every
query of patient data starts from ``accounts.access`` which limits it to the user's sites.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import PlaceOfService, Site, Specialty
from cases.analytes import ANALYTES
from common.address import validate_state, validate_zip


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    UNKNOWN = "U", "Unknown / not stated"


class Patient(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    legal_name = models.CharField(max_length=200)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    mrn = models.CharField("MRN", max_length=40)
    gestational_age_weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(22), MaxValueValidator(44)], help_text="Completed weeks at birth"
    )
    gestational_age_days = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(6)])
    birth_weight_kg = models.DecimalField(
        max_digits=4, decimal_places=2, validators=[MinValueValidator(Decimal("0.3")), MaxValueValidator(Decimal("7"))]
    )
    guardian_name = models.CharField(max_length=200)
    guardian_phone = models.CharField(max_length=40)
    guardian_email = models.EmailField(blank=True)
    preferred_language = models.CharField(max_length=60, default="English")
    # Home address (the 837's subscriber N3/N4); optional at intake, needed for the X12 export.
    address_line1 = models.CharField("Street address", max_length=55, blank=True)
    address_line2 = models.CharField("Address line 2", max_length=55, blank=True)
    city = models.CharField(max_length=30, blank=True)
    state = models.CharField("State", max_length=2, blank=True, validators=[validate_state])
    zip_code = models.CharField(
        "ZIP code", max_length=9, blank=True, validators=[validate_zip], help_text="5 digits or ZIP+4."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "mrn"], name="patient_unique_mrn_per_site")]
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return f"Patient {self.pk}"  # never PHI in str(): it ends up in logs and audit reprs

    @property
    def initials(self) -> str:
        return "".join(part[0].upper() for part in self.legal_name.split() if part)[:3]

    @property
    def has_address(self) -> bool:
        return bool(self.address_line1 and self.city and self.state and self.zip_code)


class Stage(models.TextChoices):
    """The case pipeline (DESIGN.md). Transitions live in cases/pipeline.py."""

    INTAKE = "intake", "Intake"
    GATING = "gating", "Gating"
    PA_SUBMITTED = "pa_submitted", "PA submitted"
    PA_APPROVED = "pa_approved", "PA approved"
    SCHEDULED = "scheduled", "Scheduled"
    INFUSED = "infused", "Infused"
    MONITORING = "monitoring", "Monitoring"
    FOLLOW_UP = "follow_up", "Follow-up"
    CLOSED = "closed", "Closed"


class SmaType(models.TextChoices):
    TYPE_0 = "0", "Type 0 (congenital)"
    TYPE_1 = "1", "Type 1"
    TYPE_2 = "2", "Type 2"
    TYPE_3 = "3", "Type 3"
    PRESYMPTOMATIC = "pre", "Presymptomatic (type not yet determined)"


class GeneticMethod(models.TextChoices):
    MLPA = "MLPA", "MLPA"
    QPCR = "qPCR", "qPCR"
    DDPCR = "ddPCR", "ddPCR"
    SEQUENCING = "sequencing", "Sequencing"


class Smn1Genotype(models.TextChoices):
    ZERO_COPIES = "0_copies", "0 SMN1 copies (homozygous deletion)"
    ONE_COPY_PLUS_VARIANT = "1_copy_plus_variant", "1 SMN1 copy + pathogenic variant (compound heterozygous)"


class SubscriberRelationship(models.TextChoices):
    """The patient's relationship to the plan's subscriber: X12 005010 code list 1069 (INS02), the
    codes Da Vinci PAS binds Coverage.relationship to. Only the ones an infant's coverage uses."""

    CHILD = "19", "Child (19)"
    SELF = "18", "Self (18)"
    WARD = "15", "Ward (15)"
    FOSTER_CHILD = "10", "Foster child (10)"
    OTHER = "G8", "Other relationship (G8)"


class Case(models.Model):
    """One Zolgensma case per patient: J3399 is a once-per-lifetime therapy."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="case")
    # Denormalised from patient.site so that every scoped query is one indexed filter.
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="cases")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.INTAKE, db_index=True)
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coordinated_cases", null=True, blank=True
    )
    # Diagnosis (docs/domain.md §7, §10)
    sma_type = models.CharField("SMA type", max_length=3, choices=SmaType.choices)
    symptomatic = models.BooleanField(default=False)
    # Some payers cover symptomatic children only with onset before an age (docs/domain.md §10, §13c).
    symptom_onset_months = models.PositiveSmallIntegerField(
        "Age at symptom onset (completed months)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
    )
    nbs_identified = models.BooleanField("Identified by newborn screen", default=False)
    nbs_date = models.DateField("Newborn screen date", null=True, blank=True)
    primary_diagnosis = models.CharField(max_length=8)
    secondary_diagnosis = models.CharField(max_length=8, blank=True)
    # Genetic confirmation (label §1; docs/domain.md §2, §11.18)
    genetic_method = models.CharField(max_length=12, choices=GeneticMethod.choices, blank=True)
    smn1_genotype = models.CharField("SMN1 genotype", max_length=24, choices=Smn1Genotype.choices, blank=True)
    smn2_copies = models.PositiveSmallIntegerField(
        "SMN2 copy number", null=True, blank=True, validators=[MaxValueValidator(8)]
    )
    genetic_report_date = models.DateField(null=True, blank=True)
    # Coverage
    payer = models.ForeignKey("billing.Payer", on_delete=models.PROTECT, related_name="cases", null=True, blank=True)
    plan_name = models.CharField(max_length=120, blank=True)
    member_id = models.CharField(max_length=60, blank=True)
    group_number = models.CharField("Group number", max_length=60, blank=True)
    # The plan's subscriber (for an infant, usually a parent): the Da Vinci PAS request names them
    # apart from the patient (Coverage.subscriber, relationship per X12 INS02, code list 1069).
    subscriber_name = models.CharField("Subscriber", max_length=200, blank=True)
    subscriber_relationship = models.CharField(
        "Patient's relationship to the subscriber",
        max_length=2,
        choices=SubscriberRelationship.choices,
        blank=True,
    )
    # Site of care and ordering physician
    site_of_care_pos = models.CharField(
        "Site of care (place of service)", max_length=2, choices=PlaceOfService.choices, blank=True
    )
    ordering_physician_name = models.CharField(max_length=200, blank=True)
    ordering_physician_npi = models.CharField("Ordering physician NPI (individual, Type 1)", max_length=10, blank=True)
    ordering_physician_specialty = models.CharField(
        "Ordering physician specialty", max_length=20, choices=Specialty.choices, blank=True
    )
    planned_infusion_date = models.DateField(null=True, blank=True)
    steroid_plan_start = models.DateField(
        "Planned prednisolone start", null=True, blank=True, help_text="Label §2.1: the day before the infusion."
    )
    # Advanced SMA screen (docs/domain.md §2)
    respiratory_support_hours = models.PositiveSmallIntegerField(
        "Respiratory support (hours/day)", default=0, validators=[MaxValueValidator(24)]
    )
    respiratory_support_days = models.PositiveSmallIntegerField("for how many days", default=0)
    tracheostomy = models.BooleanField(default=False)
    prior_j3399 = models.BooleanField(
        "Zolgensma (J3399) given before", default=False, help_text="Elsewhere, before this case."
    )
    infused_on = models.DateField(null=True, blank=True, db_index=True)
    # Optimistic concurrency: forms carry the version they were read at.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["site", "stage"]),
            # "Recently updated cases" on the home page: the newest few of the user's sites.
            models.Index(fields=["site", "updated_at"], name="case_site_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}"

    def get_additional_data(self) -> dict:
        # Stored on each audit entry so the case page finds a case's whole history in one query.
        return {"case_id": self.pk}


class CaseChild(models.Model):
    """Rows that belong to one case: their audit entries carry the case id (case page history)."""

    class Meta:
        abstract = True

    def get_additional_data(self) -> dict:
        return {"case_id": self.case_id}


class Voidable(models.Model):
    """A clinical entry that is never deleted: a mistake is voided with a reason (issue 15 item 5).

    A voided row stays on the page, struck through, and in the audit trail (old -> new); the
    gate, the flags and the schedule read only rows whose ``voided_at`` is empty. The workflow
    is cases.corrections.entry_void.
    """

    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.CharField("Why it was voided", max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class StageEvent(CaseChild):
    """When a case reached each stage of the pipeline (time to therapy)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stage_events")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    entered_at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["entered_at", "pk"]


class SmnTherapy(CaseChild):
    """Prior or current nusinersen / risdiplam (payers require stopping them; docs/domain.md §2)."""

    class Drug(models.TextChoices):
        NUSINERSEN = "nusinersen", "Nusinersen (Spinraza, J2326)"
        RISDIPLAM = "risdiplam", "Risdiplam (Evrysdi)"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="smn_therapies")
    drug = models.CharField(max_length=20, choices=Drug.choices)
    started_on = models.DateField()
    stopped_on = models.DateField(null=True, blank=True)


class WeightMeasurement(Voidable, CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="weights")
    measured_on = models.DateField()
    kg = models.DecimalField(max_digits=5, decimal_places=2)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-measured_on", "-pk"]


class TiterResult(Voidable, CaseChild):
    """Anti-AAV9 total binding antibody titer, stored as written and as a comparable key."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="titers")
    drawn_on = models.DateField()
    lab = models.CharField(max_length=120)
    method = models.CharField(max_length=60, default="ELISA")
    result_text = models.CharField(max_length=20)
    result_key = models.DecimalField(max_digits=12, decimal_places=3, help_text="Comparable value (cases.titers)")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-drawn_on", "-pk"]


class BaselineLab(Voidable, CaseChild):
    """One analyte of a baseline lab panel, as reported and converted to the canonical unit."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="baseline_labs")
    drawn_on = models.DateField()
    analyte = models.CharField(max_length=20)
    value = models.DecimalField(max_digits=12, decimal_places=3)
    unit = models.CharField(max_length=20)
    uln = models.DecimalField("Upper limit of normal", max_digits=12, decimal_places=3, null=True, blank=True)
    value_canonical = models.DecimalField(max_digits=12, decimal_places=3)
    uln_canonical = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    canonical_unit = models.CharField(max_length=20)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-drawn_on", "analyte"]

    @property
    def analyte_label(self) -> str:
        info = ANALYTES.get(self.analyte)
        return info.label if info else self.analyte

    @property
    def times_uln(self) -> Decimal | None:
        """The result as a multiple of the lab's ULN, to one decimal (docs/domain.md §9 design note)."""
        if not self.uln_canonical:
            return None
        return (self.value_canonical / self.uln_canonical).quantize(Decimal("0.1"))


class MotorScale(models.TextChoices):
    """Baseline motor scales (docs/domain.md §8): CHOP INTEND 0-64, HINE-2 0-26."""

    CHOP_INTEND = "chop_intend", "CHOP INTEND (0–64)"
    HINE2 = "hine2", "HINE-2 (0–26)"


class MotorAssessment(Voidable, CaseChild):
    """A baseline motor assessment before the infusion: scale, total score and date. Some payers
    require one (billing.Payer.motor_assessment); the gate reads the current (not voided) ones."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="motor_assessments")
    scale = models.CharField(max_length=12, choices=MotorScale.choices)
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(64)])
    assessed_on = models.DateField("Assessed on")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-pk"]

    def __str__(self) -> str:
        return f"Motor assessment {self.pk}"


class ClinicalStatusCheck(Voidable, CaseChild):
    """A physician's check before the infusion: no active infection, clinically stable (label §5).

    The infusion record cannot be signed without a passing check made at most
    cases.label.CLINICAL_STATUS_MAX_AGE_DAYS before the infusion (cases.eligibility.clinical_status_item).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clinical_checks")
    checked_on = models.DateField("Checked on")
    no_active_infection = models.BooleanField("No active infection")
    clinically_stable = models.BooleanField("Clinically stable (hydration, nutrition, vital signs)")
    notes = models.CharField(max_length=1000, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-checked_on", "-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"Clinical status check {self.pk}"


class ClinicalOverride(Voidable, CaseChild):
    """A physician's explicit decision against a rule's recommendation (issue 15 item 2): a reason
    from the kind's list, free text, and the physician's password entered again (cases.overrides).

    One table for every kind, so the case page, the packet, the claim summary and the managers'
    dashboard read them alike. The row the override belongs to points here (SteroidDecision,
    InfusionRecord, ResultAcknowledgement). An override is voided with the entry it belongs to
    (a voided acknowledgement, a corrected steroid decision); it is never deleted.
    """

    class Kind(models.TextChoices):
        TAPER = "taper", "Steroid taper against the label's rule"
        SIGN_OFF = "sign_off", "Infusion signed with an overridden gate item"
        NO_PLAN = "no_plan", "Result flag reviewed without a plan"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clinical_overrides")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason_code = models.CharField("Listed reason", max_length=40)
    reason_label = models.CharField("Listed reason (as shown)", max_length=200)
    explanation = models.TextField("In the physician's words")
    subject = models.CharField("What was overridden", max_length=500)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_name = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["site", "at"], name="clinicaloverride_site_at_idx")]

    def __str__(self) -> str:
        return f"Override {self.pk} ({self.kind})"


def document_path(instance: Document, filename: str) -> str:
    # The stored name never carries the uploaded filename (which may hold PHI).
    return f"documents/site-{instance.case.site_id}/case-{instance.case_id}/{instance.sha256[:16]}"


class Document(Voidable, CaseChild):
    class Kind(models.TextChoices):
        GENETIC_REPORT = "genetic_report", "Genetic report"
        TITER_REPORT = "titer_report", "AAV9 titer report"
        LAB_REPORT = "lab_report", "Lab report"
        LETTER = "letter", "Letter"
        OTHER = "other", "Other"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to=document_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]


from cases.infusion.models import (  # noqa: E402,F401
    GateOverride,
    InfusionAmendment,
    InfusionPause,
    InfusionRecord,
    InfusionVial,
)
