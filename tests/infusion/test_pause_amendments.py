"""Pauses on a signed record (issue 16 item 2): added, corrected or removed through the
amendment path, with a reason, audited old → new; the claim's next version follows the new
actual minutes; impossible pauses are refused next to the field and nothing is saved."""

from __future__ import annotations

from datetime import time

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from billing.models import Claim
from cases.infusion.models import InfusionAmendment, InfusionPause, InfusionRecord
from cases.models import Stage
from tests.infusion.factories import make_record, ready_case

WHY = "Corrected from the pump event log."


@pytest.fixture
def paused(cast, client):
    """Signed 09:00-10:45 (105 minutes) with two pauses: 09:20-09:40 and 10:00-10:05; 80 actual
    minutes, so 96365 only. Its claim version 1 is stored by reading the claim page."""
    case = ready_case(cast.site_a)
    case.stage = Stage.MONITORING
    case.save()
    make_record(
        case,
        cast.coordinator,
        minutes=105,
        signed_by=cast.physician,
        pauses=[(time(9, 20), time(9, 40), "Line occlusion"), (time(10, 0), time(10, 5), "Syringe change")],
    )
    client.force_login(cast.billing)
    client.get(reverse("billing:claim", args=[case.pk]))
    assert Claim.objects.get(case=case).summary.infusion_minutes == 80
    client.force_login(cast.coordinator)
    return case


def amend(client, case, **data):
    data.setdefault("version", InfusionRecord.objects.get(case=case).version)
    data.setdefault("reason", WHY)
    return client.post(reverse("cases:infusion_amend", args=[case.pk]), data)


def _latest(case) -> Claim:
    return Claim.objects.filter(case=case).order_by("-version").first()


def _codes(claim: Claim) -> list[str]:
    return [f"{ln.code}×{ln.units}" for ln in claim.summary.lines]


def test_the_amendment_form_offers_to_correct_or_remove_each_recorded_pause(cast, client, paused):
    body = client.get(reverse("cases:infusion", args=[paused.pk])).content.decode()
    for option in (
        'value="pause-add"',
        'value="pause-1-correct"',
        'value="pause-1-remove"',
        'value="pause-2-correct"',
        'value="pause-2-remove"',
    ):
        assert option in body
    assert "Pause 1 (09:20-09:40): correct" in body and "Pause 2 (10:00-10:05): remove" in body


def test_a_pause_corrected_by_amendment_changes_the_minutes_and_the_claim(cast, client, paused):
    response = amend(client, paused, field="pause-1-correct", new_value="09:20-09:30 Line occlusion")
    assert response.status_code == 302
    amendment = InfusionAmendment.objects.get()
    assert amendment.field_label == "Pause 1"
    assert amendment.old_value == "pause 09:20-09:40: Line occlusion"
    assert amendment.new_value == "pause 09:20-09:30: Line occlusion"
    assert amendment.reason == WHY and amendment.by == cast.coordinator
    record = InfusionRecord.objects.get(case=paused)
    assert (record.elapsed_minutes, record.paused_minutes, record.duration_minutes) == (105, 15, 90)
    pause = InfusionPause.objects.get(record=record, position=1)
    assert pause.resumed_at == time(9, 30)
    assert LogEntry.objects.get_for_object(pause).filter(action=LogEntry.Action.UPDATE).exists()
    claim = _latest(paused)
    assert claim.version == 2 and claim.summary.infusion_minutes == 90 and _codes(claim) == ["J3399×1", "96365×1"]
    assert claim.reason == (
        "The signed record was amended: Pause 1, pause 09:20-09:40: Line occlusion → pause 09:20-09:30: Line occlusion."
    )
    # Now 10 minutes shorter: 09:20-09:25 makes 95 actual minutes, and 96366 appears on version 3.
    amend(client, paused, field="pause-1-correct", new_value="09:20-09:25 Line occlusion")
    claim = _latest(paused)
    assert claim.version == 3 and claim.summary.infusion_minutes == 95
    assert _codes(claim) == ["J3399×1", "96365×1", "96366×1"]
    client.force_login(cast.billing)
    body = client.get(reverse("billing:claim", args=[paused.pk])).content.decode()
    assert "95 minutes actual infusion time: 105 minutes less 10 paused" in body
    assert "<td><strong>96366</strong></td>" in body and "Paused 09:20–09:25 (5 min): Line occlusion" in body


