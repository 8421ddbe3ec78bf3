"""The one claim of a signed infusion record, as every view prints it.

`claim_summary` gathers the record's, the case's, the payer's and the site's values once and
builds one `ClaimSummary` of plain values (header facts, lines, findings, notes).
billing.claims.store keeps it as a numbered version (billing.models.Claim); the claim page, the
CSV, the PDF, the X12 837 file and the case's billing panel all render the stored version, so
they cannot disagree on codes, units, NDC, minutes, place of service or PA number. The rules
themselves live in billing/claims/rules.py.

Who bills what (docs/domain.md §13a): at a hospital (POS 19/21/22) the facility bills J3399 and
96365/96366 on the institutional claim (UB-04 / 837I) with revenue codes and a type of bill;
the physician's own claim (CMS-1500 / 837P) never carries them there. Elsewhere (e.g. an office,
POS 11) the drug and its administration go on the professional claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from billing.claims.rules import (
    CARD_DEFAULT_ALLOWED_POS,
    ERROR,
    INPATIENT_POS,
    INSTITUTIONAL,
    PROFESSIONAL,
    WARNING,
    ClaimInput,
    ClaimLine,
    Finding,
    LineSetup,
    ScrubContext,
    claim_lines,
    claim_type_for_pos,
    drug_modifiers_for,
    provider_findings,
    scrub,
)
from billing.claims.snapshot import decode, encode
from billing.codes import POS_CODES, ndc_to_11
from billing.models import CarveOut, SiteBilling
from cases.diagnoses import ICD10, is_forbidden_sma_code, normalize_icd10
from cases.dosing import kit_for_weight, round_weight
from cases.infusion.models import InfusionRecord
from cases.infusion.pa import PaStatus, pa_status_for

_POS = re.compile(r"^\d{2}$")

CLAIM_FORMS = {
    INSTITUTIONAL: ("Institutional claim", "UB-04", "837I"),
    PROFESSIONAL: ("Professional claim", "CMS-1500", "837P"),
}


@dataclass(frozen=True)
class PatientFacts:
    """The patient as the claim names them (the subscriber: GeneGate bills the child's own policy)."""

    name: str
    date_of_birth: date
    sex: str
    mrn: str
    # Home address (837 subscriber N3/N4); "" in versions stored before it was recorded.
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""

    @property
    def has_address(self) -> bool:
        return bool(self.address_line1 and self.city and self.state and self.zip_code)


@dataclass(frozen=True)
class PayerFacts:
    name: str
    payer_id: str
    filing_indicator: str
    plan_name: str
    member_id: str


@dataclass(frozen=True)
class ProviderFacts:
    """The billing provider: the site, and its billing settings when an administrator set them."""

    name: str
    npi: str
    timezone: str = ""  # the site's: infusion clock times are local there
    has_settings: bool = False
    tin: str = ""
    taxonomy: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    submitter_id: str = ""


@dataclass(frozen=True)
class PhysicianFacts:
    name: str
    npi: str


@dataclass(frozen=True)
class PauseFacts:
    started_at: time
    resumed_at: time
    minutes: int
    reason: str


@dataclass(frozen=True)
class InfusionFacts:
    """The signed record the claim was built from, at the version it had then."""

    record_id: int
    record_version: int
    infused_on: date
    started_at: time | None
    stopped_at: time | None
    kit_ndc: str
    lots: tuple[str, ...]
    pauses: tuple[PauseFacts, ...]
    signed_name: str
    signed_at: datetime


@dataclass(frozen=True)
class OverrideFacts:
    title: str
    reason: str
    by_name: str
    at: datetime


@dataclass(frozen=True)
class AmendmentFacts:
    label: str
    old: str
    new: str
    reason: str
    by_name: str
    at: datetime


@dataclass(frozen=True)
class ClaimSummary:
    """The claim of one signed record: header facts, lines, findings, and what the payer expects.

    Everything a view prints is a field here, as plain values: the claim is stored as this
    object's JSON (billing.models.Claim) and every view renders the stored copy.
    """

    case_id: int
    claim_type: str
    lines: list[ClaimLine]
    findings: list[Finding]
    diagnoses: list[tuple[str, str]]
    place_of_service: str
    pos_name: str
    pa: PaStatus
    context: ScrubContext
    patient: PatientFacts
    payer: PayerFacts | None
    provider: ProviderFacts
    physician: PhysicianFacts
    infusion: InfusionFacts
    overrides: tuple[OverrideFacts, ...] = ()
    amendments: tuple[AmendmentFacts, ...] = ()
    type_of_bill: str | None = None
    notes: list[str] = field(default_factory=list)
    infusion_minutes: int | None = None
    elapsed_minutes: int | None = None
    paused_minutes: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != ERROR]

    @property
    def is_institutional(self) -> bool:
        return self.claim_type == INSTITUTIONAL

    @property
    def is_inpatient(self) -> bool:
        return self.place_of_service in INPATIENT_POS

    @property
    def claim_name(self) -> str:
        return CLAIM_FORMS[self.claim_type][0]

    @property
    def paper_form(self) -> str:
        return CLAIM_FORMS[self.claim_type][1]

    @property
    def x12_name(self) -> str:
        return CLAIM_FORMS[self.claim_type][2]

    @property
    def total_charge(self) -> Decimal | None:
        charges = [ln.charge for ln in self.lines]
        return sum(charges, Decimal("0.00")) if charges and None not in charges else None

    @property
    def codes(self) -> list[tuple[str, Decimal]]:
        """(code, units) per line: what the billing panel and the packet compare against."""
        return [(ln.code, ln.units) for ln in self.lines]

    @property
    def admin_lines(self) -> list[ClaimLine]:
        """The administration lines (96365, 96366), as the billing panel names them."""
        return [ln for ln in self.lines if ln.code_type == "CPT"]

    def to_data(self, *, canonical: bool = False) -> dict:
        """The claim as JSON data (billing.claims.snapshot), for the stored version;
        ``canonical`` for its fingerprint."""
        return encode(self, canonical=canonical)

    @classmethod
    def from_data(cls, data: dict) -> ClaimSummary:
        return decode(cls, data)


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


