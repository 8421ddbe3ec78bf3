from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.claims.rules import (
    CARD_DEFAULT_ALLOWED_POS,
    ERROR,
    INSTITUTIONAL,
    KIT_NDCS_11,
    PROFESSIONAL,
    WARNING,
    ClaimInput,
    ClaimLine,
    LineSetup,
    ScrubContext,
    admin_codes_for_duration,
    claim_lines,
    claim_type_for_pos,
    diagnosis_pointers,
    drug_modifiers_for,
    parse_modifiers,
    scrub,
)

DOS = date(2026, 6, 1)


def record(**overrides) -> ClaimInput:
    values = {
        "kit_ndc": "71894-120-02",
        "infusion_minutes": 60,
        "diagnosis_codes": ("G12.0", "P09.8"),
        "place_of_service": "22",
        "pa_number": "PA-123",
        "date_of_service": DOS,
    }
    values.update(overrides)
    return ClaimInput(**values)


def context(**overrides) -> ScrubContext:
    values = {
        "prior_j3399_billed": False,
        "payer_allowed_pos": CARD_DEFAULT_ALLOWED_POS,
        "pa_required": True,
        "payer_accepts_96413": None,
        "infusion_minutes": 60,
    }
    values.update(overrides)
    return ScrubContext(**values)


def line(code: str, no: int = 2, units=Decimal(1), code_type: str = "CPT", **kw) -> ClaimLine:
    values = {
        "line_no": no,
        "code": code,
        "code_type": code_type,
        "units": units,
        "descriptor": "",
        "diagnosis_pointers": "A",
        "place_of_service": "22",
        "pa_number": "PA-123",
        "date_of_service": DOS,
    }
    values.update(kw)
    return ClaimLine(**values)


def codes(findings) -> list[str]:
    return [f.code for f in findings]


# --- admin_codes_for_duration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, []),
        (15, []),
        (16, ["96365"]),
        (60, ["96365"]),
        (75, ["96365"]),
        (90, ["96365"]),
        (91, ["96365", "96366"]),
        (105, ["96365", "96366"]),
        (120, ["96365", "96366"]),
        (150, ["96365", "96366"]),
        (151, ["96365", "96366", "96366"]),
        (210, ["96365", "96366", "96366"]),
        (211, ["96365", "96366", "96366", "96366"]),
    ],
)
def test_admin_codes_follow_the_aapc_more_than_30_minutes_rule(minutes, expected):
    assert admin_codes_for_duration(minutes) == expected


def test_a_push_of_15_minutes_or_less_gets_no_infusion_code():
    assert admin_codes_for_duration(15) == []


def test_a_negative_duration_raises_value_error():
    with pytest.raises(ValueError, match="cannot be negative"):
        admin_codes_for_duration(-1)


@pytest.mark.parametrize("minutes", [60.0, "60", True, None, Decimal(60)])
def test_a_non_integer_duration_raises_value_error(minutes):
    with pytest.raises(ValueError, match="whole number"):
        admin_codes_for_duration(minutes)  # type: ignore[arg-type]


@given(st.integers(min_value=16, max_value=24 * 60))
def test_96365_is_always_first_and_billed_once(minutes):
    result = admin_codes_for_duration(minutes)
    assert result[0] == "96365"
    assert result.count("96365") == 1
    assert set(result) <= {"96365", "96366"}


@given(st.integers(min_value=0, max_value=24 * 60))
def test_more_minutes_never_mean_fewer_codes(minutes):
    assert len(admin_codes_for_duration(minutes)) <= len(admin_codes_for_duration(minutes + 1))


@given(st.integers(min_value=16, max_value=24 * 60))
def test_each_96366_stands_for_more_than_30_minutes_past_the_previous_hour(minutes):
    extra = admin_codes_for_duration(minutes).count("96366")
    # the k-th 96366 needs more than 60 * k + 30 minutes in total
    assert minutes > 60 * extra + 30 or extra == 0
    assert minutes <= 60 * (extra + 1) + 30


# --- ClaimInput validation ----------------------------------------------------------------------


def test_a_malformed_kit_ndc_raises_value_error():
    with pytest.raises(ValueError, match="hyphenated NDC"):
        record(kit_ndc="7189412002")


