"""Tests for the payer's own criteria in cases.eligibility (issue 17 item 4): each criterion a
payer sets is one gate item citing the payer's policy id; a criterion not set gives no item."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from cases.eligibility import (
    ClinicalStatusObs,
    GatePolicy,
    LabObs,
    MotorObs,
    PayerCriteria,
    evaluate_gate,
    feasible_window,
)
from tests.rules.test_eligibility import ON, READY

SOURCE = "eviCore Zolgensma policy"


def policy(**criteria) -> GatePolicy:
    return GatePolicy(payer_name="Cigna", policy_source=SOURCE, criteria=PayerCriteria(**criteria))


def item(item_id: str, facts=READY, on: date = ON, **criteria):
    return evaluate_gate(facts, policy(**criteria), on).item(f"payer_{item_id}")


def wbc(value: str, drawn_on: date = date(2026, 11, 28)) -> LabObs:
    return LabObs(drawn_on, "wbc", Decimal(value), "10^9/L", Decimal("17.5"))


# --- no criteria, all criteria --------------------------------------------------------------
def test_a_payer_without_criteria_adds_no_item() -> None:
    report = evaluate_gate(READY, policy(), ON)
    assert report.payer_items == () and report.payer_summary == ""
    assert not PayerCriteria().any


def test_each_criterion_set_is_one_item_citing_the_policy_id() -> None:
    facts = replace(
        READY,
        symptomatic=True,
        symptom_onset_months=2,
        motor_assessments=(MotorObs(date(2026, 11, 20), "chop_intend", 32),),
        baseline_labs=(*READY.baseline_labs, wbc("9.8")),
        clinical_checks=(ClinicalStatusObs(date(2026, 12, 1), True, True, "Dr. Raman"),),
    )
    every = dict(
        max_smn2_copies=3,
        motor_scales={"chop_intend", "hine2"},
        motor_max_age_days=30,
        symptom_onset_before_months=6,
        max_niv_hours_per_day=15,
        wbc_max=Decimal(20),
        require_no_active_infection=True,
    )
    report = evaluate_gate(facts, policy(**every), ON)
    ids = [i.id for i in report.payer_items]
    assert ids == [f"payer_{x}" for x in ("smn2", "motor", "onset", "ventilation", "wbc", "infection")]
    assert all(i.status == "pass" for i in report.payer_items), [(i.id, i.detail) for i in report.payer_items]
    assert all(i.source.startswith(SOURCE) for i in report.payer_items)
    assert report.is_ready and report.payer_summary == "All met"
    # The label's items are unchanged and listed apart.
    assert "payer_smn2" not in [i.id for i in report.label_items]


# --- SMN2 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("copies", "expected"), [(2, "pass"), (3, "pass"), (4, "fail"), (None, "missing")])
def test_smn2_copy_limit(copies, expected) -> None:
    got = item("smn2", replace(READY, smn2_copies=copies), max_smn2_copies=3)
    assert got.status == expected
    if expected == "fail":
        assert "SMN2 4 copies" in got.detail and "up to 3" in got.detail and got.blocking


# --- motor assessment ---------------------------------------------------------------------------
def test_motor_assessment_missing_names_the_scale_on_file_that_does_not_count() -> None:
    facts = replace(READY, motor_assessments=(MotorObs(date(2026, 11, 20), "hine2", 14),))
    got = item("motor", facts, motor_scales={"chop_intend"})
    assert got.status == "missing"
    assert "HINE-2 14 of 26" in got.detail and "asks for CHOP INTEND" in got.detail


def test_motor_assessment_older_than_the_window_fails_and_says_since_when() -> None:
    facts = replace(READY, motor_assessments=(MotorObs(date(2026, 10, 1), "chop_intend", 30),))
    got = item("motor", facts, motor_scales={"chop_intend"}, motor_max_age_days=30)
    assert got.status == "fail" and got.since == date(2026, 11, 1)
    fresh = item("motor", facts, on=date(2026, 10, 20), motor_scales={"chop_intend"}, motor_max_age_days=30)
    assert fresh.status == "pass" and fresh.valid_until == date(2026, 10, 31)
    assert "CHOP INTEND 30 of 64" in fresh.detail


def test_an_assessment_after_the_infusion_date_does_not_count() -> None:
    facts = replace(READY, motor_assessments=(MotorObs(ON + timedelta(days=1), "chop_intend", 30),))
    assert item("motor", facts, motor_scales={"chop_intend"}).status == "missing"


@pytest.mark.parametrize(("scale", "score"), [("chop_intend", 65), ("hine2", 27), ("chop_intend", -1), ("hfmse", 3)])
def test_a_score_outside_its_scale_is_refused(scale, score) -> None:
    with pytest.raises(ValueError):
        MotorObs(ON, scale, score)


# --- symptom onset ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("symptomatic", "onset", "expected"),
    [(False, None, "pass"), (True, 5, "pass"), (True, 6, "fail"), (True, None, "missing"), (None, None, "missing")],
)
def test_symptom_onset_before_the_payers_age(symptomatic, onset, expected) -> None:
    facts = replace(READY, symptomatic=symptomatic, symptom_onset_months=onset)
    got = item("onset", facts, symptom_onset_before_months=6)
    assert got.status == expected
    if symptomatic is False:
        assert "Presymptomatic" in got.detail


# --- ventilation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hours", "trach", "expected"),
    [(0, False, "pass"), (15, False, "pass"), (16, False, "fail"), (0, True, "fail"), (None, False, "missing")],
)
def test_ventilation_hours_and_tracheostomy(hours, trach, expected) -> None:
    facts = replace(READY, respiratory_support_hours_per_day=hours, tracheostomy=trach)
    assert item("ventilation", facts, max_niv_hours_per_day=15).status == expected


# --- WBC ----------------------------------------------------------------------------------------
def test_wbc_within_above_below_stale_and_missing() -> None:
    with_wbc = lambda value, **kw: replace(READY, baseline_labs=(*READY.baseline_labs, wbc(value, **kw)))  # noqa: E731
    ok = item("wbc", with_wbc("9.8"), wbc_max=Decimal(20))
    assert ok.status == "pass" and "9.8 × 10^9/L (9,800/µL)" in ok.detail
    high = item("wbc", with_wbc("23.5"), wbc_max=Decimal(20))
    assert high.status == "fail" and "above" in high.detail and "≤ 20" in high.title
    low = item("wbc", with_wbc("3"), wbc_min=Decimal(4), wbc_max=Decimal(20))
    assert low.status == "fail" and "below" in low.detail and "4–20" in low.title
    stale = item("wbc", with_wbc("9.8", drawn_on=ON - timedelta(days=20)), wbc_max=Decimal(20))
    assert stale.status == "fail" and "stale" in stale.detail
    assert item("wbc", READY, wbc_max=Decimal(20)).status == "missing"


def test_wbc_limits_that_contradict_each_other_are_refused() -> None:
    with pytest.raises(ValueError, match="above the upper limit"):
        PayerCriteria(wbc_min=Decimal(25), wbc_max=Decimal(20))


# --- infection ----------------------------------------------------------------------------------
def test_no_active_infection_reads_the_newest_check() -> None:
    older_ok = ClinicalStatusObs(date(2026, 11, 25), True, True, "Dr. Raman")
    newer_sick = ClinicalStatusObs(date(2026, 12, 2), False, True, "Dr. Raman")
    assert (
        item("infection", replace(READY, clinical_checks=(older_ok,)), require_no_active_infection=True).blocking
        is False
    )
    sick = item("infection", replace(READY, clinical_checks=(older_ok, newer_sick)), require_no_active_infection=True)
    assert sick.status == "fail" and "Active infection" in sick.detail and sick.since == date(2026, 12, 2)
    assert item("infection", READY, require_no_active_infection=True).status == "missing"


# --- summary and window -------------------------------------------------------------------------
def test_summary_counts_met_not_met_and_missing() -> None:
    facts = replace(READY, smn2_copies=4, symptomatic=True, symptom_onset_months=None)
    report = evaluate_gate(
        facts, policy(max_smn2_copies=3, symptom_onset_before_months=6, max_niv_hours_per_day=15), ON
    )
    assert report.payer_summary == "1 met, 1 not met, 1 missing"
    assert {i.id for i in report.blocking_items} == {"payer_smn2", "payer_onset"}


def test_a_criterion_not_met_closes_the_window_and_a_dated_one_bounds_it() -> None:
    today = date(2026, 11, 30)
    failing = feasible_window(replace(READY, smn2_copies=4), policy(max_smn2_copies=3), today)
    assert not failing.is_open and any("SMN2" in c for c in failing.constraints)
    facts = replace(READY, motor_assessments=(MotorObs(date(2026, 11, 20), "chop_intend", 30),))
    window = feasible_window(facts, policy(motor_scales={"chop_intend"}, motor_max_age_days=12), today)
    assert window.is_open and window.latest == date(2026, 12, 2)
