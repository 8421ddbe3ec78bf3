"""The infusion day page: the gate and PA decide whether it opens; the weight gives the kit;
the record form refuses bad input next to the field and keeps what was typed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.infusion.models import InfusionRecord
from cases.infusion.rules import vg_text
from cases.label import KIT_TABLE
from cases.models import TiterResult
from tests.infusion.factories import make_record, payer, ready_case, record_post, vial_post
from tests.personas import MARKER_NAME, make_case

TODAY = timezone.localdate


@pytest.fixture
def ready(cast):
    return ready_case(cast.site_a)


def day(client, case, **params):
    return client.get(reverse("cases:infusion", args=[case.pk]), params)


def save(client, case, data):
    return client.post(reverse("cases:infusion_record", args=[case.pk]), data)


# --- Opening -----------------------------------------------------------------------------------
def test_the_day_opens_with_the_record_form_when_every_gate_passes(cast, client, ready):
    client.force_login(cast.coordinator)
    body = day(client, ready).content.decode()
    assert "Every blocking gate item passes" in body
    assert 'action="{}"'.format(reverse("cases:infusion_record", args=[ready.pk])) in body


def test_a_blocking_gate_lists_what_blocks_and_shows_no_record_form(cast, client, ready):
    TiterResult.objects.filter(case=ready).update(drawn_on=TODAY() - timedelta(days=20))
    client.force_login(cast.coordinator)
    body = day(client, ready).content.decode()
    assert "The infusion day cannot open" in body and "Anti-AAV9 antibody titer" in body
    assert "Infusion record" not in body
    response = save(client, ready, record_post(TODAY()))
    assert response.status_code == 200 and not InfusionRecord.objects.exists()
    assert "cannot proceed on" in response.content.decode()


def test_a_payer_that_requires_pa_blocks_until_an_approved_pa_is_recorded(cast, client, ready):
    ready.payer = payer("Strict Health", pa_required=True)
    ready.save()
    client.force_login(cast.physician)
    body = day(client, ready).content.decode()
    assert "Strict Health requires prior authorization" in body
    assert "cannot be overridden" in body


def test_billing_cannot_open_the_day_page_and_the_outsider_gets_404_everywhere(cast, client, ready):
    client.force_login(cast.billing)
    assert day(client, ready).status_code == 403
    client.force_login(cast.outsider)
    for name in ("infusion_record", "infusion_override", "infusion_sign", "infusion_amend"):
        response = client.post(reverse(f"cases:{name}", args=[ready.pk]), record_post(TODAY()))
        assert response.status_code == 404 and MARKER_NAME not in response.content.decode()
    assert not InfusionRecord.objects.exists()


# --- Dose and kit ------------------------------------------------------------------------------
BOUNDARIES = [(kit.band_low_kg, kit) for kit in KIT_TABLE] + [(kit.band_high_kg, kit) for kit in KIT_TABLE]


@pytest.mark.parametrize(("kg", "kit"), BOUNDARIES, ids=[f"{kg}kg" for kg, _ in BOUNDARIES])
def test_every_weight_band_boundary_shows_the_labels_kit(cast, client, ready, kg, kit):
    client.force_login(cast.coordinator)
    body = day(client, ready, weight=str(kg)).content.decode()
    assert f"<strong data-kit-ndc>{kit.kit_ndc}</strong>" in body
    assert f"{kit.dose_volume_ml} mL" in body and kit.band_label in body and vg_text(kit.total_vg) in body
    assert f"{kit.vials_5_5} × 5.5 mL, {kit.vials_8_3} × 8.3 mL ({kit.total_vials} in all)" in body
    assert ("awaiting verification against the label" in body) is (not kit.verified)


@pytest.mark.parametrize(
    ("typed", "ndc"),
    [
        ("3.04", "71894-120-02"),  # rounds to 3.0: band 2.6-3.0
        ("3.05", "71894-121-03"),  # rounds half up to 3.1: band 3.1-3.5
        ("2.55", "71894-120-02"),  # rounds to 2.6: the lowest kit
        ("21.04", "71894-156-14"),  # rounds to 21.0: the highest kit
        ("8.0", "71894-130-06"),
        ("8.1", "71894-131-06"),
    ],
)
def test_the_weight_is_rounded_to_0_1_kg_before_the_band_lookup(cast, client, ready, typed, ndc):
    client.force_login(cast.coordinator)
    assert f"<strong data-kit-ndc>{ndc}</strong>" in day(client, ready, weight=typed).content.decode()


@pytest.mark.parametrize("typed", ["2.54", "2.5", "21.05", "21.1", "25"])
def test_below_2_6_or_above_21_0_kg_the_page_says_there_is_no_kit(cast, client, ready, typed):
    client.force_login(cast.coordinator)
    body = day(client, ready, weight=typed).content.decode()
    assert "there is no labeled kit below 2.6 kg or above 21.0 kg" in body and "data-kit-ndc" not in body


def test_the_kit_lookup_answers_htmx_with_the_kit_partial_only(cast, client, ready):
    client.force_login(cast.coordinator)
    response = client.get(reverse("cases:infusion", args=[ready.pk]), {"weight": "9.0"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card mb-3" id="kit"') and "71894-132-06" in body
    assert "<html" not in body


def test_junk_in_the_kit_lookup_is_a_message_not_an_error(cast, client, ready):
    client.force_login(cast.coordinator)
    for junk in ("abc", "-3", "NaN", "1e9"):
        response = day(client, ready, weight=junk)
        assert response.status_code == 200 and "is not a weight in kg" in response.content.decode()


@pytest.mark.parametrize(
    ("weight", "ndc", "sizes", "saved"),
    [
        ("3.04", "71894-121-03", ["8.3", "8.3"], False),  # 3.0 kg band uses 71894-120-02
        ("3.04", "71894-120-02", ["8.3", "8.3"], True),
        ("3.05", "71894-120-02", ["8.3", "8.3"], False),  # 3.1 kg band uses 71894-121-03
        ("3.05", "71894-121-03", ["5.5", "5.5", "8.3"], True),
        ("21.0", "71894-156-14", ["8.3"] * 14, True),
    ],
)
def test_the_record_form_takes_only_the_kit_for_the_rounded_weight(cast, client, ready, weight, ndc, sizes, saved):
    client.force_login(cast.coordinator)
    data = record_post(TODAY(), weight_kg=weight, kit_ndc=ndc, steroid_mg=None, total_volume_ml=None)
    data = {k: v for k, v in data.items() if not k.startswith("vial-")} | vial_post(sizes, TODAY())
    data |= {"vial-INITIAL_FORMS": "0", "vial-MIN_NUM_FORMS": "0", "vial-MAX_NUM_FORMS": "14"}
    response = save(client, ready, data)
    assert InfusionRecord.objects.exists() is saved
    if not saved:
        assert "is not the kit for" in response.content.decode()


# --- The record form ---------------------------------------------------------------------------
def test_a_coordinator_saves_a_complete_record_and_the_page_shows_it_ready_to_sign(cast, client, ready):
    client.force_login(cast.coordinator)
    response = save(client, ready, record_post(TODAY()))
    assert response.status_code == 302
    record = InfusionRecord.objects.get(case=ready)
    assert record.duration_minutes == 60 and record.vials.count() == 4 and record.entered_by == cast.coordinator
    client.force_login(cast.physician)
    body = day(client, ready).content.decode()
    assert "Physician sign-off" in body and "Before it can be signed" not in body


def test_a_draft_may_be_partial_and_lists_what_signing_still_needs(cast, client, ready):
    client.force_login(cast.coordinator)
    data = {"version": "0", "infused_on": TODAY().isoformat(), "weight_kg": "5.4"}
    data |= {"vial-TOTAL_FORMS": "0", "vial-INITIAL_FORMS": "0"}
    data |= {"pause-TOTAL_FORMS": "0", "pause-INITIAL_FORMS": "0"}
    assert save(client, ready, data).status_code == 302
    body = day(client, ready).content.decode()
    assert "Before it can be signed, enter" in body and "infusion start and stop times" in body


def test_a_short_infusion_saves_with_the_slow_infusion_warning(cast, client, ready):
    client.force_login(cast.coordinator)
    save(client, ready, record_post(TODAY(), stopped_at="09:59"))
    body = day(client, ready).content.decode()
    assert "Zolgensma must be a slow infusion over about 60 minutes" in body and "label §2.1" in body


def test_a_volume_drawn_that_differs_from_the_dose_volume_warns(cast, client, ready):
    client.force_login(cast.coordinator)
    save(client, ready, record_post(TODAY(), total_volume_ml="28.0"))
    assert "the dose volume for band 5.1-5.5 kg is 30.3 mL" in day(client, ready).content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"infused_on": "not-a-date"}, "Enter a valid date"),
        ({"infused_on": ""}, "This field is required"),
        ({"weight_kg": "-2"}, "above 0 and at most 60"),
        ({"weight_kg": "heavy"}, "Enter a number"),
        ({"stopped_at": "08:30"}, "must be after the start time"),
        ({"started_at": "25:00"}, "Enter a valid time"),
        ({"steroid_started_on": (TODAY() + timedelta(days=1)).isoformat()}, "must start before the infusion"),
        ({"steroid_mg": "-1"}, "more than 0"),
        ({"total_volume_ml": "0"}, "more than 0"),
        ({"kit_ndc": "71894-124-04"}, "is not the kit for 5.4 kg"),
        ({"vial-0-expires_on": (TODAY() - timedelta(days=1)).isoformat()}, "expired on"),
        ({"vial-0-lot_number": "<script>"}, "letters, digits and - / . only"),
        ({"vial-0-lot_number": ""}, "enter its size, lot number and expiry"),
        ({"vial-TOTAL_FORMS": "3"}, "you entered 3"),
        ({"vial-TOTAL_FORMS": "99"}, "Please submit at most 14 forms"),
        ({"vial-0-size_ml": "2.0"}, "Select a valid choice"),
    ],
)
def test_bad_input_on_the_record_form_is_refused_next_to_the_field_and_keeps_the_entries(
    cast, client, ready, changes, message
):
    client.force_login(cast.coordinator)
    response = save(client, ready, record_post(TODAY(), **changes))
    body = response.content.decode()
    assert response.status_code == 200 and message in body, message
    assert "Medfusion 4000, asset SP-12" in body  # what was typed is still there
    assert not InfusionRecord.objects.exists()


def test_a_stale_form_does_not_overwrite_a_newer_save(cast, client, ready):
    client.force_login(cast.coordinator)
    save(client, ready, record_post(TODAY()))
    record = InfusionRecord.objects.get()
    save(client, ready, record_post(TODAY(), catheter="First edit", version=str(record.version)))
    response = save(client, ready, record_post(TODAY(), catheter="Stale edit", version=str(record.version)))
    assert "Someone else saved this record" in response.content.decode()
    assert InfusionRecord.objects.get().catheter == "First edit"


def test_a_gate_that_fails_after_a_draft_keeps_the_draft_correctable_but_not_signable(cast, client, ready):
    # Issue 15 item 3: a blocked draft used to be read-only, so only a gate override got it out.
    make_record(ready, cast.coordinator)
    TiterResult.objects.filter(case=ready).delete()
    client.force_login(cast.coordinator)
    body = day(client, ready).content.decode()
    assert "the draft can be corrected but not signed until it passes" in body and "LOT-1A" in body
    client.force_login(cast.manager)
    body = day(client, ready).content.decode()
    assert "the draft cannot be signed until it passes" in body and "LOT-1A" in body


def test_the_day_uses_the_newest_weight_on_or_before_the_date(cast, client):
    case = make_case(cast.site_a, name="No Facts", mrn="M-2")
    client.force_login(cast.coordinator)
    assert "No weight on or before" in day(client, case).content.decode()
    ready = ready_case(cast.site_a, mrn="M-3")
    assert "5.40 kg → rounded 5.4 kg" in day(client, ready).content.decode()
    assert Decimal("5.4") == ready.weights.get().kg


# --- Pauses ------------------------------------------------------------------------------------
def pause_post(*rows) -> dict:
    data = {"pause-TOTAL_FORMS": str(len(rows)), "pause-INITIAL_FORMS": "0"}
    for i, (start, end, why) in enumerate(rows):
        data |= {f"pause-{i}-started_at": start, f"pause-{i}-resumed_at": end, f"pause-{i}-reason": why}
    return data


def test_pauses_are_saved_as_intervals_and_the_actual_time_excludes_them(cast, client, ready):
    client.force_login(cast.coordinator)
    data = record_post(TODAY(), started_at="08:45", stopped_at="10:20") | pause_post(
        ("09:20", "09:50", "Positional line occlusion"), ("", "", "")
    )
    assert save(client, ready, data).status_code == 302
    record = InfusionRecord.objects.get(case=ready)
    assert [(p.position, p.minutes, p.reason) for p in record.pauses.all()] == [(1, 30, "Positional line occlusion")]
    assert (record.elapsed_minutes, record.paused_minutes, record.duration_minutes) == (95, 30, 65)
    body = day(client, ready).content.decode()
    assert 'value="09:20"' in body and 'value="Positional line occlusion"' in body


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("09:30", "09:20", "Occlusion")], "is not after it stopped"),
        ([("08:30", "08:40", "Occlusion")], "outside the infusion"),
        ([("09:10", "09:30", "Occlusion"), ("09:20", "09:40", "Alarm")], "overlaps pause 1"),
        ([("09:10", "", "Occlusion")], "enter the time the pump stopped and the time it resumed"),
        ([("09:10", "09:20", "")], "say why the infusion was paused"),
        ([("9 o'clock", "09:20", "Occlusion")], "Enter a valid time"),
    ],
)
def test_impossible_pauses_are_refused_next_to_the_row_and_nothing_is_saved(cast, client, ready, rows, message):
    client.force_login(cast.coordinator)
    response = save(client, ready, record_post(TODAY()) | pause_post(*rows))
    body = response.content.decode()
    assert response.status_code == 200 and message in body
    assert 'class="invalid-feedback"' in body[body.index('id="pauses"') :]
    assert not InfusionRecord.objects.exists()
