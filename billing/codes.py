"""Reference code sets for a Zolgensma claim: ICD-10-CM, HCPCS, CPT, POS and NDC helpers.

Pure data plus a few lookups. Descriptors are the official ones (docs/domain.md §6-§7), never the
billing card's paraphrases (docs/domain.md header: "Code descriptors printed in the product ... are the
official ones in section 7"). Each entry carries its source and a confidence flag: "V" seen in a
cited public source, "D" derived, "U" unverified (docs/domain.md confidence tags). Flags are data for
the reader; no rule below branches on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cases.diagnoses import ICD10  # ICD-10-CM lives with the diagnosis (cases.diagnoses)
from common.codesets import CPT, HCPCS, POS, UNVERIFIED, VERIFIED, Code

# Zolgensma's HCPCS code (docs/domain.md §6a).
ZOLGENSMA_HCPCS = "J3399"

# Novartis Gene Therapies' NDC labeler code: every Zolgensma kit NDC starts 71894
# (docs/domain.md §1a kit table; openFDA NDC record for 71894-120-02).
ZOLGENSMA_NDC_LABELER = "71894"

# NDC unit-of-measure qualifiers accepted in the 837P CTP05-1 / CMS-1500 item 24 shaded area
# (F2 international unit, GR gram, ME milligram, ML milliliter, UN unit; NUCC 1500 instructions).
NDC_UNIT_QUALIFIERS = frozenset({"F2", "GR", "ME", "ML", "UN"})
# "N4" = the product ID qualifier meaning "the next 11 digits are an NDC" (NUCC 1500, item 24A).
NDC_PRODUCT_QUALIFIER = "N4"
# NDC quantity is reported with at most 3 decimal places (NUCC 1500 item 24 shaded area).
NDC_QUANTITY_MAX_DECIMALS = 3

# Hyphenated 10-digit NDC configurations and the segment each pads to reach HIPAA's 11-digit
# 5-4-2 form (CMS-derived 11-digit NDC adopted under HIPAA; docs/domain.md §1a uses 4-4-2/5-3-2 NDCs
# in their labeled 10-digit form).
_NDC_SEGMENT_WIDTHS = (5, 4, 2)
_NDC10_PATTERN = re.compile(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")


# --- HCPCS (docs/domain.md §6a, §11.19; card "TOP DENIALS & FIXES") -----------------------------------
HCPCS_CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
            "J3399",
            HCPCS,
            "Injection, onasemnogene abeparvovec-xioi, per treatment, up to 5x10^15 vector genomes",
            "Zolgensma. Always 1 unit: the largest labeled dose (21 kg) is 2.31e15 vg, below "
            "5e15 (docs/domain.md §6a [D]). Once per lifetime.",
            "docs/domain.md §6a; genhealth.ai/code/hcpcs/J3399",
            use_for_zolgensma=True,
        ),
        Code(
            "J2326",
            HCPCS,
            "Injection, nusinersen, 0.1 mg",
            "Spinraza, intrathecal. A separate product, never a Zolgensma code.",
            "docs/domain.md §6a (paraphrased there); HCPCS long descriptor via carecostestimate.com",
        ),
        Code(
            "J3590",
            HCPCS,
            "Unclassified biologics",
            "Wrong for Zolgensma: the unclassified code used before J3399 existed (e.g. Medi-Cal, "
            "Apr 2020). J3399 is the permanent code now.",
            "docs/domain.md §6a, §11.19; files.medi-cal.ca.gov newsroom_30356",
        ),
        Code(
            "J3490",
            HCPCS,
            "Unclassified drugs",
            "Wrong for Zolgensma: listed by the card as a wrong code; a drug with its own "
            "permanent code (J3399) must not be billed as unclassified.",
            "card 'TOP DENIALS & FIXES'; docs/domain.md §11.19",
            flag=UNVERIFIED,
        ),
        Code(
            "C9399",
            HCPCS,
            "Unclassified drugs or biologicals",
            "Wrong for Zolgensma: the OPPS unclassified code; J3399 is the permanent code.",
            "card 'TOP DENIALS & FIXES'",
            flag=UNVERIFIED,
        ),
    )
}

WRONG_HCPCS = frozenset({"J3590", "J3490", "C9399"})

# --- CPT administration codes (docs/domain.md §6b, §11.8-§11.9) ---------------------------------------
CPT_CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
            "96365",
            CPT,
            "Intravenous infusion, for therapy, prophylaxis, or diagnosis (specify substance or "
            "drug); initial, up to 1 hour",
            "Use for Zolgensma: yes, for the 60-minute infusion. Needs an infusion of more than "
            "15 minutes; 15 minutes or less is a push.",
            "docs/domain.md §6b; AMA text via medcoder.ai / codingahead.com",
            use_for_zolgensma=True,
        ),
        Code(
            "96366",
            CPT,
            "Intravenous infusion, for therapy, prophylaxis, or diagnosis (specify substance or "
            "drug); each additional hour (List separately in addition to code for primary "
            "procedure)",
            "Use for Zolgensma: only when the documented run exceeds 90 minutes; an add-on to "
            "96365, one unit per additional hour that runs more than 30 minutes.",
            "docs/domain.md §6b, §11.8; AAPC coding alert; iframe.ai/medical-coding/reference/96366",
            use_for_zolgensma=True,
        ),
        Code(
            "96374",
            CPT,
            "Therapeutic, prophylactic, or diagnostic injection (specify substance or drug); "
            "intravenous push, single or initial substance/drug",
            "Use for Zolgensma: no. The label requires a slow 60-minute infusion, not a push.",
            "docs/domain.md §6b, §11.9; codingahead.com; label §2.1",
        ),
        Code(
            "96413",
            CPT,
            "Chemotherapy administration, intravenous infusion technique; up to 1 hour, single or "
            "initial substance/drug",
            "Use for Zolgensma: generally no (96365 is the accepted code), but the CPT family "
            "covers highly complex biologic agents, so it is payer-dependent.",
            "docs/domain.md §6b, §11.9; iframe.ai/medical-coding/CPT/96413; codingahead.com",
        ),
        Code(
            "79101",
            CPT,
            "Radiopharmaceutical therapy, by intravenous administration",
            "Use for Zolgensma: no. Zolgensma is not a radiopharmaceutical.",
            "docs/domain.md §6b, §11.9; openpayer.com/billing-codes/cpt-79101",
        ),
    )
}

WRONG_ADMIN_CPT = frozenset({"96374", "79101"})

# --- Place of service (docs/domain.md §6c) ------------------------------------------------------------
POS_CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
            "11",
            POS,
            "Office",
            "Location, other than a hospital, SNF, military facility, community health center, "
            "public health clinic or ICF, where the professional routinely provides examinations, "
            "diagnosis and treatment on an ambulatory basis.",
            "docs/domain.md §6c; NGS Medicare Part B 101 Appx 3",
        ),
        Code(
            "12",
            POS,
            "Home",
            "Location, other than a hospital or other facility, where the patient receives care "
            "in a private residence.",
            "docs/domain.md §6c; NGS Medicare Part B 101 Appx 3",
        ),
        Code(
            "19",
            POS,
            "Off Campus-Outpatient Hospital",
            "Part of an off-campus hospital provider-based department that provides diagnostic, "
            "therapeutic and rehabilitation services to patients who do not need hospitalization.",
            "docs/domain.md §6c; rcmguide.com/place-of-service-19",
        ),
        Code(
            "21",
            POS,
            "Inpatient Hospital",
            "Facility, other than psychiatric, that primarily provides diagnostic, therapeutic and "
            "rehabilitation services under physician supervision to admitted patients.",
            "docs/domain.md §6c; CMS POS code set (definition excerpt not retrieved)",
            flag=UNVERIFIED,
        ),
        Code(
            "22",
            POS,
            "On Campus-Outpatient Hospital",
            "Part of a hospital's main campus providing outpatient services (renamed from "
            "'Outpatient Hospital' on Jan 1 2016).",
            "docs/domain.md §6c; rcmguide.com/place-of-service-22",
        ),
        Code(
            "49",
            POS,
            "Independent Clinic",
            "Location, not part of a hospital and not described by any other POS code, organized "
            "to provide preventive, diagnostic, therapeutic, rehabilitative or palliative services "
            "to outpatients only.",
            "docs/domain.md §6c; medicarepaymentandreimbursement.com",
        ),
    )
}


# --- SMA class: not interchangeable (card "SMA CLASS"; docs/domain.md §6a, §11.15) -------------------
@dataclass(frozen=True)
class SmaTherapy:
    """One SMA therapy the clinic may be asked about instead of, or after, Zolgensma."""

    brand: str
    generic: str
    hcpcs: str | None
    route: str
    benefit: str
    population: str
    note: str
    source: str
    flag: str = VERIFIED


ALTERNATIVES: tuple[SmaTherapy, ...] = (
    SmaTherapy(
        "Zolgensma",
        "onasemnogene abeparvovec-xioi",
        "J3399",
        "IV infusion, one time",
        "medical",
        "< 2 years",
        "This product. One-time lifetime gene therapy.",
        "card 'SMA CLASS'; docs/domain.md §1, §6a",
    ),
    SmaTherapy(
        "Spinraza",
        "nusinersen",
        "J2326",
        "intrathecal",
        "medical",
        "all ages",
        "Antisense oligonucleotide; loading doses, then every 4 months indefinitely.",
        "card 'SMA CLASS'; docs/domain.md §6a",
    ),
    SmaTherapy(
        "Evrysdi",
        "risdiplam",
        None,
        "oral, daily",
        "pharmacy",
        "all ages",
        "Pharmacy benefit, not medical benefit: no HCPCS line on a medical claim.",
        "card 'SMA CLASS'",
    ),
    SmaTherapy(
        "Itvisma",
        "onasemnogene abeparvovec-brve",
        None,
        "intrathecal, fixed dose",
        "medical",
        ">= 2 years",
        "FDA-approved Nov 24 2025. Currently without a specific HCPCS code; it is not J3399, "
        "which names the -xioi product.",
        "docs/domain.md §6a, §11.15; FDA release mirror (uaegda.ae); payerpolicy.org",
    ),
)


# --- Lookups ------------------------------------------------------------------------------------
_ALL_CODES: dict[str, Code] = {**ICD10, **HCPCS_CODES, **CPT_CODES, **POS_CODES}


def code_info(code: str) -> Code:
    """Return the Code record for any ICD-10-CM, HCPCS, CPT or POS code in this module.

    Raises ValueError for an unknown code.
    """
    key = code.strip().upper() if isinstance(code, str) else code
    try:
        return _ALL_CODES[key]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown code {code!r}: not in the GeneGate code tables") from None


def descriptor(code: str) -> str:
    """Return the official descriptor (or POS name) of `code`. Raises ValueError if unknown."""
    return code_info(code).descriptor


# --- NDC ----------------------------------------------------------------------------------------
def ndc_to_11(ndc10: str) -> str:
    """Return the 11-digit billing NDC (5-4-2, no hyphens) for a hyphenated label NDC.

    The HIPAA 11-digit NDC pads the one short segment with a leading zero:
    4-4-2 -> 0 before the labeler; 5-3-2 -> 0 before the product; 5-4-1 -> 0 before the package.
    An already padded 5-4-2 NDC is accepted unchanged. "71894-120-02" -> "71894012002".

    Steps:
    1. Require three hyphenated digit groups; an unhyphenated 10-digit NDC is ambiguous.
    2. Require a total of 10 digits (4-4-2, 5-3-2, 5-4-1) or 11 digits in 5-4-2.
    3. Left-pad each segment with zeros to 5, 4 and 2 digits and join.
    """
    if not isinstance(ndc10, str):
        raise ValueError(f"NDC must be text, got {type(ndc10).__name__}")
    match = _NDC10_PATTERN.fullmatch(ndc10.strip())
    if match is None:
        raise ValueError(f"{ndc10!r} is not a hyphenated NDC; expected 4-4-2, 5-3-2 or 5-4-1, e.g. '71894-120-02'")
    segments = match.groups()
    lengths = tuple(len(s) for s in segments)
    if lengths not in {(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)}:
        raise ValueError(f"{ndc10!r} has segments {'-'.join(map(str, lengths))}; a label NDC is 4-4-2, 5-3-2 or 5-4-1")
    return "".join(s.zfill(w) for s, w in zip(segments, _NDC_SEGMENT_WIDTHS, strict=True))


def format_ndc_quantity(quantity: Decimal | int) -> str:
    """Return the NDC quantity as claim text: positive, at most 3 decimals, no trailing zeros."""
    if isinstance(quantity, bool) or not isinstance(quantity, (Decimal, int)):
        raise ValueError(f"NDC quantity must be a Decimal or int, got {quantity!r}")
    try:
        value = Decimal(quantity)
    except InvalidOperation:  # pragma: no cover - int and Decimal always convert
        raise ValueError(f"NDC quantity {quantity!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"NDC quantity must be a positive number, got {quantity!r}")
    if value != value.quantize(Decimal(1).scaleb(-NDC_QUANTITY_MAX_DECIMALS)):
        raise ValueError(f"NDC quantity {quantity!r} has more than {NDC_QUANTITY_MAX_DECIMALS} decimal places")
    return format(value.normalize(), "f")


def format_n4(ndc10: str, quantity: Decimal | int, unit: str = "UN") -> str:
    """Return the claim's NDC supplemental line, e.g. "N471894012002 UN1".

    Format (NUCC 1500 item 24A-24G shaded area; 837P loop 2410 LIN03/CTP04/CTP05-1):
    "N4" product qualifier + 11-digit NDC with no hyphens or spaces, one space, then the unit
    qualifier (F2, GR, ME, ML, UN) immediately followed by the quantity. A Zolgensma kit is
    reported as UN 1 (one kit).
    """
    if unit not in NDC_UNIT_QUALIFIERS:
        raise ValueError(f"NDC unit {unit!r} is not one of {', '.join(sorted(NDC_UNIT_QUALIFIERS))}")
    return f"{NDC_PRODUCT_QUALIFIER}{ndc_to_11(ndc10)} {unit}{format_ndc_quantity(quantity)}"
