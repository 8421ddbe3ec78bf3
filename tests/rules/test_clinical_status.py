"""The infection and clinical stability item (label §5), judged for the infusion day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cases.eligibility import ClinicalStatusObs, clinical_status_item

ON = date(2027, 3, 10)


def obs(days_before: int, infection_free: bool = True, stable: bool = True, by: str = "Dr Lee") -> ClinicalStatusObs:
    return ClinicalStatusObs(ON - timedelta(days=days_before), infection_free, stable, by)


def test_no_check_is_missing_and_says_what_to_do():
    item = clinical_status_item((), ON)
    assert item.status == "missing" and item.blocking
    assert "records: no active infection, clinically stable" in item.fix


@pytest.mark.parametrize(("days_before", "status"), [(0, "pass"), (1, "pass"), (2, "missing")])
def test_a_check_counts_for_one_day_before_the_infusion(days_before, status):
    assert clinical_status_item((obs(days_before),), ON).status == status


def test_the_allowed_age_is_configurable():
    assert clinical_status_item((obs(2),), ON, max_age_days=2).status == "pass"
    assert clinical_status_item((obs(1),), ON, max_age_days=0).status == "missing"


@pytest.mark.parametrize(
    ("infection_free", "stable", "words"),
    [(False, True, "Active infection"), (True, False, "Not clinically stable"), (False, False, "Active infection and")],
)
def test_an_infection_or_instability_fails_and_says_postpone(infection_free, stable, words):
    item = clinical_status_item((obs(0, infection_free, stable),), ON)
    assert item.status == "fail" and words in item.detail and "postpone the infusion" in item.detail
    assert "Postpone the infusion" in item.fix and "label §5" in item.fix


def test_the_newest_check_decides_and_a_later_dated_one_is_ignored():
    assert clinical_status_item((obs(1, False), obs(0)), ON).status == "pass"
    assert clinical_status_item((obs(1), obs(0, False)), ON).status == "fail"
    assert clinical_status_item((obs(-1, False), obs(0)), ON).status == "pass"  # dated after the infusion


def test_on_the_same_day_the_last_recorded_check_decides():
    assert clinical_status_item((obs(0, False), obs(0)), ON).status == "pass"
    assert clinical_status_item((obs(0), obs(0, False)), ON).status == "fail"


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match="must be True or False"):
        ClinicalStatusObs(ON, "yes", True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="calendar date"):
        ClinicalStatusObs("2027-03-10", True, True)  # type: ignore[arg-type]
