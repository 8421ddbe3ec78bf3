"""Build the claim lines for a Zolgensma infusion and scrub them before submission.

Pure functions over plain values (no ORM, no request):
- `admin_codes_for_duration` turns the actual infusion time into CPT administration codes;
- `claim_type_for_pos` decides who bills the drug and its administration (docs/domain.md §13a):
  a hospital (POS 19/21/22) on the institutional claim (UB-04 / 837I), any other site on the
  professional claim (CMS-1500 / 837P);
- `claim_lines` turns one infusion record into the service lines of either claim type;
- `scrub` checks lines (built here or typed by hand) against the card's top denials, as corrected
  by docs/domain.md §11, and returns findings with a fix for each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from billing.codes import (
    CPT_CODES,
    HCPCS_CODES,
    NDC_PRODUCT_QUALIFIER,
    NDC_UNIT_QUALIFIERS,
    POS_CODES,
    WRONG_ADMIN_CPT,
    WRONG_HCPCS,
    ZOLGENSMA_HCPCS,
    ZOLGENSMA_NDC_LABELER,
    format_ndc_quantity,
    ndc_to_11,
)
from billing.denials import FIX_WRONG_CPT, FIX_WRONG_HCPCS
from cases.diagnoses import is_forbidden_sma_code, normalize_icd10
from cases.label import KIT_TABLE
from common.npi import npi_is_valid

# --- Constants ----------------------------------------------------------------------------------
CPT_INITIAL_HOUR = "96365"  # docs/domain.md §6b
CPT_ADDITIONAL_HOUR = "96366"  # docs/domain.md §6b, §11.8
CPT_CHEMO_INITIAL = "96413"  # docs/domain.md §6b, §11.9: payer-dependent
ADMIN_CPT = frozenset({CPT_INITIAL_HOUR, CPT_ADDITIONAL_HOUR, CPT_CHEMO_INITIAL}) | WRONG_ADMIN_CPT

# 96365 needs an infusion of more than 15 minutes; 15 minutes or less is a push (docs/domain.md §6b).
PUSH_MAX_MINUTES = 15
# 96365 covers the first hour (docs/domain.md §6b).
INITIAL_HOUR_MINUTES = 60
# 96366 is reported per additional hour, and for a partial hour only when it runs more than
# 30 minutes (AAPC rule, docs/domain.md §6b: 75 min -> 96365 only; 1 h 45 min -> 96365 + 96366).
ADDITIONAL_HOUR_MINUTES = 60
ADDITIONAL_HOUR_THRESHOLD_MINUTES = 30

# J3399 is always 1 unit: the largest labeled dose (21 kg, 2.31e15 vg) is below the descriptor's
# 5x10^15 vg per treatment (docs/domain.md §6a [D]); one treatment per lifetime (card, docs/domain.md §1).
J3399_UNITS = Decimal(1)
# One kit is reported as NDC quantity UN 1 (card "J3399 × 1 unit"; NUCC unit qualifier UN).
KIT_NDC_UNIT = "UN"
KIT_NDC_QUANTITY = Decimal(1)

# CMS-1500 item 21 holds up to 12 diagnoses (A-L); item 24E points to at most 4 of them
# (NUCC 1500 reference instruction manual).
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
_POINTER_LETTERS = "ABCDEFGHIJKL"

# The card's site-of-care default: POS 21, 22 and 19 eligible; 11/49/12 "NOT eligible". This is
# a payer rule, not a property of the POS codes (docs/domain.md §6c, §11.10): payers override it.
CARD_DEFAULT_ALLOWED_POS = frozenset({"19", "21", "22"})

CODE_TYPES = frozenset({"HCPCS", "CPT"})
ERROR = "error"
WARNING = "warning"

# --- Claim types (docs/domain.md §13a) ----------------------------------------------------------
INSTITUTIONAL = "institutional"  # UB-04 / X12 837I
PROFESSIONAL = "professional"  # CMS-1500 / X12 837P
CLAIM_TYPES = frozenset({INSTITUTIONAL, PROFESSIONAL})
# Hospital settings: the facility bills the drug and its administration on the institutional
# claim, and CPT's instructions keep 96360-96379 off the physician's claim there (Regence payment
# policy 109 applies this at POS 19/21/22).
FACILITY_POS = frozenset({"19", "21", "22"})
INPATIENT_POS = frozenset({"21"})
# Revenue codes: 0636 "drugs requiring detailed coding" for J3399 with HCPCS and NDC; the 026x IV
# therapy family for 96365/96366 (docs/domain.md §13a [U]: common practice, not read in the NUBC
# manual or the manufacturer's guide; the site's chargemaster sets them).
REVENUE_DRUG_DETAIL = "0636"
REVENUE_IV_THERAPY = "0260"
REVENUE_IV_THERAPY_FAMILY = "026"
# All kit NDCs of the label's table, as 11-digit billing NDCs (docs/domain.md §1a).
KIT_NDCS_11 = frozenset(ndc_to_11(k.kit_ndc) for k in KIT_TABLE)
# Modifier rules a payer may hold (billing.models.ModifierRule).
MODIFIER_RULE_NONE = "none"
MODIFIER_RULE_JW_JZ = "jw_jz"
MAX_MODIFIERS = 4  # CMS-1500 item 24D and 837 SV1-01/SV2-02 hold up to four
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
_REVENUE = re.compile(r"^\d{4}$")


def claim_type_for_pos(pos: str | None) -> str:
    """Return who bills the drug and its administration at ``pos``: a hospital POS (19, 21, 22)
    gives the institutional claim, any other POS the professional claim (docs/domain.md §13a)."""
    return INSTITUTIONAL if pos in FACILITY_POS else PROFESSIONAL


def parse_modifiers(text: str) -> tuple[str, ...]:
    """Return modifiers typed as "JZ", "JZ KX" or "JZ,KX" (upper case); ValueError when any is not
    two letters or digits, repeats, or there are more than four."""
    items = [m for m in re.split(r"[\s,]+", (text or "").strip().upper()) if m]
    for m in items:
        if not _MODIFIER.fullmatch(m):
            raise ValueError(f"“{m[:10]}” is not a modifier: a modifier is two letters or digits, e.g. JZ.")
    if len(set(items)) != len(items):
        raise ValueError("A modifier appears twice on the line.")
    if len(items) > MAX_MODIFIERS:
        raise ValueError(f"A line holds at most {MAX_MODIFIERS} modifiers.")
    return tuple(items)


_POS_PATTERN = re.compile(r"^\d{2}$")


# --- Administration codes -----------------------------------------------------------------------
def admin_codes_for_duration(minutes: int) -> list[str]:
    """Return the CPT administration codes for an IV infusion of `minutes`, one entry per unit.

    Examples: 15 -> []; 16 and 60 and 90 -> ["96365"]; 91 and 150 -> ["96365", "96366"];
    151 -> ["96365", "96366", "96366"].

    Steps (AAPC rule, docs/domain.md §6b, §11.8):
    1. Reject a negative or non-integer duration.
    2. 15 minutes or less is a push, not an infusion: return [] (the scrubber flags the missing
       96365; 96374 is not a substitute, the label requires a 60-minute infusion).
    3. Otherwise 96365 once, for the initial hour.
    4. For the time past the first hour, count each full additional hour, plus one for a final
       partial hour only when it runs more than 30 minutes; add 96366 that many times.
       So 96366 starts at 91 minutes, a second 96366 at 151 minutes, a third at 211 minutes.
    """
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValueError(f"Infusion minutes must be a whole number, got {minutes!r}")
    if minutes < 0:
        raise ValueError(f"Infusion minutes cannot be negative, got {minutes}")
    if minutes <= PUSH_MAX_MINUTES:
        return []
    beyond_first_hour = max(0, minutes - INITIAL_HOUR_MINUTES)
    full_hours, remainder = divmod(beyond_first_hour, ADDITIONAL_HOUR_MINUTES)
    additional = full_hours + (1 if remainder > ADDITIONAL_HOUR_THRESHOLD_MINUTES else 0)
    return [CPT_INITIAL_HOUR] + [CPT_ADDITIONAL_HOUR] * additional


# --- Claim lines --------------------------------------------------------------------------------
def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


def _check_pos(value: str | None, what: str) -> None:
    if value is None or not value.strip():
        return
    if not _POS_PATTERN.fullmatch(value.strip()):
        raise ValueError(f"{what} must be a two-digit CMS POS code such as '22', got {value!r}")


@dataclass(frozen=True)
class ClaimInput:
    """What the claim needs from one infusion record. Blank strings count as missing."""

    kit_ndc: str | None
    infusion_minutes: int | None
    diagnosis_codes: tuple[str, ...]
    place_of_service: str | None
    pa_number: str | None
    date_of_service: date

    def __post_init__(self) -> None:
        if self.kit_ndc is not None and self.kit_ndc.strip():
            ndc_to_11(self.kit_ndc)  # raises ValueError on a malformed NDC
        if self.infusion_minutes is not None:
            admin_codes_for_duration(self.infusion_minutes)  # raises ValueError on bad minutes
        if not isinstance(self.diagnosis_codes, tuple):
            raise ValueError("diagnosis_codes must be a tuple, primary diagnosis first")
        if len(self.diagnosis_codes) > MAX_DIAGNOSES:
            raise ValueError(f"A claim holds at most {MAX_DIAGNOSES} diagnosis codes, got {len(self.diagnosis_codes)}")
        normalized = [normalize_icd10(c) for c in self.diagnosis_codes]
        if len(set(normalized)) != len(normalized):
            raise ValueError(f"Diagnosis codes repeat: {', '.join(normalized)}")
        for code in normalized:
            if is_forbidden_sma_code(code):
                raise ValueError(
                    f"{code} is a motor neuron disease code, not a 5q-SMA code; use G12.0, G12.1, G12.8 or G12.9"
                )
        _check_pos(self.place_of_service, "place_of_service")
        if isinstance(self.date_of_service, datetime) or not isinstance(self.date_of_service, date):
            raise ValueError(f"date_of_service must be a date, got {self.date_of_service!r}")


@dataclass(frozen=True)
class ClaimLine:
    """One CMS-1500 item 24 / 837P service line, with the NDC supplemental data for a drug."""

    line_no: int
    code: str
    code_type: str
    units: Decimal
    descriptor: str
    diagnosis_pointers: str
    place_of_service: str | None
    pa_number: str | None
    date_of_service: date
    ndc_11: str | None = None
    ndc_qualifier: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    modifiers: tuple[str, ...] = ()
    revenue_code: str | None = None  # institutional lines only
    charge: Decimal | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.modifiers, tuple) or any(not _MODIFIER.fullmatch(m) for m in self.modifiers):
            raise ValueError(f"modifiers must be a tuple of two-character codes, got {self.modifiers!r}")
        if len(self.modifiers) > MAX_MODIFIERS:
            raise ValueError(f"A line holds at most {MAX_MODIFIERS} modifiers, got {len(self.modifiers)}")
        if self.revenue_code is not None and not _REVENUE.fullmatch(self.revenue_code):
            raise ValueError(f"revenue_code must be 4 digits, got {self.revenue_code!r}")
        if self.charge is not None and (not isinstance(self.charge, Decimal) or self.charge < 0):
            raise ValueError(f"charge must be a Decimal of 0 or more, got {self.charge!r}")
        if isinstance(self.line_no, bool) or not isinstance(self.line_no, int) or self.line_no < 1:
            raise ValueError(f"line_no must be a positive whole number, got {self.line_no!r}")
        if self.code_type not in CODE_TYPES:
            raise ValueError(f"code_type must be 'HCPCS' or 'CPT', got {self.code_type!r}")
        if isinstance(self.units, bool) or not isinstance(self.units, (Decimal, int)) or not self.units > 0:
            raise ValueError(f"units must be a positive number, got {self.units!r}")
        if self.ndc_11 is not None and not re.fullmatch(r"\d{11}", self.ndc_11):
            raise ValueError(f"ndc_11 must be 11 digits without hyphens, got {self.ndc_11!r}")
        if self.ndc_unit is not None and self.ndc_unit not in NDC_UNIT_QUALIFIERS:
            raise ValueError(f"ndc_unit {self.ndc_unit!r} is not a valid NDC unit qualifier")
        _check_pos(self.place_of_service, "place_of_service")

    @property
    def ndc_supplemental(self) -> str | None:
        """Return the shaded-area NDC text, e.g. "N471894012002 UN1", or None if incomplete."""
        if not (self.ndc_11 and self.ndc_qualifier and self.ndc_unit and self.ndc_quantity):
            return None
        quantity = format_ndc_quantity(self.ndc_quantity)
        return f"{self.ndc_qualifier}{self.ndc_11} {self.ndc_unit}{quantity}"

    @property
    def code_with_modifiers(self) -> str:
        return " ".join((self.code, *self.modifiers))


def diagnosis_pointers(count: int) -> str:
    """Return item 24E pointers for `count` diagnoses: "A", "AB", ... at most "ABCD"."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"Diagnosis count must be a non-negative whole number, got {count!r}")
    return _POINTER_LETTERS[: min(count, MAX_POINTERS)]


