from __future__ import annotations

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from cases import models

        # Every patient-data model is audited (create, update, delete; access where viewed).
        for model in (
            models.Patient,
            models.Case,
            models.StageEvent,
            models.SmnTherapy,
            models.WeightMeasurement,
            models.TiterResult,
            models.BaselineLab,
            models.Document,
        ):
            auditlog.register(model)
        auditlog.register(models.Membership)
        auditlog.register(models.Site)
        # Infusion day (cases/models_infusion.py): record, vials, amendments, gate overrides.
        for model in (models.InfusionRecord, models.InfusionVial, models.InfusionAmendment, models.GateOverride):
            auditlog.register(model)