def test_a_negative_infusion_time_raises_value_error():
    with pytest.raises(ValueError, match="negative"):
        record(infusion_minutes=-5)


def test_a_motor_neuron_disease_code_is_refused_as_diagnosis():
    with pytest.raises(ValueError, match="G12.25 is a motor neuron disease code"):
        record(diagnosis_codes=("G12.25",))


def test_repeated_diagnosis_codes_raise_value_error():
    with pytest.raises(ValueError, match="repeat"):
        record(diagnosis_codes=("G12.0", "g120"))


def test_more_than_12_diagnoses_raise_value_error():
    many = tuple(f"Z{n:02d}.0" for n in range(13))
    with pytest.raises(ValueError, match="at most 12"):
        record(diagnosis_codes=many)


def test_diagnoses_must_be_a_tuple():
    with pytest.raises(ValueError, match="tuple"):
        record(diagnosis_codes=["G12.0"])


def test_a_malformed_place_of_service_raises_value_error():
    with pytest.raises(ValueError, match="two-digit CMS POS"):
        record(place_of_service="2")


@pytest.mark.parametrize("value", [datetime(2026, 6, 1, 9, 0), "2026-06-01", None])
def test_date_of_service_must_be_a_plain_date(value):
    with pytest.raises(ValueError, match="must be a date"):
        record(date_of_service=value)


# --- claim_lines --------------------------------------------------------------------------------


def test_a_standard_60_minute_infusion_gives_j3399_and_96365():
    lines = claim_lines(record())
    assert [(ln.line_no, ln.code, ln.code_type, ln.units) for ln in lines] == [
        (1, "J3399", "HCPCS", Decimal(1)),
        (2, "96365", "CPT", Decimal(1)),
    ]


def test_the_j3399_line_carries_the_kit_ndc_as_n4_un1():
    j3399 = claim_lines(record())[0]
    assert j3399.ndc_11 == "71894012002"
    assert j3399.ndc_qualifier == "N4"
    assert j3399.ndc_quantity == Decimal(1)
    assert j3399.ndc_unit == "UN"
    assert j3399.ndc_supplemental == "N471894012002 UN1"
    assert j3399.descriptor.startswith("Injection, onasemnogene abeparvovec-xioi")


def test_admin_lines_carry_no_ndc():
    admin = claim_lines(record())[1]
    assert admin.ndc_11 is None and admin.ndc_supplemental is None


def test_every_line_carries_pointers_pos_pa_and_date():
    for ln in claim_lines(record()):
        assert ln.diagnosis_pointers == "AB"
        assert ln.place_of_service == "22"
        assert ln.pa_number == "PA-123"
        assert ln.date_of_service == DOS


def test_151_minutes_gives_one_96366_line_of_two_units():
    lines = claim_lines(record(infusion_minutes=151))
    assert [(ln.code, ln.units) for ln in lines] == [
        ("J3399", 1),
        ("96365", 1),
        ("96366", 2),
    ]
    assert [ln.line_no for ln in lines] == [1, 2, 3]


def test_a_push_or_unknown_time_gives_no_admin_line():
    assert [ln.code for ln in claim_lines(record(infusion_minutes=10))] == ["J3399"]
    assert [ln.code for ln in claim_lines(record(infusion_minutes=None))] == ["J3399"]


def test_missing_and_blank_values_are_left_empty_for_the_scrubber():
    lines = claim_lines(record(kit_ndc=" ", pa_number="", place_of_service=None, diagnosis_codes=()))
    j3399 = lines[0]
    assert j3399.ndc_11 is None and j3399.ndc_qualifier is None
    assert j3399.pa_number is None
    assert j3399.place_of_service is None
    assert j3399.diagnosis_pointers == ""


@pytest.mark.parametrize(("count", "pointers"), [(0, ""), (1, "A"), (2, "AB"), (4, "ABCD"), (5, "ABCD"), (12, "ABCD")])
def test_pointers_name_at_most_the_first_four_diagnoses(count, pointers):
    assert diagnosis_pointers(count) == pointers


def test_a_negative_pointer_count_raises_value_error():
    with pytest.raises(ValueError, match="non-negative"):
        diagnosis_pointers(-1)