def _ndc_11(text: str) -> str | None:
    try:
        return ndc_to_11(text) if text and text.strip() else None
    except ValueError:
        return None


def scrub_context(
    case, record: InfusionRecord, pa: PaStatus, prior_billed: bool, *, claim_type: str = PROFESSIONAL, pos=None
) -> ScrubContext:
    """The payer's policy, the record and the patient's history, as billing.claims.rules.scrub needs them."""
    payer = case.payer
    allowed = frozenset(p for p in (payer.allowed_pos if payer else []) or [] if isinstance(p, str) and _POS.match(p))
    kit = kit_for_weight(record.weight_kg) if record.weight_kg is not None else None
    weight_text = f"{round_weight(record.weight_kg)} kg (band {kit.band_label})" if kit else None
    return ScrubContext(
        prior_j3399_billed=prior_billed,
        # Card 'SITE OF CARE' default when the payer's policy lists no valid POS.
        payer_allowed_pos=allowed or CARD_DEFAULT_ALLOWED_POS,
        pa_required=pa.required,
        payer_accepts_96413=payer.accepts_96413 if payer else None,
        infusion_minutes=record.duration_minutes,
        claim_type=claim_type,
        recorded_kit_ndc=_ndc_11(record.kit_ndc),
        record_weight_text=weight_text,
        approved_pa_number=pa.auth_number if pa.approved_and_valid else None,
        record_pos=pos,
        overrides=tuple(o.title for o in _override_facts(case, record)),
        ndc_unit=payer.ndc_unit if payer else "UN",
        ndc_quantity=Decimal(payer.ndc_quantity) if payer else Decimal(1),
        modifier_rule=payer.drug_modifier_rule if payer else "none",
        payer_modifiers=tuple(payer.drug_modifiers or ()) if payer else (),
        modifier_source=payer.modifier_rule_source if payer else "",
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


def site_billing_for(site_id: int) -> SiteBilling | None:
    return SiteBilling.objects.filter(site_id=site_id).prefetch_related("charges").first()


def _settings_findings(billing: SiteBilling | None, lines: list[ClaimLine], claim_type: str) -> list[Finding]:
    """Findings about the site's billing settings: missing settings, missing charges."""
    if billing is None:
        return [
            Finding(
                "billing_settings",
                ERROR,
                "The site has no billing settings (tax ID, billing address, type of bill, price list).",
                "An administrator adds them in Admin → Site billing settings.",
                "NUBC UB-04 / X12 837 (billing provider)",
            )
        ]
    findings = []
    for ln in lines:
        if ln.charge is None:
            findings.append(
                Finding(
                    "missing_charge",
                    ERROR,
                    f"{ln.code} has no charge in the site's price list.",
                    f"An administrator adds {ln.code} with its revenue code and charge to the site's billing settings.",
                    "NUBC UB-04 FL 47 / NUCC 1500 item 24F",
                    ln.line_no,
                )
            )
    return findings


def _notes(case, claim_type: str, pos: str, billing: SiteBilling | None) -> tuple[list[str], list[Finding]]:
    """What the payer expects beyond the lines, and the findings that go with it."""
    notes: list[str] = []
    findings: list[Finding] = []
    payer = case.payer
    if claim_type == INSTITUTIONAL and (billing is None or billing.physician_bills_separately):
        notes.append(
            "The physician's own services go on the physician's CMS-1500 (837P). In the hospital setting it "
            "carries neither J3399 nor 96365/96366: the hospital bills the drug and the infusion on this claim "
            "(CPT 96360-96379 instructions; Regence payment policy 109)."
        )
    elif claim_type == INSTITUTIONAL:
        notes.append("This site's physicians do not bill their services on a claim of their own.")
    if pos in INPATIENT_POS:
        carve = payer.inpatient_drug_carve_out if payer else CarveOut.UNKNOWN
        name = payer.name if payer else "The payer"
        if carve == CarveOut.CARVED_OUT:
            notes.append(
                f"{name} carves the drug out of the DRG: J3399 is paid apart from the inpatient stay, on its line "
                "with revenue code 0636, HCPCS and NDC."
            )
        elif carve == CarveOut.IN_DRG:
            notes.append(
                f"{name} pays the drug within the inpatient DRG: J3399 is reported with its charge on the stay's "
                "claim but is not paid separately; check any outlier or new-technology add-on terms."
            )
        else:
            findings.append(
                Finding(
                    "carve_out_unknown",
                    WARNING,
                    f"{name}'s policy does not say whether J3399 is carved out of the inpatient DRG.",
                    "Ask the payer and record it on the payer's policy (Inpatient: drug carved out of the DRG).",
                    "payer policy (payer-specific)",
                )
            )
        notes.append(
            "Inpatient: GeneGate knows the infusion day, not the stay. The statement period, admission and "
            "discharge come from the hospital's own billing system; the 837I export is for outpatient claims."
        )
    return notes, findings


def claim_summary(case, record: InfusionRecord) -> ClaimSummary:
    """Build the claim from the signed record and scrub it.

    1. Diagnoses from the case (primary first), place of service from the case's site of care
       (the site's own POS when none is set), PA number from the PA adapter for the date.
    2. The claim type from the POS (billing.claims.rules.claim_type_for_pos): a hospital bills
       the institutional claim with the type of bill from its billing settings (011x inpatient,
       013x outpatient); any other site the professional claim.
    3. billing.claims.rules.claim_lines with the site's chargemaster (revenue codes, charges) and
       the payer's NDC unit and modifier rule: J3399 × 1 with the N4 11-digit NDC, 96365, and 96366
       only past 90 minutes of actual infusion time (stop − start − pauses).
    4. billing.claims.rules.scrub with the payer's policy, the record and the patient's history,
       plus the site's settings (missing settings or charges) and what the payer expects.
    """
    pa = pa_status_for(case, record.infused_on)
    codes, findings = case_diagnoses(case)
    pos = case.site_of_care_pos or case.site.place_of_service
    claim_type = claim_type_for_pos(pos)
    billing = site_billing_for(case.site_id)
    charges = {c.code: c for c in billing.charges.all()} if billing else {}
    payer = case.payer
    setup = LineSetup(
        claim_type=claim_type,
        revenue_codes={code: c.revenue_code for code, c in charges.items()},
        charges={code: c.charge for code, c in charges.items()},
        drug_modifiers=drug_modifiers_for(payer.drug_modifier_rule, tuple(payer.drug_modifiers or ())) if payer else (),
        ndc_unit=payer.ndc_unit if payer else "UN",
        ndc_quantity=Decimal(payer.ndc_quantity) if payer else Decimal(1),
    )
    claim_input = ClaimInput(
        kit_ndc=record.kit_ndc or None,
        infusion_minutes=record.duration_minutes,
        diagnosis_codes=tuple(codes),
        place_of_service=pos or None,
        pa_number=pa.auth_number,
        date_of_service=record.infused_on,
    )
    lines = claim_lines(claim_input, setup)
    context = scrub_context(case, record, pa, j3399_billed_before(case, record), claim_type=claim_type, pos=pos)
    notes, note_findings = _notes(case, claim_type, pos, billing)
    findings = (
        findings
        + provider_findings(case.ordering_physician_npi, case.site.npi)
        + scrub(lines, context)
        + _settings_findings(billing, lines, claim_type)
        + note_findings
    )
    diagnoses = [(c, ICD10[c].descriptor if c in ICD10 else "") for c in codes]
    pos_name = POS_CODES[pos].descriptor if pos in POS_CODES else ""
    type_of_bill = None
    if claim_type == INSTITUTIONAL and billing is not None:
        type_of_bill = billing.type_of_bill_inpatient if pos in INPATIENT_POS else billing.type_of_bill_outpatient
    return ClaimSummary(
        case_id=case.pk,
        claim_type=claim_type,
        lines=lines,
        findings=findings,
        diagnoses=diagnoses,
        place_of_service=pos,
        pos_name=pos_name,
        pa=pa,
        context=context,
        patient=_patient_facts(case.patient),
        payer=_payer_facts(case),
        provider=_provider_facts(case.site, billing),
        physician=PhysicianFacts(case.ordering_physician_name or "", case.ordering_physician_npi or ""),
        infusion=_infusion_facts(record),
        overrides=_override_facts(case, record),
        amendments=tuple(
            AmendmentFacts(a.field_label, a.old_value, a.new_value, a.reason, a.by_name, a.at)
            for a in record.amendments.all()
        ),
        type_of_bill=type_of_bill,
        notes=notes,
        infusion_minutes=record.duration_minutes,
        elapsed_minutes=record.elapsed_minutes,
        paused_minutes=record.paused_minutes,
    )


def _patient_facts(patient) -> PatientFacts:
    return PatientFacts(
        name=patient.legal_name,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        mrn=patient.mrn,
        address_line1=patient.address_line1,
        address_line2=patient.address_line2,
        city=patient.city,
        state=patient.state,
        zip_code=patient.zip_code,
    )


def _payer_facts(case) -> PayerFacts | None:
    payer = case.payer
    if payer is None:
        return None
    return PayerFacts(
        name=payer.name,
        payer_id=payer.payer_id or "",
        filing_indicator=payer.claim_filing_indicator,
        plan_name=case.plan_name or "",
        member_id=(case.member_id or "").strip(),
    )


def _provider_facts(site, billing: SiteBilling | None) -> ProviderFacts:
    if billing is None:
        return ProviderFacts(name=site.name, npi=site.npi or "", timezone=site.timezone)
    return ProviderFacts(
        name=site.name,
        npi=site.npi or "",
        timezone=site.timezone,
        has_settings=True,
        tin=billing.tin,
        taxonomy=billing.taxonomy_code,
        street=billing.street,
        city=billing.city,
        state=billing.state,
        zip_code=billing.zip_code,
        contact_name=billing.contact_name,
        contact_phone=billing.contact_phone,
        submitter_id=billing.submitter_id,
    )


def _infusion_facts(record: InfusionRecord) -> InfusionFacts:
    return InfusionFacts(
        record_id=record.pk,
        record_version=record.version,
        infused_on=record.infused_on,
        started_at=record.started_at,
        stopped_at=record.stopped_at,
        kit_ndc=record.kit_ndc,
        lots=tuple(v.lot_number for v in record.vials.all()),
        pauses=tuple(PauseFacts(p.started_at, p.resumed_at, p.minutes, p.reason) for p in record.pauses.all()),
        signed_name=record.signed_name,
        signed_at=record.signed_at,
    )


def _override_facts(case, record) -> tuple[OverrideFacts, ...]:
    """The physicians' overrides a claim reviewer must see (issue 15 item 2, issue 16 item 3):
    each gate item overridden, and a sign-off over an overridden gate item."""
    facts = [OverrideFacts(o.gate_title, o.reason, o.by_name, o.at) for o in case.gate_overrides.all()]
    so = record.sign_override if record is not None else None
    if so is not None and so.voided_at is None:
        facts.append(
            OverrideFacts(
                f"Signed with an override: {so.subject}", f"{so.reason_label}: {so.explanation}", so.by_name, so.at
            )
        )
    return tuple(facts)
