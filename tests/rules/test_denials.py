from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.denials import (
    DENIAL_CHOICES,
    DENIAL_REASONS,
    FIX_WRONG_CPT,
    FIX_WRONG_HCPCS,
    ONEGENE_NAME,
    ONEGENE_PHONE,
    ONEGENE_SERVICES,
    DenialReason,
    denial_reason,
)

SLUGS = [r.slug for r in DENIAL_REASONS]


def test_reasons_follow_the_card_order_then_coding_then_other():
    assert SLUGS == [
        "titer",
        "genetics",
        "age",
        "weight",
        "steroid",
        "lft_plan",
        "wrong_cpt",
        "wrong_hcpcs",
        "other",
    ]


def test_slugs_are_unique():
    assert len(set(SLUGS)) == len(SLUGS)


def test_every_reason_has_a_label_a_fix_and_a_source():
    for reason in DENIAL_REASONS:
        assert reason.label and reason.fix and reason.source


def test_every_common_reason_says_so_and_names_no_card():
    for reason in DENIAL_REASONS[:-1]:
        assert reason.source.startswith("Common payer denial reason; ")
        assert "card" not in reason.source.lower() and not reason.label.startswith("#")


def test_titer_fix_keeps_the_card_default_but_allows_retesting():
    fix = denial_reason("titer").fix
    assert "≤ 1:50" in fix and "ELISA" in fix
    assert "14 days" in fix and "GeneGate default" in fix
    assert "retest" in fix
    assert ONEGENE_PHONE in fix


def test_genetics_fix_accepts_compound_heterozygotes():
    fix = denial_reason("genetics").fix
    assert "0 functional SMN1 copies" in fix
    assert "1 SMN1 copy plus a pathogenic variant found by sequencing" in fix
    assert "Aetna CPB 0953" in denial_reason("genetics").source


def test_age_fix_names_itvisma_and_the_other_alternatives():
    fix = denial_reason("age").fix
    assert "Not eligible for J3399" in fix
    for alternative in ("nusinersen", "J2326", "risdiplam", "Itvisma", "≥ 2 years"):
        assert alternative in fix
    assert "Itvisma" in denial_reason("age").source


def test_weight_reason_uses_the_labeled_kit_range_not_a_practical_ceiling():
    reason = denial_reason("weight")
    assert "2.6-21.0 kg" in reason.label
    assert "practical" not in reason.label
    assert "Table 1" in reason.source


def test_steroid_fix_uses_the_label_course():
    fix = denial_reason("steroid").fix
    assert "1 mg/kg/day" in fix
    assert "Day -1" in fix and "30 days in total" in fix
    assert "28 days" in fix and "unremarkable" in fix


def test_lft_plan_fix_adds_platelets_and_troponin():
    fix = denial_reason("lft_plan").fix
    assert "weekly in month 1" in fix
    assert "every other week in months 2 and 3" in fix
    assert "until unremarkable" in fix
    assert "platelet" in fix and "troponin-I" in fix
    assert "bi-weekly" not in fix


def test_coding_fixes_are_the_card_wording():
    assert denial_reason("wrong_cpt").fix == FIX_WRONG_CPT == "Use 96365 (therapeutic IV 60 min)"
    assert denial_reason("wrong_hcpcs").fix == FIX_WRONG_HCPCS
    assert FIX_WRONG_HCPCS == "Use J3399 (permanent per-treatment code)"


def test_wrong_hcpcs_label_adds_j3590():
    assert "J3590" in denial_reason("wrong_hcpcs").label


def test_choices_pair_each_slug_with_its_label():
    assert tuple((r.slug, r.label) for r in DENIAL_REASONS) == DENIAL_CHOICES


@pytest.mark.parametrize("slug", SLUGS)
def test_denial_reason_returns_the_reason_for_each_slug(slug):
    reason = denial_reason(slug)
    assert isinstance(reason, DenialReason)
    assert reason.slug == slug


@pytest.mark.parametrize("slug", ["", "Titer", "unknown", None])
def test_an_unknown_slug_raises_value_error_listing_the_known_ones(slug):
    with pytest.raises(ValueError, match="Unknown denial reason.*titer"):
        denial_reason(slug)  # type: ignore[arg-type]


@given(st.text().filter(lambda s: s not in SLUGS))
def test_any_other_text_is_an_unknown_slug(slug):
    with pytest.raises(ValueError):
        denial_reason(slug)


def test_reasons_are_immutable():
    with pytest.raises(AttributeError):
        DENIAL_REASONS[0].fix = "x"  # type: ignore[misc]


def test_onegene_seed_data_matches_the_card():
    assert ONEGENE_NAME == "Novartis OneGene Program"
    assert ONEGENE_PHONE == "1-855-441-4363"
    assert "AAV9 testing logistics" in ONEGENE_SERVICES
    assert len(ONEGENE_SERVICES) == 6