@given(
    minutes=st.one_of(st.none(), st.integers(min_value=0, max_value=600)),
    n_diagnoses=st.integers(min_value=0, max_value=6),
)
def test_generated_lines_always_bill_j3399_once_and_match_the_duration(minutes, n_diagnoses):
    diagnoses = ("G12.0", "G12.1", "G12.8", "G12.9", "P09.8", "Z82.0")[:n_diagnoses]
    lines = claim_lines(record(infusion_minutes=minutes, diagnosis_codes=diagnoses))
    assert lines[0].code == "J3399" and lines[0].units == 1
    assert [ln.line_no for ln in lines] == list(range(1, len(lines) + 1))
    expected = admin_codes_for_duration(minutes) if minutes is not None else []
    assert sum((ln.units for ln in lines[1:]), Decimal(0)) == len(expected)


@given(minutes=st.integers(min_value=16, max_value=600))
def test_lines_built_from_a_complete_record_scrub_clean(minutes):
    lines = claim_lines(record(infusion_minutes=minutes))
    assert scrub(lines, context(infusion_minutes=minutes)) == []


# --- ClaimLine validation -----------------------------------------------------------------------


def test_a_claim_line_needs_a_known_code_type():
    with pytest.raises(ValueError, match="code_type"):
        line("96365", code_type="ICD")


@pytest.mark.parametrize("units", [0, Decimal("-1"), 1.0, True])
def test_a_claim_line_needs_positive_decimal_or_int_units(units):
    with pytest.raises(ValueError, match="units"):
        line("96365", units=units)


def test_a_claim_line_needs_a_positive_line_number():
    with pytest.raises(ValueError, match="line_no"):
        line("96365", no=0)


def test_a_claim_line_ndc_must_be_11_digits():
    with pytest.raises(ValueError, match="11 digits"):
        line("J3399", code_type="HCPCS", ndc_11="71894-120-02")


def test_a_claim_line_ndc_unit_must_be_known():
    with pytest.raises(ValueError, match="unit qualifier"):
        line("J3399", code_type="HCPCS", ndc_unit="XX")


# --- ScrubContext validation --------------------------------------------------------------------


def test_an_empty_allowed_pos_set_raises_value_error():
    with pytest.raises(ValueError, match="non-empty frozenset"):
        context(payer_allowed_pos=frozenset())


def test_allowed_pos_must_be_a_frozenset():
    with pytest.raises(ValueError, match="non-empty frozenset"):
        context(payer_allowed_pos={"22"})


def test_allowed_pos_must_be_two_digit_codes():
    with pytest.raises(ValueError, match="not a two-digit POS"):
        context(payer_allowed_pos=frozenset({"22", "OP"}))


def test_card_default_allows_inpatient_and_hospital_outpatient_only():
    assert {"19", "21", "22"} == CARD_DEFAULT_ALLOWED_POS


# --- scrub --------------------------------------------------------------------------------------


def good_lines(**kw) -> list[ClaimLine]:
    return claim_lines(record(**kw))


def test_a_complete_standard_claim_has_no_findings():
    assert scrub(good_lines(), context()) == []


def test_a_claim_without_j3399_is_an_error():
    findings = scrub([line("96365", no=1)], context())
    assert codes(findings) == ["missing_j3399"]
    assert findings[0].severity == ERROR


def test_an_empty_claim_only_reports_the_missing_j3399():
    assert codes(scrub([], context())) == ["missing_j3399"]


def test_j3399_billed_before_for_the_patient_is_an_error():
    findings = scrub(good_lines(), context(prior_j3399_billed=True))
    assert codes(findings) == ["j3399_prior_billed"]
    assert "one-time" in findings[0].message


@pytest.mark.parametrize("units", [Decimal(2), Decimal("0.5")])
def test_j3399_units_other_than_one_are_an_error(units):
    lines = good_lines()
    lines[0] = replace(lines[0], units=units)
    assert codes(scrub(lines, context())) == ["j3399_units"]


def test_two_j3399_lines_are_an_error_on_units():
    lines = good_lines()
    lines.append(replace(lines[0], line_no=3))
    assert "j3399_units" in codes(scrub(lines, context()))


