"""Signal wiring of the billing app, connected once from BillingConfig.ready()."""

from __future__ import annotations

import logging

from auditlog.registry import auditlog
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from billing.claims.store import store_claim
from billing.models import (
    ChargeItem,
    Claim,
    MedicalNecessityLetter,
    OneGeneEnrollment,
    PacketJob,
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
from cases.infusion.events import infusion_amended, infusion_signed
from cases.infusion.models import record_for_case
from monitoring.reminders.freshness import dashboard_changed

log = logging.getLogger(__name__)


def _store(case, by, reason: str) -> None:
    """Store the claim's next version inside the sender's transaction. A claim that cannot be
    built (a bug, or data the scrubber cannot read) never undoes the signature or the amendment:
    it is logged, and the claim page builds and shows it on the next read."""
    record = record_for_case(case)
    try:
        with transaction.atomic():
            store_claim(case, record, reason=reason, by=by)
    except ValueError:
        log.exception("The claim of case %s could not be built", case.pk)


def claim_on_signing(sender, *, record, case, by=None, **_kwargs) -> None:
    _store(case, by, f"Built from the infusion record signed by {record.signed_name}.")


def claim_on_amendment(sender, *, record, case, amendment, by=None, **_kwargs) -> None:
    old, new = amendment.old_value or "blank", amendment.new_value or "removed"
    _store(case, by, f"The signed record was amended: {amendment.field_label}, {old} → {new}.")


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
    auditlog.register(PacketJob)
    auditlog.register(OneGeneEnrollment)
    auditlog.register(MedicalNecessityLetter)
    # Electronic PA requests and answers: who sent what when, and how it went; the bodies (patient
    # data, documents) stay in their rows, never copied into the audit trail.
    auditlog.register(PASRequest, exclude_fields=["body"])
    auditlog.register(PASAttempt, exclude_fields=["response_body"])
    auditlog.register(Claim, exclude_fields=["data"])  # each version's number, reason, changes and hash
    # The claim's next version, built from the signed (or amended) record.
    infusion_signed.connect(claim_on_signing, dispatch_uid="billing-claim-on-signing")
    infusion_amended.connect(claim_on_amendment, dispatch_uid="billing-claim-on-amendment")
    # The overdue dashboard shows each draw's payer: a renamed payer renews its cached region.
    post_save.connect(dashboard_changed, sender=Payer, dispatch_uid="dashboard-billing.Payer-save")
    post_delete.connect(dashboard_changed, sender=Payer, dispatch_uid="dashboard-billing.Payer-delete")
