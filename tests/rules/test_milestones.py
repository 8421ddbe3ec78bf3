"""Tests for monitoring/milestones.py: outcome assessment dates and instruments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitoring.milestones import (
    DEFAULT_MONTHS,
    INSTRUMENTS,
    Milestone,
    add_months,
    instrument,
    milestone_dates,
    suggested_instruments,
    validate_score,
    validate_who_milestones,
)


def test_the_default_months_are_the_cards_6_12_24_36_60():
    assert DEFAULT_MONTHS == (6, 12, 24, 36, 60)


def test_month_arithmetic_clamps_to_the_end_of_a_short_month():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 10, 31), 1) == date(2026, 11, 30)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_milestones_fall_on_calendar_months_with_a_30_day_window():
    first = milestone_dates(date(2026, 8, 31))[0]
    assert first == Milestone(6, date(2027, 2, 28), date(2027, 1, 29), date(2027, 3, 30))
    assert [m.month for m in milestone_dates(date(2026, 8, 31))] == [6, 12, 24, 36, 60]
    assert milestone_dates(date(2026, 8, 31))[-1].due_on == date(2031, 8, 31)


def test_contract_months_and_windows_are_editable_and_sorted():
    ms = milestone_dates(date(2027, 1, 4), months=[18, 3], window_days=14)
    assert [(m.month, m.due_on) for m in ms] == [(3, date(2027, 4, 4)), (18, date(2028, 7, 4))]
    assert ms[0].window_opens == date(2027, 3, 21)


def test_milestone_dates_refuse_bad_months_and_windows():
    with pytest.raises(ValueError, match="whole numbers of 1 or more"):
        milestone_dates(date(2027, 1, 4), months=[0])
    with pytest.raises(ValueError, match="repeat"):
        milestone_dates(date(2027, 1, 4), months=[6, 6])
    with pytest.raises(ValueError, match="window_days"):
        milestone_dates(date(2027, 1, 4), window_days=-1)


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
    st.integers(1, 120),
)
def test_a_milestone_is_in_the_right_month_and_never_past_the_infusion_day_of_month(start, months):
    due = add_months(start, months)
    assert (due.year - start.year) * 12 + due.month - start.month == months
    assert due.day <= start.day
    assert due.day == start.day or (due + timedelta(days=1)).day == 1


# --- instruments --------------------------------------------------------------------------


def test_instrument_ranges_match_domain_md_section_8():
    ranges = {k: (i.min_score, i.max_score) for k, i in INSTRUMENTS.items() if i.kind == "score"}
    assert ranges == {"chop_intend": (0, 64), "hine2": (0, 26), "hfmse": (0, 66), "rhs": (0, 69)}
    assert not INSTRUMENTS["hine2"].verified
    assert len(INSTRUMENTS["who_motor"].items) == 6
    assert "permanent ventilation" in INSTRUMENTS["ventilator_free_survival"].definition
    assert all(i.source for i in INSTRUMENTS.values())


def test_instruments_are_found_by_key_or_label_in_any_spelling():
    assert instrument("CHOP-INTEND").key == "chop_intend"
    assert instrument("chop intend").key == "chop_intend"
    assert instrument("HINE-2").key == "hine2"
    with pytest.raises(ValueError, match="Unknown instrument 'Bayley'"):
        instrument("Bayley")


def test_a_score_inside_the_range_is_returned_as_a_decimal():
    assert validate_score("CHOP INTEND", 0) == Decimal(0)
    assert validate_score("CHOP INTEND", 64) == Decimal(64)
    assert validate_score("rhs", "69") == Decimal(69)


def test_a_score_out_of_range_says_the_range():
    with pytest.raises(ValueError, match="^CHOP INTEND is scored 0–64; 70 is out of range$"):
        validate_score("chop_intend", 70)
    with pytest.raises(ValueError, match="HFMSE is scored 0–66; 67 is out of range"):
        validate_score("hfmse", 67)
    with pytest.raises(ValueError, match="HINE-2 is scored 0–26; -1 is out of range"):
        validate_score("hine2", -1)


def test_a_fractional_or_non_numeric_score_is_refused():
    with pytest.raises(ValueError, match="whole numbers; 12.5 is not"):
        validate_score("chop_intend", Decimal("12.5"))
    with pytest.raises(ValueError, match="must be a number"):
        validate_score("chop_intend", "twelve")
    with pytest.raises(ValueError, match="must be a number"):
        validate_score("chop_intend", True)


def test_checklists_and_outcomes_are_not_scores():
    with pytest.raises(ValueError, match="not a numeric score"):
        validate_score("who_motor", 3)


@given(st.sampled_from(["chop_intend", "hine2", "hfmse", "rhs"]), st.integers(-100, 200))
def test_validate_score_accepts_exactly_the_whole_numbers_in_range(key, score):
    info = INSTRUMENTS[key]
    if info.min_score <= score <= info.max_score:
        assert validate_score(key, score) == score
    else:
        with pytest.raises(ValueError, match="out of range"):
            validate_score(key, score)


def test_the_who_checklist_needs_all_six_milestones_as_yes_or_no():
    items = INSTRUMENTS["who_motor"].items
    record = dict.fromkeys(items, False) | {"sitting without support": True}
    assert validate_who_milestones(record)["sitting without support"] is True
    with pytest.raises(ValueError, match="missing"):
        validate_who_milestones({"sitting without support": True})
    with pytest.raises(ValueError, match="yes/no"):
        validate_who_milestones(dict.fromkeys(items, "yes"))


# --- suggested_instruments ----------------------------------------------------------------


def test_a_non_sitting_infant_gets_chop_intend_and_hine2():
    assert suggested_instruments(6, sits=False, walks=False) == [
        "chop_intend",
        "hine2",
        "who_motor",
        "ventilator_free_survival",
    ]


def test_a_newborn_under_two_months_gets_chop_intend_but_not_hine2():
    assert suggested_instruments(1, False, False)[:1] == ["chop_intend"]
    assert "hine2" not in suggested_instruments(1, False, False)
    assert "hine2" in suggested_instruments(2, False, False)


def test_a_sitting_infant_gets_hine2_not_chop_intend():
    assert suggested_instruments(12, sits=True, walks=False)[:1] == ["hine2"]


def test_hine2_stops_after_24_months_and_older_sitters_get_hfmse_and_rhs():
    assert suggested_instruments(24, True, False)[:3] == ["hine2", "hfmse", "rhs"]
    assert suggested_instruments(25, True, True)[:2] == ["hfmse", "rhs"]
    assert "hine2" not in suggested_instruments(25, True, True)


def test_an_older_non_sitter_still_gets_chop_intend():
    assert suggested_instruments(36, False, False)[:1] == ["chop_intend"]


def test_suggested_instruments_refuse_walking_without_sitting_and_bad_ages():
    with pytest.raises(ValueError, match="walks also sits"):
        suggested_instruments(30, sits=False, walks=True)
    with pytest.raises(ValueError, match="age_months"):
        suggested_instruments(-1, False, False)


@given(st.integers(0, 120), st.booleans(), st.booleans())
def test_every_suggestion_is_a_known_instrument_and_includes_the_contract_outcomes(age, sits, walks):
    if walks and not sits:
        return
    keys = suggested_instruments(age, sits, walks)
    assert set(keys) <= set(INSTRUMENTS)
    assert keys[-2:] == ["who_motor", "ventilator_free_survival"]
    assert any(INSTRUMENTS[k].kind == "score" for k in keys)


def test_a_sitter_younger_than_two_months_still_gets_a_scored_instrument():
    assert suggested_instruments(1, sits=True, walks=False)[:1] == ["chop_intend"]
