"""Tests for monitoring/steroids.py: the label §2.1 corticosteroid course and taper."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitoring.flags import ResultValue
from monitoring.protocol import PROTOCOL_V1
from monitoring.schedule import planned_draws
from monitoring.steroids import (
    CONTINUE,
    TAPER,
    TAPER_NOTE,
    TaperStep,
    course_start,
    daily_dose_mg,
    review_date,
    taper_decision,
    taper_plan,
)

D = Decimal
INFUSION = date(2027, 1, 4)


def rv(value: str | int, uln: str | int | None, unit: str) -> ResultValue:
    return ResultValue(D(str(value)), None if uln is None else D(str(uln)), unit)


def normal_liver(**overrides: ResultValue) -> dict[str, ResultValue]:
    panel = {
        "alt": rv(30, 40, "U/L"),
        "ast": rv(35, 50, "U/L"),
        "tbili": rv("0.5", "1.2", "mg/dL"),
        "pt": rv("12.0", "13.5", "s"),
    }
    return panel | overrides


def test_the_course_starts_the_day_before_the_infusion():
    assert course_start(INFUSION) == date(2027, 1, 3)
    assert course_start(date(2027, 1, 1)) == date(2026, 12, 31)


def test_the_daily_dose_is_one_mg_per_kg_unrounded():
    assert daily_dose_mg(D("4.37")) == D("4.37")
    assert daily_dose_mg(10) == D(10)
    assert daily_dose_mg("2.6") == D("2.6")


def test_the_daily_dose_refuses_zero_negative_and_non_numbers():
    for bad in (0, -1, "abc", "NaN", "Infinity", True):
        with pytest.raises(ValueError, match="weight_kg must be"):
            daily_dose_mg(bad)  # type: ignore[arg-type]


def test_the_review_is_on_day_28_the_thirtieth_day_counted_from_day_minus_one():
    assert review_date(INFUSION) == INFUSION + timedelta(days=28)
    assert (review_date(INFUSION) - course_start(INFUSION)).days + 1 == 30


def test_the_review_date_matches_the_protocols_day_28_steroid_review():
    (review,) = [d for d in planned_draws(INFUSION, PROTOCOL_V1) if d.kind == "steroid_review"]
    assert review.due_on == review_date(INFUSION)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)))
def test_the_course_always_spans_exactly_30_days_ending_on_the_review(infusion):
    assert (review_date(infusion) - course_start(infusion)).days == 29
    assert course_start(infusion) < infusion < review_date(infusion)


# --- taper_plan ---------------------------------------------------------------------------


def test_the_suggested_taper_is_four_weekly_steps_at_75_50_25_and_12_5_percent():
    start = review_date(INFUSION) + timedelta(days=1)
    plan = taper_plan(start, D(8))
    assert plan == [
        TaperStep(date(2027, 2, 2), date(2027, 2, 8), D(6)),
        TaperStep(date(2027, 2, 9), date(2027, 2, 15), D(4)),
        TaperStep(date(2027, 2, 16), date(2027, 2, 22), D(2)),
        TaperStep(date(2027, 2, 23), date(2027, 3, 1), D(1)),
    ]
    assert "Suggested schedule" in TAPER_NOTE
    assert "taper over 28 days" in TAPER_NOTE


def test_a_longer_taper_spreads_extra_days_over_the_first_steps():
    plan = taper_plan(date(2027, 2, 2), D(4), days=30)
    assert [(s.date_to - s.date_from).days + 1 for s in plan] == [8, 8, 7, 7]


def test_taper_plan_refuses_bad_doses_and_too_few_days():
    with pytest.raises(ValueError, match="weight_kg must be"):
        taper_plan(date(2027, 2, 2), D(0))
    with pytest.raises(ValueError, match="at least 4 days"):
        taper_plan(date(2027, 2, 2), D(5), days=3)


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
    dose=st.decimals(min_value=D("2.6"), max_value=21, places=1),
    days=st.integers(4, 120),
)
def test_a_taper_covers_every_day_once_and_the_dose_only_falls(start, dose, days):
    plan = taper_plan(start, dose, days)
    assert plan[0].date_from == start
    assert plan[-1].date_to == start + timedelta(days=days - 1)
    for earlier, later in zip(plan, plan[1:], strict=False):
        assert later.date_from == earlier.date_to + timedelta(days=1)
        assert later.mg_per_day < earlier.mg_per_day
    assert plan[0].mg_per_day < dose
    assert all(step.mg_per_day > 0 for step in plan)


# --- taper_decision -----------------------------------------------------------------------


def test_an_unremarkable_liver_and_normal_exam_means_taper():
    decision = taper_decision(normal_liver(), clinical_exam_normal=True)
    assert decision.action == TAPER
    assert not decision.consult_hepatology
    assert any("do not stop abruptly" in r for r in decision.reasons)


def test_alt_at_2x_uln_means_continue_the_full_dose():
    decision = taper_decision(normal_liver(alt=rv(80, 40, "U/L")), clinical_exam_normal=True)
    assert decision.action == CONTINUE
    assert decision.reasons[0].startswith("ALT 2.0×ULN")
    assert decision.reasons[-1].startswith("Continue prednisolone 1 mg/kg/day")
    assert not decision.consult_hepatology


def test_alt_at_1_99x_uln_allows_the_taper():
    decision = taper_decision(normal_liver(alt=rv("79.6", 40, "U/L")), clinical_exam_normal=True)
    assert decision.action == TAPER


def test_an_abnormal_exam_alone_means_continue():
    decision = taper_decision(normal_liver(), clinical_exam_normal=False)
    assert decision.action == CONTINUE
    assert "Clinical exam is not normal (label §2.1)" in decision.reasons


def test_missing_results_mean_continue_and_say_what_is_missing():
    panel = normal_liver()
    del panel["tbili"]
    del panel["pt"]
    decision = taper_decision(panel, clinical_exam_normal=True)
    assert decision.action == CONTINUE
    assert any("Total bilirubin result is missing" in r for r in decision.reasons)
    assert any("PT result is missing" in r for r in decision.reasons)


def test_a_missing_uln_means_continue_and_asks_for_it():
    decision = taper_decision(normal_liver(alt=rv(30, None, "U/L")), clinical_exam_normal=True)
    assert decision.action == CONTINUE
    assert any("ALT has no ULN" in r for r in decision.reasons)


def test_an_urgent_finding_calls_for_hepatology_now():
    decision = taper_decision(normal_liver(ast=rv(1000, 50, "U/L")), clinical_exam_normal=True)
    assert decision.action == CONTINUE
    assert decision.consult_hepatology
    assert any("consult pediatric hepatology now" in r for r in decision.reasons)


def test_a_second_abnormal_review_in_a_row_is_persistent_and_calls_for_a_consult():
    panel = normal_liver(alt=rv(100, 40, "U/L"))
    first = taper_decision(panel, True, previous_abnormal_reviews=0)
    second = taper_decision(panel, True, previous_abnormal_reviews=1)
    assert not first.consult_hepatology
    assert second.consult_hepatology
    assert any("pediatric GI/hepatology" in r for r in second.reasons)


def test_previous_abnormal_reviews_cannot_be_negative():
    with pytest.raises(ValueError, match="previous_abnormal_reviews"):
        taper_decision(normal_liver(), True, previous_abnormal_reviews=-1)


@given(
    alt=st.decimals(min_value=0, max_value=2000, places=1),
    exam=st.booleans(),
)
def test_the_decision_is_taper_exactly_when_alt_is_under_2x_and_the_exam_is_normal(alt, exam):
    decision = taper_decision(normal_liver(alt=ResultValue(alt, D(40), "U/L")), exam)
    assert (decision.action == TAPER) == (alt < 80 and exam)
    assert decision.reasons
