from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.codes import (
    ALTERNATIVES,
    CPT_CODES,
    HCPCS_CODES,
    POS_CODES,
    WRONG_ADMIN_CPT,
    WRONG_HCPCS,
    code_info,
    descriptor,
    format_n4,
    format_ndc_quantity,
    ndc_to_11,
)
from cases.diagnoses import (
    FORBIDDEN_SMA_MESSAGE,
    ICD10,
    PRIMARY_DIAGNOSIS_CHOICES,
    SECONDARY_DIAGNOSIS_CHOICES,
    is_forbidden_sma_code,
    normalize_icd10,
)

# --- Descriptors --------------------------------------------------------------------------------


def test_j3399_descriptor_is_the_official_hcpcs_text():
    assert descriptor("J3399") == (
        "Injection, onasemnogene abeparvovec-xioi, per treatment, up to 5x10^15 vector genomes"
    )


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("G12.0", "Infantile spinal muscular atrophy, type I [Werdnig-Hoffman]"),
        ("G12.1", "Other inherited spinal muscular atrophy"),
        ("G12.8", "Other spinal muscular atrophies and related syndromes"),
        ("G12.9", "Spinal muscular atrophy, unspecified"),
        ("P09.8", "Other abnormal findings on neonatal screening"),
        ("P09.9", "Abnormal findings on neonatal screening, unspecified"),
        ("Z82.0", "Family history of epilepsy and other diseases of the nervous system"),
        ("Z13.228", "Encounter for screening for other metabolic disorders"),
        ("Z00.121", "Encounter for routine child health examination with abnormal findings"),
    ],
)
def test_icd10_descriptors_are_the_official_ones_not_the_card_paraphrases(code, text):
    assert descriptor(code) == text


def test_descriptor_accepts_lower_case_and_surrounding_space():
    assert descriptor(" j3399 ") == descriptor("J3399")


@pytest.mark.parametrize("code", ["G12.25", "J9999", "", "99213", "23"])
def test_descriptor_of_an_unknown_code_raises_value_error(code):
    with pytest.raises(ValueError, match="Unknown code"):
        descriptor(code)


def test_descriptor_of_a_non_string_raises_value_error():
    with pytest.raises(ValueError, match="Unknown code"):
        descriptor(None)  # type: ignore[arg-type]


def test_every_code_names_a_source():
    for table in (ICD10, HCPCS_CODES, CPT_CODES, POS_CODES):
        for code, info in table.items():
            assert info.code == code
            assert info.source, code
            assert info.flag in {"V", "D", "U"}


def test_misused_card_codes_carry_a_note_and_are_not_offered():
    offered = {c for c, _ in PRIMARY_DIAGNOSIS_CHOICES + SECONDARY_DIAGNOSIS_CHOICES}
    for code in ("Z13.228", "Z00.121"):
        assert "Not offered" in ICD10[code].note
        assert not ICD10[code].use_for_zolgensma
        assert code not in offered


def test_primary_choices_are_the_four_g12_sma_codes_with_official_text():
    assert PRIMARY_DIAGNOSIS_CHOICES == (
        ("G12.0", "G12.0 — Infantile spinal muscular atrophy, type I [Werdnig-Hoffman]"),
        ("G12.1", "G12.1 — Other inherited spinal muscular atrophy"),
        ("G12.8", "G12.8 — Other spinal muscular atrophies and related syndromes"),
        ("G12.9", "G12.9 — Spinal muscular atrophy, unspecified"),
    )


def test_secondary_choices_offer_newborn_screen_and_family_history():
    assert [c for c, _ in SECONDARY_DIAGNOSIS_CHOICES] == ["P09.8", "P09.9", "Z82.0"]


def test_only_p09_subcodes_supported_by_domain_md_are_listed():
    assert sorted(c for c in ICD10 if c.startswith("P09")) == ["P09.8", "P09.9"]


def test_wrong_hcpcs_includes_j3590_which_the_card_omits():
    assert {"J3490", "J3590", "C9399"} == WRONG_HCPCS
    assert all(not HCPCS_CODES[c].use_for_zolgensma for c in WRONG_HCPCS)


def test_wrong_admin_codes_are_the_push_and_the_radiopharmaceutical():
    assert {"96374", "79101"} == WRONG_ADMIN_CPT


def test_cpt_96365_is_for_zolgensma_and_96413_is_payer_dependent():
    assert CPT_CODES["96365"].use_for_zolgensma
    assert "payer-dependent" in CPT_CODES["96413"].note


def test_pos_table_has_the_six_card_sites_with_cms_names():
    assert {c: p.descriptor for c, p in POS_CODES.items()} == {
        "11": "Office",
        "12": "Home",
        "19": "Off Campus-Outpatient Hospital",
        "21": "Inpatient Hospital",
        "22": "On Campus-Outpatient Hospital",
        "49": "Independent Clinic",
    }


def test_code_info_returns_the_whole_record():
    assert code_info("96366").system == "CPT"


# --- Alternatives -------------------------------------------------------------------------------


