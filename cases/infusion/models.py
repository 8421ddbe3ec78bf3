"""The infusion day: the record (one per case), its vials, its amendments, and gate overrides.

A record is a draft until a physician signs it (cases.infusion.workflows.infusion_sign); then it
is locked and changes are appended as amendments. All four models are audited (cases/apps.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.http import Http404
from django.utils import timezone

from cases.infusion.rules import PauseValues, RecordValues, VialValues, actual_minutes, duration_minutes, paused_minutes

__all__ = ["GateOverride", "InfusionAmendment", "InfusionPause", "InfusionRecord", "InfusionVial"]

OVERRIDE_REASON_MIN_LENGTH = 20


class GateOverride(models.Model):
    """A physician's written decision to infuse although one named gate item blocks."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="gate_overrides")
    gate_id = models.CharField(max_length=40)
    gate_title = models.CharField(max_length=200)
    detail_at_override = models.CharField(max_length=500, help_text="What the gate said when overridden.")
    judged_on = models.DateField(help_text="The infusion date the gate was judged for.")
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_name = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.UniqueConstraint(fields=["case", "gate_id"], name="gateoverride_unique_case_gate")]

    def __str__(self) -> str:
        return f"Gate override {self.pk} ({self.gate_id})"

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.case_id}


class InfusionRecord(models.Model):
    """What happened on the infusion day. The claim and the monitoring schedule start here."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="infusion_record")
    infused_on = models.DateField("Infusion date")
    weight_kg = models.DecimalField("Weight on the day (kg)", max_digits=5, decimal_places=2)
    steroid_started_on = models.DateField("Prednisolone started on", null=True, blank=True)
    steroid_started_at = models.TimeField("Prednisolone start time", null=True, blank=True)
    steroid_mg = models.DecimalField("Dose (mg/day)", max_digits=6, decimal_places=1, null=True, blank=True)
    steroid_confirmed = models.BooleanField("Steroid start confirmed", default=False)
    kit_ndc = models.CharField("Kit NDC", max_length=14, blank=True)
    total_volume_ml = models.DecimalField(
        "Total volume drawn (mL)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    syringe_pump = models.CharField(max_length=120, blank=True)
    catheter = models.CharField(max_length=200, blank=True)
    started_at = models.TimeField("Infusion started", null=True, blank=True)
    stopped_at = models.TimeField("Infusion stopped", null=True, blank=True)
    adverse_events = models.TextField(blank=True)
    administered_by = models.CharField(max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    # Signed while a gate item was overridden: the explicit override made at signing (issue 15 item 2).
    sign_override = models.ForeignKey(
        "cases.ClinicalOverride", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["signed_at"], name="infusion_signed_idx")]

    def __str__(self) -> str:
        return f"Infusion record {self.pk}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def elapsed_minutes(self) -> int | None:
        """Stop − start, pauses included (what the clock on the wall says)."""
        if self.started_at is None or self.stopped_at is None:
            return None
        minutes = duration_minutes(self.started_at, self.stopped_at)
        return minutes if minutes > 0 else None

    @property
    def paused_minutes(self) -> int:
        return paused_minutes(p.values() for p in self.pauses.all())

    @property
    def duration_minutes(self) -> int | None:
        """The actual infusion time: stop − start − pauses (what 96365/96366 are billed on)."""
        return actual_minutes(self.started_at, self.stopped_at, [p.values() for p in self.pauses.all()])

    def values(self, vials=None, pauses=None) -> RecordValues:
        """The record as plain values for cases.infusion.rules (vials and pauses from prefetch when given)."""
        vials = self.vials.all() if vials is None else vials
        pauses = self.pauses.all() if pauses is None else pauses
        return RecordValues(
            infused_on=self.infused_on,
            weight_kg=self.weight_kg,
            steroid_started_on=self.steroid_started_on,
            steroid_started_at=self.steroid_started_at,
            steroid_mg=self.steroid_mg,
            steroid_confirmed=self.steroid_confirmed,
            kit_ndc=self.kit_ndc,
            vials=tuple(v.values() for v in vials),
            total_volume_ml=self.total_volume_ml,
            syringe_pump=self.syringe_pump,
            catheter=self.catheter,
            started_at=self.started_at,
            stopped_at=self.stopped_at,
            adverse_events=self.adverse_events,
            administered_by=self.administered_by,
            pauses=tuple(p.values() for p in pauses),
        )

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.case_id}


class InfusionVial(models.Model):
    """One vial of the kit: size, lot and expiry (lot traceability)."""

    class Size(models.TextChoices):
        # Label §3: single-use vials of 5.5 mL or 8.3 mL extractable volume.
        ML_5_5 = "5.5", "5.5 mL"
        ML_8_3 = "8.3", "8.3 mL"

    record = models.ForeignKey(InfusionRecord, on_delete=models.CASCADE, related_name="vials")
    position = models.PositiveSmallIntegerField()
    size_ml = models.CharField("Size", max_length=3, choices=Size.choices)
    lot_number = models.CharField(max_length=40)
    expires_on = models.DateField("Expiry")

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["record", "position"], name="vial_unique_record_position")]

    def __str__(self) -> str:
        return f"Vial {self.position} of record {self.record_id}"

    def values(self) -> VialValues:
        return VialValues(size_ml=Decimal(self.size_ml), lot_number=self.lot_number, expires_on=self.expires_on)

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.record.case_id}


class InfusionPause(models.Model):
    """One stop of the pump during the infusion. Actual infusion time excludes it (CPT; CMS)."""

    record = models.ForeignKey(InfusionRecord, on_delete=models.CASCADE, related_name="pauses")
    position = models.PositiveSmallIntegerField()
    started_at = models.TimeField("Pump stopped")
    resumed_at = models.TimeField("Pump resumed")
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["record", "position"], name="pause_unique_record_position"),
            models.CheckConstraint(
                condition=models.Q(resumed_at__gt=models.F("started_at")), name="pause_resumes_after"
            ),
        ]

    def __str__(self) -> str:
        return f"Pause {self.position} of record {self.record_id}"

    @property
    def minutes(self) -> int:
        return duration_minutes(self.started_at, self.resumed_at)

    def values(self) -> PauseValues:
        return PauseValues(started_at=self.started_at, resumed_at=self.resumed_at, reason=self.reason)

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.record.case_id}


class InfusionAmendment(models.Model):
    """A change to a signed record: the old and new value, why, by whom and when. Appended only."""

    record = models.ForeignKey(InfusionRecord, on_delete=models.CASCADE, related_name="amendments")
    field = models.CharField(max_length=60)
    field_label = models.CharField(max_length=120)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_name = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"Amendment {self.pk} of record {self.record_id}"

    def get_additional_data(self) -> dict:
        # The case id on each audit entry: the case's history finds it (cases/audit.py).
        return {"case_id": self.record.case_id}


def record_for_case(case) -> InfusionRecord | None:
    """The case's infusion record with its signer, vials and amendments (oldest first), or None."""
    return (
        InfusionRecord.objects.filter(case=case)
        .select_related("signed_by", "sign_override__voided_by")
        .prefetch_related(
            "vials", "pauses", models.Prefetch("amendments", queryset=InfusionAmendment.objects.order_by("at", "pk"))
        )
        .first()
    )


def signed_record_or_404(case) -> InfusionRecord:
    """The case's signed infusion record (as record_for_case), or Http404 when there is none."""
    record = record_for_case(case)
    if record is None or not record.is_signed:
        raise Http404("No signed infusion record")
    return record
