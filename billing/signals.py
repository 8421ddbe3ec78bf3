"""Signal wiring of the billing app, connected once from BillingConfig.ready()."""

from __future__ import annotations

from auditlog.registry import auditlog
from django.db.models.signals import post_delete, post_save

from billing.models import (
    ChargeItem,
    MedicalNecessityLetter,
    OneGeneEnrollment,
    PAEvent,
    PAPacket,
    PASAttempt,
    PASRequest,
    Payer,
    PriorAuthorization,
    ReferencePrice,
    SiteBilling,
    SupportProgram,
)
from monitoring.reminders.freshness import dashboard_changed


def connect() -> None:
    # Policy and reference data: every change is audited (who changed a payer's rules).
    auditlog.register(Payer)
    auditlog.register(ReferencePrice)
    auditlog.register(SupportProgram)
    auditlog.register(SiteBilling)  # a site's billing settings and price list
    auditlog.register(ChargeItem)
    # Patient data.
    auditlog.register(PriorAuthorization)
    auditlog.register(PAEvent)
    auditlog.register(PAPacket, exclude_fields=["snapshot"])
    auditlog.register(OneGeneEnrollment)
    auditlog.register(MedicalNecessityLetter)
    # Electronic PA requests and answers: who sent what when, and how it went; the bodies (patient
    # data, documents) stay in their rows, never copied into the audit trail.
    auditlog.register(PASRequest, exclude_fields=["body"])
    auditlog.register(PASAttempt, exclude_fields=["response_body"])
    # The overdue dashboard shows each draw's payer: a renamed payer renews its cached region.
    post_save.connect(dashboard_changed, sender=Payer, dispatch_uid="dashboard-billing.Payer-save")
    post_delete.connect(dashboard_changed, sender=Payer, dispatch_uid="dashboard-billing.Payer-delete")
