"""Zolgensma (onasemnogene abeparvovec-xioi, HCPCS J3399) constants, in one screen.

Every value names its source. "Label" is the US Prescribing Information, BLA 125694,
as summarised with sources in /work/shared/domain.md ("docs/domain.md §N"). Where the
billing card (seed/000_629980ddb8477e0d.txt) and the label differ on clinical facts,
the label wins (docs/domain.md header). Card payer practices that the label does not state
are kept in a separate block at the bottom, marked CARD_*, as editable per-payer
defaults, not label facts.

Rows that docs/domain.md tags [D] (derived) or [U] (unverified) are data with
``verified=False``; no logic depends on that flag except display.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# --- Dose and product (docs/domain.md §1) ---------------------------------------------
DOSE_VG_PER_KG = Decimal("1.1e14")  # Label §2.1 [V]
CONCENTRATION_VG_PER_ML = Decimal("2.0e13")  # Label §3, nominal [V]
DOSE_ML_PER_KG = Decimal("5.5")  # 1.1e14 / 2.0e13, docs/domain.md §1 [D]; reproduces Table 1
DOSE_VOLUME_QUANTUM_ML = Decimal("0.1")  # Label Table 1 prints volumes to 0.1 mL
VIAL_SIZES_ML = (Decimal("5.5"), Decimal("8.3"))  # Label §3 [V]
WEIGHT_QUANTUM_KG = Decimal("0.1")  # Round to 0.1 kg before band lookup, docs/domain.md §1a
WEIGHT_MIN_KG = Decimal("2.6")  # Label Table 1, lowest band, docs/domain.md §1a [V]
WEIGHT_MAX_KG = Decimal("21.0")  # Label Table 1, highest band, docs/domain.md §1a [V]
WEIGHT_BAND_WIDTH_KG = Decimal("0.5")  # Label Table 1 footnote, docs/domain.md §1 [V]
HCPCS_CODE = "J3399"  # docs/domain.md §6a [V]; always 1 unit

# --- Age and prematurity -----------------------------------------------------------
AGE_LIMIT_MONTHS = 24  # Label §1: "< 2 years" on the infusion date (strictly less) [V]
# Label §8.4: not recommended before "full-term gestational age" is reached (docs/domain.md §1).
# The label gives no number. 37 completed weeks is the WHO/ACOG boundary between preterm
# and term birth (WHO preterm birth definition; ACOG Committee Opinion 579, 2013, which
# calls 37w0d-38w6d "early term" and 39w0d-40w6d "full term"). Change here if the
# clinic reads "full-term" as ACOG's 39 weeks.
FULL_TERM_WEEKS = 37

# --- Infection and clinical stability (docs/domain.md §1, §2; label §5) ----------------------
# Label §5 (systemic immune response): postpone the infusion while an infection is present; the
# child must be clinically stable [V]. How recent the physician's check must be is not in the
# label: product policy [D], one day (the day before or the day of the infusion).
CLINICAL_STATUS_MAX_AGE_DAYS = 1

# --- Corticosteroid regimen (docs/domain.md §3, label §2.1) -------------------------------
PREDNISOLONE_MG_PER_KG_DAY = Decimal("1")  # Label §2.1 [V]
PREDNISOLONE_QUANTUM_MG = Decimal("0.1")  # display precision chosen here, not label
STEROID_START_DAY = -1  # Label §2.1: start one day before infusion [V]
STEROID_FULL_DOSE_DAYS = 30  # Label §2.1: "for a total of 30 days" from Day -1 [V]
STEROID_TAPER_DAYS = 28  # Label §2.1: taper over 28 days if unremarkable [V]

# --- Liver thresholds (docs/domain.md §9, label §2.1/§5.1) -------------------------------
PRE_INFUSION_CAUTION_ULN_MULTIPLE = Decimal("2")  # Label §5.1: > 2 x ULN not studied [V]
UNREMARKABLE_ULN_MULTIPLE = Decimal("2")  # Label §2.1: ALT and AST < 2 x ULN to taper [V]
SEVERE_HEPATOTOXICITY_ULN_MULTIPLE = Decimal("20")  # Label §5.1 [V]
PRE_INFUSION_LIVER_ANALYTES = ("alt", "ast", "tbili")  # Label §5.1 [V]

# --- Anti-AAV9 retest timing (literature, not label; docs/domain.md §2) --------------------
# van Olden et al., MDA abstract: maternal antibody half-life 18-59 days; retest about
# 4 weeks after a titer >= 1:200, about 8 weeks after lower titers. The label itself only
# allows retesting when the titer is > 1:50 (label §2.3/§6.2).
AAV9_RETEST_HIGH_TITER_DENOMINATOR = 200
AAV9_RETEST_WEEKS_HIGH = 4
AAV9_RETEST_WEEKS_LOW = 8

# --- Diagnosis codes (docs/domain.md §7, official ICD-10-CM descriptors, FY2026) ----------
SMA_DIAGNOSIS_CODES = {
    "G12.0": "Infantile spinal muscular atrophy, type I [Werdnig-Hoffman]",
    "G12.1": "Other inherited spinal muscular atrophy",
    "G12.8": "Other spinal muscular atrophies and related syndromes",
    "G12.9": "Spinal muscular atrophy, unspecified",
}
MOTOR_NEURON_DISEASE_PREFIX = "G12.2"  # G12.20-G12.29, not 5q SMA (docs/domain.md §7, §11.14)

# --- Alternatives when not eligible (docs/domain.md §6a, §11.15) ---------------------------
ALTERNATIVE_THERAPIES = (
    "nusinersen (Spinraza, J2326, intrathecal)",
    "risdiplam (Evrysdi, oral, pharmacy benefit)",
    "Itvisma (onasemnogene abeparvovec-brve, intrathecal, age >= 2 years; no specific HCPCS yet)",
)

ONEGENE_PHONE = "1-855-441-4363"  # Billing card, OneGene Program

# --- Advanced SMA (docs/domain.md §2, §8): not evaluated by the label, a payer exclusion ----
# Aetna CPB 0953; BCBS ND; label §14 event definition: tracheostomy, or >= 16 h/day
# respiratory support (including NIV) continuously for >= 14 days.
ADVANCED_SMA_SUPPORT_HOURS_PER_DAY = 16
ADVANCED_SMA_SUPPORT_DAYS = 14

# --- Place of service names (CMS POS code set, docs/domain.md §6c) ------------------------
POS_NAMES = {
    "11": "Office",
    "12": "Home",
    "19": "Off Campus-Outpatient Hospital",
    "21": "Inpatient Hospital",
    "22": "On Campus-Outpatient Hospital",
    "49": "Independent Clinic",
}


# --- Kit table (docs/domain.md §1a; label Table 1 volumes, zolgensma-hcp.com kits) ---------
@dataclass(frozen=True)
class Kit:
    """One labeled kit: the weight band it serves and what is in the box.

    ``verified`` is False for rows docs/domain.md §1a tags [D] (vial split, total and NDC
    package suffix derived, not seen in a public source).
    """

    band_low_kg: Decimal
    band_high_kg: Decimal
    dose_volume_ml: Decimal
    total_vg: Decimal
    vials_5_5: int
    vials_8_3: int
    total_vials: int
    kit_ndc: str
    verified: bool

    @property
    def band_low(self) -> Decimal:
        """Return the band's lower weight limit in kg (alias of ``band_low_kg``)."""
        return self.band_low_kg

    @property
    def band_high(self) -> Decimal:
        """Return the band's upper weight limit in kg (alias of ``band_high_kg``)."""
        return self.band_high_kg

    @property
    def band_label(self) -> str:
        """Return the band as printed on the label, e.g. ``"2.6-3.0 kg"``."""
        return f"{self.band_low_kg}-{self.band_high_kg} kg"


