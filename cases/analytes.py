"""The analytes GeneGate records, in one place: key, display name, canonical unit, the units a
lab may report (with their conversion), which reference limit matters, and which analytes make
up the baseline panel. Flags, forms, tables, charts, packets and e-mails all read this module.

Sources: docs/domain.md §2 (baseline labs), §9 (reference ranges and units).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Analyte:
    """An analyte's display label, canonical unit and accepted units (unit -> units per canonical unit)."""

    label: str
    canonical_unit: str
    # How many of each accepted unit make one canonical unit (17.1 µmol/L per mg/dL);
    # canonical value = reported value ÷ this, so 17.1 µmol/L converts to exactly 1 mg/dL.
    accepted_units: Mapping[str, Decimal]
    # Which reference limit matters clinically: "upper" (a result is judged as a multiple of
    # the ULN: liver enzymes, bilirubin, PT, creatinine, troponin) or "lower" (a fall below
    # the lower limit matters: platelets, hemoglobin).
    limit: str = "upper"
    # The units a form offers, each unit once; other spellings of them (IU/L for U/L, "sec"
    # for s, pg/mL for ng/L) are still accepted when read. Empty: every accepted unit.
    offered: tuple[str, ...] = ()

    @property
    def units_offered(self) -> tuple[str, ...]:
        return self.offered or tuple(self.accepted_units)


_ONE = Decimal(1)
# Conversion factors: bilirubin 1 mg/dL = 17.1 µmol/L; creatinine 1 mg/dL = 88.4 µmol/L;
# hemoglobin 1 g/dL = 10 g/L; platelets 10⁹/L = 10³/µL; troponin 1 ng/mL = 1 µg/L = 1000 ng/L
# = 1000 pg/mL (standard SI conversions; troponin units per docs/domain.md §5, §9).
ANALYTES: dict[str, Analyte] = {
    "alt": Analyte("ALT", "U/L", {"U/L": _ONE, "IU/L": _ONE}, offered=("U/L",)),
    "ast": Analyte("AST", "U/L", {"U/L": _ONE, "IU/L": _ONE}, offered=("U/L",)),
    "tbili": Analyte("Total bilirubin", "mg/dL", {"mg/dL": _ONE, "µmol/L": Decimal("17.1")}),
    "pt": Analyte("Prothrombin time", "s", {"s": _ONE, "sec": _ONE, "seconds": _ONE}, offered=("s",)),
    "inr": Analyte("INR", "ratio", {"ratio": _ONE, "INR": _ONE}, offered=("ratio",)),
    "creatinine": Analyte("Creatinine", "mg/dL", {"mg/dL": _ONE, "µmol/L": Decimal("88.4")}),
    "hemoglobin": Analyte("Hemoglobin", "g/dL", {"g/dL": _ONE, "g/L": Decimal(10)}, limit="lower"),
    "platelets": Analyte(
        "Platelets",
        "10^9/L",
        {
            "10^9/L": _ONE,
            "×10^9/L": _ONE,
            "10^3/µL": _ONE,
            "×10^3/µL": _ONE,
            "K/µL": _ONE,
        },
        limit="lower",
        offered=("10^9/L", "10^3/µL"),
    ),
    "troponin_i": Analyte(
        "Troponin-I",
        "ng/L",
        {"ng/L": _ONE, "pg/mL": _ONE, "ng/mL": Decimal("0.001"), "µg/L": Decimal("0.001")},
        offered=("ng/L", "ng/mL"),
    ),
    # White blood cells: not a label baseline requirement; some payer policies set a limit (eviCore:
    # WBC ≤ 20,000 per µL, docs/domain.md §2, §13c). 20,000/µL = 20 × 10⁹/L.
    "wbc": Analyte(
        "White blood cells (WBC)",
        "10^9/L",
        {
            "10^9/L": _ONE,
            "×10^9/L": _ONE,
            "10^3/µL": _ONE,
            "×10^3/µL": _ONE,
            "K/µL": _ONE,
            "/µL": Decimal(1000),
            "cells/µL": Decimal(1000),
        },
        offered=("10^9/L", "10^3/µL", "/µL"),
    ),
}

