"""What an incoming result means: LOINC code → analyte key (cases.analytes), UCUM unit → the
unit spelling cases.analytes accepts, result statuses, and reference ranges. Pure functions.

Sources: LOINC codes from docs/loinc.md (each verified and cited at loinc.org); units and
conversions from cases/analytes.py (docs/domain.md §9). A laboratory's own codes map to LOINC
or to an analyte key through Laboratory.local_codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cases.analytes import ANALYTES, to_canonical

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"


@dataclass(frozen=True)
class Code:
    """A LOINC code: its short display name, the analyte key it records as (None: not
    recorded), its LOINC long common name and the UCUM unit laboratories usually send."""

    display: str
    analyte: str | None
    long_name: str
    ucum: str


# docs/loinc.md, row for row (tests/inbox/test_loinc_table.py): each code's long common name,
# its source at loinc.org and how it was verified. None: a code GeneGate recognises but keeps no
# analyte for; the message lists it as "not recorded" (it stays in the raw message).
LOINC: dict[str, Code] = {
    "1742-6": Code("ALT", "alt", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L"),
    "1920-8": Code("AST", "ast", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L"),
    "1975-2": Code("Total bilirubin", "tbili", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL"),
    "1968-7": Code("Direct bilirubin", None, "Bilirubin.direct [Mass/volume] in Serum or Plasma", "mg/dL"),
    "777-3": Code("Platelets", "platelets", "Platelets [#/volume] in Blood by Automated count", "10*3/uL"),
    "718-7": Code("Hemoglobin", "hemoglobin", "Hemoglobin [Mass/volume] in Blood", "g/dL"),
    "10839-9": Code(
        "Troponin I (cardiac)", "troponin_i", "Troponin I.cardiac [Mass/volume] in Serum or Plasma", "ng/mL"
    ),
    "89579-7": Code(
        "Troponin I, high-sensitivity",
        "troponin_i",
        "Troponin I.cardiac [Mass/volume] in Serum or Plasma by High sensitivity method",
        "ng/L",
    ),
    "2160-0": Code("Creatinine", "creatinine", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL"),
    "5902-2": Code("Prothrombin time", "pt", "Prothrombin time (PT)", "s"),
    "6301-6": Code("INR", "inr", "INR in Platelet poor plasma by Coagulation assay", "{INR}"),
    "2324-2": Code("GGT", None, "Gamma glutamyl transferase [Enzymatic activity/volume] in Serum or Plasma", "U/L"),
}

# UCUM codes a laboratory sends → the spelling cases.analytes.ANALYTES accepts. Anything else
# is tried as written (to_canonical forgives case, "u" for "µ" and "x" for "×").
UCUM_UNITS: dict[str, str] = {
    "U/L": "U/L",
    "[IU]/L": "IU/L",
    "mg/dL": "mg/dL",
    "umol/L": "µmol/L",
    "s": "s",
    "{INR}": "INR",
    "{ratio}": "ratio",
    "1": "ratio",
    "g/dL": "g/dL",
    "g/L": "g/L",
    "10*9/L": "10^9/L",
    "10*3/uL": "10^3/µL",
    "10*3/mm3": "10^3/µL",
    "ng/L": "ng/L",
    "pg/mL": "pg/mL",
    "ng/mL": "ng/mL",
    "ug/L": "µg/L",
}

# Which result statuses are recorded (HL7 table 0085 OBX-11; FHIR ObservationStatus).
FINAL, CORRECTED, PRELIMINARY, CANCELLED = "final", "corrected", "preliminary", "cancelled"
HL7_STATUS = {"F": FINAL, "C": CORRECTED, "P": PRELIMINARY, "R": PRELIMINARY, "S": PRELIMINARY, "I": PRELIMINARY}
HL7_STATUS |= {"X": CANCELLED, "D": CANCELLED, "W": CANCELLED}
FHIR_STATUS = {
    "final": FINAL,
    "corrected": CORRECTED,
    "amended": CORRECTED,
    "preliminary": PRELIMINARY,
    "registered": PRELIMINARY,
    "cancelled": CANCELLED,
    "entered-in-error": CANCELLED,
}


class MeaningError(ValueError):
    """A result GeneGate cannot interpret (unknown unit, not a number): the message fails."""


def analyte_for(code: str, system: str, local_codes: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """(analyte key or None, display name) for a test code.

    1. The laboratory's local code, mapped to a LOINC code or straight to an analyte key.
    2. A LOINC code (docs/loinc.md), whatever system the lab names for it.
    Unknown codes give (None, "") and are listed as not recorded.
    """
    code = (code or "").strip()
    mapped = (local_codes or {}).get(code)
    if mapped:
        if mapped in ANALYTES:
            return mapped, ANALYTES[mapped].label
        code = mapped
    known = LOINC.get(code)
    if known is None:
        return None, ""
    return known.analyte, known.display


def unit_for(analyte: str, unit: str) -> str:
    """The unit spelling cases.analytes accepts for ``unit`` (a UCUM code or as printed), or
    MeaningError naming the units it accepts."""
    text = (unit or "").strip()
    if not text and analyte == "inr":
        return "ratio"
    if not text:
        raise MeaningError(f"{ANALYTES[analyte].label} has no unit; send one of: {_accepted(analyte)}")
    candidate = UCUM_UNITS.get(text) or text.replace("*", "^").replace("[", "").replace("]", "")
    try:
        to_canonical(analyte, 1, candidate)
    except ValueError:
        raise MeaningError(
            f"{ANALYTES[analyte].label} in {text!r} cannot be converted; send one of: {_accepted(analyte)}"
        ) from None
    return candidate


def _accepted(analyte: str) -> str:
    return ", ".join(ANALYTES[analyte].accepted_units)


def number(text: str, what: str) -> Decimal:
    """A plain, finite, non-negative decimal, or MeaningError (e.g. '<0.01' is refused: the
    assay's limit is not a value GeneGate can judge; the coordinator enters it by hand)."""
    raw = (text or "").strip()
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise MeaningError(f"{what} value {raw[:20]!r} is not a number") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e9"):
        raise MeaningError(f"{what} value {raw[:20]!r} is out of range")
    return value


_RANGE = re.compile(r"^\s*(?P<low>\d+(?:\.\d+)?)?\s*(?:-|–|to)\s*(?P<high>\d+(?:\.\d+)?)\s*$")
_UPPER = re.compile(r"^\s*(?:<|<=|≤)\s*(?P<high>\d+(?:\.\d+)?)\s*$")
_LOWER = re.compile(r"^\s*(?:>|>=|≥)\s*(?P<low>\d+(?:\.\d+)?)\s*$")


def reference_range(text: str) -> tuple[Decimal | None, Decimal | None]:
    """(low, high) of a printed reference range: '10-40', '<40', '>150'; (None, None) otherwise."""
    text = (text or "").strip()
    for pattern in (_RANGE, _UPPER, _LOWER):
        m = pattern.match(text)
        if m:
            groups = m.groupdict()
            low, high = groups.get("low"), groups.get("high")
            return (Decimal(low) if low else None, Decimal(high) if high else None)
    return None, None
