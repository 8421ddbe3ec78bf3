"""The pre-infusion gate: is this child's file ready for a J3399 prior authorization?

Pure rules over plain values and an explicit infusion date ``on``. Each gate item names
its source: the label (via docs/domain.md) for clinical rules, the billing card
for payer practices that the label does not state (those come from ``GatePolicy``,
whose defaults are the card's values in ``cases.label``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from cases.analytes import (
    BASELINE_LAB_ANALYTES,
    LAB_ANALYTE_ALIASES,
    LAB_ANALYTE_NAMES,
    PAYER_LAB_ANALYTES,
    display_value,
)
from cases.dosing import kit_for_weight, prednisolone_mg_per_day, round_weight, to_decimal_kg
from cases.label import (
    AAV9_RETEST_HIGH_TITER_DENOMINATOR,
    AAV9_RETEST_WEEKS_HIGH,
    AAV9_RETEST_WEEKS_LOW,
    ADVANCED_SMA_SUPPORT_DAYS,
    ADVANCED_SMA_SUPPORT_HOURS_PER_DAY,
    AGE_LIMIT_MONTHS,
    ALTERNATIVE_THERAPIES,
    CARD_ALLOWED_POS,
    CARD_LABS_MAX_AGE_DAYS,
    CARD_REQUIRE_CERTIFIED_CENTER,
    CARD_TITER_CEILING_DENOMINATOR,
    CARD_TITER_MAX_AGE_DAYS,
    CARD_WEIGHT_MAX_AGE_DAYS,
    CLINICAL_STATUS_MAX_AGE_DAYS,
    FULL_TERM_WEEKS,
    MOTOR_NEURON_DISEASE_PREFIX,
    ONEGENE_PHONE,
    POS_NAMES,
    PRE_INFUSION_CAUTION_ULN_MULTIPLE,
    PRE_INFUSION_LIVER_ANALYTES,
    SMA_DIAGNOSIS_CODES,
    STEROID_FULL_DOSE_DAYS,
    STEROID_START_DAY,
    STEROID_TAPER_DAYS,
    WEIGHT_MAX_KG,
    WEIGHT_MIN_KG,
)
from cases.titers import Titer
from common.wording import day_text

Status = Literal["pass", "fail", "missing", "warning"]
BLOCKING_STATUSES = frozenset({"fail", "missing"})

SEXES = frozenset({"F", "M", "U"})
SMN1_GENOTYPES = frozenset({"0_copies", "1_copy_plus_variant"})
GENETIC_METHODS = frozenset({"MLPA", "qPCR", "ddPCR", "sequencing"})
SMN_THERAPY_DRUGS = frozenset({"nusinersen", "risdiplam"})
LAB_ANALYTES = frozenset(BASELINE_LAB_ANALYTES) | frozenset(LAB_ANALYTE_ALIASES) | frozenset(PAYER_LAB_ANALYTES)
DAYS_PER_WEEK = 7
MAX_GESTATIONAL_AGE_WEEKS = 50  # sanity bound on input, not a clinical rule
MAX_SYMPTOM_ONSET_MONTHS = 24  # J3399 is for children under 2 (label §1): a later onset is a typing error

# Gate item sources are shown on the case page and printed in the PA packet: public sources only
# (docs/domain.md "Public source labels"); the docs/domain.md pointer stays in a comment.
SRC_LABEL_1 = "FDA label §1"  # docs/domain.md §1
# A currency window or site rule comes from the payer's policy (GatePolicy.policy_source: its public
# id, e.g. "Aetna CPB 0953"); without a payer on the case, from GeneGate's defaults, said as such.
SRC_DEFAULTS = "GeneGate default (no payer policy on file)"


# --- Facts ---------------------------------------------------------------------------
def _check_date(value: object, name: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    # datetime is a subclass of date; a timestamp here is almost always a mistake.
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise ValueError(f"{name} must be a calendar date (YYYY-MM-DD); got {value!r}.")


def _to_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ValueError(f"{name} must be a Decimal, int or numeric text; got {value!r}.")
    try:
        result = Decimal(value)
    except ArithmeticError as exc:
        raise ValueError(f"{name} is not a number: {value!r}.") from exc
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number; got {value!r}.")
    return result


@dataclass(frozen=True)
class WeightObs:
    """A weight measurement in kg on a date."""

    measured_on: date
    kg: Decimal

    def __post_init__(self) -> None:
        _check_date(self.measured_on, "Weight date")
        object.__setattr__(self, "kg", to_decimal_kg(self.kg))


@dataclass(frozen=True)
class TiterObs:
    """An anti-AAV9 total binding antibody titer, the day it was drawn, and the lab."""

    drawn_on: date
    titer: Titer
    lab: str = ""

    def __post_init__(self) -> None:
        _check_date(self.drawn_on, "Titer draw date")
        if not isinstance(self.titer, Titer):
            raise ValueError("TiterObs.titer must be a Titer; use parse_titer('1:25').")


@dataclass(frozen=True)
class LabObs:
    """A baseline lab result with its unit and the lab's upper limit of normal."""

    drawn_on: date
    analyte: str
    value: Decimal
    unit: str = ""
    uln: Decimal | None = None

    def __post_init__(self) -> None:
        _check_date(self.drawn_on, "Lab draw date")
        if self.analyte not in LAB_ANALYTES:
            raise ValueError(
                f"Unknown lab analyte {self.analyte!r}; expected one of {', '.join(sorted(LAB_ANALYTES))}."
            )
        object.__setattr__(self, "value", _to_decimal(self.value, "Lab value"))
        if self.uln is not None:
            uln = _to_decimal(self.uln, "Upper limit of normal")
            if uln <= 0:
                raise ValueError(f"An upper limit of normal must be above 0; got {self.uln}.")
            object.__setattr__(self, "uln", uln)

    @property
    def requirement(self) -> str:
        """Return the baseline requirement this result satisfies ('inr' counts as 'pt')."""
        return LAB_ANALYTE_ALIASES.get(self.analyte, self.analyte)


@dataclass(frozen=True)
class TherapyObs:
    """A course of another SMN therapy (nusinersen or risdiplam)."""

    drug: str
    started_on: date
    stopped_on: date | None = None

    def __post_init__(self) -> None:
        if self.drug not in SMN_THERAPY_DRUGS:
            raise ValueError(f"Unknown SMN therapy {self.drug!r}; expected nusinersen or risdiplam.")
        _check_date(self.started_on, "Therapy start date")
        _check_date(self.stopped_on, "Therapy stop date", optional=True)
        if self.stopped_on is not None and self.stopped_on < self.started_on:
            raise ValueError(f"{self.drug} stop date {self.stopped_on} is before its start {self.started_on}.")

    def active_on(self, day: date) -> bool:
        """Return True when the course has started and not stopped before ``day``."""
        return self.started_on <= day and (self.stopped_on is None or self.stopped_on >= day)


