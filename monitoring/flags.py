"""Lab result flags after a Zolgensma infusion, unit conversion and fallback ULNs.

Pure functions over plain values. ×ULN is computed per result from the ULN the lab reported
with it (docs/domain.md §9 design note); the population ULNs here are only a fallback.

Sources: docs/domain.md §3 (taper rule), §4 (stop conditions), §5 and §9 (thresholds); label §2.1,
§5.1 (liver), §5 (thrombocytopenia/TMA, troponin-I).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from cases.analytes import ANALYTES, _decimal, analyte_info, to_canonical

# --- Thresholds (each with its source) -------------------------------------------------------
# ALT or AST at or above 2×ULN is not "unremarkable": no steroid taper (label §2.1; docs/domain.md
# §3, §9: unremarkable means ALT and AST < 2×ULN).
TAPER_BLOCK_ULN_MULTIPLE = Decimal(2)
# Severe hepatotoxicity signal (label §5.1; docs/domain.md §5, §9: "ALT/AST > 20×ULN"). The brief asks
# for >= so the exact 20.0× value already pages hepatology (the safer side of the boundary).
URGENT_ULN_MULTIPLE = Decimal(20)
# TMA watch: platelets < 150 ×10⁹/L or a fall of 25% or more from baseline. The label gives no
# number; these are the general TMA criteria (docs/domain.md §9, scirp.org TMA review).
PLATELET_LOW = Decimal(150)
PLATELET_FALL_FRACTION = Decimal("0.25")

WATCH = "watch"
TAPER_BLOCKED = "taper_blocked"
URGENT = "urgent"
LEVELS = (WATCH, TAPER_BLOCKED, URGENT)

# Who must hear of a flag, by the label's class (issue 15 item 1). "urgent": the physician at once,
# escalated after the site's urgent time (default 4 h); "abnormal": the physician too, escalated
# after the site's abnormal time (default 24 h); anything else (a missing ULN or baseline) is a
# data-entry watch that stays on the case page and the worklist.
ALERT_URGENT = "urgent"
ALERT_ABNORMAL = "abnormal"
ALERT_CLASSES = (ALERT_URGENT, ALERT_ABNORMAL)
# Abnormal by level: ALT/AST >= 2×ULN and bilirubin above ULN block the taper (label §2.1, §5.1).
ABNORMAL_LEVELS = frozenset({TAPER_BLOCKED})
# Abnormal by code although "watch" for the steroid rule: platelets low or falling (thrombocytopenia
# and TMA, label §5) and troponin-I above baseline (label §5). The label asks for a clinician's look.
ABNORMAL_CODES = frozenset({"tma_watch", "troponin_above_baseline"})

# Flag sources are shown on the monitoring panel: public sources only (docs/domain.md
# "Public source labels"); the docs/domain.md sections are in the comments.
SRC_LIVER_TAPER = "FDA label §2.1 (unremarkable = ALT and AST < 2×ULN)"  # docs/domain.md §3, §9
SRC_LIVER_SEVERE = "FDA label §5.1 (ALT/AST > 20×ULN, prolonged PT, jaundice)"  # docs/domain.md §5, §9
SRC_BILIRUBIN = "FDA label §2.1, §5.1 (normal bilirubin required; jaundice is a severe sign)"  # docs/domain.md §3, §9
SRC_TMA = "FDA label §5 (thrombocytopenia/TMA); TMA criteria per scirp.org review"  # docs/domain.md §4, §9
SRC_TROPONIN = "FDA label §5 (judge troponin-I against baseline, assay-specific)"  # docs/domain.md §9
SRC_ULN = "Lab reference ranges (use the ULN the lab reports with each result)"  # docs/domain.md §9 design note


# Fallback ULN, used only when the lab reported none (docs/domain.md §9). ALT: England et al. 2009,
# JPGN 49:71, 95th centile: < 18 months 60 U/L boys / 55 U/L girls; >= 18 months 40 / 35 U/L.
ALT_FALLBACK_AGE_SPLIT_MONTHS = 18
ALT_FALLBACK_ULN = {
    ("male", True): Decimal(60),
    ("female", True): Decimal(55),
    ("male", False): Decimal(40),
    ("female", False): Decimal(35),
}
SEXES = ("male", "female", "unknown")
FALLBACK_SOURCE: dict[str, str] = {
    "alt": "England et al. 2009, JPGN 49:71, 95th centile (docs/domain.md §9); unknown sex uses the "
    "lower (girls') value so flags err early",
    "ast": "No infant AST ULN with a public source: docs/domain.md §9 has only cord-blood values "
    "(about 52 IU/L at birth), which do not describe infants weeks to months old. Use the lab's ULN.",
    "tbili": "No fallback: neonatal bilirubin depends on age in days and the lab (docs/domain.md §9). Use the lab's ULN.",
    "pt": "No fallback: PT is reagent-specific. Use the lab's ULN or pt_normal_max.",
    "inr": "No fallback: use the lab's ULN.",
    "troponin_i": "No fallback: assay-specific; infants with SMA often exceed adult URLs "
    "(docs/domain.md §9). Compare with the patient's baseline.",
}


@dataclass(frozen=True)
class ResultValue:
    """One reported result: value and the lab's ULN in the same `unit` (ULN may be None)."""

    value: Decimal
    uln: Decimal | None
    unit: str


