"""Tests for cases.eligibility: the pre-infusion gate and the feasible infusion window."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.analytes import BASELINE_LAB_ANALYTES
from cases.eligibility import (
    FeasibleWindow,
    GateFacts,
    GatePolicy,
    LabObs,
    TherapyObs,
    TiterObs,
    WeightObs,
    add_months,
    evaluate_gate,
    feasible_window,
    last_eligible_date,
)
from cases.titers import parse_titer

ON = date(2026, 12, 5)
DOB = date(2026, 5, 1)
POLICY = GatePolicy()
ULN = {"alt": Decimal("60"), "ast": Decimal("60"), "tbili": Decimal("1.2"), "pt": Decimal("13")}


def lab_set(drawn_on: date, **values: str) -> tuple[LabObs, ...]:
    """Return one normal result for every baseline analyte, overriding ``values``."""
    normal = {
        "alt": "30", "ast": "40", "tbili": "0.5", "pt": "12", "creatinine": "0.3",
        "hemoglobin": "11", "platelets": "300", "troponin_i": "0.01",
    }  # fmt: skip
    normal.update(values)
    return tuple(
        LabObs(drawn_on, analyte, Decimal(normal[analyte]), "", ULN.get(analyte)) for analyte in BASELINE_LAB_ANALYTES
    )


READY = GateFacts(
    date_of_birth=DOB,
    sex="F",
    gestational_age_weeks=39,
    gestational_age_days=2,
    diagnosis_code="G12.0",
    smn1_genotype="0_copies",
    genetic_method="MLPA",
    genetic_report_date=date(2026, 5, 10),
    genetic_report_on_file=True,
    smn2_copies=2,
    weights=(WeightObs(date(2026, 11, 28), Decimal("8.43")),),
    titers=(TiterObs(date(2026, 11, 25), parse_titer("1:25"), "Labcorp"),),
    baseline_labs=lab_set(date(2026, 11, 28)),
    steroid_plan_start=ON - timedelta(days=1),
    site_pos="21",
    site_certified=True,
    prior_j3399=False,
    tracheostomy=False,
    respiratory_support_hours_per_day=0,
    respiratory_support_days=0,
)


def gate(facts: GateFacts = READY, on: date = ON, policy: GatePolicy = POLICY):
    return evaluate_gate(facts, policy, on)


def status(item_id: str, facts: GateFacts = READY, on: date = ON, policy: GatePolicy = POLICY) -> str:
    return gate(facts, on, policy).item(item_id).status


# --- the whole report --------------------------------------------------------------------
def test_a_complete_file_is_ready_for_pa() -> None:
    report = gate()
    assert report.is_ready, [(i.id, i.detail) for i in report.blocking_items]
    assert report.summary == "Ready for PA"
    assert [i.id for i in report.items] == [
        "smn1", "diagnosis", "age", "prematurity", "weight", "titer", "baseline_labs",
        "liver_baseline", "steroid_plan", "site_of_care", "prior_j3399", "advanced_sma",
        "smn_therapy",
    ]  # fmt: skip


def test_an_empty_file_lists_every_blocking_item_and_never_raises() -> None:
    report = gate(GateFacts())
    assert not report.is_ready
    assert report.summary == f"{len(report.blocking_items)} items block"
    assert {i.status for i in report.blocking_items} == {"missing"}


def test_summary_counts_one_and_several_blocking_items() -> None:
    assert gate(replace(READY, prior_j3399=True)).summary == "1 item blocks"
    facts = replace(READY, prior_j3399=True, site_pos="11", diagnosis_code="G12.25")
    assert gate(facts).summary == "3 items block"


def test_warnings_never_block() -> None:
    facts = replace(READY, tracheostomy=True)
    item = gate(facts).item("advanced_sma")
    assert item.status == "warning" and not item.blocking
    assert gate(facts).is_ready


# --- SMN1 and diagnosis ------------------------------------------------------------------
def test_a_compound_heterozygote_needs_sequencing() -> None:
    het = replace(READY, smn1_genotype="1_copy_plus_variant")
    assert status("smn1", het) == "fail"
    assert "sequencing" in gate(het).item("smn1").detail
    assert status("smn1", replace(het, genetic_method="sequencing")) == "pass"


def test_smn1_without_the_report_on_file_is_missing() -> None:
    item = gate(replace(READY, genetic_report_on_file=False)).item("smn1")
    assert item.status == "missing"
    assert "genetic report on file" in item.detail
    assert "MLPA / sequencing" in item.fix


@pytest.mark.parametrize("code", ["G12.0", "G12.1", "G12.8", "G12.9", "g120", " G12.9 "])
def test_sma_codes_pass(code: str) -> None:
    assert status("diagnosis", replace(READY, diagnosis_code=code)) == "pass"


@pytest.mark.parametrize(
    ("code", "why"),
    [("G12.25", "motor neuron disease"), ("G12.21", "motor neuron"), ("P09.8", "newborn screen"),
     ("Z13.228", "metabolic"), ("E84.0", "not an SMA diagnosis")],
)  # fmt: skip
def test_non_sma_codes_are_refused_with_a_reason(code: str, why: str) -> None:
    item = gate(replace(READY, diagnosis_code=code)).item("diagnosis")
    assert item.status == "fail"
    assert why in item.detail


# --- age -----------------------------------------------------------------------------------
def test_the_day_before_the_second_birthday_passes_and_the_birthday_fails() -> None:
    last = date(2028, 4, 30)
    assert last_eligible_date(DOB) == last
    passing = gate(on=last).item("age")
    assert passing.status == "pass"
    assert passing.valid_until == last
    assert "last eligible infusion date 2028-04-30" in passing.detail
    failing = gate(on=date(2028, 5, 1)).item("age")
    assert failing.status == "fail"
    assert failing.since == date(2028, 5, 1)


def test_failing_age_names_the_alternatives() -> None:
    fix = gate(on=date(2028, 5, 1)).item("age").fix
    assert "J2326" in fix and "risdiplam" in fix and "Itvisma" in fix and "brve" in fix


def test_a_leap_day_birthday_turns_two_on_february_28() -> None:
    dob = date(2024, 2, 29)
    facts = replace(READY, date_of_birth=dob)
    assert add_months(dob, 24) == date(2026, 2, 28)
    assert status("age", facts, date(2026, 2, 27)) == "pass"
    assert status("age", facts, date(2026, 2, 28)) == "fail"


def test_a_leap_day_birthday_into_a_leap_year_keeps_february_29() -> None:
    assert add_months(date(2026, 2, 28), 24) == date(2028, 2, 28)
    assert add_months(date(2028, 2, 29), 48) == date(2032, 2, 29)


def test_a_date_of_birth_after_the_infusion_fails() -> None:
    assert status("age", READY, DOB - timedelta(days=1)) == "fail"


# --- prematurity ---------------------------------------------------------------------------
def test_a_preterm_child_passes_from_full_term_corrected_age() -> None:
    preterm = replace(READY, gestational_age_weeks=33, gestational_age_days=4)
    term = DOB + timedelta(days=37 * 7 - (33 * 7 + 4))
    assert term == date(2026, 5, 25)
    blocked = gate(preterm, term - timedelta(days=1)).item("prematurity")
    assert blocked.status == "fail"
    assert "2026-05-25" in blocked.detail
    assert status("prematurity", preterm, term) == "pass"


def test_born_at_37_weeks_is_term() -> None:
    facts = replace(READY, gestational_age_weeks=37, gestational_age_days=0)
    assert status("prematurity", facts, DOB) == "pass"
    facts = replace(READY, gestational_age_weeks=36, gestational_age_days=6)
    assert status("prematurity", facts, DOB) == "fail"
    assert status("prematurity", facts, DOB + timedelta(days=1)) == "pass"


def test_unknown_gestational_age_blocks_only_while_it_could_matter() -> None:
    unknown = replace(READY, gestational_age_weeks=None, gestational_age_days=None)
    assert status("prematurity", unknown, DOB + timedelta(weeks=37) - timedelta(days=1)) == "missing"
    assert status("prematurity", unknown, DOB + timedelta(weeks=37)) == "pass"


# --- weight --------------------------------------------------------------------------------
@pytest.mark.parametrize(("kg", "expected"), [("2.6", "pass"), ("21.0", "pass"), ("2.5", "fail"), ("21.1", "fail")])
def test_weight_range_boundaries(kg: str, expected: str) -> None:
    facts = replace(READY, weights=(WeightObs(ON, Decimal(kg)),))
    assert status("weight", facts) == expected


def test_weight_measured_14_days_before_passes_and_15_fails() -> None:
    fresh = replace(READY, weights=(WeightObs(ON - timedelta(days=14), Decimal("8.4")),))
    stale = replace(READY, weights=(WeightObs(ON - timedelta(days=15), Decimal("8.4")),))
    assert status("weight", fresh) == "pass"
    item = gate(stale).item("weight")
    assert item.status == "fail"
    assert item.since == ON
    assert item.valid_until == ON - timedelta(days=1)


def test_a_weight_dated_after_the_infusion_is_ignored() -> None:
    facts = replace(READY, weights=(*READY.weights, WeightObs(ON + timedelta(days=1), Decimal("30"))))
    assert status("weight", facts) == "pass"


def test_the_newest_weight_decides() -> None:
    facts = replace(READY, weights=(WeightObs(ON - timedelta(days=3), Decimal("22")), *READY.weights))
    item = gate(facts).item("weight")
    assert item.status == "fail"
    assert "above" in item.detail and "OneGene" in item.fix


def test_weight_detail_names_the_kit() -> None:
    detail = gate().item("weight").detail
    assert "8.43 kg on 2026-11-28 (rounds to 8.4 kg)" in detail
    assert "71894-131-06" in detail and "46.8 mL" in detail


# --- titer ---------------------------------------------------------------------------------
def titer_facts(text: str, drawn_on: date, lab: str = "Labcorp") -> GateFacts:
    return replace(READY, titers=(TiterObs(drawn_on, parse_titer(text), lab),))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1:50", "pass"), ("<1:25", "pass"), ("1:100", "fail"), ("<1:100", "fail"), (">=1:400", "fail")],
)
def test_titer_ceiling_is_1_to_50(text: str, expected: str) -> None:
    assert status("titer", titer_facts(text, ON - timedelta(days=3))) == expected


def test_titer_drawn_14_days_before_passes_and_15_fails() -> None:
    assert status("titer", titer_facts("1:25", ON - timedelta(days=14))) == "pass"
    stale = gate(titer_facts("1:25", ON - timedelta(days=15))).item("titer")
    assert stale.status == "fail"
    assert stale.since == ON
    assert "OneGene" in stale.fix and "1-855-441-4363" in stale.fix


def test_titer_detail_shows_value_date_lab_and_staleness() -> None:
    item = gate(titer_facts("1:25", date(2026, 11, 20)), date(2026, 11, 30)).item("titer")
    assert item.detail == "1:25 drawn 2026-11-20 (Labcorp); stale after 2026-12-04"
    assert item.valid_until == date(2026, 12, 4)


def test_a_high_titer_gets_retest_guidance() -> None:
    high = gate(titer_facts("1:400", date(2026, 11, 20))).item("titer")
    assert "2026-12-18" in high.fix  # ~4 weeks after >= 1:200
    low = gate(titer_facts("1:100", date(2026, 11, 20))).item("titer")
    assert "2027-01-15" in low.fix  # ~8 weeks otherwise
    assert "half-life" in low.fix


def test_a_titer_drawn_after_the_infusion_date_is_ignored() -> None:
    facts = titer_facts("1:25", ON + timedelta(days=1))
    assert status("titer", facts) == "missing"


def test_the_newest_titer_decides() -> None:
    facts = replace(
        READY,
        titers=(
            TiterObs(ON - timedelta(days=2), parse_titer("1:100"), "Labcorp"),
            TiterObs(ON - timedelta(days=5), parse_titer("<1:25"), "Labcorp"),
        ),
    )
    assert status("titer", facts) == "fail"


def test_a_stricter_payer_ceiling_applies() -> None:
    policy = GatePolicy(titer_ceiling_denominator=25)
    assert status("titer", titer_facts("1:50", ON), policy=policy) == "fail"


# --- labs ----------------------------------------------------------------------------------
def test_missing_labs_are_named() -> None:
    labs = tuple(lab for lab in READY.baseline_labs if lab.analyte not in ("creatinine", "troponin_i"))
    item = gate(replace(READY, baseline_labs=labs)).item("baseline_labs")
    assert item.status == "missing"
    assert item.detail == "missing: creatinine, troponin-I"


def test_an_inr_satisfies_the_pt_requirement() -> None:
    labs = tuple(lab for lab in READY.baseline_labs if lab.analyte != "pt")
    inr = LabObs(date(2026, 11, 28), "inr", Decimal("1.0"))
    assert status("baseline_labs", replace(READY, baseline_labs=(*labs, inr))) == "pass"


def test_labs_drawn_14_days_before_pass_and_15_fail() -> None:
    assert status("baseline_labs", replace(READY, baseline_labs=lab_set(ON - timedelta(days=14)))) == "pass"
    item = gate(replace(READY, baseline_labs=lab_set(ON - timedelta(days=15)))).item("baseline_labs")
    assert item.status == "fail"
    assert item.since == ON
    assert "stale: ALT" in item.detail


def test_liver_tests_above_twice_uln_warn_without_blocking_the_lab_set() -> None:
    facts = replace(READY, baseline_labs=lab_set(date(2026, 11, 28), alt="121"))
    report = gate(facts)
    assert report.item("baseline_labs").status == "pass"
    liver = report.item("liver_baseline")
    assert liver.status == "warning" and not liver.blocking
    assert "ALT 121" in liver.detail
    assert report.is_ready


def test_liver_tests_at_exactly_twice_uln_pass() -> None:
    facts = replace(READY, baseline_labs=lab_set(date(2026, 11, 28), alt="120"))
    assert status("liver_baseline", facts) == "pass"


# --- steroid plan, site, prior, warnings -----------------------------------------------------
def test_steroid_plan_must_start_the_day_before_and_shows_the_dose() -> None:
    item = gate().item("steroid_plan")
    assert item.status == "pass"
    assert "8.4 mg/day" in item.detail and "28-day taper" in item.detail
    wrong = gate(replace(READY, steroid_plan_start=ON)).item("steroid_plan")
    assert wrong.status == "fail"
    assert "needs start 2026-12-04" in wrong.detail
    assert status("steroid_plan", replace(READY, steroid_plan_start=None)) == "missing"


@pytest.mark.parametrize(
    ("pos", "expected"),
    [("21", "pass"), ("22", "pass"), ("19", "pass"), ("11", "fail"), ("12", "fail"), ("49", "fail")],
)
def test_site_of_care_follows_the_card_defaults(pos: str, expected: str) -> None:
    assert status("site_of_care", replace(READY, site_pos=pos)) == expected


def test_a_payer_policy_can_change_the_site_rules() -> None:
    policy = GatePolicy(allowed_pos=frozenset({"11"}), require_certified_center=False)
    facts = replace(READY, site_pos="11", site_certified=None)
    assert status("site_of_care", facts, policy=policy) == "pass"


def test_an_uncertified_center_fails() -> None:
    assert status("site_of_care", replace(READY, site_certified=False)) == "fail"
    assert status("site_of_care", replace(READY, site_certified=None)) == "missing"


def test_a_prior_j3399_fails() -> None:
    assert status("prior_j3399", replace(READY, prior_j3399=True)) == "fail"
    assert status("prior_j3399", replace(READY, prior_j3399=None)) == "missing"


@pytest.mark.parametrize(
    ("hours", "days", "expected"),
    [(16, 14, "warning"), (24, 30, "warning"), (15, 30, "pass"), (16, 13, "pass"), (16, None, "warning")],
)
def test_advanced_sma_warns_at_16_hours_for_14_days(hours: int, days: int | None, expected: str) -> None:
    facts = replace(READY, respiratory_support_hours_per_day=hours, respiratory_support_days=days)
    assert status("advanced_sma", facts) == expected


def test_concurrent_nusinersen_warns_and_a_stopped_course_passes() -> None:
    active = replace(READY, smn_therapies=(TherapyObs("nusinersen", date(2026, 6, 1)),))
    assert status("smn_therapy", active) == "warning"
    stopped = replace(READY, smn_therapies=(TherapyObs("risdiplam", date(2026, 6, 1), date(2026, 11, 1)),))
    assert status("smn_therapy", stopped) == "pass"


# --- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sex": "X"}, "Unknown sex"),
        ({"gestational_age_weeks": 30, "gestational_age_days": 7}, "gestational age \\(days\\)"),
        ({"gestational_age_days": 3}, "without the weeks"),
        ({"smn1_genotype": "2_copies"}, "SMN1 genotype"),
        ({"genetic_method": "PCR"}, "genetic method"),
        ({"respiratory_support_hours_per_day": 25}, "hours/day"),
        ({"date_of_birth": "2026-05-01"}, "calendar date"),
        ({"weights": ("8.4",)}, "Expected a WeightObs"),
    ],
)
def test_gate_facts_reject_impossible_values(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GateFacts(**kwargs)


def test_observations_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="Unknown lab analyte"):
        LabObs(ON, "ggt", Decimal("1"))
    with pytest.raises(ValueError, match="above 0"):
        WeightObs(ON, Decimal("0"))
    with pytest.raises(ValueError, match="before its start"):
        TherapyObs("nusinersen", ON, ON - timedelta(days=1))
    with pytest.raises(ValueError, match="titer ceiling"):
        GatePolicy(titer_ceiling_denominator=0)


def test_lists_are_stored_as_tuples() -> None:
    facts = GateFacts(weights=[WeightObs(ON, Decimal("8"))])  # type: ignore[arg-type]
    assert isinstance(facts.weights, tuple)


# --- feasible window -------------------------------------------------------------------------
def test_the_window_runs_from_today_to_the_first_document_to_expire() -> None:
    window = feasible_window(READY, POLICY, date(2026, 11, 28))
    assert window.earliest == date(2026, 11, 28)
    assert window.latest == date(2026, 12, 9)
    assert any("valid for infusion until 2026-12-09" in c for c in window.constraints)
    assert any("second birthday 2028-05-01" in c for c in window.constraints)


def test_the_window_waits_for_full_term_corrected_age() -> None:
    dob = date(2026, 11, 20)
    facts = replace(READY, date_of_birth=dob, gestational_age_weeks=35, gestational_age_days=0)
    window = feasible_window(facts, POLICY, date(2026, 11, 28))
    assert window.earliest == dob + timedelta(days=14)
    assert any("full-term corrected age" in c for c in window.constraints)


def test_the_window_is_closed_without_a_titer() -> None:
    window = feasible_window(replace(READY, titers=()), POLICY, date(2026, 11, 28))
    assert window == FeasibleWindow(None, None, window.constraints)
    assert "no anti-AAV9 titer on file" in window.constraints


def test_the_window_is_closed_when_documents_expire_before_full_term() -> None:
    facts = replace(READY, date_of_birth=date(2026, 11, 20), gestational_age_weeks=30, gestational_age_days=0)
    window = feasible_window(facts, POLICY, date(2026, 11, 28))
    assert not window.is_open
    assert window.constraints[0].startswith("no date works")


# --- properties ------------------------------------------------------------------------------
TODAY = date(2026, 11, 28)
days_near = st.integers(min_value=-40, max_value=0).map(lambda d: TODAY + timedelta(days=d))
titer_texts = st.sampled_from(["<1:25", "1:25", "1:50", "<1:100", "1:100", "1:400", ">=1:400"])
weight_obs = st.builds(WeightObs, days_near, st.decimals(min_value=Decimal("1.5"), max_value=Decimal("23"), places=2))
titer_obs = st.builds(TiterObs, days_near, titer_texts.map(parse_titer), st.sampled_from(["", "Labcorp"]))
lab_obs = st.builds(
    LabObs,
    days_near,
    st.sampled_from(sorted({*BASELINE_LAB_ANALYTES, "inr"})),
    st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=1),
    st.just("U/L"),
    st.none() | st.decimals(min_value=Decimal("0.5"), max_value=Decimal("100"), places=1),
)
therapy_obs = st.builds(
    TherapyObs,
    st.sampled_from(["nusinersen", "risdiplam"]),
    days_near,
    st.none() | st.just(TODAY),
)


@st.composite
def any_facts(draw) -> GateFacts:
    ga_weeks = draw(st.none() | st.integers(20, 42))
    return GateFacts(
        date_of_birth=draw(st.none() | st.integers(-900, 0).map(lambda d: TODAY + timedelta(days=d))),
        sex=draw(st.none() | st.sampled_from(["F", "M", "U"])),
        gestational_age_weeks=ga_weeks,
        gestational_age_days=None if ga_weeks is None else draw(st.none() | st.integers(0, 6)),
        diagnosis_code=draw(st.none() | st.sampled_from(["G12.0", "G12.1", "G12.25", "P09.8", "", "x"])),
        smn1_genotype=draw(st.none() | st.sampled_from(["0_copies", "1_copy_plus_variant"])),
        genetic_method=draw(st.none() | st.sampled_from(["MLPA", "qPCR", "ddPCR", "sequencing"])),
        genetic_report_date=draw(st.none() | days_near),
        genetic_report_on_file=draw(st.booleans()),
        smn2_copies=draw(st.none() | st.integers(0, 6)),
        weights=tuple(draw(st.lists(weight_obs, max_size=3))),
        titers=tuple(draw(st.lists(titer_obs, max_size=3))),
        baseline_labs=tuple(draw(st.lists(lab_obs, max_size=12))),
        steroid_plan_start=draw(st.none() | days_near),
        site_pos=draw(st.none() | st.sampled_from(["11", "19", "21", "22", "49", " 21 ", ""])),
        site_certified=draw(st.none() | st.booleans()),
        prior_j3399=draw(st.none() | st.booleans()),
        tracheostomy=draw(st.none() | st.booleans()),
        respiratory_support_hours_per_day=draw(st.none() | st.integers(0, 24)),
        respiratory_support_days=draw(st.none() | st.integers(0, 60)),
        smn_therapies=tuple(draw(st.lists(therapy_obs, max_size=2))),
    )


@st.composite
def near_ready_facts(draw) -> GateFacts:
    """Return READY with random dates of birth, gestational age and documents (dated <= TODAY)."""
    fresh = st.integers(min_value=-20, max_value=0).map(lambda d: TODAY + timedelta(days=d))
    ga_weeks = draw(st.none() | st.integers(24, 40))
    return replace(
        READY,
        date_of_birth=draw(st.integers(-740, 0).map(lambda d: TODAY + timedelta(days=d))),
        gestational_age_weeks=ga_weeks,
        gestational_age_days=None if ga_weeks is None else draw(st.integers(0, 6)),
        weights=tuple(
            draw(
                st.lists(
                    st.builds(
                        WeightObs, fresh, st.decimals(min_value=Decimal("2.4"), max_value=Decimal("21.2"), places=2)
                    ),
                    max_size=2,
                )
            )
        ),
        titers=tuple(draw(st.lists(st.builds(TiterObs, fresh, titer_texts.map(parse_titer)), max_size=2))),
        baseline_labs=draw(st.sampled_from([(), lab_set(TODAY)]))
        + tuple(lab for d in draw(st.lists(fresh, min_size=1, max_size=2)) for lab in lab_set(d)),
    )


on_dates = st.integers(-5, 30).map(lambda d: TODAY + timedelta(days=d))


@settings(max_examples=300)
@given(any_facts(), on_dates)
def test_evaluate_gate_never_raises_and_every_item_is_one_line(facts: GateFacts, on: date) -> None:
    report = evaluate_gate(facts, POLICY, on)
    assert len(report.items) == 13
    for item in report.items:
        assert "\n" not in item.detail
        assert item.blocking == (item.status in ("fail", "missing"))
    assert report.is_ready == (report.summary == "Ready for PA")


@st.composite
def passing_documents(draw, on: date) -> GateFacts:
    """Return a fresh passing weight, titer and full lab set for an infusion on ``on``."""
    drawn = on - timedelta(days=draw(st.integers(0, 14)))
    kg = draw(st.decimals(min_value=Decimal("2.6"), max_value=Decimal("21.0"), places=1))
    titer = draw(st.sampled_from(["<1:25", "1:25", "1:50", "<=1:50"]))
    return GateFacts(
        weights=(WeightObs(drawn, kg),),
        titers=(TiterObs(drawn, parse_titer(titer), "Labcorp"),),
        baseline_labs=lab_set(drawn),
    )


@settings(max_examples=300)
@given(st.data(), any_facts(), on_dates)
def test_adding_a_passing_document_never_turns_a_pass_into_a_fail(data, facts: GateFacts, on: date) -> None:
    extra = data.draw(passing_documents(on))
    which = data.draw(st.sampled_from(["weights", "titers", "baseline_labs", "all"]))
    fields = ["weights", "titers", "baseline_labs"] if which == "all" else [which]
    more = replace(facts, **{f: getattr(facts, f) + getattr(extra, f) for f in fields})
    before = evaluate_gate(facts, POLICY, on)
    after = evaluate_gate(more, POLICY, on)
    for old, new in zip(before.items, after.items, strict=True):
        if old.status == "pass":
            assert not new.blocking, (old, new)
    assert len(after.blocking_items) <= len(before.blocking_items)


@settings(max_examples=300)
@given(any_facts() | near_ready_facts())
def test_every_date_in_the_feasible_window_is_ready_and_the_next_day_is_not(facts: GateFacts) -> None:
    window = feasible_window(facts, POLICY, TODAY)
    if not window.is_open:
        assert window.latest is None
        return
    assert window.earliest is not None and window.latest is not None
    assert TODAY <= window.earliest <= window.latest

    def ready(day: date) -> bool:
        planned = replace(facts, steroid_plan_start=day - timedelta(days=1))
        return evaluate_gate(planned, POLICY, day).is_ready

    day = window.earliest
    while day <= window.latest:
        assert ready(day), day
        day += timedelta(days=1)
    assert not ready(window.latest + timedelta(days=1))
    if window.earliest > TODAY:
        assert not ready(window.earliest - timedelta(days=1))


@settings(max_examples=200)
@given(any_facts() | near_ready_facts(), st.integers(0, 30))
def test_a_ready_future_date_lies_inside_the_feasible_window(facts: GateFacts, offset: int) -> None:
    day = TODAY + timedelta(days=offset)
    planned = replace(facts, steroid_plan_start=day - timedelta(days=1))
    if evaluate_gate(planned, POLICY, day).is_ready:
        window = feasible_window(facts, POLICY, TODAY)
        assert window.earliest is not None and window.latest is not None
        assert window.earliest <= day <= window.latest