def test_a_pause_removed_by_amendment_is_gone_from_the_minutes_and_kept_in_the_history(cast, client, paused):
    response = amend(client, paused, field="pause-1-remove", new_value="")
    assert response.status_code == 302
    amendment = InfusionAmendment.objects.get()
    assert (amendment.field_label, amendment.old_value, amendment.new_value) == (
        "Pause 1 removed",
        "pause 09:20-09:40: Line occlusion",
        "",
    )
    record = InfusionRecord.objects.get(case=paused)
    # The other pause is pause 1 now; 105 − 5 = 100 actual minutes: 96366.
    assert [(p.position, p.started_at) for p in record.pauses.all()] == [(1, time(10, 0))]
    assert record.duration_minutes == 100
    assert LogEntry.objects.filter(content_type__model="infusionpause", action=LogEntry.Action.DELETE).exists()
    claim = _latest(paused)
    assert claim.version == 2 and _codes(claim) == ["J3399×1", "96365×1", "96366×1"]
    assert claim.reason.endswith("Pause 1 removed, pause 09:20-09:40: Line occlusion → removed.")
    # The case page shows the amendment with what was there and that it is gone.
    body = client.get(reverse("cases:infusion", args=[paused.pk])).content.decode()
    assert "Pause 1 removed" in body and "pause 09:20-09:40: Line occlusion" in body and WHY in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"field": "pause-1-correct", "new_value": "08:50-09:10 Alarm"}, "is outside the infusion 09:00–10:45"),
        ({"field": "pause-1-correct", "new_value": "10:40-10:50 Alarm"}, "is outside the infusion 09:00–10:45"),
        ({"field": "pause-1-correct", "new_value": "09:58-10:02 Alarm"}, "overlaps pause"),
        ({"field": "pause-add", "new_value": "09:30-09:35 Alarm"}, "overlaps pause"),
        ({"field": "pause-1-correct", "new_value": "09:40-09:20 Alarm"}, "which is not after it stopped"),
        ({"field": "pause-1-correct", "new_value": "09:20-09:40"}, "stopped-resumed and why"),
        ({"field": "pause-1-correct", "new_value": "09:20-09:40 Line occlusion"}, "Pause 1 is already"),
        ({"field": "pause-1-correct", "new_value": ""}, "This field is required"),
        ({"field": "pause-1-remove", "new_value": "09:20-09:30 x"}, "leave the corrected value blank"),
        ({"field": "pause-3-correct", "new_value": "09:50-09:55 Alarm"}, "Select a valid choice"),
        ({"field": "pause-1-remove", "new_value": "", "reason": "short"}, "at least 10 characters"),
        ({"field": "stopped_at", "new_value": "08:30"}, "must be after the start time"),
        ({"field": "stopped_at", "new_value": "10:02"}, "Pause 2 (10:00–10:05) is outside the infusion 09:00–10:02"),
        ({"field": "started_at", "new_value": "09:30"}, "Pause 1 (09:20–09:40) is outside the infusion 09:30–10:45"),
        ({"field": "pause-1-remove", "new_value": "", "version": "99"}, "amended by someone else"),
        ({"field": "pause-1-remove", "new_value": "", "version": ""}, "does not say which version"),
    ],
)
def test_impossible_pauses_are_refused_next_to_the_field_and_nothing_is_saved(cast, client, paused, data, message):
    before = list(InfusionPause.objects.order_by("pk").values_list("position", "started_at", "resumed_at", "reason"))
    record = InfusionRecord.objects.get(case=paused)
    response = amend(client, paused, **data)
    body = response.content.decode()
    assert response.status_code == 200 and message in body, message
    assert not InfusionAmendment.objects.exists()
    assert (
        list(InfusionPause.objects.order_by("pk").values_list("position", "started_at", "resumed_at", "reason"))
        == before
    )
    assert InfusionRecord.objects.get(case=paused).version == record.version
    assert Claim.objects.filter(case=paused).count() == 1


def test_billing_cannot_amend_a_pause(cast, client, paused):
    client.force_login(cast.billing)
    assert amend(client, paused, field="pause-1-remove", new_value="").status_code == 403
    assert InfusionPause.objects.count() == 2