# --- Baseline labs (docs/domain.md §2) ---------------------------------------------------
# Liver: Label boxed warning / §5.1; creatinine + CBC: label §5 TMA, zolgensma-hcp.com;
# troponin-I: label §2.1/§5. PT may be reported as PT or INR.
BASELINE_LAB_ANALYTES = (
    "alt",
    "ast",
    "tbili",
    "pt",
    "creatinine",
    "hemoglobin",
    "platelets",
    "troponin_i",
)
# Recorded with the baseline panel when a payer's policy asks for them (billing.Payer criteria);
# the label does not require them, so the gate's baseline-labs item does not wait for them.
PAYER_LAB_ANALYTES = ("wbc",)
PANEL_ANALYTES = BASELINE_LAB_ANALYTES + PAYER_LAB_ANALYTES
# What a lower-limit analyte is judged against where a document prints it (the lab form records
# the lab's upper limit only): platelets 150 × 10⁹/L, the general TMA criterion (docs/domain.md §9;
# the label sets no number); hemoglobin 8 g/dL, the floor of the eviCore Zolgensma policy's lab
# gate (docs/domain.md §2). (value in the canonical unit, public source)
LOWER_LIMITS: dict[str, tuple[Decimal, str]] = {
    "platelets": (Decimal("150"), "general thrombotic microangiopathy criterion"),
    "hemoglobin": (Decimal("8"), "eviCore Zolgensma policy"),
}
# Decimal places a document prints a canonical value with (bilirubin 0.398 mg/dL reads 0.40).
DISPLAY_DECIMALS: dict[str, int] = {"tbili": 2, "creatinine": 2, "inr": 1}


def display_value(analyte: str, value: Decimal) -> str:
    """Return ``value`` (canonical unit) as every document prints it: DISPLAY_DECIMALS places for the
    analytes that have them (bilirubin 0.398 → "0.40"), else without trailing zeros (28.000 → "28")."""
    places = DISPLAY_DECIMALS.get(analyte)
    if places is not None:
        return format(value.quantize(Decimal(1).scaleb(-places)), "f")
    text = format(value.normalize(), "f")
    return text


LAB_ANALYTE_ALIASES = {"inr": "pt"}  # an INR result satisfies the PT requirement
LAB_ANALYTE_NAMES = {
    "alt": "ALT",
    "ast": "AST",
    "tbili": "total bilirubin",
    "pt": "prothrombin time or INR",
    "inr": "INR",
    "creatinine": "creatinine",
    "hemoglobin": "hemoglobin",
    "platelets": "platelets",
    "troponin_i": "troponin-I",
    "wbc": "white blood cells (WBC)",
}


def _decimal(value: object, what: str) -> Decimal:
    """Return `value` as a finite, non-negative Decimal, or raise ValueError naming `what`."""
    if isinstance(value, bool):  # bad input is a ValueError throughout the rule modules
        raise ValueError(f"{what} must be a number, not {value!r}")  # noqa: TRY004
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    if result < 0:
        raise ValueError(f"{what} cannot be negative ({value})")
    return result


def _normal_unit(unit: str) -> str:
    # Accept the usual spellings: micro sign, Greek mu or "u" for micro, "x" for "×", any case
    # or spacing. casefold() turns the micro sign into Greek mu, so fold first, then map.
    text = unit.strip().replace(" ", "").casefold().replace("\u03bc", "\u00b5")
    text = text.replace("×", "x")
    if text.startswith("u") and not text.startswith("u/"):
        text = "\u00b5" + text[1:]
    return text.replace("/u", "/\u00b5")


def analyte_info(analyte: str) -> Analyte:
    """Return ANALYTES[analyte], or raise ValueError listing the known analyte keys."""
    try:
        return ANALYTES[analyte]
    except KeyError:
        raise ValueError(f"Unknown analyte {analyte!r}; expected one of: {', '.join(ANALYTES)}") from None


def to_canonical(analyte: str, value: Decimal | int | str, unit: str) -> tuple[Decimal, str]:
    """Return (value in the canonical unit, canonical unit) for `value` reported in `unit`.

    1. Look up the analyte (ValueError if unknown).
    2. Match the unit, forgiving case, spaces, "u"/"μ" for "µ" and "x" for "×".
    3. Divide by the unit's per-canonical ratio (bilirubin µmol/L ÷ 17.1, troponin
       ng/mL ÷ 0.001, i.e. × 1000).
    An unknown unit raises ValueError listing the accepted units.
    """
    info = analyte_info(analyte)
    number = _decimal(value, f"{info.label} value")
    wanted = _normal_unit(unit)
    for accepted, factor in info.accepted_units.items():
        if _normal_unit(accepted) == wanted:
            return number / factor, info.canonical_unit
    accepted_list = ", ".join(info.accepted_units)
    raise ValueError(f"{info.label} in {unit!r} is not accepted; use one of: {accepted_list}")