@pytest.mark.parametrize("wrong", ["J3490", "J3590", "C9399"])
def test_unclassified_hcpcs_is_an_error_with_the_card_fix(wrong):
    lines = [line(wrong, no=1, code_type="HCPCS"), line("96365")]
    findings = scrub(lines, context())
    assert codes(findings) == ["missing_j3399", "wrong_hcpcs"]
    assert findings[1].fix == "Use J3399 (permanent per-treatment code)"
    assert findings[1].line_no == 1


@pytest.mark.parametrize("wrong", ["79101", "96374"])
def test_radiopharmaceutical_and_push_codes_are_errors_with_the_card_fix(wrong):
    lines = [good_lines()[0], line(wrong)]
    findings = scrub(lines, context())
    assert codes(findings) == ["wrong_cpt"]
    assert findings[0].severity == ERROR
    assert findings[0].fix == "Use 96365 (therapeutic IV 60 min)"


def test_96413_is_a_warning_when_the_payer_policy_is_unknown():
    findings = scrub([good_lines()[0], line("96413")], context(payer_accepts_96413=None))
    assert codes(findings) == ["cpt_96413"]
    assert findings[0].severity == WARNING
    assert "payer-dependent" in findings[0].message


def test_96413_is_an_error_when_the_payer_rejects_it():
    findings = scrub([good_lines()[0], line("96413")], context(payer_accepts_96413=False))
    assert [(f.code, f.severity) for f in findings] == [("cpt_96413", ERROR)]


def test_96413_passes_when_the_payer_accepts_it():
    assert scrub([good_lines()[0], line("96413")], context(payer_accepts_96413=True)) == []


def test_96366_for_a_60_minute_infusion_is_an_error():
    lines = good_lines() + [line("96366", no=3)]
    findings = scrub(lines, context(infusion_minutes=60))
    assert codes(findings) == ["add_on_96366"]
    assert findings[0].fix == "Remove 96366: 60 minutes is billed as 96365 only."


def test_96366_for_a_90_minute_infusion_is_an_error_and_for_91_is_fine():
    lines = good_lines(infusion_minutes=90) + [line("96366", no=3)]
    assert codes(scrub(lines, context(infusion_minutes=90))) == ["add_on_96366"]
    assert scrub(good_lines(infusion_minutes=91), context(infusion_minutes=91)) == []


def test_96366_without_96365_is_an_error():
    lines = [good_lines()[0], line("96366")]
    findings = scrub(lines, context(infusion_minutes=120))
    assert "add_on_96366" in codes(findings)
    assert "no 96365" in findings[-1].message


def test_96366_without_a_documented_time_is_an_error():
    lines = good_lines(infusion_minutes=120)
    findings = scrub(lines, context(infusion_minutes=None))
    assert codes(findings) == ["add_on_96366"]
    assert "over 90 minutes" in findings[0].message


def test_96366_units_must_match_the_documented_run():
    lines = good_lines(infusion_minutes=151)
    lines[2] = replace(lines[2], units=Decimal(1))
    findings = scrub(lines, context(infusion_minutes=151))
    assert codes(findings) == ["add_on_96366"]
    assert findings[0].fix == "Bill 96366 × 2 for 151 minutes."


def test_an_unbilled_96366_for_a_long_run_is_a_warning():
    lines = good_lines(infusion_minutes=60)
    findings = scrub(lines, context(infusion_minutes=100))
    assert [(f.code, f.severity) for f in findings] == [("add_on_96366", WARNING)]


def test_96365_for_more_than_one_unit_is_an_error():
    lines = good_lines()
    lines[1] = replace(lines[1], units=Decimal(2))
    assert codes(scrub(lines, context())) == ["admin_units"]


def test_96365_for_a_documented_push_is_an_error():
    findings = scrub(good_lines(), context(infusion_minutes=15))
    assert codes(findings) == ["admin_time"]


def test_a_claim_without_any_admin_code_gets_a_warning():
    findings = scrub(good_lines(infusion_minutes=10), context(infusion_minutes=10))
    assert [(f.code, f.severity) for f in findings] == [("missing_admin", WARNING)]


