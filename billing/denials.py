"""The billing card's top Zolgensma denials and their fixes, as data; plus the OneGene contact.

Each reason keeps the card's "TOP DENIALS & FIXES" order. Where the card is wrong or outdated,
the fix is corrected by docs/domain.md §11; the source names the card and the public sources of
the fix. Payer practices the card states but the label does not (titer within 14 days) stay as
the card's default policy, named as such (docs/domain.md header).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Novartis OneGene Program (card "ONEGENE PROGRAM & PATIENT SUPPORT") -------------------------
ONEGENE_NAME = "Novartis OneGene Program"
ONEGENE_PHONE = "1-855-441-4363"
ONEGENE_WEB = "zolgensma.com/onegene"
ONEGENE_SERVICES: tuple[str, ...] = (
    "benefits investigation",
    "PA assistance",
    "AAV9 testing logistics",
    "certified center referral",
    "travel/lodging support",
    "outcomes-based contract operations",
)
ONEGENE_SOURCE = "card 'ONEGENE PROGRAM & PATIENT SUPPORT' (seed data; confirm before release)"

# Reason sources are shown to billing staff: the reason list is the card's (a payer practice), the
# fixes rest on public sources (docs/domain.md "Public source labels"); pointers stay in comments.
CARD = "Common payer denial reason"

# The card's own fix wording for the two coding denials (card "TOP DENIALS & FIXES").
FIX_WRONG_CPT = "Use 96365 (therapeutic IV 60 min)"
FIX_WRONG_HCPCS = "Use J3399 (permanent per-treatment code)"


@dataclass(frozen=True)
class DenialReason:
    """One denial reason: a stable slug, the label staff see, the fix, and where it came from."""

    slug: str
    label: str
    fix: str
    source: str


DENIAL_REASONS: tuple[DenialReason, ...] = (
    DenialReason(
        "titer",
        "AAV9 antibody titer not documented or > 1:50",
        f"Order anti-AAV9 total binding antibody testing (ELISA) via the OneGene Program "
        f"({ONEGENE_PHONE}). Document a result ≤ 1:50 (trial and payer criterion) drawn within "
        "14 days of infusion (GeneGate default; check the payer's policy). If > 1:50, the label "
        "allows retesting: maternal antibodies decay (half-life about 18-59 days).",
        f"{CARD}; FDA label §2.3, §6.2; Aetna CPB 0953",  # top denial #1; docs/domain.md §2, §11.6
    ),
    DenialReason(
        "genetics",
        "SMA type / bi-allelic SMN1 confirmation missing",
        "Submit the genetic report confirming bi-allelic SMN1 mutations: MLPA (or qPCR/ddPCR) or "
        "sequencing showing 0 functional SMN1 copies, or 1 SMN1 copy plus a pathogenic variant "
        "found by sequencing (compound heterozygote). Include SMN2 copy number and SMA type.",
        f"{CARD}; FDA label §1; Aetna CPB 0953",  # top denial #2; docs/domain.md §2, §11.18
    ),
    DenialReason(
        "age",
        "Age 2 years or older at planned infusion",
        "Not eligible for J3399 (Zolgensma IV is labeled for patients < 2 years). Consider "
        "nusinersen (Spinraza, J2326), risdiplam (Evrysdi, pharmacy benefit) or Itvisma "
        "(onasemnogene abeparvovec-brve, intrathecal, ≥ 2 years; no specific HCPCS code yet).",
        # top denial #3; docs/domain.md §1, §11.15, §11.21
        f"{CARD}; FDA label §1; FDA approval of Itvisma (24 Nov 2025); Aetna CPB 0953",
    ),
    DenialReason(
        "weight",
        "Weight outside the labeled kit range (2.6-21.0 kg)",
        "Document a current weight (rounded to 0.1 kg) and the kit for its 0.5-kg band; the dose "
        "follows the band's upper limit. Labeled kits cover 2.6-21.0 kg: above 21.0 kg there is "
        "no labeled kit, consider alternative therapy; below 2.6 kg or before full-term "
        "gestational age, delay the infusion. Verify with OneGene.",
        f"{CARD}; FDA label §2.1 Table 1, §8.4",  # top denial #4; docs/domain.md §1, §1a, §11.7
    ),
    DenialReason(
        "steroid",
        "Glucocorticoid plan missing",
        "Document oral prednisolone 1 mg/kg/day (or an equivalent systemic corticosteroid) "
        "starting Day -1, the day before the infusion, for 30 days in total. At the end assess "
        "liver function: if unremarkable (normal exam, total bilirubin and PT; ALT and AST "
        "< 2 × ULN) taper over the next 28 days; otherwise continue 1 mg/kg/day until "
        "unremarkable, then taper over 28 days. Never stop abruptly.",
        f"{CARD}; FDA label §2.1",  # top denial #5; docs/domain.md §3, §11.5
    ),
    DenialReason(
        "lft_plan",
        "Liver monitoring plan missing",
        "Document liver function (clinical exam, AST, ALT, total bilirubin, PT) weekly in month "
        "1 and every other week in months 2 and 3, continuing until unremarkable; platelet count "
        "on the same schedule until back to baseline; troponin-I weekly in month 1 and monthly "
        "in months 2 and 3 until back to baseline (boxed warning).",
        # top denial #6; docs/domain.md §4, §11.1, §11.2, §11.4
        f"{CARD}; FDA label boxed warning, §2.3, §5, §5.1",
    ),
    DenialReason(
        "wrong_cpt",
        "Wrong admin CPT (79101 / 96374; 96413 is payer-dependent)",
        FIX_WRONG_CPT,
        f"{CARD}; AMA CPT (CPT instructions)",  # docs/domain.md §6b, §11.9: 96413 is payer-dependent
    ),
    DenialReason(
        "wrong_hcpcs",
        "Wrong HCPCS (J3490 / J3590 / C9399)",
        FIX_WRONG_HCPCS,
        f"{CARD}; CMS HCPCS Level II (J3399, J3590)",  # docs/domain.md §6a, §11.19 (J3590 added)
    ),
    DenialReason(
        "other",
        "Other",
        "Record the payer's reason and remark codes, compare with the payer's policy, and ask the "
        "OneGene Program for PA assistance if needed.",
        "GeneGate catch-all",
    ),
)

_BY_SLUG: dict[str, DenialReason] = {r.slug: r for r in DENIAL_REASONS}

# Form choices: (slug, label).
DENIAL_CHOICES: tuple[tuple[str, str], ...] = tuple((r.slug, r.label) for r in DENIAL_REASONS)


def denial_reason(slug: str) -> DenialReason:
    """Return the DenialReason for `slug`. Raises ValueError for an unknown slug."""
    try:
        return _BY_SLUG[slug]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown denial reason {slug!r}; expected one of {', '.join(_BY_SLUG)}") from None


# --- The fix for this case: what is actually missing ---------------------------------------
# A gate item (cases.eligibility.GateItem) by its id maps to the denial reason it answers.
REASON_GATE_ITEM = {"titer": "titer", "genetics": "smn1", "age": "age", "weight": "weight", "steroid": "steroid_plan"}


@dataclass(frozen=True)
class DenialFacts:
    """What the case has on file, as the denial's fix needs it: the gate item the reason is
    about (status, detail and its own fix) and whether the matching report is uploaded."""

    item_status: str = ""  # "pass" / "fail" / "missing" / "warning", "" when no gate item applies
    item_detail: str = ""
    item_fix: str = ""
    report_on_file: bool = False  # the titer report (#1) or the genetic report (#2)


def denial_fix(reason: DenialReason, facts: DenialFacts) -> str:
    """The one fix to show for ``reason`` on this case, from what is actually missing.

    1. #1 titer: no titer on file → order testing (the card's fix). A titer that fails the gate
       (too high, or stale) → the gate's own fix (retest date, or redraw). A titer that passes
       with no titer report uploaded → upload the report and send it. Both on file → appeal
       with the report.
    2. #2 genetics: the genetic report missing → upload it; on file but the SMN1 item not met →
       the gate's fix; both fine → appeal with the report.
    3. Age, weight, steroid plan: when the gate item now passes, appeal with its evidence;
       otherwise the card's fix. Other reasons: the card's fix.
    """
    status, detail = facts.item_status, facts.item_detail
    if reason.slug == "titer":
        if status in ("", "missing"):
            return reason.fix
        if status == "fail":
            return f"The titer on file does not meet the criterion ({detail}). {facts.item_fix}."
        if not facts.report_on_file:
            return (
                f"The titer result is on file ({detail}) but its lab report is not: upload the AAV9 "
                "titer report to the case's documents and send it to the payer with the appeal."
            )
        return f"The titer ({detail}) and its lab report are on file: send the report to the payer with the appeal."
    if reason.slug == "genetics":
        if not facts.report_on_file:
            return (
                "Upload the genetic report confirming bi-allelic SMN1 mutations to the case's documents, "
                "then send it to the payer with the appeal (include SMN2 copy number and SMA type)."
            )
        if status in ("fail", "missing"):
            return f"The genetic report is on file, but: {detail}. {facts.item_fix}."
        return "The genetic report is on file and confirms SMN1: send it to the payer with the appeal."
    if reason.slug in REASON_GATE_ITEM and status == "pass":
        return f"Now met on file ({detail}): send the evidence to the payer with the appeal."
    return reason.fix
