from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from billing import models

        # Policy and reference data: every change is audited (who changed a payer's rules).
        auditlog.register(models.Payer)
        auditlog.register(models.ReferencePrice)
        auditlog.register(models.SupportProgram)
        # Patient data.
        auditlog.register(models.PriorAuthorization)
        auditlog.register(models.PAEvent)
        auditlog.register(models.PAPacket, exclude_fields=["snapshot"])
        auditlog.register(models.OneGeneEnrollment)