@dataclass(frozen=True)
class ClinicalStatusObs:
    """A physician's check on a date: no active infection? clinically stable? (label §5)."""

    checked_on: date
    no_active_infection: bool
    clinically_stable: bool
    by: str = ""

    def __post_init__(self) -> None:
        _check_date(self.checked_on, "Clinical status check date")
        for name in ("no_active_infection", "clinically_stable"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False; got {getattr(self, name)!r}.")


# Baseline motor scales a payer may ask for (docs/domain.md §8, §13c): key -> (name, lowest, highest).
# CHOP INTEND: 16 items scored 0-4, total 0-64 (Glanzman 2010); HINE-2: 8 motor-milestone items, 0-26.
MOTOR_SCALES: dict[str, tuple[str, int, int]] = {
    "chop_intend": ("CHOP INTEND", 0, 64),
    "hine2": ("HINE-2", 0, 26),
}


@dataclass(frozen=True)
class MotorObs:
    """A baseline motor assessment: which scale, the total score, and the day it was done."""

    assessed_on: date
    scale: str
    score: int

    def __post_init__(self) -> None:
        _check_date(self.assessed_on, "Motor assessment date")
        if self.scale not in MOTOR_SCALES:
            raise ValueError(f"Unknown motor scale {self.scale!r}; expected one of {', '.join(MOTOR_SCALES)}.")
        name, low, high = MOTOR_SCALES[self.scale]
        _check_int(self.score, f"{name} score", low, high)

    @property
    def text(self) -> str:
        """ "CHOP INTEND 32 of 64 on 2026-11-20" (plain(): dates in words on screens)."""
        name, _, high = MOTOR_SCALES[self.scale]
        return f"{name} {self.score} of {high} on {self.assessed_on.isoformat()}"


@dataclass(frozen=True)
class GateFacts:
    """Everything on file for one child. Any field may be missing (None / empty)."""

    date_of_birth: date | None = None
    sex: str | None = None
    gestational_age_weeks: int | None = None
    gestational_age_days: int | None = None
    diagnosis_code: str | None = None
    smn1_genotype: str | None = None
    genetic_method: str | None = None
    genetic_report_date: date | None = None
    genetic_report_on_file: bool = False
    smn2_copies: int | None = None
    weights: tuple[WeightObs, ...] = ()
    titers: tuple[TiterObs, ...] = ()
    baseline_labs: tuple[LabObs, ...] = ()
    steroid_plan_start: date | None = None
    # Where steroid_plan_start came from: the infusion record's start once a draft exists (one
    # source of truth, issue 15 item 3), else the case's plan. Said on the gate item.
    steroid_plan_source: str = "case plan"
    site_pos: str | None = None
    site_certified: bool | None = None
    prior_j3399: bool | None = None
    tracheostomy: bool | None = None
    respiratory_support_hours_per_day: int | None = None
    respiratory_support_days: int | None = None
    smn_therapies: tuple[TherapyObs, ...] = ()
    # For the payer's own criteria (GatePolicy.criteria): None = not recorded.
    symptomatic: bool | None = None
    symptom_onset_months: int | None = None
    motor_assessments: tuple[MotorObs, ...] = ()
    clinical_checks: tuple[ClinicalStatusObs, ...] = ()

    def __post_init__(self) -> None:
        for name in ("weights", "titers", "baseline_labs", "smn_therapies", "motor_assessments", "clinical_checks"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("date_of_birth", "genetic_report_date", "steroid_plan_start"):
            _check_date(getattr(self, name), name, optional=True)
        _check_choice(self.sex, SEXES, "sex")
        _check_choice(self.smn1_genotype, SMN1_GENOTYPES, "SMN1 genotype")
        _check_choice(self.genetic_method, GENETIC_METHODS, "genetic method")
        _check_int(self.gestational_age_weeks, "gestational age (weeks)", 0, MAX_GESTATIONAL_AGE_WEEKS)
        _check_int(self.gestational_age_days, "gestational age (days)", 0, DAYS_PER_WEEK - 1)
        if self.gestational_age_days is not None and self.gestational_age_weeks is None:
            raise ValueError("Gestational age days were given without the weeks.")
        _check_int(self.smn2_copies, "SMN2 copies", 0, None)
        _check_int(self.respiratory_support_hours_per_day, "respiratory support hours/day", 0, 24)
        _check_int(self.respiratory_support_days, "respiratory support days", 0, None)
        _check_int(self.symptom_onset_months, "age at symptom onset (months)", 0, MAX_SYMPTOM_ONSET_MONTHS)
        if self.symptomatic is not None and not isinstance(self.symptomatic, bool):
            raise ValueError(f"symptomatic must be True, False or None; got {self.symptomatic!r}.")
        for obs, kind in (
            *((w, WeightObs) for w in self.weights),
            *((t, TiterObs) for t in self.titers),
            *((lab, LabObs) for lab in self.baseline_labs),
            *((t, TherapyObs) for t in self.smn_therapies),
            *((m, MotorObs) for m in self.motor_assessments),
            *((c, ClinicalStatusObs) for c in self.clinical_checks),
        ):
            if not isinstance(obs, kind):
                raise ValueError(f"Expected a {kind.__name__}; got {obs!r}.")

    @property
    def gestational_age_total_days(self) -> int | None:
        """Return gestational age at birth in days, or None when weeks are not recorded."""
        if self.gestational_age_weeks is None:
            return None
        return self.gestational_age_weeks * DAYS_PER_WEEK + (self.gestational_age_days or 0)


def _check_choice(value: object, allowed: frozenset[str], name: str) -> None:
    if value is not None and value not in allowed:
        raise ValueError(f"Unknown {name} {value!r}; expected one of {', '.join(sorted(allowed))}.")


def _check_int(value: object, name: str, low: int, high: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number; got {value!r}.")
    if value < low or (high is not None and value > high):
        bound = f"{low} to {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bound}; got {value}.")


@dataclass(frozen=True)
class PayerCriteria:
    """A payer's own coverage criteria beyond the label (docs/domain.md §13c), each None / empty /
    False when the payer does not set it; a criterion not set gives no gate item.

    - max_smn2_copies: SMN2 copy number at most this (e.g. 3).
    - motor_scales: a baseline motor assessment on one of these scales is required (CHOP INTEND,
      HINE-2), done within motor_max_age_days of the infusion when that is set.
    - symptom_onset_before_months: a symptomatic child's symptoms began before this age.
    - max_niv_hours_per_day: non-invasive ventilation at most this many hours a day, no tracheostomy.
    - wbc_min / wbc_max: white cell count limits in 10^9/L (20,000/µL = 20), drawn within the
      payer's labs window.
    - require_no_active_infection: the newest physician check shows no active infection.
    """

    max_smn2_copies: int | None = None
    motor_scales: frozenset[str] = frozenset()
    motor_max_age_days: int | None = None
    symptom_onset_before_months: int | None = None
    max_niv_hours_per_day: int | None = None
    wbc_min: Decimal | None = None
    wbc_max: Decimal | None = None
    require_no_active_infection: bool = False

    def __post_init__(self) -> None:
        _check_int(self.max_smn2_copies, "SMN2 copy limit", 1, 8)
        object.__setattr__(self, "motor_scales", frozenset(self.motor_scales))
        unknown = self.motor_scales - MOTOR_SCALES.keys()
        if unknown:
            raise ValueError(
                f"Unknown motor scale(s) {', '.join(sorted(unknown))}; expected {', '.join(MOTOR_SCALES)}."
            )
        _check_int(self.motor_max_age_days, "motor assessment max age (days)", 1, None)
        _check_int(self.symptom_onset_before_months, "symptom onset limit (months)", 1, MAX_SYMPTOM_ONSET_MONTHS)
        _check_int(self.max_niv_hours_per_day, "ventilation limit (hours/day)", 0, 24)
        for name in ("wbc_min", "wbc_max"):
            value = getattr(self, name)
            if value is not None:
                number = _to_decimal(value, "WBC limit")
                if number < 0:
                    raise ValueError(f"A WBC limit cannot be negative; got {value}.")
                object.__setattr__(self, name, number)
        if self.wbc_min is not None and self.wbc_max is not None and self.wbc_min > self.wbc_max:
            raise ValueError(f"WBC lower limit {self.wbc_min} is above the upper limit {self.wbc_max}.")
        if not isinstance(self.require_no_active_infection, bool):
            raise ValueError("require_no_active_infection must be True or False.")

    @property
    def any(self) -> bool:
        """Whether the payer sets any criterion of its own."""
        return bool(
            self.max_smn2_copies is not None
            or self.motor_scales
            or self.symptom_onset_before_months is not None
            or self.max_niv_hours_per_day is not None
            or self.wbc_min is not None
            or self.wbc_max is not None
            or self.require_no_active_infection
        )


@dataclass(frozen=True)
class GatePolicy:
    """A payer's rules where the label is silent. Defaults are the billing card's."""

    titer_ceiling_denominator: int = CARD_TITER_CEILING_DENOMINATOR
    titer_max_age_days: int = CARD_TITER_MAX_AGE_DAYS
    weight_max_age_days: int = CARD_WEIGHT_MAX_AGE_DAYS
    labs_max_age_days: int = CARD_LABS_MAX_AGE_DAYS
    allowed_pos: frozenset[str] = CARD_ALLOWED_POS
    require_certified_center: bool = CARD_REQUIRE_CERTIFIED_CENTER
    payer_name: str = "the payer"
    # What the windows and the site rule cite: the payer policy's public id (docs/domain.md §13c).
    policy_source: str = SRC_DEFAULTS
    criteria: PayerCriteria = field(default_factory=PayerCriteria)

    def __post_init__(self) -> None:
        if not isinstance(self.criteria, PayerCriteria):
            raise ValueError(f"GatePolicy.criteria must be a PayerCriteria; got {self.criteria!r}.")
        _check_int(self.titer_ceiling_denominator, "titer ceiling", 1, None)
        _check_int(self.titer_max_age_days, "titer max age (days)", 0, None)
        _check_int(self.weight_max_age_days, "weight max age (days)", 0, None)
        _check_int(self.labs_max_age_days, "labs max age (days)", 0, None)
        object.__setattr__(self, "allowed_pos", frozenset(str(p).strip() for p in self.allowed_pos))


# --- Report ----------------------------------------------------------------------------
@dataclass(frozen=True)
class GateItem:
    """One line of the gate: what was checked, the outcome, and how to fix it.

    ``blocking`` is True for 'fail' and 'missing'; a 'warning' never blocks.
    ``since`` is the day the item started blocking (e.g. the day a titer went stale);
    ``valid_until`` is the last infusion date the evidence supports.
    """

    id: str
    title: str
    status: Status
    detail: str
    fix: str = ""
    source: str = ""
    since: date | None = None
    valid_until: date | None = None
    blocking: bool = field(init=False)

    def __post_init__(self) -> None:
        if self.status not in ("pass", "fail", "missing", "warning"):
            raise ValueError(f"Unknown gate status {self.status!r}.")
        object.__setattr__(self, "blocking", self.status in BLOCKING_STATUSES)


@dataclass(frozen=True)
class GateReport:
    """All gate items for one planned infusion date."""

    on: date
    items: tuple[GateItem, ...]

    @property
    def blocking_items(self) -> tuple[GateItem, ...]:
        """Return the items that fail or are missing."""
        return tuple(item for item in self.items if item.blocking)

    @property
    def is_ready(self) -> bool:
        """Return True when nothing blocks."""
        return not self.blocking_items

    @property
    def summary(self) -> str:
        """Return "Ready for PA" or e.g. "1 item blocks" / "3 items block"."""
        count = len(self.blocking_items)
        if count == 0:
            return "Ready for PA"
        return "1 item blocks" if count == 1 else f"{count} items block"

    @property
    def label_items(self) -> tuple[GateItem, ...]:
        """The items every case is judged by (label and payer practice windows)."""
        return tuple(item for item in self.items if not item.id.startswith(PAYER_ITEM_PREFIX))

    @property
    def payer_items(self) -> tuple[GateItem, ...]:
        """The payer's own criteria (empty when the payer sets none)."""
        return tuple(item for item in self.items if item.id.startswith(PAYER_ITEM_PREFIX))

    @property
    def payer_summary(self) -> str:
        """ "All met" / "2 met, 1 not met, 1 missing": the payer's own criteria in a line ("" for none)."""
        items = self.payer_items
        if not items:
            return ""
        counts = {
            status: sum(1 for i in items if i.status == status) for status in ("pass", "fail", "missing", "warning")
        }
        if counts["pass"] == len(items):
            return "All met" if len(items) > 1 else "Met"
        words = (("pass", "met"), ("fail", "not met"), ("missing", "missing"), ("warning", "to review"))
        return ", ".join(f"{counts[key]} {word}" for key, word in words if counts[key])

    def item(self, item_id: str) -> GateItem:
        """Return the item with this id (KeyError when absent)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


@dataclass(frozen=True)
class FeasibleWindow:
    """The infusion dates the documents on file support; both None when no date works."""

    earliest: date | None
    latest: date | None
    constraints: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        """Return True when at least one infusion date works."""
        return self.earliest is not None


# --- Date helpers ------------------------------------------------------------------------
def add_months(day: date, months: int) -> date:
    """Return ``day`` plus whole calendar months, clamped to the month's last day.

    Feb 29 + 24 months is Feb 28 (as EDATE and dateutil count), the conservative reading
    of "< 2 years" for a leap-day birthday.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def second_birthday(date_of_birth: date) -> date:
    """Return the day the child turns 24 months (label §1 limit), Feb 29 -> Feb 28."""
    return add_months(date_of_birth, AGE_LIMIT_MONTHS)


def leap_day_convention(date_of_birth: date) -> str:
    """For a 29 February birth, the sentence that says which day is taken as the second birthday
    and why ("" for any other birth date). The age item and the PA packet print it.

    The convention is chosen deliberately (issue 15 item 6): the second birthday of a child born
    on 29 February falls in a common year, and conventions differ (28 February by calendar-month
    arithmetic, as spreadsheet EDATE and dateutil count; 1 March in others). The label says
    "less than 2 years of age" (label §1, strict). Taking 28 February makes the last eligible
    infusion date 27 February, when the child is under 2 by either convention, so neither a
    reviewer nor a payer reading 1 March can find the child already 2 on that day; the cost is
    one day of the window.
    """
    if (date_of_birth.month, date_of_birth.day) != (2, 29):
        return ""
    birthday = second_birthday(date_of_birth)
    return (
        f"Born on 29 February: the second birthday is taken as {day_text(birthday)} (28 February, not 1 March, "
        f"in a common year), so the last eligible date {day_text(birthday - timedelta(days=1))} is under "
        "2 years by either convention"
    )


def last_eligible_date(date_of_birth: date) -> date:
    """Return the last infusion date with age < 2 years: the day before the 2nd birthday."""
    return second_birthday(date_of_birth) - timedelta(days=1)


def full_term_date(date_of_birth: date, ga_total_days: int) -> date | None:
    """Return the day a preterm child reaches 37 weeks corrected age, or None if term-born.

    Label §8.4 (docs/domain.md §1): delay the infusion until full-term gestational age.
    Corrected-age date = date of birth + (37 weeks - gestational age at birth).
    """
    term_days = FULL_TERM_WEEKS * DAYS_PER_WEEK
    if ga_total_days >= term_days:
        return None
    return date_of_birth + timedelta(days=term_days - ga_total_days)


def _age_text(date_of_birth: date, on: date) -> str:
    months = (on.year - date_of_birth.year) * 12 + on.month - date_of_birth.month
    if on.day < date_of_birth.day:
        months -= 1
    if months < 1:
        return f"{(on - date_of_birth).days} days old"
    return f"{months} months old"


def _ga_text(weeks: int, days: int | None) -> str:
    return f"{weeks}w{days or 0}d"


# --- Picking the current document -------------------------------------------------------
def _newest_weight(facts: GateFacts, on: date) -> WeightObs | None:
    """Return the newest weight measured on or before ``on`` (later ones are ignored)."""
    usable = [w for w in facts.weights if w.measured_on <= on]
    return max(usable, key=lambda w: (w.measured_on, w.kg), default=None)


def _newest_titer(facts: GateFacts, on: date) -> TiterObs | None:
    """Return the newest titer drawn on or before ``on``; same-day ties take the highest."""
    usable = [t for t in facts.titers if t.drawn_on <= on]
    return max(usable, key=lambda t: (t.drawn_on, t.titer.key), default=None)


def _newest_labs(facts: GateFacts, on: date) -> dict[str, LabObs]:
    """Return, per baseline requirement, the newest result drawn on or before ``on``."""
    newest: dict[str, LabObs] = {}
    for lab in sorted(facts.baseline_labs, key=lambda x: (x.drawn_on, x.value)):
        if lab.drawn_on <= on:
            newest[lab.requirement] = lab
    return newest


def _newest_liver(facts: GateFacts, on: date) -> dict[str, LabObs]:
    """Return the newest ALT, AST and total bilirubin on or before ``on``; ties take the highest."""
    newest: dict[str, LabObs] = {}
    for lab in sorted(facts.baseline_labs, key=lambda x: (x.drawn_on, x.value)):
        if lab.drawn_on <= on and lab.analyte in PRE_INFUSION_LIVER_ANALYTES:
            newest[lab.analyte] = lab
    return newest


# --- Gate items ---------------------------------------------------------------------------
def _smn1_item(facts: GateFacts) -> GateItem:
    """Bi-allelic SMN1 (label §1; docs/domain.md §2, §11.18; card denial #2)."""
    title = "Bi-allelic SMN1 mutations documented"
    source = "FDA label §1; Aetna CPB 0953"  # docs/domain.md §2, §11.18; card top denial #2
    fix = "Submit MLPA / sequencing report showing bi-allelic SMN1 mutations"
    missing = []
    if facts.smn1_genotype is None:
        missing.append("SMN1 genotype")
    if facts.genetic_method is None:
        missing.append("test method")
    if not facts.genetic_report_on_file:
        missing.append("genetic report on file")
    genotype = {
        "0_copies": "0 SMN1 copies (homozygous deletion)",
        "1_copy_plus_variant": "1 SMN1 copy + pathogenic variant (compound heterozygous)",
        None: "genotype not recorded",
    }[facts.smn1_genotype]
    parts = [genotype]
    if facts.genetic_method:
        parts.append(f"by {facts.genetic_method}")
    if facts.genetic_report_date:
        parts.append(f"report {facts.genetic_report_date.isoformat()}")
    if facts.smn2_copies is not None:
        parts.append(f"SMN2 {facts.smn2_copies} copies")
    detail = "; ".join(parts)
    if missing:
        return GateItem("smn1", title, "missing", f"{detail}; missing: {', '.join(missing)}", fix, source)
    if facts.smn1_genotype == "1_copy_plus_variant" and facts.genetic_method != "sequencing":
        return GateItem(
            "smn1",
            title,
            "fail",
            f"{detail}: a point variant needs sequencing, {facts.genetic_method} shows copy number only",
            "Submit the SMN1 sequencing report that names the pathogenic variant",
            source,
        )
    return GateItem("smn1", title, "pass", detail, "", source)


def normalize_diagnosis_code(code: str) -> str:
    """Return an ICD-10-CM code upper-cased with its dot, e.g. 'g120' -> 'G12.0'."""
    compact = "".join(code.split()).upper()
    if "." not in compact and len(compact) > 3:
        compact = f"{compact[:3]}.{compact[3:]}"
    return compact


def _diagnosis_item(facts: GateFacts) -> GateItem:
    """SMA diagnosis code G12.0/G12.1/G12.8/G12.9 (docs/domain.md §7, §11.11, §11.14)."""
    title = "SMA diagnosis code (ICD-10-CM)"
    source = "ICD-10-CM FY2026"  # docs/domain.md §7, §11.14
    allowed = ", ".join(SMA_DIAGNOSIS_CODES)
    fix = f"Code the confirmed SMA diagnosis: {allowed}"
    if not facts.diagnosis_code or not facts.diagnosis_code.strip():
        return GateItem("diagnosis", title, "missing", "No diagnosis code recorded", fix, source)
    code = normalize_diagnosis_code(facts.diagnosis_code)
    if code in SMA_DIAGNOSIS_CODES:
        return GateItem("diagnosis", title, "pass", f"{code} {SMA_DIAGNOSIS_CODES[code]}", "", source)
    if code.startswith(MOTOR_NEURON_DISEASE_PREFIX):
        why = f"{code} is a motor neuron disease code (G12.2x, ALS family), not 5q SMA"
    elif code.startswith("P09"):
        why = f"{code} is an abnormal newborn screen; code the confirmed disease once known"
    elif code == "Z13.228":
        why = "Z13.228 is 'Encounter for screening for other metabolic disorders', not SMA"
    else:
        why = f"{code} is not an SMA diagnosis code"
    return GateItem("diagnosis", title, "fail", why, fix, source)


def _age_item(facts: GateFacts, on: date) -> GateItem:
    """Age < 2 years on the infusion date (label §1; docs/domain.md §11.15, §11.21)."""
    title = "Age under 2 years on the infusion date"
    source = SRC_LABEL_1  # docs/domain.md §1, §11.15
    alternatives = "Not eligible for J3399; alternatives: " + "; ".join(ALTERNATIVE_THERAPIES)
    dob = facts.date_of_birth
    if dob is None:
        return GateItem("age", title, "missing", "Date of birth not recorded", "Record date of birth", source)
    if dob > on:
        return GateItem(
            "age",
            title,
            "fail",
            f"Date of birth {dob.isoformat()} is after the infusion date {on.isoformat()}",
            "Check the date of birth and the planned infusion date",
            source,
        )
    last = last_eligible_date(dob)
    leap = leap_day_convention(dob)
    note = f". {leap}" if leap else ""
    if on <= last:
        return GateItem(
            "age",
            title,
            "pass",
            f"{_age_text(dob, on)} on {on.isoformat()} (born {dob.isoformat()}); second birthday "
            f"{second_birthday(dob).isoformat()}, last eligible infusion date {last.isoformat()}{note}",
            "",
            source,
            valid_until=last,
        )
    return GateItem(
        "age",
        title,
        "fail",
        f"{_age_text(dob, on)} on {on.isoformat()}; second birthday was "
        f"{second_birthday(dob).isoformat()} (last eligible date {last.isoformat()}){note}",
        alternatives,
        source,
        since=second_birthday(dob),
    )


def _prematurity_item(facts: GateFacts, on: date) -> GateItem:
    """Full-term corrected age reached (label §8.4; docs/domain.md §1, §11.7)."""
    title = "Full-term corrected age reached"
    source = "FDA label §8.4; 37 weeks = WHO term boundary"  # docs/domain.md §1
    dob, ga = facts.date_of_birth, facts.gestational_age_total_days
    record_ga = "Record gestational age at birth (weeks + days)"
    if dob is None:
        return GateItem("prematurity", title, "missing", "Date of birth not recorded", "Record date of birth", source)
    if ga is None:
        latest_possible = dob + timedelta(weeks=FULL_TERM_WEEKS)
        if on >= latest_possible:
            return GateItem(
                "prematurity",
                title,
                "pass",
                f"Gestational age not recorded; any child is past full-term corrected age "
                f"by {latest_possible.isoformat()}",
                "",
                source,
            )
        return GateItem("prematurity", title, "missing", "Gestational age at birth not recorded", record_ga, source)
    born = _ga_text(facts.gestational_age_weeks or 0, facts.gestational_age_days)
    term = full_term_date(dob, ga)
    if term is None:
        return GateItem("prematurity", title, "pass", f"Born at {born} (term)", "", source)
    if on >= term:
        return GateItem(
            "prematurity",
            title,
            "pass",
            f"Born at {born}; full-term corrected age ({FULL_TERM_WEEKS}w) reached {term.isoformat()}",
            "",
            source,
        )
    return GateItem(
        "prematurity",
        title,
        "fail",
        f"Born at {born}; full-term corrected age ({FULL_TERM_WEEKS}w) not until {term.isoformat()}",
        f"Delay the infusion to {term.isoformat()} or later (steroids may affect neurodevelopment)",
        source,
    )


def _weight_item(facts: GateFacts, policy: GatePolicy, on: date) -> GateItem:
    """Newest weight in the labeled kit range and current (label Table 1; card Day -14)."""
    title = f"Weight {WEIGHT_MIN_KG}-{WEIGHT_MAX_KG} kg, measured within {policy.weight_max_age_days} days"
    # docs/domain.md §1a, §2, §11.7: the 14-day weight window is eviCore's; the payer's policy sets it.
    source = f"FDA label §2.1 Table 1; weight window: {policy.policy_source}"
    obs = _newest_weight(facts, on)
    if obs is None:
        return GateItem(
            "weight",
            title,
            "missing",
            f"No weight measured on or before {on.isoformat()}",
            "Weigh the child and record the weight and date",
            source,
        )
    valid_until = obs.measured_on + timedelta(days=policy.weight_max_age_days)
    rounded = round_weight(obs.kg)
    kit = kit_for_weight(obs.kg)
    problems, fixes = [], []
    if kit is None:
        where = "below" if rounded < WEIGHT_MIN_KG else "above"
        problems.append(f"{where} the labeled {WEIGHT_MIN_KG}-{WEIGHT_MAX_KG} kg kit range")
        fixes.append(
            "No labeled kit below 2.6 kg; reweigh as the child grows"
            if where == "below"
            else "Weight >21 kg: verify with OneGene; if exceeded, alternative therapy"  # card top denial #4
        )
    stale = on > valid_until
    if stale:
        problems.append(f"stale after {valid_until.isoformat()}")
        fixes.append(f"Reweigh within {policy.weight_max_age_days} days before infusion")
    head = f"{obs.kg} kg on {obs.measured_on.isoformat()} (rounds to {rounded} kg)"
    if problems:
        return GateItem(
            "weight",
            title,
            "fail",
            f"{head}; {'; '.join(problems)}",
            "; ".join(fixes),
            source,
            since=valid_until + timedelta(days=1) if stale and kit is not None else None,
            valid_until=valid_until if kit is not None else None,
        )
    assert kit is not None
    flag = "" if kit.verified else " [derived kit row: confirm on DailyMed]"
    return GateItem(
        "weight",
        title,
        "pass",
        f"{head}; kit {kit.band_label} {kit.kit_ndc}, {kit.dose_volume_ml} mL{flag}; "
        f"current until {valid_until.isoformat()}",
        "",
        source,
        valid_until=valid_until,
    )


def aav9_retest_date(obs: TiterObs) -> date:
    """Return a suggested retest date for a titer above the ceiling (docs/domain.md §2).

    Maternal antibody half-life 18-59 days (van Olden, MDA abstract): about 4 weeks after
    a titer >= 1:200, about 8 weeks after a lower one.
    """
    high = obs.titer.denominator >= AAV9_RETEST_HIGH_TITER_DENOMINATOR
    weeks = AAV9_RETEST_WEEKS_HIGH if high else AAV9_RETEST_WEEKS_LOW
    return obs.drawn_on + timedelta(weeks=weeks)


def _titer_item(facts: GateFacts, policy: GatePolicy, on: date) -> GateItem:
    """Newest anti-AAV9 titer <= 1:ceiling and current (label §2.3/§6.2; card denial #1)."""
    ceiling = policy.titer_ceiling_denominator
    title = f"Anti-AAV9 antibody titer ≤ 1:{ceiling}, drawn within {policy.titer_max_age_days} days"
    # docs/domain.md §2, §11.6: the label requires the test; <=1:50 ELISA is the trial/payer criterion;
    # the titer window is the card's (card top denial #1).
    source = f"FDA label §2.3, §6.2; ≤ 1:50 by ELISA: Aetna CPB 0953; titer window: {policy.policy_source}"
    order_fix = (
        f"Order via OneGene Program ({ONEGENE_PHONE}); result ≤ 1:{ceiling} within "
        f"{policy.titer_max_age_days} days of infusion"
    )
    obs = _newest_titer(facts, on)
    if obs is None:
        return GateItem(
            "titer",
            title,
            "missing",
            f"No anti-AAV9 titer drawn on or before {on.isoformat()}",
            order_fix,
            source,
        )
    valid_until = obs.drawn_on + timedelta(days=policy.titer_max_age_days)
    lab = f" ({obs.lab})" if obs.lab else ""
    head = f"{obs.titer} drawn {obs.drawn_on.isoformat()}{lab}"
    if not obs.titer.is_at_most(ceiling):
        if obs.titer.is_bounded_above:
            why = f"does not show ≤ 1:{ceiling}; ask the lab for an endpoint titer"
        else:
            why = f"above 1:{ceiling}"
        retest = aav9_retest_date(obs)
        fix = (
            f"Label allows retest when > 1:{ceiling}; maternal antibody half-life 18-59 d: retest "
            f"about {retest.isoformat()} (~{AAV9_RETEST_WEEKS_HIGH} weeks if ≥ 1:"
            f"{AAV9_RETEST_HIGH_TITER_DENOMINATOR}, ~{AAV9_RETEST_WEEKS_LOW} weeks if lower); "
            f"order via OneGene Program ({ONEGENE_PHONE})"
        )
        return GateItem("titer", title, "fail", f"{head}; {why}", fix, source, since=obs.drawn_on)
    if on > valid_until:
        return GateItem(
            "titer",
            title,
            "fail",
            f"{head}; stale after {valid_until.isoformat()}",
            f"Redraw: {order_fix}",
            source,
            since=valid_until + timedelta(days=1),
            valid_until=valid_until,
        )
    return GateItem(
        "titer",
        title,
        "pass",
        f"{head}; stale after {valid_until.isoformat()}",
        "",
        source,
        valid_until=valid_until,
    )


def _baseline_labs_item(facts: GateFacts, policy: GatePolicy, on: date) -> GateItem:
    """All baseline labs present and current (label boxed warning/§5; docs/domain.md §2, §11.3)."""
    days = policy.labs_max_age_days
    title = f"Baseline labs within {days} days (ALT, AST, total bilirubin, prothrombin time or INR, creatinine, hemoglobin, platelets, troponin-I)"
    # docs/domain.md §2, §11.3; the labs window is the card's Day -14.
    source = f"FDA label boxed warning, §5.1, §5 (TMA), §2.1 (troponin-I); labs window: {policy.policy_source}"
    newest = _newest_labs(facts, on)
    absent = [LAB_ANALYTE_NAMES[a] for a in BASELINE_LAB_ANALYTES if a not in newest]
    stale = [(a, newest[a]) for a in BASELINE_LAB_ANALYTES if a in newest and (on - newest[a].drawn_on).days > days]
    present = [newest[a] for a in BASELINE_LAB_ANALYTES if a in newest]
    problems = []
    if absent:
        problems.append(f"missing: {', '.join(absent)}")
    if stale:
        problems.append("stale: " + ", ".join(f"{LAB_ANALYTE_NAMES[a]} ({o.drawn_on.isoformat()})" for a, o in stale))
    fix = f"Draw the missing/stale labs within {days} days before infusion"
    if problems:
        since = None
        if not absent:
            since = min(o.drawn_on for _, o in stale) + timedelta(days=days + 1)
        status: Status = "missing" if absent else "fail"
        return GateItem("baseline_labs", title, status, "; ".join(problems), fix, source, since=since)
    oldest = min(present, key=lambda o: o.drawn_on)
    valid_until = oldest.drawn_on + timedelta(days=days)
    return GateItem(
        "baseline_labs",
        title,
        "pass",
        f"All {len(BASELINE_LAB_ANALYTES)} present; oldest {LAB_ANALYTE_NAMES[oldest.requirement]} "
        f"{oldest.drawn_on.isoformat()}; current until {valid_until.isoformat()}",
        "",
        source,
        valid_until=valid_until,
    )


def _liver_baseline_item(facts: GateFacts, on: date) -> GateItem:
    """ALT, AST, total bilirubin > 2 x ULN before infusion: not studied (label §5.1). Never blocks."""
    title = "Baseline liver tests at or below 2 × ULN"
    source = "FDA label §5.1"  # docs/domain.md §2, §9
    multiple = PRE_INFUSION_CAUTION_ULN_MULTIPLE
    newest = _newest_liver(facts, on)
    high, unknown, normal = [], [], []
    for analyte in PRE_INFUSION_LIVER_ANALYTES:
        name = LAB_ANALYTE_NAMES[analyte]
        obs = newest.get(analyte)
        if obs is None:
            unknown.append(f"{name} not on file")
        elif obs.uln is None:
            unknown.append(f"{name} {obs.value} {obs.unit} ULN not reported".replace("  ", " "))
        else:
            ratio = (obs.value / obs.uln).quantize(Decimal("0.1"))
            text = f"{name} {display_value(obs.analyte, obs.value)} {obs.unit} ({ratio} × ULN, {obs.drawn_on.isoformat()})".replace(
                "  ", " "
            )
            (high if obs.value > multiple * obs.uln else normal).append(text)
    if high:
        return GateItem(
            "liver_baseline",
            title,
            "warning",
            f"Above {multiple} × ULN: {'; '.join(high)}",
            "Not studied above 2 × ULN (bilirubin: except neonatal jaundice); document the "
            "risk-benefit decision, consider hepatology input",
            source,
        )
    if unknown:
        return GateItem(
            "liver_baseline",
            title,
            "warning",
            f"Cannot compare to ULN: {'; '.join(unknown)}",
            "Record ALT, AST and total bilirubin with the lab's upper limit of normal",
            source,
        )
    return GateItem("liver_baseline", title, "pass", "; ".join(normal), "", source)


def _steroid_plan_item(facts: GateFacts, on: date) -> GateItem:
    """Prednisolone 1 mg/kg/day planned from Day -1 (label §2.1; card denial #5)."""
    title = "Corticosteroid plan starts the day before infusion"
    source = "FDA label §2.1"  # docs/domain.md §3, §11.5; card top denial #5
    expected = on + timedelta(days=STEROID_START_DAY)
    weight = _newest_weight(facts, on)
    if weight is None:
        dose = "prednisolone 1 mg/kg/day (record a weight for the mg dose)"
    else:
        dose = (
            f"prednisolone {prednisolone_mg_per_day(weight.kg)} mg/day "
            f"(1 mg/kg/day × {round_weight(weight.kg)} kg, {weight.measured_on.isoformat()})"
        )
    course = (
        f"{STEROID_FULL_DOSE_DAYS} days total from Day −1, then {STEROID_TAPER_DAYS}-day taper "
        "if liver tests unremarkable"  # FDA label §2.1, not the card's ">=30 d post" (docs/domain.md §11.5)
    )
    fix = f"Document {dose} starting {expected.isoformat()}; {course}"
    plan = facts.steroid_plan_start
    origin = f"from the {facts.steroid_plan_source}"
    if plan is None:
        return GateItem("steroid_plan", title, "missing", f"No steroid start planned; {dose}", fix, source)
    if plan != expected:
        return GateItem(
            "steroid_plan",
            title,
            "fail",
            f"Planned start {plan.isoformat()} ({origin}); infusion {on.isoformat()} needs start "
            f"{expected.isoformat()}",
            fix,
            source,
        )
    return GateItem(
        "steroid_plan", title, "pass", f"Starts {plan.isoformat()} ({origin}): {dose}; {course}", "", source
    )


def _site_item(facts: GateFacts, policy: GatePolicy) -> GateItem:
    """Site of care allowed by the payer (card Site of care; docs/domain.md §6c, §11.10)."""
    title = "Site of care allowed"
    source = f"Site-of-care rule: {policy.policy_source}; CMS POS code set"  # docs/domain.md §6c, §11.10
    allowed = ", ".join(sorted(policy.allowed_pos))
    missing, failed, parts = [], [], []
    pos = facts.site_pos.strip() if facts.site_pos else None
    if pos is None:
        missing.append("place of service not recorded")
    else:
        label = f"POS {pos}" + (f" ({POS_NAMES[pos]})" if pos in POS_NAMES else "")
        if pos in policy.allowed_pos:
            parts.append(label)
        else:
            failed.append(f"{label} not allowed by {policy.payer_name} (allowed: {allowed})")
    if policy.require_certified_center:
        if facts.site_certified is None:
            missing.append("certified-center status not recorded")
        elif facts.site_certified:
            parts.append("certified center")
        else:
            failed.append("not a certified treatment center")
    fix = f"Infuse at POS {allowed}" + (" in a certified center" if policy.require_certified_center else "")
    if failed:
        return GateItem("site_of_care", title, "fail", "; ".join(failed + missing), fix, source)
    if missing:
        return GateItem("site_of_care", title, "missing", "; ".join(parts + missing), fix, source)
    return GateItem("site_of_care", title, "pass", "; ".join(parts), "", source)


def _prior_item(facts: GateFacts) -> GateItem:
    """No prior J3399: one-time treatment, repeat administration not evaluated (label §1)."""
    title = "No prior Zolgensma (J3399)"
    source = "FDA label §1 limitations of use; CMS HCPCS J3399 (per treatment)"  # docs/domain.md §1, §6a
    if facts.prior_j3399 is None:
        return GateItem(
            "prior_j3399",
            title,
            "missing",
            "Prior gene therapy not recorded",
            "Record whether the child has received Zolgensma before",
            source,
        )
    if facts.prior_j3399:
        return GateItem(
            "prior_j3399",
            title,
            "fail",
            "Zolgensma already given; repeat administration not evaluated",
            "Not eligible for a second J3399",
            source,
        )
    return GateItem("prior_j3399", title, "pass", "No prior Zolgensma", "", source)


def _advanced_sma_item(facts: GateFacts) -> GateItem:
    """Advanced SMA: not evaluated by the label; payer exclusion. Never blocks."""
    title = "No advanced SMA (tracheostomy or ≥ 16 h/day support for ≥ 14 days)"
    source = "FDA label §1 limitations of use; Aetna CPB 0953; BCBS ND Zolgensma policy"  # docs/domain.md §2
    hours, days = facts.respiratory_support_hours_per_day, facts.respiratory_support_days
    if hours is None:
        support = "respiratory support not recorded"
    elif hours == 0:
        support = "no respiratory support"
    else:
        support = f"respiratory support {hours} h/day" + (f" for {days} days" if days is not None else "")
    trach = {None: "tracheostomy not recorded", True: "tracheostomy", False: "no tracheostomy"}
    detail = f"{trach[facts.tracheostomy]}; {support}"
    fix = "Payers exclude advanced SMA; document respiratory status and expect medical review"
    heavy = hours is not None and hours >= ADVANCED_SMA_SUPPORT_HOURS_PER_DAY
    if facts.tracheostomy or (heavy and days is not None and days >= ADVANCED_SMA_SUPPORT_DAYS):
        return GateItem("advanced_sma", title, "warning", f"Advanced SMA: {detail}", fix, source)
    if facts.tracheostomy is None or hours is None or (heavy and days is None):
        return GateItem("advanced_sma", title, "warning", f"Cannot rule out: {detail}", fix, source)
    return GateItem("advanced_sma", title, "pass", detail, "", source)


def _smn_therapy_item(facts: GateFacts, on: date) -> GateItem:
    """Concurrent nusinersen/risdiplam: payers require stopping (docs/domain.md §2, eviCore). Never blocks."""
    title = "No concurrent nusinersen or risdiplam"
    source = "eviCore Zolgensma policy; Aetna CPB 0953"  # docs/domain.md §2, §10 (payer practice)
    active = [t for t in facts.smn_therapies if t.active_on(on)]
    if active:
        names = ", ".join(f"{t.drug} since {t.started_on.isoformat()}" for t in active)
        return GateItem(
            "smn_therapy",
            title,
            "warning",
            f"Active on {on.isoformat()}: {names}",
            "Payers require stopping nusinersen/risdiplam; document the stop date",
            source,
        )
    past = [t for t in facts.smn_therapies if t.stopped_on is not None and t.stopped_on < on]
    if past:
        names = ", ".join(f"{t.drug} stopped {t.stopped_on.isoformat()}" for t in past if t.stopped_on)
        return GateItem("smn_therapy", title, "pass", f"Previous: {names}", "", source)
    return GateItem("smn_therapy", title, "pass", "None recorded", "", source)


CLINICAL_STATUS_TITLE = "No active infection, clinically stable"
CLINICAL_STATUS_SOURCE = "FDA label §5, systemic immune response"  # docs/domain.md §1, §2


def clinical_status_item(
    checks: tuple[ClinicalStatusObs, ...], on: date, max_age_days: int = CLINICAL_STATUS_MAX_AGE_DAYS
) -> GateItem:
    """Infection and clinical stability on the infusion day (label §5: postpone during an
    infection; the child must be clinically stable).

    Judged for the infusion day only, apart from ``evaluate_gate``: a PA packet is prepared
    weeks ahead, when no check made the day before can exist. It blocks signing the record.
    1. The newest check on or before ``on`` counts (same day: the last one recorded).
    2. None, or older than ``max_age_days`` before ``on`` -> missing.
    3. Active infection or not clinically stable -> fail: postpone the infusion.
    4. Otherwise pass, naming the date and who checked.
    """
    _check_date(on, "Infusion date")
    _check_int(max_age_days, "clinical status max age (days)", 0, None)
    fix = (
        f"A physician examines the child within {max_age_days} day{'s' if max_age_days != 1 else ''} "
        "before the infusion and records: no active infection, clinically stable"
    )
    usable = [c for c in checks if c.checked_on <= on]
    newest = max(enumerate(usable), key=lambda pair: (pair[1].checked_on, pair[0]), default=(None, None))[1]
    if newest is None:
        return GateItem(
            "clinical_status",
            CLINICAL_STATUS_TITLE,
            "missing",
            f"No physician check of infection and clinical stability on or before {on.isoformat()}",
            fix,
            CLINICAL_STATUS_SOURCE,
        )
    who = f" by {newest.by}" if newest.by else ""
    if not (newest.no_active_infection and newest.clinically_stable):
        problems = []
        if not newest.no_active_infection:
            problems.append("active infection")
        if not newest.clinically_stable:
            problems.append("not clinically stable")
        return GateItem(
            "clinical_status",
            CLINICAL_STATUS_TITLE,
            "fail",
            f"{' and '.join(problems).capitalize()} on {newest.checked_on.isoformat()}{who}: postpone the infusion",
            "Postpone the infusion until the infection has resolved and the child is stable (label §5); "
            "then record a new check",
            CLINICAL_STATUS_SOURCE,
            since=newest.checked_on,
        )
    if newest.checked_on < on - timedelta(days=max_age_days):
        return GateItem(
            "clinical_status",
            CLINICAL_STATUS_TITLE,
            "missing",
            f"Last checked {newest.checked_on.isoformat()}{who}, more than {max_age_days} "
            f"day{'s' if max_age_days != 1 else ''} before {on.isoformat()}",
            fix,
            CLINICAL_STATUS_SOURCE,
        )
    return GateItem(
        "clinical_status",
        CLINICAL_STATUS_TITLE,
        "pass",
        f"No active infection, clinically stable: checked {newest.checked_on.isoformat()}{who}",
        "",
        CLINICAL_STATUS_SOURCE,
        valid_until=newest.checked_on + timedelta(days=max_age_days),
    )


# --- The payer's own criteria (billing.Payer, docs/domain.md §13c) -------------------------------
PAYER_ITEM_PREFIX = "payer_"


def _wbc_range_text(low: Decimal | None, high: Decimal | None) -> str:
    def n(value: Decimal) -> str:
        return display_value("wbc", value)

    if low is not None and high is not None:
        return f"{n(low)}–{n(high)} × 10^9/L"
    if high is not None:
        return f"≤ {n(high)} × 10^9/L"
    return f"≥ {n(low)} × 10^9/L" if low is not None else ""


def _payer_smn2_item(facts: GateFacts, policy: GatePolicy, limit: int) -> GateItem:
    item_id, title, source = f"{PAYER_ITEM_PREFIX}smn2", f"SMN2 copy number ≤ {limit}", policy.policy_source
    copies = facts.smn2_copies
    if copies is None:
        return GateItem(
            item_id,
            title,
            "missing",
            "SMN2 copy number not recorded",
            "Record the SMN2 copy number from the genetic report",
            source,
        )
    words = f"SMN2 {copies} cop{'y' if copies == 1 else 'ies'}"
    if copies > limit:
        return GateItem(
            item_id,
            title,
            "fail",
            f"{words}: {policy.payer_name} covers up to {limit}",
            f"Confirm the copy number with a quantitative assay; ask {policy.payer_name} for a medical review",
            source,
        )
    return GateItem(item_id, title, "pass", words, "", source)


def _payer_motor_item(facts: GateFacts, policy: GatePolicy, on: date) -> GateItem:
    criteria = policy.criteria
    names = " or ".join(MOTOR_SCALES[s][0] for s in MOTOR_SCALES if s in criteria.motor_scales)
    days = criteria.motor_max_age_days
    window = f", done within {days} days" if days is not None else ""
    item_id, source = f"{PAYER_ITEM_PREFIX}motor", policy.policy_source
    title = f"Baseline motor assessment ({names}) with score and date{window}"
    fix = f"Assess the child with {names} and record the score and date" + (
        f" within {days} days before the infusion" if days is not None else ""
    )
    usable = [m for m in facts.motor_assessments if m.assessed_on <= on]
    accepted = [m for m in usable if m.scale in criteria.motor_scales]
    newest = max(accepted, key=lambda m: (m.assessed_on, m.score), default=None)
    if newest is None:
        other = max(usable, key=lambda m: m.assessed_on, default=None)
        detail = f"No {names} score recorded on or before {on.isoformat()}"
        if other is not None:
            detail += f"; {other.text} is on file, but {policy.payer_name} asks for {names}"
        return GateItem(item_id, title, "missing", detail, fix, source)
    if days is None:
        return GateItem(item_id, title, "pass", newest.text, "", source)
    valid_until = newest.assessed_on + timedelta(days=days)
    if on > valid_until:
        return GateItem(
            item_id,
            title,
            "fail",
            f"{newest.text}; older than {days} days after {valid_until.isoformat()}",
            fix,
            source,
            since=valid_until + timedelta(days=1),
            valid_until=valid_until,
        )
    return GateItem(
        item_id,
        title,
        "pass",
        f"{newest.text}; current until {valid_until.isoformat()}",
        "",
        source,
        valid_until=valid_until,
    )


def _payer_onset_item(facts: GateFacts, policy: GatePolicy, limit: int) -> GateItem:
    item_id, source = f"{PAYER_ITEM_PREFIX}onset", policy.policy_source
    title = f"Symptom onset before {limit} months of age"
    fix = "Record whether the child has symptoms and, if so, the age in months when they began"
    if facts.symptomatic is None:
        return GateItem(item_id, title, "missing", "Symptomatic or presymptomatic not recorded", fix, source)
    if not facts.symptomatic:
        return GateItem(
            item_id, title, "pass", "Presymptomatic: no symptom onset, so the limit does not apply", "", source
        )
    onset = facts.symptom_onset_months
    if onset is None:
        return GateItem(
            item_id, title, "missing", "Symptomatic, but the age at symptom onset is not recorded", fix, source
        )
    words = f"Symptoms began at {onset} month{'s' if onset != 1 else ''} of age"
    if onset >= limit:
        return GateItem(
            item_id,
            title,
            "fail",
            f"{words}: {policy.payer_name} covers onset before {limit} months",
            f"Check the age at onset in the notes; ask {policy.payer_name} for a medical review",
            source,
        )
    return GateItem(item_id, title, "pass", words, "", source)


def _payer_ventilation_item(facts: GateFacts, policy: GatePolicy, limit: int) -> GateItem:
    item_id, source = f"{PAYER_ITEM_PREFIX}ventilation", policy.policy_source
    title = f"Non-invasive ventilation at most {limit} h/day, no tracheostomy"
    hours = facts.respiratory_support_hours_per_day
    fix = "Record the respiratory support (hours a day, including non-invasive ventilation) and tracheostomy"
    parts, failed = [], []
    if facts.tracheostomy:
        failed.append("tracheostomy")
    elif facts.tracheostomy is False:
        parts.append("no tracheostomy")
    if hours is not None:
        text = "no respiratory support" if hours == 0 else f"respiratory support {hours} h/day"
        (failed if hours > limit else parts).append(text)
    if failed:
        return GateItem(
            item_id,
            title,
            "fail",
            "; ".join(failed + parts) + f": {policy.payer_name} covers at most {limit} h/day without a tracheostomy",
            f"{policy.payer_name} excludes permanent ventilation; document the respiratory status and ask for a medical review",
            source,
        )
    if hours is None or facts.tracheostomy is None:
        missing = [w for w, v in (("hours of support", hours), ("tracheostomy", facts.tracheostomy)) if v is None]
        return GateItem(item_id, title, "missing", "Not recorded: " + ", ".join(missing), fix, source)
    return GateItem(item_id, title, "pass", "; ".join(parts), "", source)


def _payer_wbc_item(facts: GateFacts, policy: GatePolicy, on: date) -> GateItem:
    criteria, days = policy.criteria, policy.labs_max_age_days
    item_id, source = f"{PAYER_ITEM_PREFIX}wbc", policy.policy_source
    limits = _wbc_range_text(criteria.wbc_min, criteria.wbc_max)
    title = f"White blood cell count {limits}, drawn within {days} days"
    fix = f"Draw a white blood cell count within {days} days before the infusion and record it with the baseline labs"
    newest = _newest_labs(facts, on).get("wbc")
    if newest is None:
        return GateItem(item_id, title, "missing", f"No WBC drawn on or before {on.isoformat()}", fix, source)
    value = display_value("wbc", newest.value)
    per_ul = f"{newest.value * 1000:,.0f}"  # 9.8 × 10^9/L = 9,800 per µL, as policies write it
    head = f"WBC {value} × 10^9/L ({per_ul}/µL) on {newest.drawn_on.isoformat()}"
    valid_until = newest.drawn_on + timedelta(days=days)
    low, high = criteria.wbc_min, criteria.wbc_max
    if (low is not None and newest.value < low) or (high is not None and newest.value > high):
        where = "below" if low is not None and newest.value < low else "above"
        return GateItem(
            item_id,
            title,
            "fail",
            f"{head}: {where} {policy.payer_name}'s limit ({limits})",
            "Look for an infection or another cause; repeat the count before the request",
            source,
            since=newest.drawn_on,
        )
    if on > valid_until:
        return GateItem(
            item_id,
            title,
            "fail",
            f"{head}; stale after {valid_until.isoformat()}",
            fix,
            source,
            since=valid_until + timedelta(days=1),
            valid_until=valid_until,
        )
    return GateItem(
        item_id, title, "pass", f"{head}; current until {valid_until.isoformat()}", "", source, valid_until=valid_until
    )


def _payer_infection_item(facts: GateFacts, policy: GatePolicy, on: date) -> GateItem:
    item_id, source = f"{PAYER_ITEM_PREFIX}infection", f"{policy.policy_source}; FDA label §5"
    title = "No active infection documented"
    fix = "A physician examines the child and records the infection and stability check"
    usable = [c for c in facts.clinical_checks if c.checked_on <= on]
    # Same day: the one recorded last (facts keep the order they were recorded in).
    newest = max(enumerate(usable), key=lambda pair: (pair[1].checked_on, pair[0]), default=(None, None))[1]
    if newest is None:
        return GateItem(
            item_id, title, "missing", f"No physician check of infection on or before {on.isoformat()}", fix, source
        )
    who = f" by {newest.by}" if newest.by else ""
    if not newest.no_active_infection:
        return GateItem(
            item_id,
            title,
            "fail",
            f"Active infection on {newest.checked_on.isoformat()}{who}",
            "Treat the infection and postpone; record a new check once it has resolved",
            source,
            since=newest.checked_on,
        )
    return GateItem(item_id, title, "pass", f"No active infection on {newest.checked_on.isoformat()}{who}", "", source)


def payer_criteria_items(facts: GateFacts, policy: GatePolicy, on: date) -> tuple[GateItem, ...]:
    """The gate items of the payer's own criteria, one per criterion the payer sets, each citing
    the payer's policy id (GatePolicy.policy_source). A criterion the payer does not set gives no
    item; a fact not recorded is 'missing', a fact outside the payer's limit 'fail'."""
    c = policy.criteria
    items = []
    if c.max_smn2_copies is not None:
        items.append(_payer_smn2_item(facts, policy, c.max_smn2_copies))
    if c.motor_scales:
        items.append(_payer_motor_item(facts, policy, on))
    if c.symptom_onset_before_months is not None:
        items.append(_payer_onset_item(facts, policy, c.symptom_onset_before_months))
    if c.max_niv_hours_per_day is not None:
        items.append(_payer_ventilation_item(facts, policy, c.max_niv_hours_per_day))
    if c.wbc_min is not None or c.wbc_max is not None:
        items.append(_payer_wbc_item(facts, policy, on))
    if c.require_no_active_infection:
        items.append(_payer_infection_item(facts, policy, on))
    return tuple(items)


def evaluate_gate(facts: GateFacts, policy: GatePolicy, on: date) -> GateReport:
    """Return the gate report for an infusion on ``on``, one item per rule.

    Never raises for valid ``GateFacts`` / ``GatePolicy`` (they validate on construction).
    Documents dated after ``on`` are ignored. Items, in order:
    1. smn1, diagnosis (genetics and coding);
    2. age, prematurity (dates of the child);
    3. weight, titer, baseline_labs, liver_baseline (documents and their currency);
    4. steroid_plan, site_of_care, prior_j3399 (plan and setting);
    5. advanced_sma, smn_therapy (warnings only);
    6. the payer's own criteria (payer_criteria_items), only those the payer sets.
    """
    _check_date(on, "Infusion date")
    return GateReport(
        on=on,
        items=(
            _smn1_item(facts),
            _diagnosis_item(facts),
            _age_item(facts, on),
            _prematurity_item(facts, on),
            _weight_item(facts, policy, on),
            _titer_item(facts, policy, on),
            _baseline_labs_item(facts, policy, on),
            _liver_baseline_item(facts, on),
            _steroid_plan_item(facts, on),
            _site_item(facts, policy),
            _prior_item(facts),
            _advanced_sma_item(facts),
            _smn_therapy_item(facts, on),
            *payer_criteria_items(facts, policy, on),
        ),
    )


_DATE_INDEPENDENT_ITEMS = ("smn1", "diagnosis", "site_of_care", "prior_j3399")


def feasible_window(facts: GateFacts, policy: GatePolicy, today: date) -> FeasibleWindow:
    """Return the infusion dates, from ``today`` on, that the documents on file support.

    Assumes the steroid plan will be set for the day before the chosen date.
    1. Keep only documents dated on or before ``today``.
    2. Any blocking date-independent item (SMN1, diagnosis, site, prior J3399) closes the window,
       and so does any payer criterion not met today; a dated payer criterion bounds it.
    3. Lower bounds: today; birth; full-term corrected age; weight/titer draw dates.
    4. Upper bounds: day before the 2nd birthday; weight, titer and each baseline lab
       plus its allowed age.
    5. A missing or out-of-range document closes the window; so does earliest > latest.
    Every date in [earliest, latest] gives a ready ``evaluate_gate`` report.
    """
    _check_date(today, "Today")
    facts = replace(
        facts,
        weights=tuple(w for w in facts.weights if w.measured_on <= today),
        titers=tuple(t for t in facts.titers if t.drawn_on <= today),
        baseline_labs=tuple(lab for lab in facts.baseline_labs if lab.drawn_on <= today),
        steroid_plan_start=None,
    )
    lower: list[tuple[date, str]] = [(today, f"not before today ({today.isoformat()})")]
    upper: list[tuple[date, str]] = []
    blockers: list[str] = []

    report = evaluate_gate(facts, policy, today)
    for item_id in _DATE_INDEPENDENT_ITEMS:
        item = report.item(item_id)
        if item.blocking:
            blockers.append(f"{item.title}: {item.detail}")
    # The payer's own criteria: one not met closes the window; a dated one bounds it.
    for item in report.payer_items:
        if item.blocking:
            blockers.append(f"{item.title}: {item.detail}")
        elif item.valid_until is not None:
            upper.append((item.valid_until, f"{item.title}: current until {item.valid_until.isoformat()}"))

    dob = facts.date_of_birth
    if dob is None:
        blockers.append("date of birth not recorded")
    else:
        lower.append((dob, f"not before the date of birth, {dob.isoformat()}"))
        last = last_eligible_date(dob)
        upper.append((last, f"second birthday {second_birthday(dob).isoformat()}: last date {last.isoformat()}"))
        ga = facts.gestational_age_total_days
        if ga is None:
            term = dob + timedelta(weeks=FULL_TERM_WEEKS)
            lower.append(
                (term, f"gestational age not recorded: {FULL_TERM_WEEKS} weeks after birth is {term.isoformat()}")
            )
        else:
            term_date = full_term_date(dob, ga)
            if term_date is not None:
                lower.append((term_date, f"full-term corrected age on {term_date.isoformat()}"))

    weight = _newest_weight(facts, today)
    if weight is None:
        blockers.append("no weight on file")
    elif kit_for_weight(weight.kg) is None:
        blockers.append(f"weight {weight.kg} kg ({weight.measured_on.isoformat()}) has no labeled kit")
    else:
        until = weight.measured_on + timedelta(days=policy.weight_max_age_days)
        upper.append(
            (until, f"weight {weight.kg} kg ({weight.measured_on.isoformat()}) current until {until.isoformat()}")
        )

    titer = _newest_titer(facts, today)
    if titer is None:
        blockers.append("no anti-AAV9 titer on file")
    elif not titer.titer.is_at_most(policy.titer_ceiling_denominator):
        blockers.append(
            f"titer {titer.titer} ({titer.drawn_on.isoformat()}) not ≤ 1:{policy.titer_ceiling_denominator}; "
            f"retest about {aav9_retest_date(titer).isoformat()}"
        )
    else:
        until = titer.drawn_on + timedelta(days=policy.titer_max_age_days)
        upper.append(
            (until, f"titer {titer.titer} ({titer.drawn_on.isoformat()}) valid for infusion until {until.isoformat()}")
        )

    labs = _newest_labs(facts, today)
    absent = [LAB_ANALYTE_NAMES[a] for a in BASELINE_LAB_ANALYTES if a not in labs]
    if absent:
        blockers.append(f"baseline labs missing: {', '.join(absent)}")
    else:
        oldest = min(labs.values(), key=lambda o: o.drawn_on)
        until = oldest.drawn_on + timedelta(days=policy.labs_max_age_days)
        upper.append(
            (
                until,
                f"baseline labs current until {until.isoformat()} (oldest: {LAB_ANALYTE_NAMES[oldest.requirement]})",
            )
        )

    # A lower bound already past (birth, a full-term date reached) constrains nothing from today on.
    constraints = tuple(text for day, text in sorted(lower) if day >= today) + tuple(text for _, text in sorted(upper))
    if blockers:
        return FeasibleWindow(None, None, tuple(blockers) + constraints)
    earliest = max(lower)[0]
    latest = min(upper)[0]
    if earliest > latest:
        return FeasibleWindow(
            None,
            None,
            (f"no date works: earliest {earliest.isoformat()} is after latest {latest.isoformat()}",) + constraints,
        )
    return FeasibleWindow(earliest, latest, constraints)
