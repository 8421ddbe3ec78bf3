"""The claim for a signed infusion record: lines (billing.claims.rules.claim_lines), the scrubber
(billing.claims.rules.scrub) and what the claim summary prints. The rules themselves live in
billing/claims/rules.py; this module only gathers the record's and the case's values for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from billing.claims.rules import (
    CARD_DEFAULT_ALLOWED_POS,
    ERROR,
    ClaimInput,
    ClaimLine,
    Finding,
    ScrubContext,
    claim_lines,
    provider_findings,
    scrub,
)
from billing.codes import POS_CODES
from cases.diagnoses import ICD10, is_forbidden_sma_code, normalize_icd10
from cases.infusion.models import InfusionRecord
from cases.infusion.pa import PaStatus, pa_status_for

_POS = re.compile(r"^\d{2}$")


@dataclass(frozen=True)
class ClaimSummary:
    """Everything the claim summary shows for one signed record."""

    record: InfusionRecord
    lines: list[ClaimLine]
    findings: list[Finding]
    diagnoses: list[tuple[str, str]]
    place_of_service: str
    pos_name: str
    pa: PaStatus
    context: ScrubContext

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != ERROR]


def case_diagnoses(case) -> tuple[list[str], list[Finding]]:
    """Return the case's ICD-10 codes, primary first, and a finding for any unusable code."""
    codes: list[str] = []
    findings: list[Finding] = []
    for raw in (case.primary_diagnosis, case.secondary_diagnosis):
        if not raw or not raw.strip():
            continue
        try:
            code = normalize_icd10(raw)
            forbidden = is_forbidden_sma_code(code)
        except ValueError:
            code, forbidden = raw.strip(), False
            findings.append(
                Finding(
                    "diagnosis",
                    ERROR,
                    f"{code} is not an ICD-10-CM code.",
                    "Correct the diagnosis on the case (e.g. G12.0).",
                    "ICD-10-CM FY2026",  # docs/domain.md §7
                )
            )
            continue
        if forbidden:
            findings.append(
                Finding(
                    "diagnosis",
                    ERROR,
                    f"{code} is a motor neuron disease code, not 5q SMA.",
                    "Use G12.0, G12.1, G12.8 or G12.9.",
                    "ICD-10-CM FY2026",  # docs/domain.md §7, §11.14
                )
            )
            continue
        if code not in codes:
            codes.append(code)
    if not codes:
        findings.append(
            Finding(
                "diagnosis",
                ERROR,
                "The claim has no diagnosis code.",
                "Record the SMA diagnosis on the case (G12.0, G12.1, G12.8 or G12.9).",
                "ICD-10-CM FY2026",  # docs/domain.md §7
            )
        )
    return codes, findings


def scrub_context(case, record: InfusionRecord, pa: PaStatus, prior_billed: bool) -> ScrubContext:
    """The payer's policy and the patient's history, as billing.claims.rules.scrub needs them."""
    payer = case.payer
    allowed = frozenset(p for p in (payer.allowed_pos if payer else []) or [] if isinstance(p, str) and _POS.match(p))
    return ScrubContext(
        prior_j3399_billed=prior_billed,
        # Card 'SITE OF CARE' default when the payer's policy lists no valid POS.
        payer_allowed_pos=allowed or CARD_DEFAULT_ALLOWED_POS,
        pa_required=pa.required,
        payer_accepts_96413=payer.accepts_96413 if payer else None,
        infusion_minutes=record.duration_minutes,
    )


def j3399_billed_before(case, record: InfusionRecord) -> bool:
    """True when the case says J3399 was given before, or the same child (site, name and date of
    birth: a duplicate registration) has another signed record. Card: J3399 is one-time, lifetime."""
    if case.prior_j3399:
        return True
    patient = case.patient
    return (
        InfusionRecord.objects.filter(
            case__site_id=case.site_id,
            case__patient__date_of_birth=patient.date_of_birth,
            case__patient__legal_name__iexact=patient.legal_name,
            signed_at__isnull=False,
        )
        .exclude(pk=record.pk)
        .exists()
    )


def claim_summary(case, record: InfusionRecord) -> ClaimSummary:
    """Build the claim lines from the signed record and scrub them.

    1. Diagnoses from the case (primary first), place of service from the case's site of care
       (the site's own POS when none is set), PA number from the PA adapter for the date.
    2. billing.claims.rules.claim_lines: J3399 × 1 with the N4 11-digit NDC, 96365, and 96366
       only past 90 minutes.
    3. billing.claims.rules.scrub with the payer's policy and the patient's J3399 history.
    """
    pa = pa_status_for(case, record.infused_on)
    codes, findings = case_diagnoses(case)
    pos = case.site_of_care_pos or case.site.place_of_service
    claim_input = ClaimInput(
        kit_ndc=record.kit_ndc or None,
        infusion_minutes=record.duration_minutes,
        diagnosis_codes=tuple(codes),
        place_of_service=pos or None,
        pa_number=pa.auth_number,
        date_of_service=record.infused_on,
    )
    lines = claim_lines(claim_input)
    context = scrub_context(case, record, pa, j3399_billed_before(case, record))
    findings = findings + provider_findings(case.ordering_physician_npi, case.site.npi) + scrub(lines, context)
    diagnoses = [(c, ICD10[c].descriptor if c in ICD10 else "") for c in codes]
    pos_name = POS_CODES[pos].descriptor if pos in POS_CODES else ""
    return ClaimSummary(record, lines, findings, diagnoses, pos, pos_name, pa, context)
