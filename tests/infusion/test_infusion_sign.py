"""Physician sign-off, the lock, amendments and gate overrides."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.infusion.models import GateOverride, InfusionAmendment, InfusionRecord
from cases.models import Case, Stage, StageEvent, TiterResult
from monitoring.models import Draw
from tests.infusion.factories import make_record, ready_case, record_post
from tests.personas import PASSWORD

TODAY = timezone.localdate


@pytest.fixture
def ready(cast):
    case = ready_case(cast.site_a)
    case.stage = Stage.SCHEDULED
    case.save()
    return case


def sign(client, case, password=PASSWORD, version=None):
    """POST the sign form; ``version`` defaults to the record's current one (what the page shows)."""
    if version is None:
        version = InfusionRecord.objects.get(case=case).version
    return client.post(reverse("cases:infusion_sign", args=[case.pk]), {"password": password, "version": version})


def amend(client, case, **data):
    """POST an amendment; ``version`` defaults to the record's current one (what the page shows)."""
    record = InfusionRecord.objects.filter(case=case).first()
    if record is not None:
        data.setdefault("version", record.version)
    return client.post(reverse("cases:infusion_amend", args=[case.pk]), data)


def override(client, case, **data):
    return client.post(reverse("cases:infusion_override", args=[case.pk]), data)


# --- Signing -----------------------------------------------------------------------------------
def test_signing_locks_the_record_schedules_the_draws_and_moves_the_case_to_monitoring(cast, client, ready):
    make_record(ready, cast.coordinator)
    client.force_login(cast.physician)
    response = sign(client, ready)
    assert response.status_code == 302
    record = InfusionRecord.objects.get()
    assert record.signed_by == cast.physician and record.signed_name == "Physician" and record.signed_at
    case = Case.objects.get(pk=ready.pk)
    assert case.stage == Stage.MONITORING and case.infused_on == TODAY()
    assert list(StageEvent.objects.filter(case=case).values_list("stage", flat=True)) == ["infused", "monitoring"]
    draws = Draw.objects.filter(case=case)
    assert draws.count() > 10 and {d.kind for d in draws} >= {"liver", "platelets", "troponin"}
    assert draws.order_by("due_on").first().due_on == TODAY() + timedelta(days=7)
    body = client.get(reverse("cases:infusion", args=[ready.pk]), follow=True).content.decode()
    assert "Signed by Physician" in body and "Signed. The case moved to monitoring" in body


def test_a_wrong_password_is_refused_and_nothing_changes(cast, client, ready):
    make_record(ready, cast.coordinator)
    client.force_login(cast.physician)
    response = sign(client, ready, password="not-my-password")
    assert response.status_code == 200 and "That is not your password" in response.content.decode()
    assert not InfusionRecord.objects.get().is_signed
    assert Case.objects.get(pk=ready.pk).stage == Stage.SCHEDULED and not Draw.objects.exists()
    assert "This field is required" in sign(client, ready, password="").content.decode()


def test_only_a_physician_signs_or_overrides(cast, client, ready):
    make_record(ready, cast.coordinator)
    for user in (cast.coordinator, cast.manager, cast.billing):
        client.force_login(user)
        assert sign(client, ready).status_code == 403
        assert override(client, ready, gate_id="titer", reason="x" * 40).status_code == 403
    assert not InfusionRecord.objects.get().is_signed


def test_an_incomplete_record_cannot_be_signed_and_says_what_is_missing(cast, client, ready):
    make_record(ready, cast.coordinator, stopped_at=None, syringe_pump="")
    client.force_login(cast.physician)
    body = sign(client, ready).content.decode()
    assert "cannot be signed yet" in body and "infusion start and stop times" in body and "syringe pump" in body
    assert not InfusionRecord.objects.get().is_signed


def test_a_record_cannot_be_signed_when_the_gate_blocks_that_day(cast, client, ready):
    make_record(ready, cast.coordinator)
    TiterResult.objects.filter(case=ready).delete()
    client.force_login(cast.physician)
    response = sign(client, ready)
    assert "blocking: Anti-AAV9 antibody titer" in response.content.decode()
    assert not InfusionRecord.objects.get().is_signed