def test_alternatives_distinguish_the_xioi_and_brve_products():
    by_brand = {t.brand: t for t in ALTERNATIVES}
    assert by_brand["Zolgensma"].hcpcs == "J3399"
    assert by_brand["Zolgensma"].generic == "onasemnogene abeparvovec-xioi"
    assert by_brand["Itvisma"].generic == "onasemnogene abeparvovec-brve"
    assert by_brand["Itvisma"].hcpcs is None
    assert by_brand["Spinraza"].hcpcs == "J2326"
    assert by_brand["Evrysdi"].benefit == "pharmacy"


# --- Forbidden G12.2x ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["G12.2", "G12.20", "G12.25", "G12.29", "g1225", " G12.21 "])
def test_motor_neuron_disease_codes_are_forbidden_for_sma(code):
    assert is_forbidden_sma_code(code)


@pytest.mark.parametrize("code", ["G12.0", "G12.1", "G12.8", "G12.9", "P09.8", "Z82.0", "G12"])
def test_sma_and_supporting_codes_are_not_forbidden(code):
    assert not is_forbidden_sma_code(code)


def test_forbidden_message_explains_and_names_the_right_codes():
    assert "motor neuron disease" in FORBIDDEN_SMA_MESSAGE
    assert "G12.0, G12.1, G12.8 or G12.9" in FORBIDDEN_SMA_MESSAGE


@pytest.mark.parametrize("code", ["", "12.0", "G1", "G12.12345", "G12..1"])
def test_malformed_icd10_text_raises_value_error(code):
    with pytest.raises(ValueError, match="not an ICD-10-CM code"):
        is_forbidden_sma_code(code)


def test_normalize_icd10_inserts_the_dot_and_upper_cases():
    assert normalize_icd10("z13228") == "Z13.228"


def test_normalize_icd10_rejects_non_text():
    with pytest.raises(ValueError, match="must be text"):
        normalize_icd10(120)  # type: ignore[arg-type]


@given(st.from_regex(r"G12\.2[0-9]?", fullmatch=True))
def test_every_g12_2x_code_is_forbidden(code):
    assert is_forbidden_sma_code(code)


# --- NDC ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ndc", "expected"),
    [
        ("71894-120-02", "71894012002"),  # 5-3-2: zero before the product
        ("0574-4072-05", "00574407205"),  # 4-4-2: zero before the labeler
        ("58118-1397-3", "58118139703"),  # 5-4-1: zero before the package
        ("71894-0156-14", "71894015614"),  # already 5-4-2
        (" 71894-156-14 ", "71894015614"),
    ],
)
def test_ndc_to_11_pads_the_short_segment(ndc, expected):
    assert ndc_to_11(ndc) == expected


@pytest.mark.parametrize(
    "ndc",
    ["7189412002", "71894012002", "71894-12-02", "718941-20-02", "7189-120-02", "71894-120-2", ""],
)
def test_ndc_to_11_rejects_unhyphenated_or_wrongly_segmented_ndcs(ndc):
    with pytest.raises(ValueError, match="NDC|segments"):
        ndc_to_11(ndc)


def test_ndc_to_11_rejects_non_text():
    with pytest.raises(ValueError, match="must be text"):
        ndc_to_11(7189412002)  # type: ignore[arg-type]


@given(
    st.sampled_from([(4, 4, 2), (5, 3, 2), (5, 4, 1)]).flatmap(
        lambda widths: st.tuples(*(st.text("0123456789", min_size=w, max_size=w) for w in widths))
    )
)
def test_ndc_to_11_always_gives_11_digits_that_keep_every_digit_in_order(segments):
    result = ndc_to_11("-".join(segments))
    assert len(result) == 11 and result.isdigit()
    assert result[:5].endswith(segments[0])
    assert result[5:9].endswith(segments[1])
    assert result[9:].endswith(segments[2])
    assert int(result[:5]) == int(segments[0])


def test_format_n4_gives_the_claim_ndc_line_for_a_kit():
    assert format_n4("71894-120-02", 1) == "N471894012002 UN1"


def test_format_n4_accepts_other_unit_qualifiers_and_decimal_quantities():
    assert format_n4("71894-120-02", Decimal("16.50"), unit="ML") == "N471894012002 ML16.5"


@pytest.mark.parametrize("unit", ["XX", "un", ""])
def test_format_n4_rejects_an_unknown_unit(unit):
    with pytest.raises(ValueError, match="NDC unit"):
        format_n4("71894-120-02", 1, unit=unit)


@pytest.mark.parametrize("quantity", [0, -1, Decimal("0"), Decimal("NaN"), Decimal("1.2345")])
def test_format_n4_rejects_a_non_positive_or_too_precise_quantity(quantity):
    with pytest.raises(ValueError, match="NDC quantity"):
        format_n4("71894-120-02", quantity)


@pytest.mark.parametrize("quantity", [1.0, "1", True])
def test_format_n4_rejects_a_float_string_or_bool_quantity(quantity):
    with pytest.raises(ValueError, match="Decimal or int"):
        format_n4("71894-120-02", quantity)  # type: ignore[arg-type]


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999999.999"), places=3))
def test_formatted_quantity_round_trips_to_the_same_value(quantity):
    text = format_ndc_quantity(quantity)
    assert Decimal(text) == quantity
    assert "E" not in text and not text.endswith(".")
