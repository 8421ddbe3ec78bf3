"""Tests for cases.dosing and the kit table in cases.label (domain.md §1, §1a, §3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.dosing import (
    dose_volume_ml_for_band,
    kit_for_weight,
    prednisolone_mg_per_day,
    round_weight,
    total_vg_for_band,
)
from cases.label import KIT_TABLE, WEIGHT_BAND_WIDTH_KG, WEIGHT_MAX_KG, WEIGHT_MIN_KG

TENTH = Decimal("0.1")


# --- the table ---------------------------------------------------------------------------
def test_the_kit_table_has_37_kits_from_2_6_to_21_0_kg() -> None:
    assert len(KIT_TABLE) == 37
    assert KIT_TABLE[0].band_low_kg == WEIGHT_MIN_KG
    assert KIT_TABLE[-1].band_high_kg == WEIGHT_MAX_KG


def test_bands_are_half_a_kilo_wide_and_contiguous_at_one_decimal() -> None:
    for kit in KIT_TABLE:
        assert kit.band_high_kg - kit.band_low_kg + TENTH == WEIGHT_BAND_WIDTH_KG
    for before, after in zip(KIT_TABLE, KIT_TABLE[1:], strict=False):
        assert after.band_low_kg == before.band_high_kg + TENTH


@pytest.mark.parametrize("kit", KIT_TABLE, ids=lambda k: k.band_label)
def test_dose_volume_is_5_5_ml_per_kg_times_the_band_upper_limit(kit) -> None:
    assert dose_volume_ml_for_band(kit.band_high_kg) == kit.dose_volume_ml


@pytest.mark.parametrize("kit", KIT_TABLE, ids=lambda k: k.band_label)
def test_total_vector_genomes_is_1_1e14_per_kg_times_the_band_upper_limit(kit) -> None:
    assert total_vg_for_band(kit.band_high_kg) == kit.total_vg


@pytest.mark.parametrize("kit", KIT_TABLE, ids=lambda k: k.band_label)
def test_each_kit_is_the_smallest_vial_count_that_covers_the_dose(kit) -> None:
    fill = Decimal("5.5") * kit.vials_5_5 + Decimal("8.3") * kit.vials_8_3
    assert fill >= kit.dose_volume_ml
    assert kit.vials_5_5 + kit.vials_8_3 == kit.total_vials
    fewer = [
        (a, b)
        for a in range(kit.total_vials)
        for b in range(kit.total_vials - a)
        if Decimal("5.5") * a + Decimal("8.3") * b >= kit.dose_volume_ml
    ]
    assert fewer == []


def test_ndc_product_code_rises_by_one_and_package_suffix_is_the_vial_count() -> None:
    for index, kit in enumerate(KIT_TABLE):
        labeler, product, package = kit.kit_ndc.split("-")
        assert labeler == "71894"
        assert int(product) == 120 + index
        assert int(package) == kit.total_vials
    assert min(k.total_vials for k in KIT_TABLE) >= 2
    assert max(k.total_vials for k in KIT_TABLE) == 14


def test_derived_rows_are_flagged_unverified() -> None:
    unverified = [k.band_label for k in KIT_TABLE if not k.verified]
    assert len(unverified) == 13
    assert unverified[0] == "8.6-9.0 kg"
    assert unverified[6] == "11.6-12.0 kg"
    assert unverified[7] == "18.1-18.5 kg"


# --- rounding ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given_kg", "rounded"),
    [
        (Decimal("3.04"), Decimal("3.0")),
        (Decimal("3.05"), Decimal("3.1")),
        (3.05, Decimal("3.1")),
        ("3.05", Decimal("3.1")),
        (Decimal("2.55"), Decimal("2.6")),
        (Decimal("2.549"), Decimal("2.5")),
        (Decimal("21.04"), Decimal("21.0")),
        (Decimal("21.05"), Decimal("21.1")),
        (7, Decimal("7.0")),
    ],
)
def test_weight_rounds_to_a_tenth_half_up(given_kg, rounded: Decimal) -> None:
    assert round_weight(given_kg) == rounded


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (Decimal("0"), "above 0"),
        (Decimal("-3"), "above 0"),
        ("abc", "not a weight"),
        (float("nan"), "finite"),
        (Decimal("Infinity"), "finite"),
        (True, "not True/False"),
        (None, "not a weight"),
    ],
)
def test_it_rejects_impossible_weights_with_a_message(bad, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        round_weight(bad)


# --- kit lookup --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kg", "band_low"),
    [
        ("2.6", "2.6"),
        ("3.0", "2.6"),
        ("3.04", "2.6"),
        ("3.05", "3.1"),
        ("3.1", "3.1"),
        ("8.43", "8.1"),
        ("20.99", "20.6"),
        ("21.0", "20.6"),
        ("21.04", "20.6"),
        ("2.55", "2.6"),
    ],
)
def test_kit_for_weight_rounds_first_then_finds_the_band(kg: str, band_low: str) -> None:
    kit = kit_for_weight(Decimal(kg))
    assert kit is not None
    assert kit.band_low == Decimal(band_low)


@pytest.mark.parametrize("kg", ["2.5", "2.54", "21.05", "21.1", "30", "0.5"])
def test_there_is_no_kit_below_2_6_or_above_21_0_kg_after_rounding(kg: str) -> None:
    assert kit_for_weight(Decimal(kg)) is None


@pytest.mark.parametrize("kit", KIT_TABLE, ids=lambda k: k.band_label)
def test_every_band_boundary_maps_to_its_own_band(kit) -> None:
    assert kit_for_weight(kit.band_low_kg) == kit
    assert kit_for_weight(kit.band_high_kg) == kit
    # x.0 / x.1 and x.5 / x.6: the next tenth belongs to the next band (or none)
    after = kit_for_weight(kit.band_high_kg + TENTH)
    assert after != kit
    assert after is None or after.band_low_kg == kit.band_high_kg + TENTH


def test_the_3_0_kg_kit_is_16_5_ml_in_two_8_3_ml_vials() -> None:
    kit = kit_for_weight(Decimal("3.0"))
    assert kit is not None
    assert (kit.dose_volume_ml, kit.vials_5_5, kit.vials_8_3, kit.kit_ndc) == (
        Decimal("16.5"),
        0,
        2,
        "71894-120-02",
    )


weights = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("40"), places=3)


@given(weights)
def test_a_kit_always_contains_the_rounded_weight(kg: Decimal) -> None:
    kit = kit_for_weight(kg)
    rounded = round_weight(kg)
    if WEIGHT_MIN_KG <= rounded <= WEIGHT_MAX_KG:
        assert kit is not None
        assert kit.band_low_kg <= rounded <= kit.band_high_kg
    else:
        assert kit is None


@given(weights, weights)
def test_a_heavier_child_never_gets_a_smaller_dose(a: Decimal, b: Decimal) -> None:
    light, heavy = sorted((a, b))
    kit_light, kit_heavy = kit_for_weight(light), kit_for_weight(heavy)
    if kit_light and kit_heavy:
        assert kit_light.dose_volume_ml <= kit_heavy.dose_volume_ml


@given(weights)
def test_the_dose_never_falls_below_the_actual_weight(kg: Decimal) -> None:
    kit = kit_for_weight(kg)
    if kit is not None:
        assert kit.band_high_kg >= round_weight(kg)


# --- prednisolone ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kg", "mg"),
    [("8.43", "8.4"), ("3.05", "3.1"), ("21.0", "21.0"), ("4", "4.0"), ("2.5", "2.5")],
)
def test_prednisolone_is_1_mg_per_kg_per_day_to_a_tenth_of_a_mg(kg: str, mg: str) -> None:
    assert prednisolone_mg_per_day(Decimal(kg)) == Decimal(mg)


def test_prednisolone_rejects_a_zero_weight() -> None:
    with pytest.raises(ValueError, match="above 0"):
        prednisolone_mg_per_day(Decimal("0"))


@given(weights)
def test_prednisolone_is_within_half_a_tenth_of_weight_times_one(kg: Decimal) -> None:
    assert abs(prednisolone_mg_per_day(kg) - kg) <= Decimal("0.05")