@dataclass(frozen=True)
class LineSetup:
    """What the site's chargemaster and the payer's policy add to the lines of one claim."""

    claim_type: str = PROFESSIONAL
    revenue_codes: dict[str, str] | None = None  # code -> revenue code (institutional)
    charges: dict[str, Decimal] | None = None  # code -> charge per unit
    drug_modifiers: tuple[str, ...] = ()
    ndc_unit: str = KIT_NDC_UNIT
    ndc_quantity: Decimal = KIT_NDC_QUANTITY

    def __post_init__(self) -> None:
        if self.claim_type not in CLAIM_TYPES:
            raise ValueError(f"claim_type must be institutional or professional, got {self.claim_type!r}")


def drug_modifiers_for(rule: str, payer_modifiers: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Return the modifiers the J3399 line carries under a payer's rule.

    JW/JZ (CMS policy, docs/domain.md §13a): J3399 is billed per treatment, so no billing unit is
    ever discarded and the line takes JZ [U: how CMS applies JW/JZ to a per-treatment code is not
    confirmed]. Then the payer's own modifiers, in the order it lists them.
    """
    mods = ("JZ",) if rule == MODIFIER_RULE_JW_JZ else ()
    return mods + tuple(m for m in payer_modifiers if m not in mods)


def claim_lines(record: ClaimInput, setup: LineSetup | None = None) -> list[ClaimLine]:
    """Return the service lines for one Zolgensma infusion, J3399 first.

    Missing data (NDC, minutes, POS, PA number, diagnoses, charges) does not raise: the line is
    built without it so that `scrub` can name what is missing.

    Steps:
    1. Line 1: J3399 × 1 unit (docs/domain.md §6a), with the kit's 11-digit NDC, qualifier N4 and
       the payer's unit and quantity (UN 1 by default) when the kit NDC is known, and the
       modifiers the payer's rule asks for (`drug_modifiers_for`).
    2. Administration: `admin_codes_for_duration(infusion_minutes)` grouped by code, so 96365 is
       one line of 1 unit and 96366 one line with a unit per additional hour. No minutes, no
       administration lines.
    3. Every line points to the first four diagnoses (primary first) and carries the place of
       service, PA number and date of service; the charge is the chargemaster's per unit × units;
       institutional lines carry the chargemaster's revenue code.
    """
    setup = setup or LineSetup()
    pointers = diagnosis_pointers(len(record.diagnosis_codes))
    pos = _blank_to_none(record.place_of_service)
    pa_number = _blank_to_none(record.pa_number)
    kit_ndc = _blank_to_none(record.kit_ndc)
    revenue = setup.revenue_codes or {}
    charges = setup.charges or {}

    def line(no: int, code: str, code_type: str, units: Decimal, **extra: object) -> ClaimLine:
        table = HCPCS_CODES if code_type == "HCPCS" else CPT_CODES
        price = charges.get(code)
        return ClaimLine(
            line_no=no,
            code=code,
            code_type=code_type,
            units=units,
            descriptor=table[code].descriptor,
            diagnosis_pointers=pointers,
            place_of_service=pos,
            pa_number=pa_number,
            date_of_service=record.date_of_service,
            revenue_code=revenue.get(code) if setup.claim_type == INSTITUTIONAL else None,
            charge=(price * units).quantize(Decimal("0.01")) if price is not None else None,
            **extra,  # type: ignore[arg-type]
        )

    ndc: dict[str, object] = {}
    if kit_ndc is not None:
        ndc = {
            "ndc_11": ndc_to_11(kit_ndc),
            "ndc_qualifier": NDC_PRODUCT_QUALIFIER,
            "ndc_quantity": setup.ndc_quantity,
            "ndc_unit": setup.ndc_unit,
        }
    lines = [line(1, ZOLGENSMA_HCPCS, "HCPCS", J3399_UNITS, modifiers=setup.drug_modifiers, **ndc)]

    if record.infusion_minutes is not None:
        codes = admin_codes_for_duration(record.infusion_minutes)
        for code in dict.fromkeys(codes):  # keeps 96365 before 96366
            lines.append(line(len(lines) + 1, code, "CPT", Decimal(codes.count(code))))
    return lines


# --- Scrubber -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScrubContext:
    """What the scrubber needs to know beyond the lines: patient history and payer policy.

    payer_accepts_96413: True (accepted, no finding), False (rejected, error), None (unknown,
    warning). infusion_minutes: the documented run, when known, to check 96365/96366.
    """

    prior_j3399_billed: bool
    payer_allowed_pos: frozenset[str]
    pa_required: bool
    payer_accepts_96413: bool | None
    infusion_minutes: int | None = None
    # What the claim is checked against (None: not known, that check is skipped).
    claim_type: str | None = None  # None: the claim-type checks are skipped
    recorded_kit_ndc: str | None = None  # 11 digits, from the signed infusion record
    record_weight_text: str | None = None  # e.g. "5.9 kg (band 5.6-6.0 kg)", for the message
    approved_pa_number: str | None = None
    record_pos: str | None = None
    overrides: tuple[str, ...] = ()  # titles of the physician's gate overrides on the case
    ndc_unit: str = KIT_NDC_UNIT  # the payer's rule for the kit (UN 1 by default)
    ndc_quantity: Decimal = KIT_NDC_QUANTITY
    modifier_rule: str = MODIFIER_RULE_NONE
    payer_modifiers: tuple[str, ...] = ()
    modifier_source: str = ""

    def __post_init__(self) -> None:
        if self.claim_type is not None and self.claim_type not in CLAIM_TYPES:
            raise ValueError(f"claim_type must be institutional or professional, got {self.claim_type!r}")
        if not isinstance(self.payer_allowed_pos, frozenset) or not self.payer_allowed_pos:
            raise ValueError(
                "payer_allowed_pos must be a non-empty frozenset of POS codes "
                "(use CARD_DEFAULT_ALLOWED_POS when the payer's policy is not recorded)"
            )
        for pos in self.payer_allowed_pos:
            if not isinstance(pos, str) or not _POS_PATTERN.fullmatch(pos):
                raise ValueError(f"payer_allowed_pos holds {pos!r}, not a two-digit POS code")
        if self.infusion_minutes is not None:
            admin_codes_for_duration(self.infusion_minutes)  # raises ValueError on bad minutes


@dataclass(frozen=True)
class Finding:
    """One scrubber finding: what is wrong, how bad, how to fix it, and the rule's source."""

    code: str
    severity: str
    message: str
    fix: str
    source: str
    line_no: int | None = None


def provider_findings(ordering_npi: str, facility_npi: str) -> list[Finding]:
    """Findings about the ordering physician's NPI on the claim.

    1. Missing: the claim names no ordering provider (error).
    2. Check digit wrong (error).
    3. The facility's NPI (an organization, Type 2) in the physician's place (error): the payer
       cannot match the order to an individual prescriber (Type 1).
    """
    source = "CMS NPI standard (NPPES: individual Type 1, organization Type 2)"
    npi = (ordering_npi or "").strip()
    if not npi:
        return [
            Finding(
                "ordering_npi_missing",
                ERROR,
                "The claim names no ordering physician NPI.",
                "Record the ordering physician's individual NPI on the case.",
                source,
            )
        ]
    if not npi_is_valid(npi):
        return [
            Finding(
                "ordering_npi_invalid",
                ERROR,
                f"The ordering physician NPI {npi} fails the NPI check digit.",
                "Correct the ordering physician's NPI on the case.",
                source,
            )
        ]
    if npi == (facility_npi or "").strip():
        return [
            Finding(
                "ordering_npi_is_facility",
                ERROR,
                f"The ordering physician NPI {npi} is the facility's NPI.",
                "Record the ordering physician's individual NPI (Type 1), not the facility's (Type 2).",
                source,
            )
        ]
    return []


def _pos_label(pos: str) -> str:
    info = POS_CODES.get(pos)
    return f"{pos} ({info.descriptor})" if info else pos


def scrub(lines: list[ClaimLine], context: ScrubContext) -> list[Finding]:
    """Return the findings for a claim's lines, errors and warnings in a fixed order.

    Steps:
    1. Drug line: no J3399 line; wrong HCPCS (J3490/J3590/C9399); J3399 billed before for this
       patient; J3399 units other than 1 in total; J3399 without a complete N4 NDC, or with an
       NDC that is not a Zolgensma kit (labeler 71894).
    2. PA: J3399 line without a PA number when the payer requires PA.
    3. Place of service: missing, or not one the payer allows (each distinct POS once).
    4. Administration: 79101/96374 (error); 96413 (payer-dependent); no administration line;
       96365 units other than 1; 96365 for a documented run of 15 minutes or less; 96366 without
       96365, without an actual run over 90 minutes, or with units that do not match the run.
    Also: the NDC must be a kit of the label's table and the kit recorded on the infusion day,
    in the payer's unit and quantity; the PA number the approved one; one POS per claim, the
    infusion's; the claim type must fit the POS (no 96365/96366 or J3399 on a physician's claim
    in a hospital; revenue codes on institutional lines); the payer's modifier rule; and every
    physician gate override is a billing-review warning.
    """
    findings: list[Finding] = []
    add = findings.append
    j3399 = [ln for ln in lines if ln.code.upper() == ZOLGENSMA_HCPCS]

    # 1. Drug line.
    if not j3399:
        add(
            Finding(
                "missing_j3399",
                ERROR,
                "The claim has no J3399 line for the Zolgensma kit.",
                "Add J3399 × 1 unit with the kit's 11-digit NDC.",
                "CMS HCPCS Level II (J3399)",  # docs/domain.md §6a; card "THE 5 THINGS YOU NEED TO BILL J3399"
            )
        )
    for ln in lines:
        if ln.code.upper() in WRONG_HCPCS:
            add(
                Finding(
                    "wrong_hcpcs",
                    ERROR,
                    f"{ln.code.upper()} is an unclassified code; Zolgensma has its own permanent code.",
                    FIX_WRONG_HCPCS,
                    "CMS HCPCS Level II (J3399, J3590)",  # docs/domain.md §6a, §11.19; card top denials
                    ln.line_no,
                )
            )
    if j3399 and context.prior_j3399_billed:
        add(
            Finding(
                "j3399_prior_billed",
                ERROR,
                "J3399 has already been billed for this patient; Zolgensma is a one-time, "
                "lifetime treatment (repeat administration not evaluated).",
                "Do not bill J3399 again; check the patient's claim history.",
                "CMS HCPCS J3399 (per treatment); FDA label §1",  # docs/domain.md §1, §6a
            )
        )
    total_units = sum((Decimal(ln.units) for ln in j3399), Decimal(0))
    if j3399 and total_units != J3399_UNITS:
        add(
            Finding(
                "j3399_units",
                ERROR,
                f"J3399 is billed for {total_units} units in total; it is always 1 unit per treatment.",
                "Bill J3399 × 1 unit on a single line.",
                # docs/domain.md §6a [D]: the largest labeled dose is below the descriptor's cap.
                "CMS HCPCS J3399 (up to 5x10^15 vg); FDA label Table 1 (max 2.31e15 vg)",
            )
        )
    for ln in j3399:
        if ln.ndc_supplemental is None or ln.ndc_qualifier != NDC_PRODUCT_QUALIFIER:
            add(
                Finding(
                    "missing_ndc",
                    ERROR,
                    "J3399 has no complete NDC (N4 qualifier, 11-digit NDC, unit and quantity).",
                    "Enter the kit NDC from the kit label, e.g. N471894012002 UN1.",
                    "NUCC 1500 item 24 shaded area; FDA NDC Directory",  # docs/domain.md §1a
                    ln.line_no,
                )
            )
        elif not ln.ndc_11.startswith(ZOLGENSMA_NDC_LABELER):  # type: ignore[union-attr]
            add(
                Finding(
                    "ndc_not_zolgensma",
                    ERROR,
                    f"NDC {ln.ndc_11} is not a Zolgensma kit (kit NDCs start {ZOLGENSMA_NDC_LABELER}).",
                    "Enter the NDC printed on the Zolgensma kit carton.",
                    "FDA label §16; FDA NDC Directory",  # docs/domain.md §1a (kit NDC table)
                    ln.line_no,
                )
            )
        elif ln.ndc_11 not in KIT_NDCS_11:
            add(
                Finding(
                    "ndc_unknown",
                    ERROR,
                    f"NDC {ln.ndc_11} is not one of the 37 Zolgensma kit NDCs in the label's table.",
                    "Enter the NDC printed on the kit carton; it is set by the infant's weight band.",
                    "FDA label §2.1 Table 1, §16",
                    ln.line_no,
                )
            )
        elif context.recorded_kit_ndc and ln.ndc_11 != context.recorded_kit_ndc:
            weight = f" for {context.record_weight_text}" if context.record_weight_text else ""
            add(
                Finding(
                    "ndc_not_recorded_kit",
                    ERROR,
                    f"NDC {ln.ndc_11} is not the kit recorded on the infusion day{weight}: {context.recorded_kit_ndc}.",
                    f"Bill the kit that was infused: N4{context.recorded_kit_ndc}.",
                    "FDA label §2.1 Table 1 (the kit follows the weight band); signed infusion record",
                    ln.line_no,
                )
            )
        if (
            ln.ndc_11
            and ln.ndc_unit
            and ln.ndc_quantity is not None
            and (ln.ndc_unit != context.ndc_unit or Decimal(ln.ndc_quantity) != context.ndc_quantity)
        ):
            want = f"{context.ndc_unit}{format_ndc_quantity(context.ndc_quantity)}"
            add(
                Finding(
                    "ndc_unit",
                    ERROR,
                    f"The NDC quantity {ln.ndc_unit}{format_ndc_quantity(ln.ndc_quantity)} does not match "
                    f"the payer's rule for one kit ({want}).",
                    f"Report the kit as {want}: one kit is one unit (UN), not its volume in mL.",
                    "card 'J3399 × 1 unit'; NUCC 1500 item 24 shaded area; payer policy",
                    ln.line_no,
                )
            )

    # 2. Prior authorization.
    if context.pa_required:
        for ln in j3399:
            if not (ln.pa_number and ln.pa_number.strip()):
                add(
                    Finding(
                        "missing_pa",
                        ERROR,
                        "The payer requires prior authorization and the claim has no PA number.",
                        "Enter the payer's PA number (item 23).",
                        "Common payer practice",  # card "PAYER POLICIES": all listed payers require PA
                        ln.line_no,
                    )
                )

    if context.approved_pa_number:
        wrong = sorted(
            {ln.pa_number.strip() for ln in lines if ln.pa_number and ln.pa_number.strip()}
            - {context.approved_pa_number}
        )
        for number in wrong:
            add(
                Finding(
                    "pa_mismatch",
                    ERROR,
                    f"PA number {number} is not the approved authorization {context.approved_pa_number}.",
                    f"Enter the approved PA number {context.approved_pa_number} (item 23 / treatment authorization).",
                    "payer prior authorization (approved PA on file)",
                )
            )

    # 3. Place of service.
    distinct_pos = sorted({p for p in (_blank_to_none(ln.place_of_service) for ln in lines) if p})
    if len(distinct_pos) > 1:
        add(
            Finding(
                "pos_mixed",
                ERROR,
                f"The lines carry different places of service ({', '.join(distinct_pos)}); one claim has one.",
                "Use the place of service of the infusion on every line.",
                "NUCC 1500 item 24B; one encounter, one setting",
            )
        )
    if context.record_pos:
        off = [p for p in distinct_pos if p != context.record_pos]
        if off:
            add(
                Finding(
                    "pos_not_record",
                    ERROR,
                    f"Place of service {', '.join(off)} is not where the infusion was given "
                    f"({_pos_label(context.record_pos)}).",
                    f"Bill place of service {context.record_pos}, as on the case and infusion record.",
                    "CMS POS code set; signed infusion record",
                )
            )

    allowed = ", ".join(_pos_label(p) for p in sorted(context.payer_allowed_pos))
    seen_pos: set[str | None] = set()
    for ln in lines:
        pos = _blank_to_none(ln.place_of_service)
        if pos in seen_pos:
            continue
        seen_pos.add(pos)
        if pos is None:
            add(
                Finding(
                    "missing_pos",
                    ERROR,
                    "The claim line has no place of service.",
                    f"Enter the place of service; this payer allows {allowed}.",
                    "NUCC 1500 item 24B; CMS POS code set",  # docs/domain.md §6c
                    ln.line_no,
                )
            )
        elif pos not in context.payer_allowed_pos:
            add(
                Finding(
                    "pos_not_allowed",
                    ERROR,
                    f"Place of service {_pos_label(pos)} is not allowed by this payer's site-of-care policy.",
                    f"Infuse and bill at a site the payer allows: {allowed}.",
                    # docs/domain.md §6c, §11.10; the default allowed POS are the card's "SITE OF CARE".
                    "Payer site-of-care policy; GeneGate default",
                    ln.line_no,
                )
            )

    # 4. Administration.
    for ln in lines:
        if ln.code in WRONG_ADMIN_CPT:
            why = (
                "an IV push; the label requires a slow 60-minute infusion"
                if ln.code == "96374"
                else "radiopharmaceutical therapy; Zolgensma is not a radiopharmaceutical"
            )
            add(
                Finding(
                    "wrong_cpt",
                    ERROR,
                    f"{ln.code} is {why}.",
                    FIX_WRONG_CPT,
                    "AMA CPT (CPT instructions); FDA label §2.1",  # docs/domain.md §6b, §11.9; card top denials
                    ln.line_no,
                )
            )
        elif ln.code == CPT_CHEMO_INITIAL and context.payer_accepts_96413 is not True:
            rejected = context.payer_accepts_96413 is False
            add(
                Finding(
                    "cpt_96413",
                    ERROR if rejected else WARNING,
                    "96413 (chemotherapy administration) is not accepted by this payer."
                    if rejected
                    else "96413 is payer-dependent for a highly complex biologic; 96365 is the standard code.",
                    FIX_WRONG_CPT if rejected else f"{FIX_WRONG_CPT} unless the payer confirms 96413.",
                    "AMA CPT 96365, 96413 (CPT instructions); payer policy",  # docs/domain.md §6b, §11.9
                    ln.line_no,
                )
            )

    # 5. Claim type and setting (docs/domain.md §13a).
    facility_pos = [p for p in distinct_pos if p in FACILITY_POS]
    if context.claim_type == PROFESSIONAL and facility_pos:
        for ln in lines:
            if ln.code in (CPT_INITIAL_HOUR, CPT_ADDITIONAL_HOUR):
                add(
                    Finding(
                        "admin_in_facility",
                        ERROR,
                        f"{ln.code} is not reported by the physician in the facility setting "
                        f"(POS {', '.join(facility_pos)}).",
                        "Remove it from the physician's CMS-1500; the hospital bills the infusion on its UB-04 "
                        "(revenue code 026x).",
                        "AMA CPT 96360-96379 instructions, as applied by Regence payment policy 109",
                        ln.line_no,
                    )
                )
            elif ln.code.upper() == ZOLGENSMA_HCPCS:
                add(
                    Finding(
                        "drug_on_professional_in_facility",
                        ERROR,
                        f"J3399 on a professional claim at a hospital (POS {', '.join(facility_pos)}): the "
                        "hospital bills the drug.",
                        "Bill J3399 on the hospital's institutional claim (UB-04 / 837I, revenue code 0636).",
                        "NUBC UB-04 / X12 837I",
                        ln.line_no,
                    )
                )
    if context.claim_type == INSTITUTIONAL:
        if distinct_pos and not facility_pos:
            add(
                Finding(
                    "institutional_not_hospital",
                    ERROR,
                    f"An institutional claim for place of service {', '.join(distinct_pos)}, which is not a hospital.",
                    "Bill the drug and its administration on the professional claim (CMS-1500 / 837P).",
                    "NUBC UB-04 / X12 837I and 837P",
                )
            )
        for ln in lines:
            if not ln.revenue_code:
                add(
                    Finding(
                        "missing_revenue_code",
                        ERROR,
                        f"{ln.code} has no revenue code; every institutional line needs one.",
                        "Set the revenue code in the site's billing settings (0636 for J3399, 0260 for 96365/96366).",
                        "NUBC UB-04 FL 42",
                        ln.line_no,
                    )
                )
            elif ln.code.upper() == ZOLGENSMA_HCPCS and ln.revenue_code != REVENUE_DRUG_DETAIL:
                add(
                    Finding(
                        "revenue_code",
                        WARNING,
                        f"J3399 under revenue code {ln.revenue_code}; detail-coded drugs commonly go under 0636.",
                        "Use 0636 unless the payer says otherwise.",
                        "Payer policy (unverified: confirm with the payer)",
                        ln.line_no,
                    )
                )
            elif ln.code in ADMIN_CPT and not ln.revenue_code.startswith(REVENUE_IV_THERAPY_FAMILY):
                add(
                    Finding(
                        "revenue_code",
                        WARNING,
                        f"{ln.code} under revenue code {ln.revenue_code}; IV therapy commonly goes under 026x.",
                        "Use 0260 unless the payer says otherwise.",
                        "Payer policy (unverified: confirm with the payer)",
                        ln.line_no,
                    )
                )

    # 6. Modifiers: the payer's rule (docs/domain.md §13a).
    source = context.modifier_source or "payer policy"
    for ln in lines:
        jw_jz = [m for m in ln.modifiers if m in ("JW", "JZ")]
        if jw_jz and ln.code.upper() != ZOLGENSMA_HCPCS:
            add(
                Finding(
                    "modifier_not_drug",
                    ERROR,
                    f"{'/'.join(jw_jz)} on {ln.code}: JW and JZ belong on the drug line only.",
                    f"Remove {'/'.join(jw_jz)} from {ln.code}.",
                    "CMS JW/JZ modifier policy FAQ",
                    ln.line_no,
                )
            )
    for ln in j3399:
        jw_jz = [m for m in ln.modifiers if m in ("JW", "JZ")]
        if len(jw_jz) > 1:
            add(
                Finding(
                    "modifier_jw_jz",
                    ERROR,
                    "J3399 carries both JW and JZ.",
                    "JZ when nothing is discarded; JW only on a separate line for the discarded amount.",
                    "CMS JW/JZ modifier policy FAQ",
                    ln.line_no,
                )
            )
        elif context.modifier_rule == MODIFIER_RULE_JW_JZ and not jw_jz:
            add(
                Finding(
                    "modifier_jw_jz",
                    ERROR,
                    "This payer requires JW or JZ on single-dose drug lines and J3399 has neither.",
                    "Add JZ (J3399 is billed per treatment, so no billing unit is discarded).",
                    f"{source} (CMS JW/JZ policy; how it applies to a per-treatment code is unverified)",
                    ln.line_no,
                )
            )
        missing = [m for m in context.payer_modifiers if m not in ln.modifiers]
        if missing:
            add(
                Finding(
                    "modifier_required",
                    ERROR,
                    f"This payer requires modifier {', '.join(missing)} on J3399.",
                    f"Add {', '.join(missing)} to the J3399 line.",
                    source,
                    ln.line_no,
                )
            )

    # 7. Billing review: a physician overrode the eligibility gate.
    for title in context.overrides:
        add(
            Finding(
                "override_review",
                WARNING,
                f"A physician overrode the gate item “{title}” to infuse; the payer may question it.",
                "Review the override's written reason with the physician before the claim goes out, and "
                "attach it if the payer asks.",
                "physician gate override on the case (GeneGate record)",
            )
        )

    initial = [ln for ln in lines if ln.code == CPT_INITIAL_HOUR]
    additional = [ln for ln in lines if ln.code == CPT_ADDITIONAL_HOUR]
    minutes = context.infusion_minutes
    if j3399 and not any(ln.code in ADMIN_CPT for ln in lines):
        add(
            Finding(
                "missing_admin",
                WARNING,
                "No administration code: the infusion time is missing or was 15 minutes or less (a push).",
                "Document the infusion start and stop times and bill 96365 for the 60-minute infusion.",
                "AMA CPT 96365 (CPT instructions); FDA label §2.1",  # docs/domain.md §6b; card "ADMIN CPT 96365"
            )
        )
    for ln in initial:
        if ln.units != 1:
            add(
                Finding(
                    "admin_units",
                    ERROR,
                    f"96365 is billed for {ln.units} units; the initial hour is 1 unit.",
                    "Bill 96365 × 1; bill later hours with 96366.",
                    "AMA CPT 96365 (CPT instructions)",  # docs/domain.md §6b
                    ln.line_no,
                )
            )
        if minutes is not None and minutes <= PUSH_MAX_MINUTES:
            add(
                Finding(
                    "admin_time",
                    ERROR,
                    f"A documented run of {minutes} minutes is a push, not an infusion; 96365 "
                    "needs more than 15 minutes.",
                    "Check the documented start and stop times; the label requires a 60-minute infusion.",
                    "AMA CPT 96365 (CPT instructions); FDA label §2.1",  # docs/domain.md §6b
                    ln.line_no,
                )
            )

    expected_96366 = admin_codes_for_duration(minutes).count("96366") if minutes else 0
    # docs/domain.md §6b, §11.8 (AAPC coding alert)
    source_96366 = "AMA CPT 96365/96366 (CPT instructions: > 30 min past the previous hour)"
    for ln in additional:
        if not initial:
            add(
                Finding(
                    "add_on_96366",
                    ERROR,
                    "96366 is an add-on code and the claim has no 96365.",
                    "Bill 96365 for the first hour; add 96366 only for a run over 90 minutes.",
                    source_96366,
                    ln.line_no,
                )
            )
        elif minutes is None:
            add(
                Finding(
                    "add_on_96366",
                    ERROR,
                    "96366 is billed but no infusion time over 90 minutes is documented.",
                    "Document the start and stop times, or remove 96366 for a 60-minute infusion.",
                    source_96366,
                    ln.line_no,
                )
            )
        elif ln.units != expected_96366:
            fix = (
                f"Remove 96366: {minutes} minutes is billed as 96365 only."
                if expected_96366 == 0
                else f"Bill 96366 × {expected_96366} for {minutes} minutes."
            )
            add(
                Finding(
                    "add_on_96366",
                    ERROR,
                    f"96366 × {ln.units} does not match the documented {minutes}-minute run.",
                    fix,
                    source_96366,
                    ln.line_no,
                )
            )
    if initial and not additional and expected_96366:
        add(
            Finding(
                "add_on_96366",
                WARNING,
                f"The documented {minutes}-minute run supports 96366 × {expected_96366}, which is not billed.",
                f"Add 96366 × {expected_96366}.",
                source_96366,
            )
        )
    return findings
