"""Signal wiring of the cases app, connected once from CasesConfig.ready()."""

from __future__ import annotations

from auditlog.registry import auditlog

from cases.infusion.models import GateOverride, InfusionAmendment, InfusionPause, InfusionRecord, InfusionVial
from cases.models import (
    BaselineLab,
    Case,
    ClinicalOverride,
    ClinicalStatusCheck,
    Document,
    MotorAssessment,
    Patient,
    SmnTherapy,
    StageEvent,
    TiterResult,
    WeightMeasurement,
)


def connect() -> None:
    # Every patient-data model is audited (create, update, delete; access where viewed).
    for model in (
        Patient,
        Case,
        StageEvent,
        SmnTherapy,
        WeightMeasurement,
        TiterResult,
        BaselineLab,
        Document,
        ClinicalStatusCheck,
        ClinicalOverride,
        MotorAssessment,
    ):
        auditlog.register(model)
    # Infusion day: record, vials, amendments, gate overrides.
    for model in (InfusionRecord, InfusionVial, InfusionPause, InfusionAmendment, GateOverride):
        auditlog.register(model)
