"""Tests for monitoring/flags.py: units, fallback ULNs, ×ULN, panel flags and stop rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitoring.flags import (
    ANALYTES,
    FALLBACK_SOURCE,
    TAPER_BLOCKED,
    URGENT,
    WATCH,
    ResultValue,
    back_to_baseline,
    fallback_uln,
    flags_for_panel,
    format_multiple,
    liver_unremarkable,
    to_canonical,
    uln_multiple,
)

D = Decimal


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


def codes(flags) -> list[tuple[str, str, str]]:
    return [(f.code, f.level, f.analyte) for f in flags]


# --- to_canonical -------------------------------------------------------------------------


def test_bilirubin_in_micromoles_converts_to_mg_per_dl_by_17_1():
    assert to_canonical("tbili", "17.1", "µmol/L") == (D(1), "mg/dL")
    assert to_canonical("tbili", "34.2", "umol/L") == (D(2), "mg/dL")
    assert to_canonical("tbili", "1.5", "mg/dL") == (D("1.5"), "mg/dL")


def test_creatinine_in_micromoles_converts_to_mg_per_dl_by_88_4():
    assert to_canonical("creatinine", "88.4", "µmol/L") == (D(1), "mg/dL")
    assert to_canonical("creatinine", "44.2", "\u03bcmol/L") == (D("0.5"), "mg/dL")


def test_platelets_per_microlitre_equal_platelets_times_ten_to_the_nine_per_litre():
    assert to_canonical("platelets", 250, "10^3/µL") == (D(250), "10^9/L")
    assert to_canonical("platelets", 250, "K/uL") == (D(250), "10^9/L")
    assert to_canonical("platelets", 250, "x10^9/L") == (D(250), "10^9/L")


def test_hemoglobin_in_grams_per_litre_converts_to_grams_per_decilitre():
    assert to_canonical("hemoglobin", 120, "g/L") == (D(12), "g/dL")


def test_troponin_in_ng_per_ml_or_ug_per_l_is_a_thousand_times_ng_per_l():
    assert to_canonical("troponin_i", "0.176", "ng/mL") == (D(176), "ng/L")
    assert to_canonical("troponin_i", "0.04", "µg/L") == (D(40), "ng/L")
    assert to_canonical("troponin_i", "39.5", "pg/mL") == (D("39.5"), "ng/L")


def test_unit_matching_forgives_case_and_spaces():
    assert to_canonical("alt", 50, " iu/l ") == (D(50), "U/L")
    assert to_canonical("tbili", 1, "MG/DL") == (D(1), "mg/dL")


def test_an_unknown_unit_is_refused_with_the_accepted_units_listed():
    with pytest.raises(ValueError, match=r"Total bilirubin in 'mmol/L' is not accepted; use one of: mg/dL, µmol/L"):
        to_canonical("tbili", 1, "mmol/L")


def test_an_unknown_analyte_or_a_bad_value_is_refused():
    with pytest.raises(ValueError, match="Unknown analyte 'ALT'; expected one of: alt, ast"):
        to_canonical("ALT", 1, "U/L")
    with pytest.raises(ValueError, match="cannot be negative"):
        to_canonical("alt", -1, "U/L")
    with pytest.raises(ValueError, match="must be a number"):
        to_canonical("alt", "abc", "U/L")
    with pytest.raises(ValueError, match="finite"):
        to_canonical("alt", "NaN", "U/L")
    with pytest.raises(ValueError, match="must be a number"):
        to_canonical("alt", True, "U/L")


def test_every_analyte_lists_its_canonical_unit_among_the_accepted_ones():
    for key, info in ANALYTES.items():
        assert info.accepted_units[info.canonical_unit] == 1, key
    assert ANALYTES["troponin_i"].canonical_unit == "ng/L"
    assert ANALYTES["inr"].canonical_unit == "ratio"
    assert ANALYTES["pt"].canonical_unit == "s"


@given(
    st.sampled_from(sorted(ANALYTES)).flatmap(
        lambda a: st.tuples(st.just(a), st.sampled_from(sorted(ANALYTES[a].accepted_units)))
    ),
    st.decimals(min_value=0, max_value=100000, places=3),
)
def test_converting_to_canonical_and_back_returns_the_reported_value(analyte_unit, value):
    analyte, unit = analyte_unit
    canonical, _ = to_canonical(analyte, value, unit)
    back = canonical * ANALYTES[analyte].accepted_units[unit]
    assert abs(back - value) <= D("1e-20")


# --- fallback_uln -------------------------------------------------------------------------


def test_infant_alt_fallback_is_60_for_boys_and_55_for_girls_under_18_months():
    assert fallback_uln("alt", 0, "male") == D(60)
    assert fallback_uln("alt", 17, "male") == D(60)
    assert fallback_uln("alt", 17, "female") == D(55)


def test_alt_fallback_is_40_for_boys_and_35_for_girls_from_18_months():
    assert fallback_uln("alt", 18, "male") == D(40)
    assert fallback_uln("alt", 18, "female") == D(35)


def test_unknown_sex_takes_the_lower_alt_fallback():
    assert fallback_uln("alt", 6, "unknown") == D(55)
    assert fallback_uln("alt", 30, "unknown") == D(35)


def test_analytes_without_a_sourced_fallback_return_none_and_say_why():
    for analyte in ("ast", "tbili", "pt", "troponin_i"):
        assert fallback_uln(analyte, 6, "female") is None
        assert FALLBACK_SOURCE[analyte]
    assert "England" in FALLBACK_SOURCE["alt"]


def test_fallback_uln_rejects_bad_age_and_sex():
    with pytest.raises(ValueError, match="age_months"):
        fallback_uln("alt", -1, "male")
    with pytest.raises(ValueError, match="age_months"):
        fallback_uln("alt", 6.5, "male")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sex must be one of"):
        fallback_uln("alt", 6, "M")


# --- uln_multiple -------------------------------------------------------------------------


def test_uln_multiple_is_exact_and_none_without_a_uln():
    assert uln_multiple(D("119.4"), D(60)) == D("1.99")
    assert uln_multiple(120, 60) == D(2)
    assert uln_multiple(120, None) is None


def test_uln_multiple_refuses_a_zero_uln():
    with pytest.raises(ValueError, match="ULN must be greater than 0"):
        uln_multiple(10, 0)


def test_format_multiple_rounds_down_so_a_value_below_2x_never_reads_2x():
    assert format_multiple(D("1.999")) == "1.99×ULN"
    assert format_multiple(D("2.4")) == "2.4×ULN"
    assert format_multiple(D(2)) == "2.0×ULN"


# --- flags_for_panel: liver ---------------------------------------------------------------


def test_a_normal_liver_panel_raises_no_flags():
    assert flags_for_panel(normal_liver(), {}) == []


def test_alt_at_1_99x_uln_is_not_flagged_but_2_00x_blocks_the_taper():
    assert flags_for_panel(normal_liver(alt=rv("79.6", 40, "U/L")), {}) == []
    flags = flags_for_panel(normal_liver(alt=rv(80, 40, "U/L")), {})
    assert codes(flags) == [("alt_2x_uln", TAPER_BLOCKED, "alt")]
    assert "2.0×ULN" in flags[0].message
    assert "§2.1" in flags[0].source


def test_ast_at_19_99x_uln_blocks_the_taper_and_20x_is_urgent():
    flags = flags_for_panel(normal_liver(ast=rv("999.5", 50, "U/L")), {})
    assert codes(flags) == [("ast_2x_uln", TAPER_BLOCKED, "ast")]
    flags = flags_for_panel(normal_liver(ast=rv(1000, 50, "U/L")), {})
    assert codes(flags) == [("ast_20x_uln", URGENT, "ast")]
    assert "consult pediatric hepatology now" in flags[0].message
    assert "§5.1" in flags[0].source


def test_bilirubin_above_uln_with_a_raised_transaminase_is_urgent():
    panel = normal_liver(alt=rv(50, 40, "U/L"), tbili=rv("1.3", "1.2", "mg/dL"))
    assert codes(flags_for_panel(panel, {})) == [("bilirubin_with_transaminases", URGENT, "tbili")]


def test_bilirubin_at_the_uln_with_raised_alt_is_not_urgent():
    panel = normal_liver(alt=rv(50, 40, "U/L"), tbili=rv("1.2", "1.2", "mg/dL"))
    assert flags_for_panel(panel, {}) == []


def test_bilirubin_above_uln_alone_blocks_the_taper():
    panel = normal_liver(tbili=rv("1.3", "1.2", "mg/dL"))
    assert codes(flags_for_panel(panel, {})) == [("bilirubin_above_uln", TAPER_BLOCKED, "tbili")]


def test_transaminase_exactly_at_uln_does_not_make_bilirubin_urgent():
    panel = normal_liver(alt=rv(40, 40, "U/L"), tbili=rv("1.3", "1.2", "mg/dL"))
    assert codes(flags_for_panel(panel, {})) == [("bilirubin_above_uln", TAPER_BLOCKED, "tbili")]


def test_pt_above_uln_is_urgent_and_at_uln_is_not():
    assert flags_for_panel(normal_liver(pt=rv("13.5", "13.5", "s")), {}) == []
    flags = flags_for_panel(normal_liver(pt=rv("13.6", "13.5", "s")), {})
    assert codes(flags) == [("pt_prolonged", URGENT, "pt")]


def test_pt_without_a_uln_uses_pt_normal_max_when_given():
    panel = normal_liver(pt=rv("14.0", None, "sec"))
    assert codes(flags_for_panel(panel, {}, pt_normal_max=D("13.5"))) == [("pt_prolonged", URGENT, "pt")]
    assert flags_for_panel(panel, {}, pt_normal_max=D(14)) == []


def test_a_missing_uln_is_a_watch_flag_rather_than_silence():
    flags = flags_for_panel(normal_liver(alt=rv(500, None, "U/L"), pt=rv(12, None, "s")), {})
    assert codes(flags) == [("uln_missing", WATCH, "alt"), ("uln_missing", WATCH, "pt")]


def test_an_inr_above_its_uln_counts_as_prolonged_pt():
    panel = normal_liver(inr=rv("1.5", "1.2", "ratio"))
    assert codes(flags_for_panel(panel, {})) == [("pt_prolonged", URGENT, "inr")]


def test_flags_come_most_severe_first():
    panel = normal_liver(alt=rv(100, 40, "U/L"), pt=rv(20, "13.5", "s"))
    panel["platelets"] = rv(100, None, "10^9/L")
    levels = [f.level for f in flags_for_panel(panel, {"platelets": D(300)})]
    assert levels == [URGENT, TAPER_BLOCKED, WATCH]


def test_flags_for_panel_refuses_unknown_analytes_and_units():
    with pytest.raises(ValueError, match="Unknown analyte 'ggt'"):
        flags_for_panel({"ggt": rv(10, 50, "U/L")}, {})
    with pytest.raises(ValueError, match="use one of"):
        flags_for_panel({"platelets": rv(10, None, "cells")}, {})


@given(
    value=st.decimals(min_value=0, max_value=5000, places=2),
    uln=st.decimals(min_value=1, max_value=200, places=1),
)
def test_a_transaminase_flag_appears_exactly_when_the_value_reaches_2x_uln(value, uln):
    flags = flags_for_panel({"alt": ResultValue(value, uln, "U/L")}, {})
    assert bool(flags) == (value >= 2 * uln)
    if flags:
        assert flags[0].level == (URGENT if value >= 20 * uln else TAPER_BLOCKED)


# --- flags_for_panel: platelets and troponin ----------------------------------------------


def test_platelets_of_149_are_a_tma_watch_and_150_are_not():
    base = {"platelets": D(160)}
    assert codes(flags_for_panel({"platelets": rv(149, None, "10^9/L")}, base)) == [("tma_watch", WATCH, "platelets")]
    assert flags_for_panel({"platelets": rv(150, None, "10^9/L")}, base) == []


def test_a_fall_of_exactly_25_percent_from_baseline_is_a_tma_watch():
    flags = flags_for_panel({"platelets": rv(300, None, "K/uL")}, {"platelets": D(400)})
    assert codes(flags) == [("tma_watch", WATCH, "platelets")]
    assert "25% below baseline 400" in flags[0].message


def test_a_fall_just_under_25_percent_is_not_a_tma_watch():
    assert flags_for_panel({"platelets": rv(301, None, "K/uL")}, {"platelets": D(400)}) == []


def test_platelets_without_a_baseline_ask_for_one():
    flags = flags_for_panel({"platelets": rv(300, None, "10^9/L")}, {})
    assert codes(flags) == [("baseline_missing", WATCH, "platelets")]


def test_troponin_above_baseline_is_a_watch_whatever_the_unit():
    flags = flags_for_panel({"troponin_i": rv("0.041", None, "ng/mL")}, {"troponin_i": D(40)})
    assert codes(flags) == [("troponin_above_baseline", WATCH, "troponin_i")]
    assert "41 ng/L" in flags[0].message
    assert flags_for_panel({"troponin_i": rv("0.040", None, "ng/mL")}, {"troponin_i": D(40)}) == []


def test_troponin_without_a_baseline_asks_for_one():
    assert codes(flags_for_panel({"troponin_i": rv(40, None, "ng/L")}, {})) == [
        ("baseline_missing", WATCH, "troponin_i")
    ]


@given(
    base=st.decimals(min_value=1, max_value=1000, places=0),
    value=st.decimals(min_value=0, max_value=1000, places=0),
)
def test_tma_watch_fires_exactly_below_150_or_at_a_25_percent_fall(base, value):
    flags = flags_for_panel({"platelets": ResultValue(value, None, "10^9/L")}, {"platelets": base})
    expected = value < 150 or (base - value) / base >= D("0.25")
    assert any(f.code == "tma_watch" for f in flags) == expected


# --- liver_unremarkable -------------------------------------------------------------------


def test_a_normal_panel_is_unremarkable():
    assert liver_unremarkable(normal_liver())


def test_alt_at_2x_uln_is_not_unremarkable_but_1_99x_is():
    assert liver_unremarkable(normal_liver(alt=rv("79.6", 40, "U/L")))
    assert not liver_unremarkable(normal_liver(alt=rv(80, 40, "U/L")))
    assert not liver_unremarkable(normal_liver(ast=rv(100, 50, "U/L")))


def test_raised_bilirubin_or_pt_is_not_unremarkable():
    assert not liver_unremarkable(normal_liver(tbili=rv("1.3", "1.2", "mg/dL")))
    assert not liver_unremarkable(normal_liver(pt=rv(14, "13.5", "s")))
    assert liver_unremarkable(normal_liver(tbili=rv("1.2", "1.2", "mg/dL")))


def test_missing_results_or_ulns_are_never_unremarkable():
    panel = normal_liver()
    del panel["ast"]
    assert not liver_unremarkable(panel)
    assert not liver_unremarkable(normal_liver(tbili=rv("0.5", None, "mg/dL")))
    assert not liver_unremarkable(normal_liver(pt=rv(12, None, "s")))
    assert liver_unremarkable(normal_liver(pt=rv(12, None, "s")), pt_normal_max=D("13.5"))


def test_inr_can_stand_in_for_pt():
    panel = normal_liver()
    del panel["pt"]
    assert not liver_unremarkable(panel)
    assert liver_unremarkable(panel | {"inr": rv("1.1", "1.2", "ratio")})


# --- back_to_baseline ---------------------------------------------------------------------


def test_platelets_are_back_when_the_fall_is_under_25_percent_and_the_count_is_normal():
    assert back_to_baseline(301, 400, "platelets")
    assert not back_to_baseline(300, 400, "platelets")
    assert not back_to_baseline(149, 180, "platelets")
    assert back_to_baseline(150, 180, "platelets")


def test_platelets_with_a_low_baseline_are_back_once_they_reach_it():
    assert back_to_baseline(120, 120, "platelets")
    assert not back_to_baseline(119, 120, "platelets")


def test_troponin_is_back_at_or_below_baseline():
    assert back_to_baseline(40, 40, "troponin_i")
    assert not back_to_baseline(D("40.1"), 40, "troponin_i")


def test_back_to_baseline_is_only_defined_for_platelets_and_troponin():
    with pytest.raises(ValueError, match="platelets and troponin_i, not 'alt'"):
        back_to_baseline(1, 1, "alt")


@given(
    base=st.decimals(min_value=1, max_value=1000, places=0),
    value=st.decimals(min_value=0, max_value=1000, places=0),
)
def test_platelets_back_to_baseline_whenever_no_tma_watch_would_fire(base, value):
    flags = flags_for_panel({"platelets": ResultValue(value, None, "10^9/L")}, {"platelets": base})
    watch = any(f.code == "tma_watch" for f in flags)
    if base >= 150:
        assert back_to_baseline(value, base, "platelets") == (not watch)
    elif back_to_baseline(value, base, "platelets"):
        assert value >= base
