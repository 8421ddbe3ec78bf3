"""Demo and reference data for billing: the card's five payers, the list price, support programs.

Idempotent (update_or_create by natural key). Sources: the billing card's payer table,
"THE 5 THINGS", "ONEGENE PROGRAM & PATIENT SUPPORT"; corrected by docs/domain.md §11.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

from billing.denials import ONEGENE_PHONE, ONEGENE_SERVICES, ONEGENE_WEB
from billing.models import (
    CarveOut,
    ChargeItem,
    ModifierRule,
    MotorRequirement,
    Payer,
    ReferencePrice,
    SiteBilling,
    SupportProgram,
)

CARD_SOURCE = "Billing card (CareCost Estimate, Q2 2026), payer table"

# Outcomes-based agreements, in two parts: what the packet tells the payer (what the clinic
# documents and when), and the billing office's own note (contract terms to confirm), which is
# never printed (issue 17 item 5: the packet carried an internal note in the OBA box).
OBA_TERMS = (
    "Outcome assessments (motor milestones and ventilator-free survival) will be documented at 6, 12, 24, 36 "
    "and 60 months after the infusion and reported through the Novartis OneGene Program."
)
OBA_NOTE = (
    "Pay full WAC at administration; the manufacturer refunds a share of WAC if clinical milestones "
    "(motor function, ventilator-free survival) are not met over a 5-year window. The rebate flows payer-side "
    "and does not change provider payment at infusion. Milestone months and refund percentages are "
    "contract-specific and not public: confirm with the payer."
)

# Every payer needs these for J3399 (docs/domain.md §2, §11.1-§11.5), each with what in the packet
# proves it (billing/checklist.py), so the packet prints it ☑ met or ☒ not met.
COMMON_CHECKLIST = [
    ("genetics", "Genetic report confirming bi-allelic SMN1 mutations (MLPA/qPCR/ddPCR, or sequencing for a point "
     "variant)"),
    ("smn2_type", "SMN2 copy number and SMA type (ICD-10-CM G12.0 / G12.1 / G12.8 / G12.9)"),
    ("titer", "Anti-AAV9 total binding antibody titer ≤ 1:50 by ELISA, with the draw date"),
    ("age", "Age under 2 years on the planned infusion date"),
    ("weight", "Current weight with the kit NDC for its band"),
    ("labs", "Baseline ALT, AST, total bilirubin, prothrombin time or INR, creatinine, hemoglobin, "
     "platelets, troponin-I"),
    ("steroid_plan", "Glucocorticoid plan: prednisolone 1 mg/kg/day from Day −1 for 30 days, taper if unremarkable"),
    ("monitoring_plan", "Post-infusion monitoring plan: liver panel and platelet count weekly in month 1, every "
     "other week in months 2-3; troponin-I weekly then monthly"),
    ("letter", "Letter of medical necessity signed by the prescriber"),
]  # fmt: skip

# A payer's own criteria, none set (BCBS plans: policies vary by plan, so the demo sets none).
NO_CRITERIA = {
    "max_smn2_copies": None,
    "motor_assessment": MotorRequirement.NONE,
    "motor_assessment_max_age_days": None,
    "symptom_onset_before_months": None,
    "max_niv_hours_per_day": None,
    "wbc_min": None,
    "wbc_max": None,
    "require_no_active_infection": False,
}

PAYERS = [
    {
        "name": "UnitedHealthcare (Optum)",
        "policy_reference": "UnitedHealthcare Zolgensma medical benefit drug policy",
        "outcomes_based_agreement": Payer.Oba.YES,
        "key_documentation": "FDA-label-aligned; certified center; bi-allelic SMN1; AAV9 ≤ 1:50",
        "extra": [("site_of_care", "Certified SMA treatment center (site-of-care attestation)")],
        "age_wording": "< 2 years (FDA label)",
        "claims": {"payer_id": "87726", "inpatient_drug_carve_out": CarveOut.IN_DRG},
        # Its own criteria (docs/domain.md §13c): SMN2 ≤ 3 copies, a baseline CHOP INTEND within 90 days.
        "criteria": {
            "max_smn2_copies": 3,
            "motor_assessment": MotorRequirement.CHOP_INTEND,
            "motor_assessment_max_age_days": 90,
        },
        "clock": {"standard_decision_days": 15, "expedited_decision_hours": 72, "appeal_window_days": 180},
    },
    {
        "name": "Aetna",
        "policy_reference": "Aetna CPB 0953",
        "outcomes_based_agreement": Payer.Oba.CASE_BY_CASE,
        "key_documentation": "FDA label; site-of-care; pediatric specialty review",
        "extra": [
            ("site_of_care", "Site-of-care review (Aetna Site of Care Utilization Management Policy)"),
            ("specialist", "Prescribed by or in consultation with a neurologist or neuromuscular specialist"),
            ("advanced_sma", "No advanced SMA: no tracheostomy, no ≥ 16 h/day respiratory support for ≥ 14 days"),
            ("smn_therapy", "Nusinersen / risdiplam stopped (dates)"),
        ],
        "age_wording": "< 2 years (Aetna CPB 0953)",
        "claims": {"payer_id": "60054"},  # carve-out not recorded: the inpatient claim warns
        # No permanent ventilation: excludes 16 hours a day or more, and a tracheostomy.
        "criteria": {"max_niv_hours_per_day": 15},
        # No decision time recorded: the billing desk says so rather than guessing a clock.
        "clock": {"appeal_window_days": 180},
    },
    {
        "name": "BCBS plans",
        "policy_reference": "BCBS ND Zolgensma medical policy",
        "outcomes_based_agreement": Payer.Oba.COMMON,
        "key_documentation": "Cure SMA Standard of Care + FDA label (policies vary by plan)",
        "extra": [("site_of_care", "Treated at an SMA care center (Cure SMA standard of care)")],
        "age_wording": "Varies by plan: e.g. ≤ 2 years (BCBS MS), 2 years or younger (Anthem)",
        "claims": {"payer_id": "BCBSDEMO", "claim_filing_indicator": "BL", "inpatient_drug_carve_out": CarveOut.IN_DRG},
        # A short contract clock, so the demo's appeal (sent 6 days ago) is an overdue decision.
        "clock": {"standard_decision_days": 5, "expedited_decision_hours": 72, "appeal_window_days": 180},
    },
    {
        "name": "Cigna / Accredo",
        "policy_reference": "eviCore Zolgensma policy",
        "outcomes_based_agreement": Payer.Oba.YES,
        "key_documentation": "FDA label; comprehensive documentation packet",
        "extra": [("packet", "Complete packet: letter, codes, labs, plans and source documents in one submission")],
        "age_wording": "< 2 years (FDA label)",
        "claims": {"payer_id": "62308", "inpatient_drug_carve_out": CarveOut.CARVED_OUT},
        # eviCore's lab gate and SMN2 limit (WBC ≤ 20,000 per µL = 20 × 10^9/L), no active infection.
        "criteria": {"max_smn2_copies": 3, "wbc_max": Decimal(20), "require_no_active_infection": True},
        "clock": {"standard_decision_days": 15, "expedited_decision_hours": 72, "appeal_window_days": 180},
    },
    {
        "name": "State Medicaid",
        "policy_reference": "State Medicaid Zolgensma criteria (demo state)",
        "outcomes_based_agreement": Payer.Oba.YES,
        "key_documentation": "State-specific service request form; outcomes-based agreement",
        "extra": [("other_document", "State-specific service request / prior authorization form")],
        "age_wording": "< 2 years (FDA label); check the state's policy",
        "criteria": {"symptom_onset_before_months": 6},
        "claims": {
            "payer_id": "MCDDEMO",
            "claim_filing_indicator": "MC",
            # Some Medicaid programs carve gene therapies out of the DRG (domain.md §13a [U]).
            "inpatient_drug_carve_out": CarveOut.CARVED_OUT,
            "drug_modifier_rule": ModifierRule.JW_JZ,
            "modifier_rule_source": "CMS JW/JZ modifier policy FAQ, as adopted by this state's billing manual "
            "(demo payer; confirm per state)",
            # A Medicaid program is a CMS-0057-F impacted payer: the demo's PAS endpoint is the local
            # test payer `make run` starts (demo/pas_payer.py: pended, then approved on inquiry).
            "pas_endpoint": os.environ.get("GENEGATE_DEMO_PAS_URL", "http://127.0.0.1:8765/fhir"),
        },
        # Medicaid programs are impacted by CMS-0057-F: 72 hours / 7 calendar days.
        "clock": {"cms_0057_impacted": True, "appeal_window_days": 60},
    },
]

# Each demo site's billing settings and price list (demo figures; the J3399 charge is the 2019
# launch WAC, domain.md §11.17; the administration charges are made up for the demo).
SITE_BILLING = {
    "NCH": dict(
        tin="041234567",
        taxonomy_code="282NC2000X",
        street="100 Harbor Way",
        city="Northfield",
        state="MA",
        zip_code="013601100",
        contact_name="NCH Patient Financial Services",
        contact_phone="4135550100",
    ),
    "LPC": dict(
        tin="361234567",
        taxonomy_code="282NC2000X",
        street="2200 Lakeshore Dr",
        city="Chicago",
        state="IL",
        zip_code="606142200",
        contact_name="LPC Billing Office",
        contact_phone="3125550142",
    ),
}
CHARGES = {
    "J3399": ("0636", Decimal("2125000.00")),
    "96365": ("0260", Decimal("612.00")),
    "96366": ("0260", Decimal("188.00")),
}

PRICE = {
    "code": "J3399",
    "kind": "WAC",
    "effective_on": date(2019, 5, 24),
    "amount": Decimal("2125000.00"),
    "note": "launch WAC, current WAC not verified",
    "source": "AveXis press release, 24 May 2019 (launch WAC)",  # docs/domain.md §11.17; card "WAC (ONE-TIME)"
}

PROGRAMS = [
    {
        "slug": "onegene",
        "name": "Novartis OneGene Program",
        "phone": ONEGENE_PHONE,
        "web": ONEGENE_WEB,
        "services": [s[0].upper() + s[1:] for s in ONEGENE_SERVICES],
        "notes": "Coordinate AAV9 testing and PA assistance here.",  # card top denial #1
        "source": "Clinic billing card (program contacts)",  # card "ONEGENE PROGRAM & PATIENT SUPPORT"
        "order": 1,
    },
    {
        "slug": "cure-sma",
        "name": "Cure SMA",
        "phone": "",
        "web": "curesma.org",
        "services": [
            "SMA Care Center directory (certified specialty centers)",
            "Peer and family support",
            "Emergency travel and lodging assistance",
            "Newborn screening advocacy",
            "SMA Care Center accreditation program",
        ],
        "notes": "",
        "source": "Clinic billing card (program contacts)",  # card "CURE SMA (CURESMA.ORG)"
        "order": 2,
    },
]


def _upsert(model, lookup: dict, defaults: dict):
    """update_or_create that saves only when a value differs, so a rerun changes nothing
    (no new updated_at, no audit entry)."""
    obj, created = model.objects.get_or_create(**lookup, defaults=defaults)
    if not created:
        changed = [k for k, v in defaults.items() if getattr(obj, k) != v]
        if changed:
            for k in changed:
                setattr(obj, k, defaults[k])
            obj.save()
    return obj


def seed(ctx) -> None:
    payers = {}
    for row in PAYERS:
        defaults = {
            "pa_required": True,
            "outcomes_based_agreement": row["outcomes_based_agreement"],
            "oba_terms": OBA_TERMS if row["outcomes_based_agreement"] != Payer.Oba.NO else "",
            "oba_note": OBA_NOTE if row["outcomes_based_agreement"] != Payer.Oba.NO else "",
            "policy_reference": row["policy_reference"],
            "key_documentation": row["key_documentation"],
            "documentation_checklist": [
                {"evidence": key, "text": text} for key, text in COMMON_CHECKLIST + row["extra"]
            ],
            "allowed_pos": ["21", "22", "19"],
            "require_certified_center": True,
            "titer_ceiling_denominator": 50,
            "titer_max_age_days": 14,
            "weight_max_age_days": 14,
            "labs_max_age_days": 14,
            "age_wording": row["age_wording"],
            "source": CARD_SOURCE,
            **row.get("claims", {}),
            **NO_CRITERIA,
            **row.get("criteria", {}),
            # Decision clocks and appeal windows are demo figures: confirm each with the payer.
            "cms_0057_impacted": False,
            "standard_decision_days": None,
            "expedited_decision_hours": None,
            "appeal_window_days": None,
            **row.get("clock", {}),
        }
        payer = _upsert(Payer, {"name": row["name"]}, defaults)
        payers[payer.name] = payer
    keys = ("code", "kind", "effective_on")
    _upsert(ReferencePrice, {k: PRICE[k] for k in keys}, {k: v for k, v in PRICE.items() if k not in keys})
    for row in PROGRAMS:
        SupportProgram.objects.update_or_create(
            slug=row["slug"], defaults={k: v for k, v in row.items() if k != "slug"}
        )
    ctx.extra["payers"] = payers
    for code, values in SITE_BILLING.items():
        site = ctx.sites.get(code)
        if site is None:
            continue
        settings = _upsert(SiteBilling, {"site": site}, values)
        for item, (revenue, charge) in CHARGES.items():
            _upsert(ChargeItem, {"settings": settings, "code": item}, {"revenue_code": revenue, "charge": charge})
