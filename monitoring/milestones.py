"""Outcome milestone assessments after infusion (docs/domain.md §8).

Pure functions over plain values. The card's timepoints (6/12/24/36/60 months) come from
outcomes-based contracts whose terms are not public [U], so they are a default to be edited
per contract, never logic. Instrument ranges are data with their sources.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

# Card timepoints (seed billing card; docs/domain.md §8, §11.17): contract-specific and unverified
# [U]; editable per contract.
DEFAULT_MONTHS = (6, 12, 24, 36, 60)
# ± days around a milestone date in which the assessment counts [D] (product default).
DEFAULT_WINDOW_DAYS = 30
# HINE-2 population: infants 2-24 months (docs/domain.md §8, togetherinsma-hcp.com.au).
HINE2_MIN_MONTHS = 2
HINE2_MAX_MONTHS = 24
# HFMSE/RHS are for SMA types 2/3, "about >= 2 y" (docs/domain.md §8).
OLDER_CHILD_MONTHS = 24

SCORE = "score"
CHECKLIST = "checklist"
BOOLEAN = "boolean"

# Shown as the form's help text: public source only (docs/domain.md §8).
VENTILATOR_FREE_DEFINITION = (
    "Event = death or permanent ventilation: tracheostomy, or ≥ 16 h/day respiratory assistance "
    "(including NIV) continuously for ≥ 14 days without an acute reversible illness, excluding "
    "perioperative ventilation (FDA label §14)."
)


@dataclass(frozen=True)
class Instrument:
    """An outcome instrument: how it is recorded, its range or items, population and source.

    `verified` is False for values tagged [U] in docs/domain.md (keep them easy to correct).
    `source` is for maintainers and cites docs/domain.md; a screen that shows it must print a
    public source instead (docs/domain.md "Public source labels").
    """

    key: str
    label: str
    kind: str
    population: str
    source: str
    min_score: int | None = None
    max_score: int | None = None
    items: tuple[str, ...] = ()
    definition: str = ""
    verified: bool = True


@dataclass(frozen=True)
class Milestone:
    """A milestone assessment `month` months after the infusion, with its window (inclusive)."""

    month: int
    due_on: date
    window_opens: date
    window_closes: date


INSTRUMENTS: dict[str, Instrument] = {
    "chop_intend": Instrument(
        key="chop_intend",
        label="CHOP INTEND",
        kind=SCORE,
        population="Infants / SMA type 1, weak patients",
        source="docs/domain.md §8: 16 items scored 0-4, total 0-64 (Glanzman 2010, PMC3260046)",
        min_score=0,
        max_score=64,
    ),
    "hine2": Instrument(
        key="hine2",
        label="HINE-2",
        kind=SCORE,
        population="Infants 2-24 months",
        source="docs/domain.md §8: 8 motor-milestone items (togetherinsma-hcp.com.au); total 0-26 [U]",
        min_score=0,
        max_score=26,
        verified=False,
    ),
    "hfmse": Instrument(
        key="hfmse",
        label="HFMSE",
        kind=SCORE,
        population="SMA types 2/3, about 2 years and older",
        source="docs/domain.md §8: 33 items scored 0-2, total 0-66 (HFMSE manual; total [D])",
        min_score=0,
        max_score=66,
    ),
    "rhs": Instrument(
        key="rhs",
        label="RHS",
        kind=SCORE,
        population="SMA types 2/3, ambulant and non-ambulant",
        source="docs/domain.md §8: global score 0-69 (Ramsey 2017, PMC5319655; C-Path)",
        min_score=0,
        max_score=69,
    ),
    "who_motor": Instrument(
        key="who_motor",
        label="WHO motor milestones",
        kind=CHECKLIST,
        population="Infants / toddlers",
        source="docs/domain.md §8: 6 milestones, achieved yes/no (Wijnhoven 2004)",
        items=(
            "sitting without support",
            "hands-and-knees crawling",
            "standing with assistance",
            "walking with assistance",
            "standing alone",
            "walking alone",
        ),
    ),
    "ventilator_free_survival": Instrument(
        key="ventilator_free_survival",
        label="Ventilator-free survival",
        kind=BOOLEAN,
        population="All patients (trial and outcomes-based-agreement outcome)",
        source="docs/domain.md §8; label §14",
        definition=VENTILATOR_FREE_DEFINITION,
    ),
}


def add_months(start: date, months: int) -> date:
    """Return `start` plus `months` calendar months, clamped to the month's last day.

    e.g. 2026-08-31 + 6 months = 2027-02-28; 2027-08-31 + 6 months = 2028-02-29.
    """
    year, month_index = divmod(start.month - 1 + months, 12)
    year += start.year
    month = month_index + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def milestone_dates(
    infusion_date: date,
    months: tuple[int, ...] | list[int] = DEFAULT_MONTHS,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> list[Milestone]:
    """Return one Milestone per month in `months`, in ascending order.

    1. Reject months that are not positive whole numbers or repeat, and a negative window.
    2. due_on = infusion_date + month calendar months (add_months, clamped to month end).
    3. The window is due_on ± window_days, inclusive.
    """
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 0:
        raise ValueError(f"window_days must be a whole number of days, 0 or more, not {window_days!r}")
    for month in months:
        if isinstance(month, bool) or not isinstance(month, int) or month < 1:
            raise ValueError(f"milestone months must be whole numbers of 1 or more, not {month!r}")
    if len(set(months)) != len(months):
        raise ValueError(f"milestone months repeat: {list(months)}")
    window = timedelta(days=window_days)
    result = []
    for month in sorted(months):
        due_on = add_months(infusion_date, month)
        result.append(Milestone(month, due_on, due_on - window, due_on + window))
    return result


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def instrument(name: str) -> Instrument:
    """Return the instrument for a key or label, forgiving case, spaces, '-' and '_'."""
    wanted = _squash(name)
    for info in INSTRUMENTS.values():
        if wanted in (_squash(info.key), _squash(info.label)):
            return info
    known = ", ".join(info.label for info in INSTRUMENTS.values())
    raise ValueError(f"Unknown instrument {name!r}; expected one of: {known}")


def validate_score(instrument_name: str, score: Decimal | int | str) -> Decimal:
    """Return the score as a Decimal if it is a whole number inside the instrument's range.

    Raises ValueError, e.g. "CHOP INTEND is scored 0–64; 70 is out of range", and for
    instruments that are not scored (WHO milestones, ventilator-free survival).
    """
    info = instrument(instrument_name)
    if info.kind != SCORE or info.min_score is None or info.max_score is None:
        raise ValueError(f"{info.label} is not a numeric score; record it as {info.kind}")
    try:
        value = score if isinstance(score, Decimal) else Decimal(str(score))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{info.label} score must be a number, not {score!r}") from None
    if isinstance(score, bool) or not value.is_finite():
        raise ValueError(f"{info.label} score must be a number, not {score!r}")
    if not info.min_score <= value <= info.max_score:
        raise ValueError(f"{info.label} is scored {info.min_score}–{info.max_score}; {score} is out of range")
    if value != value.to_integral_value():
        raise ValueError(f"{info.label} scores are whole numbers; {score} is not")
    return value


def validate_who_milestones(achieved: dict[str, bool]) -> dict[str, bool]:
    """Return the WHO checklist when it has exactly the 6 milestones, each True or False."""
    items = INSTRUMENTS["who_motor"].items
    missing = [item for item in items if item not in achieved]
    extra = [item for item in achieved if item not in items]
    if missing or extra:
        raise ValueError(f"WHO motor milestones need exactly: {', '.join(items)} (missing {missing}, unknown {extra})")
    wrong = [item for item, value in achieved.items() if not isinstance(value, bool)]
    if wrong:
        raise ValueError(f"WHO motor milestones are yes/no; give True or False for: {', '.join(wrong)}")
    return {item: achieved[item] for item in items}


def suggested_instruments(age_months: int, sits: bool, walks: bool) -> list[str]:
    """Return instrument keys to use at an assessment, by age and function (docs/domain.md §8).

    1. Reject a negative age and "walks but does not sit".
    2. Does not sit, or younger than 2 months -> CHOP INTEND (infants / weak patients), so
       every child gets at least one scored instrument.
    3. Age 2-24 months -> HINE-2 (its population).
    4. Sits (or walks) and age >= 24 months -> HFMSE and RHS (older sitters and walkers).
    5. Always add the WHO motor milestones and ventilator-free survival (contract outcomes).
    """
    if isinstance(age_months, bool) or not isinstance(age_months, int) or age_months < 0:
        raise ValueError(f"age_months must be a whole number of months, 0 or more, not {age_months!r}")
    if walks and not sits:
        raise ValueError("a child who walks also sits; check the sits/walks answers")
    keys = []
    if not sits or age_months < HINE2_MIN_MONTHS:
        keys.append("chop_intend")
    if HINE2_MIN_MONTHS <= age_months <= HINE2_MAX_MONTHS:
        keys.append("hine2")
    if sits and age_months >= OLDER_CHILD_MONTHS:
        keys.extend(["hfmse", "rhs"])
    keys.extend(["who_motor", "ventilator_free_survival"])
    return keys