@pytest.mark.parametrize("pos", ["11", "12", "49"])
def test_a_place_of_service_the_payer_does_not_allow_is_an_error_naming_the_allowed_ones(pos):
    findings = scrub(good_lines(place_of_service=pos), context())
    assert codes(findings) == ["pos_not_allowed"]
    assert "19 (Off Campus-Outpatient Hospital)" in findings[0].fix
    assert "21 (Inpatient Hospital)" in findings[0].fix
    assert "22 (On Campus-Outpatient Hospital)" in findings[0].fix


def test_a_payer_policy_can_allow_an_office_infusion():
    assert scrub(good_lines(place_of_service="11"), context(payer_allowed_pos=frozenset({"11"}))) == []


def test_an_unlisted_allowed_pos_is_named_by_its_code():
    findings = scrub(good_lines(place_of_service="11"), context(payer_allowed_pos=frozenset({"24"})))
    assert findings[0].fix.endswith("24.")


def test_a_missing_place_of_service_is_reported_once():
    findings = scrub(good_lines(place_of_service=None), context())
    assert codes(findings) == ["missing_pos"]


@pytest.mark.parametrize("ndc", [None, ""])
def test_j3399_without_an_ndc_is_an_error(ndc):
    findings = scrub(good_lines(kit_ndc=ndc), context())
    assert codes(findings) == ["missing_ndc"]
    assert findings[0].line_no == 1


def test_j3399_with_an_ndc_but_no_quantity_is_an_error():
    lines = good_lines()
    lines[0] = replace(lines[0], ndc_quantity=None)
    assert codes(scrub(lines, context())) == ["missing_ndc"]


def test_j3399_with_another_labelers_ndc_is_an_error():
    findings = scrub(good_lines(kit_ndc="0574-4072-05"), context())
    assert codes(findings) == ["ndc_not_zolgensma"]


@pytest.mark.parametrize("pa", [None, "", "  "])
def test_a_missing_pa_number_is_an_error_when_the_payer_requires_pa(pa):
    lines = good_lines()
    lines[0] = replace(lines[0], pa_number=pa)
    assert codes(scrub(lines, context(pa_required=True))) == ["missing_pa"]


def test_a_missing_pa_number_is_fine_when_the_payer_does_not_require_pa():
    assert scrub(good_lines(pa_number=None), context(pa_required=False)) == []


def test_every_finding_has_a_fix_and_a_source():
    lines = [
        line("J3490", no=1, code_type="HCPCS", place_of_service="11", pa_number=None),
        line("96374", no=2, place_of_service=None),
        line("96366", no=3),
    ]
    findings = scrub(lines, context(infusion_minutes=None))
    assert {f.severity for f in findings} <= {ERROR, WARNING}
    for f in findings:
        assert f.message and f.fix and f.source


@given(
    prior=st.booleans(),
    pa_required=st.booleans(),
    accepts=st.sampled_from([True, False, None]),
    minutes=st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
    pos=st.sampled_from(["11", "12", "19", "21", "22", "49"]),
    ndc=st.sampled_from([None, "71894-120-02", "0574-4072-05"]),
    pa=st.sampled_from([None, "PA-1"]),
)
def test_scrub_is_deterministic_and_flags_only_what_is_wrong(prior, pa_required, accepts, minutes, pos, ndc, pa):
    lines = good_lines(infusion_minutes=minutes, place_of_service=pos, kit_ndc=ndc, pa_number=pa)
    ctx = context(
        prior_j3399_billed=prior,
        pa_required=pa_required,
        payer_accepts_96413=accepts,
        infusion_minutes=minutes,
    )
    findings = scrub(lines, ctx)
    assert findings == scrub(lines, ctx)
    found = set(codes(findings))
    assert ("j3399_prior_billed" in found) == prior
    assert ("missing_pa" in found) == (pa_required and pa is None)
    assert ("pos_not_allowed" in found) == (pos not in CARD_DEFAULT_ALLOWED_POS)
    assert ("missing_ndc" in found) == (ndc is None)
    assert ("missing_admin" in found) == (minutes is None or minutes <= 15)
    assert "add_on_96366" not in found


# --- Stricter scrubber (issue 16): NDC, unit, PA, POS, claim type, modifiers, overrides -------------


