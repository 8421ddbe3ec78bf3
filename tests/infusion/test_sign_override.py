"""Issue 15 item 2: signing an infusion record while a gate item is overridden goes against the
gate, so it needs an explicit override at sign-off (a listed reason, free text, a confirmation and
the physician's password again); it is shown on the infusion page, the case page, the claim
summary (page and CSV) and the PA packet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from billing.packet import packet_case, packet_html, packet_snapshot
from cases.infusion.models import InfusionRecord
from cases.infusion.workflows import InfusionError, infusion_sign
from cases.models import ClinicalOverride, Stage, TiterResult
from tests.infusion.factories import ready_case, record_post
from tests.personas import PASSWORD

TODAY = timezone.localdate
GATE_REASON = "Titer 1:25 drawn 17 days ago; antibodies only decline. Clinically stable."
EXPLANATION = "Weakness progressing this week; a new titer would take ten more days."
SIGN_OFF = {
    "override_step": "1",
    "override_reason": "clinical_urgency",
    "override_text": EXPLANATION,
    "override_confirm": "on",
    "password": PASSWORD,
}


@pytest.fixture
def overridden(cast, client):
    """A scheduled case whose titer is stale (17 days), overridden by the physician, with a draft."""
    case = ready_case(cast.site_a)
    case.stage = Stage.SCHEDULED
    case.save()
    TiterResult.objects.filter(case=case).update(drawn_on=TODAY() - timedelta(days=17))
    client.force_login(cast.physician)
    response = client.post(
        reverse("cases:infusion_override", args=[case.pk]), {"gate_id": "titer", "reason": GATE_REASON}
    )
    assert response.status_code == 302
    assert client.post(reverse("cases:infusion_record", args=[case.pk]), record_post(TODAY())).status_code == 302
    return case


def _sign(client, case, **data):
    version = InfusionRecord.objects.get(case=case).version
    return client.post(reverse("cases:infusion_sign", args=[case.pk]), {"version": version, **data})


def _signed(case) -> bool:
    return InfusionRecord.objects.get(case=case).is_signed


def test_the_page_says_before_signing_that_an_override_will_be_asked_for(cast, client, overridden):
    body = client.get(reverse("cases:infusion", args=[overridden.pk])).content.decode()
    assert "Against the gate:" in body and "Signing asks for your explicit override" in body


def test_signing_with_an_overridden_item_is_not_one_click_but_asks_for_the_override(cast, client, overridden):
    response = _sign(client, overridden, password=PASSWORD)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Signing goes against the gate:" in body and "Anti-AAV9 antibody titer" in body
    assert "Why infuse with the overridden gate item?" in body and 'name="override_text"' in body
    assert 'name="override_step" value="1"' in body  # the next post is the second step
    assert "Sign with the override" in body
    assert not _signed(overridden) and not ClinicalOverride.objects.exists()


def test_the_second_step_needs_a_reason_the_words_a_confirmation_and_the_password(cast, client, overridden):
    response = _sign(client, overridden, override_step="1", password="")
    errors = response.context["sign_form"].errors
    assert errors["override_reason"] == ["Pick the reason for signing with an overridden gate item."]
    assert errors["override_text"] == ["Explain the override in at least 20 characters."]
    assert errors["override_confirm"] == ["Tick the box to confirm the override."]
    assert "password" in errors
    short = _sign(client, overridden, **{**SIGN_OFF, "override_text": "Urgent."})
    assert short.context["sign_form"].errors["override_text"] == ["Explain the override in at least 20 characters."]
    unlisted = _sign(client, overridden, **{**SIGN_OFF, "override_reason": "because"})
    assert "override_reason" in unlisted.context["sign_form"].errors
    assert not _signed(overridden) and not ClinicalOverride.objects.exists()


def test_a_wrong_password_three_times_signs_nothing_and_keeps_what_was_typed(cast, client, overridden):
    for _ in range(3):
        response = _sign(client, overridden, **{**SIGN_OFF, "password": "wrong"})
        body = response.content.decode()
        assert "That is not your password; the record was not signed." in body
        assert EXPLANATION in body  # the words typed are kept
    assert not _signed(overridden) and not ClinicalOverride.objects.exists()
    assert _sign(client, overridden, **SIGN_OFF).status_code == 302  # not locked out after three


def test_the_override_is_recorded_audited_and_shown_on_the_day_the_case_and_the_claim(cast, client, overridden):
    response = _sign(client, overridden, **SIGN_OFF)
    assert response.status_code == 302
    record = InfusionRecord.objects.get(case=overridden)
    override = record.sign_override
    assert record.is_signed and override.kind == ClinicalOverride.Kind.SIGN_OFF
    assert (override.by, override.reason_code, override.explanation) == (
        cast.physician,
        "clinical_urgency",
        EXPLANATION,
    )
    assert override.subject == "Anti-AAV9 antibody titer ≤ 1:50, drawn within 14 days"
    assert LogEntry.objects.get_for_object(override).filter(action=LogEntry.Action.CREATE).exists()
    day = client.get(reverse("cases:infusion", args=[overridden.pk])).content.decode()
    assert "Infusion signed with an overridden gate item" in day and EXPLANATION in day
    case_page = client.get(reverse("cases:detail", args=[overridden.pk])).content.decode()
    assert "Decisions against the rules" in case_page and EXPLANATION in case_page
    client.force_login(cast.billing)
    claim = client.get(reverse("billing:claim", args=[overridden.pk])).content.decode()
    assert "Signed against the gate, with the physician's explicit override" in claim and EXPLANATION in claim
    csv_body = client.get(reverse("billing:claim_csv", args=[overridden.pk])).content.decode()
    assert "Signed with an override" in csv_body and EXPLANATION in csv_body


def test_the_packet_lists_the_gate_override_and_the_sign_off_beside_the_checklist(cast, client, overridden):
    _sign(client, overridden, **SIGN_OFF)
    snapshot = packet_snapshot(packet_case(overridden.pk))
    whats = [o["what"] for o in snapshot["overrides"]]
    assert whats[0].startswith("Gate item overridden: Anti-AAV9 antibody titer")
    assert (
        whats[1]
        == "Infusion signed with an overridden gate item: Anti-AAV9 antibody titer ≤ 1:50, drawn within 14 days"
    )
    html = packet_html(snapshot, [])
    assert "Physician overrides" in html and EXPLANATION in html and GATE_REASON in html


def test_a_case_without_overrides_signs_in_one_step_and_its_packet_lists_none(cast, client):
    case = ready_case(cast.site_a, name="Clean Child", mrn="MRN-CL")
    case.stage = Stage.SCHEDULED
    case.save()
    client.force_login(cast.physician)
    client.post(reverse("cases:infusion_record", args=[case.pk]), record_post(TODAY()))
    assert _sign(client, case, password=PASSWORD).status_code == 302
    assert InfusionRecord.objects.get(case=case).sign_override is None
    assert packet_snapshot(packet_case(case.pk))["overrides"] == []


def test_the_workflow_refuses_a_sign_off_against_the_gate_without_an_override(cast, client, overridden):
    record = InfusionRecord.objects.get(case=overridden)
    with pytest.raises(InfusionError, match="needs an explicit override"):
        infusion_sign(record=record, version=record.version, by=cast.physician, overridden=("Anti-AAV9 titer",))
    assert not _signed(overridden)


def test_a_coordinator_cannot_sign_or_override(cast, client, overridden):
    client.force_login(cast.coordinator)
    assert _sign(client, overridden, **SIGN_OFF).status_code == 403
    assert not _signed(overridden)