def _kit(row: str, verified: bool = True) -> Kit:
    low, high, ml, vg, v55, v83, total, ndc = row.split()
    return Kit(
        Decimal(low),
        Decimal(high),
        Decimal(ml),
        Decimal(vg),
        int(v55),
        int(v83),
        int(total),
        ndc,
        verified,
    )


D = False  # marks a [D] row of docs/domain.md §1a

# fmt: off
KIT_TABLE: tuple[Kit, ...] = (
    #     low   high  mL     total vg  5.5 8.3 n  kit NDC
    _kit("2.6  3.0  16.5  3.30e14   0 2 2  71894-120-02"),
    _kit("3.1  3.5  19.3  3.85e14   2 1 3  71894-121-03"),
    _kit("3.6  4.0  22.0  4.40e14   1 2 3  71894-122-03"),
    _kit("4.1  4.5  24.8  4.95e14   0 3 3  71894-123-03"),
    _kit("4.6  5.0  27.5  5.50e14   2 2 4  71894-124-04"),
    _kit("5.1  5.5  30.3  6.05e14   1 3 4  71894-125-04"),
    _kit("5.6  6.0  33.0  6.60e14   0 4 4  71894-126-04"),
    _kit("6.1  6.5  35.8  7.15e14   2 3 5  71894-127-05"),
    _kit("6.6  7.0  38.5  7.70e14   1 4 5  71894-128-05"),
    _kit("7.1  7.5  41.3  8.25e14   0 5 5  71894-129-05"),
    _kit("7.6  8.0  44.0  8.80e14   2 4 6  71894-130-06"),
    _kit("8.1  8.5  46.8  9.35e14   1 5 6  71894-131-06"),
    _kit("8.6  9.0  49.5  9.90e14   0 6 6  71894-132-06", D),
    _kit("9.1  9.5  52.3  1.045e15  2 5 7  71894-133-07", D),
    _kit("9.6  10.0 55.0  1.10e15   1 6 7  71894-134-07", D),
    _kit("10.1 10.5 57.8  1.155e15  0 7 7  71894-135-07", D),
    _kit("10.6 11.0 60.5  1.21e15   2 6 8  71894-136-08", D),
    _kit("11.1 11.5 63.3  1.265e15  1 7 8  71894-137-08", D),
    _kit("11.6 12.0 66.0  1.32e15   0 8 8  71894-138-08", D),
    _kit("12.1 12.5 68.8  1.375e15  2 7 9  71894-139-09"),
    _kit("12.6 13.0 71.5  1.43e15   1 8 9  71894-140-09"),
    _kit("13.1 13.5 74.3  1.485e15  0 9 9  71894-141-09"),
    _kit("13.6 14.0 77.0  1.54e15   2 8 10 71894-142-10"),
    _kit("14.1 14.5 79.8  1.595e15  1 9 10 71894-143-10"),
    _kit("14.6 15.0 82.5  1.65e15   0 10 10 71894-144-10"),
    _kit("15.1 15.5 85.3  1.705e15  2 9 11 71894-145-11"),
    _kit("15.6 16.0 88.0  1.76e15   1 10 11 71894-146-11"),
    _kit("16.1 16.5 90.8  1.815e15  0 11 11 71894-147-11"),
    _kit("16.6 17.0 93.5  1.87e15   2 10 12 71894-148-12"),
    _kit("17.1 17.5 96.3  1.925e15  1 11 12 71894-149-12"),
    _kit("17.6 18.0 99.0  1.98e15   0 12 12 71894-150-12"),
    _kit("18.1 18.5 101.8 2.035e15  2 11 13 71894-151-13", D),
    _kit("18.6 19.0 104.5 2.09e15   1 12 13 71894-152-13", D),
    _kit("19.1 19.5 107.3 2.145e15  0 13 13 71894-153-13", D),
    _kit("19.6 20.0 110.0 2.20e15   2 12 14 71894-154-14", D),
    _kit("20.1 20.5 112.8 2.255e15  1 13 14 71894-155-14", D),
    _kit("20.6 21.0 115.5 2.31e15   0 14 14 71894-156-14", D),
)
# fmt: on

# --- Billing card payer-practice defaults (NOT label facts) ---------------------------
# The card states these; the label does not (docs/domain.md header and §11.6, §11.7, §11.10).
# They are the default GatePolicy, editable per payer.
CARD_TITER_CEILING_DENOMINATOR = 50  # Card "AAV9 gate <= 1:50"; trial/payer criterion (§2)
CARD_TITER_MAX_AGE_DAYS = 14  # Card top denial #1 "current within 2 weeks" (no label source)
CARD_WEIGHT_MAX_AGE_DAYS = 14  # Card Day -14 row; eviCore weight within 14 days (§2)
CARD_LABS_MAX_AGE_DAYS = 14  # Card Day -14 "baseline labs"
CARD_ALLOWED_POS = frozenset({"21", "22", "19"})  # Card "Site of care"
CARD_NOT_ALLOWED_POS = frozenset({"11", "12", "49"})  # Card "NOT eligible"
CARD_REQUIRE_CERTIFIED_CENTER = True  # Card "certified specialty center only"
