"""cases.infusion.rules: what an infusion record refuses, warns about and still lacks."""

from __future__ import annotations

import dataclasses
from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from cases.infusion.rules import PauseValues, RecordValues, VialValues, check_record, duration_minutes

ON = date(2026, 11, 20)
GOOD_VIALS = (
    VialValues(Decimal("5.5"), "A1", ON + timedelta(days=90)),
    *(VialValues(Decimal("8.3"), f"B{i}", ON + timedelta(days=90)) for i in range(3)),
)
COMPLETE = RecordValues(
    infused_on=ON,
    weight_kg=Decimal("5.4"),
    steroid_started_on=ON - timedelta(days=1),
    steroid_started_at=time(8, 0),
    steroid_mg=Decimal("5.4"),
    steroid_confirmed=True,
    kit_ndc="71894-125-04",
    vials=GOOD_VIALS,
    total_volume_ml=Decimal("30.3"),
    syringe_pump="Pump",
    catheter="PIV",
    started_at=time(9, 0),
    stopped_at=time(10, 0),
    adverse_events="None",
    administered_by="RN",
)


def with_(**changes) -> RecordValues:
    return dataclasses.replace(COMPLETE, **changes)


def test_a_complete_record_has_nothing_refused_missing_or_warned():
    check = check_record(COMPLETE)
    assert (check.errors, check.missing, check.warnings, check.duration) == ({}, [], [], 60)
    assert check.kit.kit_ndc == "71894-125-04"


@pytest.mark.parametrize(
    ("start", "stop", "minutes"), [((9, 0), (10, 0), 60), ((9, 0), (9, 59), 59), ((8, 45), (10, 20), 95)]
)
def test_duration_is_whole_minutes_from_start_to_stop(start, stop, minutes):
    assert duration_minutes(time(*start), time(*stop)) == minutes


@pytest.mark.parametrize("stop", [time(8, 59), time(9, 0)])
def test_a_stop_time_not_after_the_start_is_refused(stop):
    assert "stopped_at" in check_record(with_(stopped_at=stop)).errors


def test_under_60_minutes_warns_that_it_must_be_a_slow_infusion():
    check = check_record(with_(stopped_at=time(9, 59)))
    assert check.ok and any("slow infusion over about 60 minutes" in w for w in check.warnings)
    assert not any("slow" in w for w in check_record(with_(stopped_at=time(10, 0))).warnings)


def test_a_vial_that_expires_before_the_infusion_date_is_refused_but_the_same_day_is_not():
    expired = (dataclasses.replace(GOOD_VIALS[0], expires_on=ON - timedelta(days=1)), *GOOD_VIALS[1:])
    same_day = (dataclasses.replace(GOOD_VIALS[0], expires_on=ON), *GOOD_VIALS[1:])
    assert "vial-1" in check_record(with_(vials=expired)).errors
    assert check_record(with_(vials=same_day)).ok


def test_the_vial_count_and_sizes_must_match_the_kit():
    assert "vials" in check_record(with_(vials=GOOD_VIALS[:3])).errors
    swapped = (dataclasses.replace(GOOD_VIALS[0], size_ml=Decimal("8.3")), *GOOD_VIALS[1:])
    assert "vials" in check_record(with_(vials=swapped)).errors


def test_the_kit_ndc_must_be_the_kit_for_the_weight():
    assert "kit_ndc" in check_record(with_(kit_ndc="71894-124-04")).errors


def test_outside_the_kit_range_there_is_no_kit_and_an_ndc_is_refused():
    check = check_record(with_(weight_kg=Decimal("21.1")))
    assert check.kit is None and "kit_ndc" in check.errors
    assert "a labeled kit for the weight" in check_record(with_(weight_kg=Decimal("2.5"), kit_ndc="")).missing


def test_a_volume_drawn_other_than_the_dose_volume_warns():
    assert any("30.3 mL" in w for w in check_record(with_(total_volume_ml=Decimal("29.0"))).warnings)


def test_a_steroid_started_after_the_infusion_is_refused_and_not_on_day_minus_1_warns():
    assert "steroid_started_on" in check_record(with_(steroid_started_on=ON + timedelta(days=1))).errors
    check = check_record(with_(steroid_started_on=ON))
    assert check.ok and any("day −1" in w for w in check.warnings)


def test_a_prednisolone_dose_far_from_1_mg_per_kg_warns():
    assert any("1 mg/kg/day" in w for w in check_record(with_(steroid_mg=Decimal("10"))).warnings)
    assert not check_record(with_(steroid_mg=Decimal("5.5"))).warnings


def test_an_empty_draft_lists_everything_signing_needs():
    missing = check_record(RecordValues(infused_on=ON, weight_kg=Decimal("5.4"))).missing
    for needed in ("kit NDC", "vial lot numbers and expiry dates", "infusion start and stop times", "syringe pump"):
        assert needed in missing
    assert "confirmation that the steroid was started" in check_record(with_(steroid_confirmed=False)).missing


def test_vector_genomes_print_as_the_label_writes_them():
    from cases.infusion.rules import vg_text

    assert vg_text(Decimal("3.85e14")) == "3.85 × 10¹⁴" and vg_text(Decimal("2.31e15")) == "2.31 × 10¹⁵"


# --- Pauses: actual infusion time = stop − start − pauses (CPT; CMS, docs/domain.md §13a) --------
def pause(start, end, reason="Line occlusion"):
    return PauseValues(time(*start), time(*end), reason)


def test_a_pause_is_subtracted_from_the_infusion_time():
    check = check_record(with_(started_at=time(8, 45), stopped_at=time(10, 20), pauses=(pause((9, 20), (9, 50)),)))
    assert check.errors == {} and (check.elapsed, check.duration) == (95, 65)


def test_two_pauses_add_up():
    pauses = (pause((9, 10), (9, 20)), pause((9, 40), (9, 45)))
    check = check_record(with_(stopped_at=time(10, 30), pauses=pauses))
    assert (check.elapsed, check.duration) == (90, 75)


def test_a_pause_that_leaves_under_60_minutes_warns_with_the_pause_named():
    check = check_record(with_(pauses=(pause((9, 10), (9, 20)),)))
    assert check.duration == 50 and "60 minutes less 10 paused" in check.warnings[0]


@pytest.mark.parametrize(
    ("pauses", "message"),
    [
        ((pause((9, 30), (9, 20)),), "is not after it stopped"),
        ((pause((9, 30), (9, 30)),), "is not after it stopped"),
        ((pause((8, 50), (9, 10)),), "outside the infusion"),
        ((pause((9, 50), (10, 10)),), "outside the infusion"),
        ((pause((9, 10), (9, 30)), pause((9, 20), (9, 40))), "overlaps pause 1"),
        ((pause((9, 10), (9, 20), reason=" "),), "say why"),
        ((PauseValues(None, time(9, 5), "Occlusion"),), "enter the time"),
    ],
)
def test_impossible_pauses_are_refused(pauses, message):
    check = check_record(with_(pauses=pauses))
    assert any(message in m for k, ms in check.errors.items() if k.startswith("pause-") for m in ms), check.errors


def test_pauses_that_fill_the_whole_run_are_refused():
    check = check_record(with_(stopped_at=time(9, 30), pauses=(pause((9, 0), (9, 30)),)))
    assert "stopped_at" in check.errors