def test_a_future_dated_record_cannot_be_signed(cast, client, cast_future=None):
    tomorrow = TODAY() + timedelta(days=1)
    case = ready_case(cast.site_a, tomorrow, mrn="M-F")
    make_record(case, cast.coordinator, tomorrow)
    client.force_login(cast.physician)
    assert "future date" in sign(client, case).content.decode()


def test_after_signing_edits_are_refused_and_signing_again_is_refused(cast, client, ready):
    make_record(ready, cast.coordinator)
    client.force_login(cast.physician)
    sign(client, ready)
    url = reverse("cases:infusion_record", args=[ready.pk])
    response = client.post(url, record_post(TODAY(), catheter="Edited"), follow=True)
    assert "is locked; changes are added as amendments" in response.content.decode()
    assert InfusionRecord.objects.get().catheter == "24G PIV + backup"
    signed_at = InfusionRecord.objects.get().signed_at
    response = client.post(
        reverse("cases:infusion_sign", args=[ready.pk]), {"password": PASSWORD, "version": 1}, follow=True
    )
    assert "is locked" in response.content.decode() and InfusionRecord.objects.get().signed_at == signed_at
    assert Draw.objects.filter(case=ready).count() == Draw.objects.filter(case=ready).distinct().count()


# --- The signature covers the version shown (issue 13 item 2) ----------------------------------
def test_a_record_changed_after_the_physician_opened_it_is_not_signed(cast, client, ready):
    client.force_login(cast.coordinator)
    assert client.post(reverse("cases:infusion_record", args=[ready.pk]), record_post(TODAY())).status_code == 302
    physician = Client()
    physician.force_login(cast.physician)
    page = physician.get(reverse("cases:infusion", args=[ready.pk])).content.decode()
    assert 'name="version" value="1"' in page and "LOT-1A" in page
    # The coordinator re-saves with other lots and an adverse event while the physician reads v1.
    changed = record_post(TODAY(), version="1", adverse_events="Fever 38.9 C at 2 h")
    changed |= {f"vial-{i}-lot_number": f"NEW-{i + 1}B" for i in range(4)}
    assert client.post(reverse("cases:infusion_record", args=[ready.pk]), changed).status_code == 302
    assert InfusionRecord.objects.get().version == 2

    response = sign(physician, ready, version=1)
    body = response.content.decode()
    assert response.status_code == 200
    assert "changed after you opened it" in body and "you were shown version 1; it is now version 2" in body
    record = InfusionRecord.objects.get()
    assert not record.is_signed and record.signed_by is None and record.version == 2
    assert Case.objects.get(pk=ready.pk).stage == Stage.SCHEDULED and not Draw.objects.exists()
    # The refusal page shows the changed record and now carries its version: signing that works.
    assert "NEW-1B" in body and "Fever 38.9 C" in body and 'name="version" value="2"' in body
    assert sign(physician, ready, version=2).status_code == 302
    assert InfusionRecord.objects.get().is_signed


@pytest.mark.parametrize("version", ["", "abc", "0", "-1", None])
def test_a_sign_post_without_a_valid_version_is_refused_next_to_the_field(cast, client, ready, version):
    make_record(ready, cast.coordinator)
    client.force_login(cast.physician)
    data = {"password": PASSWORD} | ({} if version is None else {"version": version})
    response = client.post(reverse("cases:infusion_sign", args=[ready.pk]), data)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="sign-version-error"' in body
    assert "does not say which version of the record" in body
    assert not InfusionRecord.objects.get().is_signed and not Draw.objects.exists()


@pytest.mark.parametrize("version", [None, "", "x"])
def test_a_record_save_without_a_version_is_refused_and_keeps_the_entries(cast, client, ready, version):
    make_record(ready, cast.coordinator)
    client.force_login(cast.coordinator)
    data = record_post(TODAY(), version=version, catheter="Typed but refused")
    response = client.post(reverse("cases:infusion_record", args=[ready.pk]), data)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="record-version-error"' in body
    assert "does not say which version of the record" in body and "Typed but refused" in body
    assert InfusionRecord.objects.get().catheter == "24G PIV + backup"