def test_the_kit_table_gives_37_billing_ndcs():
    assert len(KIT_NDCS_11) == 37 and "71894012002" in KIT_NDCS_11 and "71894015614" in KIT_NDCS_11


def test_an_ndc_not_in_the_kit_table_is_an_error():
    lines = good_lines(kit_ndc="71894-999-99")
    found = scrub(lines, context())
    assert codes(found) == ["ndc_unknown"] and found[0].severity == ERROR
    assert "Table 1" in found[0].source


def test_the_ndc_must_be_the_kit_recorded_on_the_infusion_day():
    # The 21 kg kit billed for a 5.9 kg infant whose record says 71894-126-04.
    lines = good_lines(kit_ndc="71894-156-14")
    found = scrub(lines, context(recorded_kit_ndc="71894012604", record_weight_text="5.9 kg (band 5.6-6.0 kg)"))
    assert codes(found) == ["ndc_not_recorded_kit"]
    assert "5.9 kg" in found[0].message and "N471894012604" in found[0].fix
    assert scrub(good_lines(kit_ndc="71894-126-04"), context(recorded_kit_ndc="71894012604")) == []


@pytest.mark.parametrize(("unit", "quantity"), [("ML", Decimal(1)), ("UN", Decimal("33")), ("ML", Decimal("33"))])
def test_a_kit_reported_in_another_unit_or_quantity_than_the_payers_rule_is_an_error(unit, quantity):
    lines = claim_lines(record(), LineSetup(ndc_unit=unit, ndc_quantity=quantity))
    found = scrub(lines, context())
    assert codes(found) == ["ndc_unit"] and "UN1" in found[0].message


def test_a_payer_may_set_its_own_ndc_unit():
    lines = claim_lines(record(), LineSetup(ndc_unit="ML", ndc_quantity=Decimal("16.5")))
    assert scrub(lines, context(ndc_unit="ML", ndc_quantity=Decimal("16.5"))) == []


def test_a_pa_number_other_than_the_approved_one_is_an_error():
    found = scrub(good_lines(pa_number="PA-999"), context(approved_pa_number="PA-123"))
    assert codes(found) == ["pa_mismatch"] and "PA-123" in found[0].fix
    assert scrub(good_lines(), context(approved_pa_number="PA-123")) == []


def test_different_places_of_service_on_one_claim_are_an_error():
    lines = [line("J3399", no=1, code_type="HCPCS", place_of_service="22"), line("96365", place_of_service="19")]
    lines[0] = replace(claim_lines(record())[0], place_of_service="22")
    assert "pos_mixed" in codes(scrub(lines, context()))


def test_a_place_of_service_other_than_the_infusions_is_an_error():
    found = scrub(good_lines(place_of_service="19"), context(record_pos="22"))
    assert codes(found) == ["pos_not_record"]


@pytest.mark.parametrize(
    ("pos", "claim_type"),
    [
        ("19", INSTITUTIONAL),
        ("21", INSTITUTIONAL),
        ("22", INSTITUTIONAL),
        ("11", PROFESSIONAL),
        ("49", PROFESSIONAL),
        (None, PROFESSIONAL),
    ],
)
def test_hospitals_bill_institutional_and_other_sites_professional(pos, claim_type):
    assert claim_type_for_pos(pos) == claim_type


def test_96365_96366_and_j3399_on_a_professional_claim_in_a_hospital_are_errors():
    lines = good_lines(infusion_minutes=95, place_of_service="22")
    found = scrub(lines, context(claim_type=PROFESSIONAL, infusion_minutes=95))
    assert codes(found).count("admin_in_facility") == 2 and "drug_on_professional_in_facility" in codes(found)
    assert any("Regence payment policy 109" in f.source for f in found)


def test_a_professional_claim_in_an_office_has_no_setting_finding():
    lines = good_lines(place_of_service="11")
    found = scrub(lines, context(claim_type=PROFESSIONAL, payer_allowed_pos=frozenset({"11"})))
    assert found == []


def test_an_institutional_claim_needs_a_hospital_pos_and_revenue_codes():
    setup = LineSetup(claim_type=INSTITUTIONAL, revenue_codes={"J3399": "0636"})
    lines = claim_lines(record(place_of_service="11"), setup)
    found = codes(scrub(lines, context(claim_type=INSTITUTIONAL, payer_allowed_pos=frozenset({"11"}))))
    assert "institutional_not_hospital" in found and found.count("missing_revenue_code") == 1


