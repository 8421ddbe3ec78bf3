"""Weight rounding, kit lookup and prednisolone dose (docs/domain.md §1, §1a, §3)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from cases.label import (
    DOSE_ML_PER_KG,
    DOSE_VG_PER_KG,
    DOSE_VOLUME_QUANTUM_ML,
    KIT_TABLE,
    PREDNISOLONE_MG_PER_KG_DAY,
    PREDNISOLONE_QUANTUM_MG,
    WEIGHT_MAX_KG,
    WEIGHT_MIN_KG,
    WEIGHT_QUANTUM_KG,
    Kit,
)

__all__ = [
    "Kit",
    "dose_volume_ml_for_band",
    "kit_for_weight",
    "prednisolone_mg_per_day",
    "round_weight",
    "to_decimal_kg",
    "total_vg_for_band",
]


def to_decimal_kg(kg: Decimal | int | str | float) -> Decimal:
    """Return ``kg`` as a finite, positive Decimal.

    Floats go through ``str`` first so that 3.05 stays 3.05 (Decimal(3.05) is
    3.04999..., which would round to the wrong band). Raises ValueError otherwise.
    """
    if isinstance(kg, bool):
        raise ValueError("A weight must be a number of kilograms, not True/False.")
    try:
        if isinstance(kg, float):
            if not math.isfinite(kg):
                raise ValueError(f"A weight must be a finite number of kg; got {kg!r}.")
            value = Decimal(str(kg))
        else:
            value = Decimal(kg.strip() if isinstance(kg, str) else kg)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"'{kg}' is not a weight in kg.") from exc
    if not value.is_finite():
        raise ValueError(f"A weight must be a finite number of kg; got {kg!r}.")
    if value <= 0:
        raise ValueError(f"A weight must be above 0 kg; got {kg}.")
    return value


def round_weight(kg: Decimal | int | str | float) -> Decimal:
    """Return the weight rounded to 0.1 kg, half up (docs/domain.md §1a: round before lookup)."""
    return to_decimal_kg(kg).quantize(WEIGHT_QUANTUM_KG, rounding=ROUND_HALF_UP)


def dose_volume_ml_for_band(band_high_kg: Decimal) -> Decimal:
    """Return the dose volume for a band: 5.5 mL/kg x the band's UPPER limit, to 0.1 mL.

    Label Table 1 footnote: the dose volume uses the upper limit of the weight band.
    """
    return (DOSE_ML_PER_KG * band_high_kg).quantize(DOSE_VOLUME_QUANTUM_ML, rounding=ROUND_HALF_UP)


def total_vg_for_band(band_high_kg: Decimal) -> Decimal:
    """Return the total vector genomes for a band: 1.1e14 vg/kg x upper limit (label §2.1)."""
    return DOSE_VG_PER_KG * band_high_kg


def kit_for_weight(kg: Decimal | int | str | float) -> Kit | None:
    """Return the labeled kit for a weight, or None outside 2.6-21.0 kg.

    1. Round the weight to 0.1 kg, half up (docs/domain.md §1a).
    2. Below 2.6 kg or above 21.0 kg there is no labeled kit: return None.
    3. Return the band whose [low, high] contains the rounded weight (label Table 1).
    """
    rounded = round_weight(kg)
    if rounded < WEIGHT_MIN_KG or rounded > WEIGHT_MAX_KG:
        return None
    for kit in KIT_TABLE:
        if kit.band_low_kg <= rounded <= kit.band_high_kg:
            return kit
    raise AssertionError(f"KIT_TABLE has a gap at {rounded} kg")  # pragma: no cover


def prednisolone_mg_per_day(kg: Decimal | int | str | float) -> Decimal:
    """Return the prednisolone dose in mg/day: 1 mg/kg/day x rounded weight, to 0.1 mg.

    Label §2.1 (docs/domain.md §3): systemic corticosteroid equivalent to oral prednisolone
    1 mg/kg/day, from Day -1 for 30 days in total. The actual weight (rounded to 0.1 kg),
    not the kit band, is the basis.
    """
    return (PREDNISOLONE_MG_PER_KG_DAY * round_weight(kg)).quantize(PREDNISOLONE_QUANTUM_MG, rounding=ROUND_HALF_UP)