def test_a_new_record_form_opened_before_someone_else_started_the_record_does_not_overwrite_it(cast, client, ready):
    make_record(ready, cast.coordinator)  # saved after the other user opened the empty form
    client.force_login(cast.physician)
    response = client.post(reverse("cases:infusion_record", args=[ready.pk]), record_post(TODAY(), catheter="Mine"))
    assert response.status_code == 200 and "Someone else saved this record" in response.content.decode()
    assert InfusionRecord.objects.get().catheter == "24G PIV + backup"


# --- Amendments --------------------------------------------------------------------------------
def test_an_amendment_is_appended_with_the_old_value_and_the_record_takes_the_new_one(cast, client, ready):
    record = make_record(ready, cast.coordinator, signed_by=cast.physician)
    client.force_login(cast.coordinator)
    response = amend(client, ready, field="stopped_at", new_value="10:35", reason="Pump log shows the later stop.")
    assert response.status_code == 302
    amendment = InfusionAmendment.objects.get()
    assert (amendment.old_value, amendment.new_value, amendment.by) == ("10:00", "10:35", cast.coordinator)
    record.refresh_from_db()
    assert record.stopped_at == time(10, 35) and record.duration_minutes == 95
    body = client.get(reverse("cases:infusion", args=[ready.pk])).content.decode()
    assert "Pump log shows the later stop." in body and "10:35" in body
    assert LogEntry.objects.get_for_object(amendment).exists()


def test_a_vial_lot_can_be_amended(cast, client, ready):
    record = make_record(ready, cast.coordinator, signed_by=cast.physician)
    client.force_login(cast.physician)
    amend(client, ready, field="vial-2-lot_number", new_value="LOT-2B", reason="Transposed at entry, see label.")
    assert record.vials.get(position=2).lot_number == "LOT-2B"
    assert InfusionAmendment.objects.get().old_value == "LOT-2A"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"field": "stopped_at", "new_value": "08:00", "reason": "Corrected from the pump log."}, "must be after"),
        ({"field": "stopped_at", "new_value": "late", "reason": "Corrected from the pump log."}, "Enter a valid time"),
        ({"field": "stopped_at", "new_value": "10:00", "reason": "Corrected from the pump log."}, "is already 10:00"),
        ({"field": "stopped_at", "new_value": "10:30", "reason": ""}, "An amendment needs a reason"),
        ({"field": "stopped_at", "new_value": "10:30", "reason": "short"}, "at least 10 characters"),
        ({"field": "infused_on", "new_value": "2026-01-01", "reason": "Wrong day entered."}, "Select a valid choice"),
        ({"field": "weight_kg", "new_value": "9.0", "reason": "Scale was not zeroed."}, "is not the kit for 9.0 kg"),
        ({"field": "weight_kg", "new_value": "-1", "reason": "Scale was not zeroed."}, "above 0"),
        ({"field": "vial-1-expires_on", "new_value": "2000-01-01", "reason": "Read off the carton."}, "expired on"),
        ({"field": "vial-1-lot_number", "new_value": "bad lot!", "reason": "Read off the carton."}, "letters, digits"),
        ({"field": "pause-add", "new_value": "09:20 to 09:50", "reason": "Read off the pump log."}, "stopped-resumed"),
        ({"field": "pause-add", "new_value": "09:50-09:20 Alarm", "reason": "Read off the pump log."}, "not after it"),
        ({"field": "pause-add", "new_value": "10:30-10:40 Alarm", "reason": "Read off the pump log."}, "outside the"),
        ({"field": "pause-add", "new_value": "25:00-25:10 Alarm", "reason": "Read off the pump log."}, "24-hour clock"),
    ],
)
def test_bad_amendments_are_refused_next_to_the_field(cast, client, ready, data, message):
    make_record(ready, cast.coordinator, signed_by=cast.physician)
    client.force_login(cast.physician)
    response = amend(client, ready, **data)
    assert response.status_code == 200 and message in response.content.decode(), message
    assert not InfusionAmendment.objects.exists()


