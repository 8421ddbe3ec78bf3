"""Prophylactic corticosteroid course around a Zolgensma infusion (label §2.1; docs/domain.md §3).

Pure functions over plain values. The label fixes the start (Day -1), the dose (prednisolone
1 mg/kg/day equivalent), the length (30 days in total) and the end-of-course rule (taper over
28 days only if the liver is unremarkable, else continue full dose). The step-by-step taper is
NOT in the label: `taper_plan` is a suggested schedule a physician may edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from monitoring.flags import (
    TAPER_BLOCKED,
    URGENT,
    ResultValue,
    flags_for_panel,
    liver_unremarkable,
)

# Course starts one day before the infusion (label §2.1; docs/domain.md §3).
START_OFFSET_DAYS = -1
# Oral prednisolone equivalent, 1 mg/kg/day (label §2.1; docs/domain.md §3).
DOSE_MG_PER_KG_PER_DAY = Decimal(1)
# "For a total of 30 days", counted from Day -1 (label §2.1): Day -1 .. Day 28 inclusive.
COURSE_DAYS_TOTAL = 30
# "Taper over the next 28 days" when unremarkable (label §2.1; docs/domain.md §3).
TAPER_DAYS = 28
# Suggested weekly steps as fractions of the full dose [D]: the label only says "taper over
# 28 days"; 4 weekly steps (75%, 50%, 25%, 12.5%) fill the 28 days and halve the last step
# instead of stopping from 25%. Editable data; the physician may change the plan.
TAPER_FRACTIONS = (Decimal("0.75"), Decimal("0.50"), Decimal("0.25"), Decimal("0.125"))
TAPER_NOTE = (
    "Suggested schedule: the label says only 'taper over 28 days'; the physician may edit the "
    "steps. Do not stop abruptly (label §2.1)."
)
# Abnormal at this many reviews in a row (the end-of-course review counts) -> "persistent":
# consult pediatric GI/hepatology (label §2.1/§5.1; docs/domain.md §3). The label sets no count [D].
PERSISTENT_AFTER_REVIEWS = 2

TAPER = "taper"
CONTINUE = "continue"


@dataclass(frozen=True)
class TaperStep:
    """One step of a taper: mg per day from `date_from` to `date_to`, both inclusive."""

    date_from: date
    date_to: date
    mg_per_day: Decimal


@dataclass(frozen=True)
class Decision:
    """End-of-course decision: 'taper' or 'continue', why, and whether to consult hepatology."""

    action: str
    reasons: tuple[str, ...]
    consult_hepatology: bool = False


def course_start(infusion_date: date) -> date:
    """Return the first steroid day: Day -1, the day before the infusion (label §2.1)."""
    return infusion_date + timedelta(days=START_OFFSET_DAYS)


def daily_dose_mg(weight_kg: Decimal | int | str) -> Decimal:
    """Return the full daily dose in mg (1 mg/kg/day, label §2.1), unrounded.

    Rounding to a measurable volume is the pharmacy's call, so the exact product is returned.
    """
    try:
        weight = weight_kg if isinstance(weight_kg, Decimal) else Decimal(str(weight_kg))
    except (InvalidOperation, ValueError):
        raise ValueError(f"weight_kg must be a number, not {weight_kg!r}") from None
    if isinstance(weight_kg, bool) or not weight.is_finite() or weight <= 0:
        raise ValueError(f"weight_kg must be a positive number of kilograms, not {weight_kg!r}")
    return weight * DOSE_MG_PER_KG_PER_DAY


def review_date(infusion_date: date) -> date:
    """Return the end-of-course liver review date: the 30th and last full-dose day, Day 28.

    1. The course starts on Day -1 (course_start).
    2. 30 days in total means Day -1 .. Day 28 inclusive, so the last day is start + 29.
    3. Review on that day, so the taper decision is made before Day 29, the first taper day.
       This is the protocol's day-28 steroid_review row (monitoring/protocol.py).
    """
    return course_start(infusion_date) + timedelta(days=COURSE_DAYS_TOTAL - 1)


def taper_plan(start: date, full_dose_mg: Decimal | int | str, days: int = TAPER_DAYS) -> list[TaperStep]:
    """Return a suggested taper from `start` (first taper day) over `days` days (see TAPER_NOTE).

    1. Split `days` into len(TAPER_FRACTIONS) steps as evenly as possible; earlier steps take
       any extra day (28 days -> four 7-day steps).
    2. Step k gives full_dose_mg × TAPER_FRACTIONS[k] per day, unrounded.
    3. Steps are contiguous: each starts the day after the previous one ends; the last ends
       on start + days - 1.
    """
    dose = daily_dose_mg(full_dose_mg)  # same validation: a positive number
    steps = len(TAPER_FRACTIONS)
    if isinstance(days, bool) or not isinstance(days, int) or days < steps:
        raise ValueError(f"a taper needs at least {steps} days (one per step), not {days!r}")
    base, extra = divmod(days, steps)
    plan: list[TaperStep] = []
    step_start = start
    for index, fraction in enumerate(TAPER_FRACTIONS):
        length = base + (1 if index < extra else 0)
        step_end = step_start + timedelta(days=length - 1)
        plan.append(TaperStep(step_start, step_end, dose * fraction))
        step_start = step_end + timedelta(days=1)
    return plan


def taper_decision(
    liver_results: Mapping[str, ResultValue],
    clinical_exam_normal: bool,
    *,
    previous_abnormal_reviews: int = 0,
    pt_normal_max: Decimal | None = None,
) -> Decision:
    """Return whether to taper or continue full-dose steroid at a liver review (label §2.1).

    `previous_abnormal_reviews` counts earlier reviews in a row (from the end-of-course review
    on) at which the liver was not unremarkable.

    1. Unremarkable (ALT and AST < 2×ULN, normal bilirubin and PT; monitoring/flags.py) and a
       normal clinical exam -> taper over the next 28 days, never stop abruptly.
    2. Otherwise -> continue 1 mg/kg/day and review again at each next liver result; the
       reasons list the taper-blocking and urgent flags, missing data and an abnormal exam.
    3. Consult pediatric GI/hepatology when any flag is urgent (≥ 20×ULN, prolonged PT,
       bilirubin with raised transaminases) or the abnormality is persistent: abnormal at
       PERSISTENT_AFTER_REVIEWS reviews in a row, this one included (label §2.1/§5.1).
    """
    if isinstance(previous_abnormal_reviews, bool) or previous_abnormal_reviews < 0:
        raise ValueError(f"previous_abnormal_reviews must be 0 or more, not {previous_abnormal_reviews!r}")
    unremarkable = liver_unremarkable(liver_results, pt_normal_max)
    if unremarkable and clinical_exam_normal:
        return Decision(
            TAPER,
            (
                (
                    "Liver unremarkable: ALT and AST < 2×ULN, normal total bilirubin and PT, "
                    "normal clinical exam (label §2.1)"
                ),
                "Taper over the next 28 days; do not stop abruptly (label §2.1)",
            ),
        )
    flags = flags_for_panel(liver_results, {}, pt_normal_max)
    reasons = [f.message for f in flags if f.level in (URGENT, TAPER_BLOCKED) or f.code == "uln_missing"]
    for analyte, label in (
        ("alt", "ALT"),
        ("ast", "AST"),
        ("tbili", "Total bilirubin"),
    ):
        if analyte not in liver_results:
            reasons.append(f"{label} result is missing; cannot call the liver unremarkable")
    if "pt" not in liver_results and "inr" not in liver_results:
        reasons.append("PT result is missing; cannot call the liver unremarkable")
    if not clinical_exam_normal:
        reasons.append("Clinical exam is not normal (label §2.1)")
    if not unremarkable and not reasons:
        reasons.append("Liver results are not unremarkable (label §2.1)")
    urgent = any(f.level == URGENT for f in flags)
    persistent = previous_abnormal_reviews + 1 >= PERSISTENT_AFTER_REVIEWS
    if urgent:
        reasons.append("Urgent liver finding: consult pediatric hepatology now (label §5.1)")
    elif persistent:
        reasons.append(
            "Abnormal at consecutive reviews: consult pediatric GI/hepatology; consider a longer "
            "course, higher dose or slower taper (label §2.1/§5.1)"
        )
    reasons.append("Continue prednisolone 1 mg/kg/day and review at each next liver result (label §2.1)")
    return Decision(CONTINUE, tuple(reasons), consult_hepatology=urgent or persistent)