@dataclass(frozen=True)
class Flag:
    """A finding on a panel: machine code, level (watch/taper_blocked/urgent), text, source."""

    code: str
    level: str
    analyte: str
    message: str
    source: str


def alert_class(code: str, level: str) -> str | None:
    """Return "urgent", "abnormal" or None: whether a flag must reach a physician, and how fast.

    1. Level urgent (>= 20×ULN, prolonged PT, bilirubin with raised transaminases) -> urgent.
    2. Level taper_blocked (ALT/AST >= 2×ULN, bilirubin above ULN) -> abnormal.
    3. Platelets low or falling >= 25% (tma_watch) and troponin-I above baseline -> abnormal.
    4. Anything else (ULN or baseline missing) -> None: case page and worklist only.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if level == URGENT:
        return ALERT_URGENT
    if level in ABNORMAL_LEVELS or code in ABNORMAL_CODES:
        return ALERT_ABNORMAL
    return None


def fallback_uln(analyte: str, age_months: int, sex: str) -> Decimal | None:
    """Return a population ULN for use when the lab gave none, or None if there is no source.

    1. Validate age (whole months, >= 0) and sex ("male", "female" or "unknown").
    2. ALT: England 2009 95th centile by age (< 18 months or not) and sex; "unknown" takes
       the lower (girls') value (docs/domain.md §9).
    3. Every other analyte: None (see FALLBACK_SOURCE for why).
    """
    analyte_info(analyte)
    if isinstance(age_months, bool) or not isinstance(age_months, int) or age_months < 0:
        raise ValueError(f"age_months must be a whole number of months, 0 or more, not {age_months!r}")
    if sex not in SEXES:
        raise ValueError(f"sex must be one of {', '.join(SEXES)}, not {sex!r}")
    if analyte != "alt":
        return None
    infant = age_months < ALT_FALLBACK_AGE_SPLIT_MONTHS
    if sex == "unknown":
        return min(ALT_FALLBACK_ULN[("male", infant)], ALT_FALLBACK_ULN[("female", infant)])
    return ALT_FALLBACK_ULN[(sex, infant)]


def uln_multiple(value: Decimal | int | str, uln: Decimal | int | str | None) -> Decimal | None:
    """Return value ÷ ULN exactly (no rounding), or None when the ULN is unknown."""
    number = _decimal(value, "value")
    if uln is None:
        return None
    limit = _decimal(uln, "ULN")
    if limit == 0:
        raise ValueError("ULN must be greater than 0")
    return number / limit


def format_multiple(multiple: Decimal) -> str:
    """Return e.g. "2.4×ULN"; rounds down to 0.01 so 1.999 never reads as 2.0×ULN."""
    text = f"{multiple.quantize(Decimal('0.01'), rounding=ROUND_DOWN):.2f}"
    text = text.removesuffix("0")
    return f"{text}×ULN"


def _checked(results: Mapping[str, ResultValue]) -> dict[str, ResultValue]:
    for analyte, result in results.items():
        to_canonical(analyte, result.value, result.unit)  # validates analyte, value and unit
        if result.uln is not None:
            _decimal(result.uln, f"{ANALYTES[analyte].label} ULN")
    return dict(results)


def _coag_results(
    results: Mapping[str, ResultValue], pt_normal_max: Decimal | None
) -> list[tuple[str, Decimal, Decimal | None]]:
    """Return (analyte, value, ULN) for PT and INR present; PT falls back to pt_normal_max."""
    out = []
    for analyte in ("pt", "inr"):
        if analyte in results:
            result = results[analyte]
            label = ANALYTES[analyte].label
            uln = None if result.uln is None else _decimal(result.uln, f"{label} ULN")
            if uln is None and analyte == "pt" and pt_normal_max is not None:
                uln = _decimal(pt_normal_max, "pt_normal_max")  # PT units are all seconds
            out.append((analyte, _decimal(result.value, f"{label} value"), uln))
    return out


def flags_for_panel(
    results: Mapping[str, ResultValue],
    baseline: Mapping[str, Decimal],
    pt_normal_max: Decimal | None = None,
) -> list[Flag]:
    """Return the flags for one panel of results, most severe first.

    `results` maps analyte keys (see ANALYTES) to ResultValue; `baseline` maps analyte keys to
    pre-infusion values in canonical units; `pt_normal_max` (seconds) is used when a PT result
    carries no ULN. Missing analytes raise no flag; a missing ULN or baseline gives a "watch"
    flag so nothing passes silently.

    1. Validate every result (known analyte, accepted unit, non-negative numbers).
    2. ALT, AST: >= 20×ULN -> urgent "consult pediatric hepatology now"; else >= 2×ULN ->
       taper_blocked (label §5.1, §2.1). One flag per analyte, the more severe.
    3. Total bilirubin > ULN with ALT or AST > ULN -> urgent; > ULN alone -> taper_blocked
       (label §2.1 needs normal bilirubin; label §5.1 jaundice).
    4. PT (or INR) above ULN -> urgent, prolonged PT (label §5.1).
    5. Platelets < 150 ×10⁹/L or a fall >= 25% from baseline -> tma_watch (label §5;
       docs/domain.md §9).
    6. Troponin-I above baseline -> watch (label §5; docs/domain.md §9).
    7. Sort urgent, then taper_blocked, then watch; keep input order within a level.
    """
    checked = _checked(results)
    flags: list[Flag] = []
    multiples: dict[str, Decimal | None] = {}

    for analyte in ("alt", "ast"):
        if analyte not in checked:
            continue
        result = checked[analyte]
        label = ANALYTES[analyte].label
        multiple = uln_multiple(result.value, result.uln)
        multiples[analyte] = multiple
        if multiple is None:
            flags.append(_uln_missing(analyte))
        elif multiple >= URGENT_ULN_MULTIPLE:
            flags.append(
                Flag(
                    f"{analyte}_20x_uln",
                    URGENT,
                    analyte,
                    f"{label} {format_multiple(multiple)} (≥ 20×ULN): severe liver injury signal; "
                    "consult pediatric hepatology now",
                    SRC_LIVER_SEVERE,
                )
            )
        elif multiple >= TAPER_BLOCK_ULN_MULTIPLE:
            flags.append(
                Flag(
                    f"{analyte}_2x_uln",
                    TAPER_BLOCKED,
                    analyte,
                    f"{label} {format_multiple(multiple)} (≥ 2×ULN): not unremarkable; "
                    "keep full-dose steroid, no taper",
                    SRC_LIVER_TAPER,
                )
            )

    if "tbili" in checked:
        result = checked["tbili"]
        multiple = uln_multiple(result.value, result.uln)
        if multiple is None:
            flags.append(_uln_missing("tbili"))
        elif multiple > 1:
            raised = [ANALYTES[a].label for a in ("alt", "ast") if (multiples.get(a) or 0) > 1]
            if raised:
                flags.append(
                    Flag(
                        "bilirubin_with_transaminases",
                        URGENT,
                        "tbili",
                        f"Total bilirubin {format_multiple(multiple)} with {' and '.join(raised)} "
                        "above ULN: possible serious liver injury; consult pediatric hepatology now",
                        SRC_BILIRUBIN,
                    )
                )
            else:
                flags.append(
                    Flag(
                        "bilirubin_above_uln",
                        TAPER_BLOCKED,
                        "tbili",
                        f"Total bilirubin {format_multiple(multiple)}: not normal; no steroid taper",
                        SRC_BILIRUBIN,
                    )
                )

    for analyte, value, uln in _coag_results(checked, pt_normal_max):
        label = ANALYTES[analyte].label
        if uln is None:
            flags.append(_uln_missing(analyte))
        elif value > uln:
            flags.append(
                Flag(
                    "pt_prolonged",
                    URGENT,
                    analyte,
                    f"{label} {value} above the upper limit {uln}: prolonged PT; consult pediatric hepatology now",
                    SRC_LIVER_SEVERE,
                )
            )

    if "platelets" in checked:
        flags.extend(_platelet_flags(checked["platelets"], baseline.get("platelets")))

    if "troponin_i" in checked:
        result = checked["troponin_i"]
        value, unit = to_canonical("troponin_i", result.value, result.unit)
        base = baseline.get("troponin_i")
        if base is None:
            flags.append(_baseline_missing("troponin_i"))
        elif value > _decimal(base, "troponin-I baseline"):
            flags.append(
                Flag(
                    "troponin_above_baseline",
                    WATCH,
                    "troponin_i",
                    f"Troponin-I {value.normalize():f} {unit} is above baseline "
                    f"{Decimal(base).normalize():f} {unit}; follow the trend",
                    SRC_TROPONIN,
                )
            )

    order = {URGENT: 0, TAPER_BLOCKED: 1, WATCH: 2}
    return sorted(flags, key=lambda flag: order[flag.level])


def _platelet_flags(result: ResultValue, base: Decimal | None) -> list[Flag]:
    value, unit = to_canonical("platelets", result.value, result.unit)
    reasons = []
    if value < PLATELET_LOW:
        reasons.append(f"below {PLATELET_LOW} {unit}")
    if base is not None:
        base = _decimal(base, "platelet baseline")
        if base > 0 and value <= base * (1 - PLATELET_FALL_FRACTION):
            fall = ((base - value) / base * 100).quantize(Decimal(1), rounding=ROUND_DOWN)
            reasons.append(f"{fall}% below baseline {base.normalize():f}")
    flags = []
    if reasons:
        flags.append(
            Flag(
                "tma_watch",
                WATCH,
                "platelets",
                f"Platelets {value.normalize():f} {unit}: {'; '.join(reasons)}. Check for TMA "
                "(hypertension, bruising, seizures, low urine output); if present, evaluate "
                "hemolysis and renal function and consult hematology/nephrology",
                SRC_TMA,
            )
        )
    if base is None:
        flags.append(_baseline_missing("platelets"))
    return flags


def _uln_missing(analyte: str) -> Flag:
    label = ANALYTES[analyte].label
    return Flag(
        "uln_missing",
        WATCH,
        analyte,
        f"{label} has no ULN; enter the lab's ULN so it can be judged",
        SRC_ULN,
    )


def _baseline_missing(analyte: str) -> Flag:
    label = ANALYTES[analyte].label
    return Flag(
        "baseline_missing",
        WATCH,
        analyte,
        f"{label} has no pre-infusion baseline; record it so the trend can be judged",
        SRC_TMA if analyte == "platelets" else SRC_TROPONIN,
    )


def liver_unremarkable(results: Mapping[str, ResultValue], pt_normal_max: Decimal | None = None) -> bool:
    """Return True when the liver labs are "unremarkable" in the label's sense.

    Label §2.1 / §5.1 (docs/domain.md §3, §9): ALT and AST < 2×ULN, total bilirubin not above ULN,
    PT not above ULN. The clinical exam is judged separately (monitoring/steroids.py).

    1. ALT, AST and total bilirubin must be present with a ULN; so must PT (ULN or
       pt_normal_max) or INR. Anything missing -> False: absent data is never unremarkable.
    2. ALT and AST < 2×ULN (2.00× is not unremarkable).
    3. Total bilirubin <= ULN; every PT/INR present <= its ULN.
    """
    checked = _checked(results)
    for analyte in ("alt", "ast"):
        result = checked.get(analyte)
        if result is None:
            return False
        multiple = uln_multiple(result.value, result.uln)
        if multiple is None or multiple >= TAPER_BLOCK_ULN_MULTIPLE:
            return False
    tbili = checked.get("tbili")
    if tbili is None:
        return False
    multiple = uln_multiple(tbili.value, tbili.uln)
    if multiple is None or multiple > 1:
        return False
    coag = _coag_results(checked, pt_normal_max)
    if not coag:
        return False
    return all(uln is not None and value <= uln for _, value, uln in coag)


def back_to_baseline(value: Decimal | int | str, baseline: Decimal | int | str, analyte: str) -> bool:
    """Return True when a platelet or troponin-I value (canonical units) is back to baseline.

    The label says "until back to baseline" without a number (docs/domain.md §4).
    1. Platelets: the fall from baseline is under 25% AND the count is at least 150 ×10⁹/L
       or at least the baseline itself. These are exactly the TMA-watch criteria
       (docs/domain.md §9), so the extension stops when the watch would clear; demanding the exact
       baseline would keep infants in monitoring for ordinary day-to-day variation.
    2. Troponin-I: value <= baseline (docs/domain.md §9: judge the trend against baseline).
    3. Other analytes raise ValueError.
    """
    number = _decimal(value, "value")
    base = _decimal(baseline, "baseline")
    if analyte == "platelets":
        fell_too_far = number <= base * (1 - PLATELET_FALL_FRACTION)
        return not fell_too_far and (number >= PLATELET_LOW or number >= base)
    if analyte == "troponin_i":
        return number <= base
    raise ValueError(f"back_to_baseline is defined for platelets and troponin_i, not {analyte!r}")