def test_a_pause_left_out_before_signing_is_added_by_amendment_and_the_claim_follows(cast, client, ready):
    record = make_record(ready, cast.coordinator, minutes=95, signed_by=cast.physician)
    client.force_login(cast.billing)
    assert "<td><strong>96366</strong></td>" in client.get(reverse("billing:claim", args=[ready.pk])).content.decode()
    client.force_login(cast.coordinator)
    why = "Pause was written in the adverse events only; pump log 09:20-09:50."
    response = amend(client, ready, field="pause-add", new_value="09:20-09:50 Line occlusion", reason=why)
    assert response.status_code == 302
    assert InfusionAmendment.objects.get().new_value == "pause 09:20-09:50: Line occlusion"
    record.refresh_from_db()
    assert (record.elapsed_minutes, record.paused_minutes, record.duration_minutes) == (95, 30, 65)
    client.force_login(cast.billing)
    body = client.get(reverse("billing:claim", args=[ready.pk])).content.decode()
    assert "<td><strong>96366</strong></td>" not in body and "65 minutes actual infusion time" in body


def test_a_draft_takes_no_amendments(cast, client, ready):
    make_record(ready, cast.coordinator)
    client.force_login(cast.physician)
    assert amend(client, ready, field="catheter", new_value="x", reason="y" * 20).status_code == 404


# --- Gate overrides ----------------------------------------------------------------------------
@pytest.fixture
def stale_titer(ready):
    TiterResult.objects.filter(case=ready).update(drawn_on=TODAY() - timedelta(days=17))
    return ready


def test_an_override_without_a_reason_is_refused(cast, client, stale_titer):
    client.force_login(cast.physician)
    for reason, message in (("", "An override needs a written reason"), ("Because.", "at least 20 characters")):
        response = override(client, stale_titer, gate_id="titer", reason=reason)
        assert response.status_code == 200 and message in response.content.decode()
    assert not GateOverride.objects.exists()


def test_an_override_of_an_item_that_does_not_block_is_refused(cast, client, stale_titer):
    client.force_login(cast.physician)
    response = override(client, stale_titer, gate_id="age", reason="Plenty of words for a reason here.")
    assert "Select a valid choice" in response.content.decode() and not GateOverride.objects.exists()


def test_an_override_with_a_reason_opens_the_day_is_audited_and_shown_on_the_case_and_claim(cast, client, stale_titer):
    client.force_login(cast.physician)
    reason = "Titer 1:25 drawn 17 days ago; antibodies only decline. Clinically stable."
    assert override(client, stale_titer, gate_id="titer", reason=reason).status_code == 302
    item = GateOverride.objects.get()
    assert (item.by, item.gate_id, item.judged_on) == (cast.physician, "titer", TODAY())
    assert LogEntry.objects.get_for_object(item).filter(action=LogEntry.Action.CREATE).exists()
    body = client.get(reverse("cases:infusion", args=[stale_titer.pk])).content.decode()
    assert "Every blocking gate item passes or is overridden by a physician" in body and reason in body
    assert reason in client.get(reverse("cases:detail", args=[stale_titer.pk])).content.decode()
    # Record, sign (against the gate: the sign-off override, tests/infusion/test_sign_override.py),
    # and the claim summary carries the override.
    client.post(reverse("cases:infusion_record", args=[stale_titer.pk]), record_post(TODAY()))
    assert sign(client, stale_titer).status_code == 200  # asks for the sign-off override first
    version = InfusionRecord.objects.get(case=stale_titer).version
    signed = client.post(
        reverse("cases:infusion_sign", args=[stale_titer.pk]),
        {
            "version": version,
            "password": PASSWORD,
            "override_step": "1",
            "override_reason": "clinical_urgency",
            "override_text": "Weakness progressing; a new titer takes ten more days.",
            "override_confirm": "on",
        },
    )
    assert signed.status_code == 302
    claim = client.get(reverse("billing:claim", args=[stale_titer.pk])).content.decode()
    assert reason in claim and "Physician gate overrides" in claim


def test_the_same_item_cannot_be_overridden_twice(cast, client, stale_titer):
    client.force_login(cast.physician)
    override(client, stale_titer, gate_id="titer", reason="First decision with a long enough reason.")
    TiterResult.objects.filter(case=stale_titer).delete()  # now "missing" blocks under the same id
    response = override(client, stale_titer, gate_id="titer", reason="Second decision with a long enough reason.")
    assert "Select a valid choice" in response.content.decode()
    assert GateOverride.objects.count() == 1