def test_unusual_revenue_codes_warn():
    setup = LineSetup(claim_type=INSTITUTIONAL, revenue_codes={"J3399": "0250", "96365": "0361"})
    found = scrub(claim_lines(record(), setup), context(claim_type=INSTITUTIONAL))
    assert [(f.code, f.severity) for f in found] == [("revenue_code", WARNING), ("revenue_code", WARNING)]


def test_institutional_lines_carry_revenue_codes_and_charges_from_the_chargemaster():
    setup = LineSetup(
        claim_type=INSTITUTIONAL,
        revenue_codes={"J3399": "0636", "96365": "0260", "96366": "0260"},
        charges={"J3399": Decimal("2125000.00"), "96365": Decimal("450.00"), "96366": Decimal("150.00")},
    )
    lines = claim_lines(record(infusion_minutes=151), setup)
    assert [(ln.revenue_code, ln.code, ln.units, ln.charge) for ln in lines] == [
        ("0636", "J3399", 1, Decimal("2125000.00")),
        ("0260", "96365", 1, Decimal("450.00")),
        ("0260", "96366", 2, Decimal("300.00")),
    ]
    assert scrub(lines, context(claim_type=INSTITUTIONAL, infusion_minutes=151)) == []


def test_a_physician_override_is_a_billing_review_warning():
    found = scrub(good_lines(), context(overrides=("Anti-AAV9 antibody titer",)))
    assert [(f.code, f.severity) for f in found] == [("override_review", WARNING)]
    assert "Anti-AAV9 antibody titer" in found[0].message


# Modifiers and the payer's rule.
def test_jw_jz_rule_puts_jz_on_the_drug_line_and_the_payers_own_after_it():
    assert drug_modifiers_for("jw_jz") == ("JZ",)
    assert drug_modifiers_for("jw_jz", ("KX",)) == ("JZ", "KX")
    assert drug_modifiers_for("none", ("KX",)) == ("KX",)
    lines = claim_lines(record(), LineSetup(drug_modifiers=("JZ",)))
    assert lines[0].modifiers == ("JZ",) and lines[1].modifiers == ()
    assert scrub(lines, context(modifier_rule="jw_jz")) == []


def test_a_payer_with_the_jw_jz_rule_refuses_a_drug_line_without_either():
    found = scrub(good_lines(), context(modifier_rule="jw_jz", modifier_source="CMS JW/JZ policy FAQ"))
    assert codes(found) == ["modifier_jw_jz"] and "CMS JW/JZ policy FAQ" in found[0].source


@pytest.mark.parametrize(
    ("drug", "admin", "finding"),
    [(("JW", "JZ"), (), "modifier_jw_jz"), (("JZ",), ("JZ",), "modifier_not_drug"), ((), (), "modifier_required")],
)
def test_modifier_mistakes_are_errors(drug, admin, finding):
    lines = claim_lines(record(), LineSetup(drug_modifiers=drug))
    lines[1] = replace(lines[1], modifiers=admin)
    assert finding in codes(scrub(lines, context(payer_modifiers=("KX",) if finding == "modifier_required" else ())))


@pytest.mark.parametrize(
    ("text", "parsed"), [("", ()), ("jz", ("JZ",)), ("JZ, KX", ("JZ", "KX")), (" JW  59 ", ("JW", "59"))]
)
def test_modifiers_are_parsed_from_text(text, parsed):
    assert parse_modifiers(text) == parsed


@pytest.mark.parametrize("text", ["J", "JZZ", "JZ JZ", "A1 B2 C3 D4 E5", "J-"])
def test_bad_modifier_text_raises_value_error(text):
    with pytest.raises(ValueError):
        parse_modifiers(text)


@pytest.mark.parametrize(
    "kw", [{"modifiers": ("JZZ",)}, {"modifiers": ["JZ"]}, {"revenue_code": "636"}, {"charge": Decimal("-1")}]
)
def test_a_claim_line_refuses_bad_modifiers_revenue_codes_and_negative_charges(kw):
    with pytest.raises(ValueError):
        line("96365", **kw)
