"""Issue 15 item 5: a mistaken weight, titer, lab value, document or clinical check is voided with
a reason, never deleted: struck through on the page, old -> new in the audit trail, ignored by
the gate."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from cases.gate_facts import case_gate, gate_queryset
from cases.models import BaselineLab, Case, ClinicalStatusCheck, Document, TiterResult, WeightMeasurement
from monitoring.workflows import _latest_weight_kg, baseline_for
from tests.infusion.factories import make_record, ready_case
from tests.personas import PASSWORD

TODAY = timezone.localdate


@pytest.fixture
def ready(cast):
    return ready_case(cast.site_a)


def _void(client, case, kind, row, reason="Entered on the wrong child"):
    return client.post(reverse("cases:entry_void", args=[case.pk, kind, row.pk]), {"reason": reason})


def _gate(case):
    return case_gate(gate_queryset(Case.objects.filter(pk=case.pk)).get())


def _page(client, case):
    return client.get(reverse("cases:detail", args=[case.pk])).content.decode()


def test_a_voided_weight_stays_struck_through_in_the_audit_and_the_gate_ignores_it(cast, client, ready):
    weight = WeightMeasurement.objects.get(case=ready)
    assert _gate(ready).item("weight").status == "pass"
    client.force_login(cast.coordinator)
    response = _void(client, ready, "weight", weight, "Typed 5.4 for 4.5 kg")
    assert response.status_code == 302
    weight.refresh_from_db()
    assert weight.voided_by == cast.coordinator and weight.void_reason == "Typed 5.4 for 4.5 kg"
    assert WeightMeasurement.objects.filter(case=ready).count() == 1  # never deleted
    assert _gate(ready).item("weight").status == "missing"
    page = _page(client, ready)
    assert "<del>5.40 kg</del>" in page and "Voided by Coordinator" in page and "Typed 5.4 for 4.5 kg" in page
    entry = LogEntry.objects.get_for_object(weight).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes_dict["void_reason"] == ["", "Typed 5.4 for 4.5 kg"]
    assert entry.changes_dict["voided_at"][0] == "None"


def test_a_corrected_weight_is_the_void_plus_a_new_entry(cast, client, ready):
    old = WeightMeasurement.objects.get(case=ready)
    client.force_login(cast.coordinator)
    _void(client, ready, "weight", old, "Wrong scale reading")
    client.post(reverse("cases:weight_add", args=[ready.pk]), {"measured_on": TODAY().isoformat(), "kg": "5.1"})
    assert "5.1 kg" in _gate(ready).item("weight").detail
    assert WeightMeasurement.objects.filter(case=ready).count() == 2


def test_a_voided_titer_lab_value_and_genetic_report_no_longer_count(cast, client, ready):
    client.force_login(cast.physician)
    _void(client, ready, "titer", TiterResult.objects.get(case=ready))
    _void(client, ready, "lab", BaselineLab.objects.get(case=ready, analyte="alt"))
    _void(client, ready, "document", Document.objects.get(case=ready))
    report = _gate(ready)
    assert report.item("titer").status == "missing"
    assert report.item("baseline_labs").status == "missing" and "ALT" in report.item("baseline_labs").detail
    assert "genetic report on file" in report.item("smn1").detail
    page = _page(client, ready)
    assert page.count("entry-voided") == 3


@pytest.mark.parametrize(("reason", "message"), [("", "Say why this entry is wrong"), ("typo", "at least 5")])
def test_a_void_without_a_reason_is_refused_next_to_the_field(cast, client, ready, reason, message):
    weight = WeightMeasurement.objects.get(case=ready)
    client.force_login(cast.coordinator)
    response = _void(client, ready, "weight", weight, reason)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="invalid-feedback"' in body and message in body
    weight.refresh_from_db()
    assert weight.voided_at is None


def test_voiding_an_already_voided_entry_says_who_did_it(cast, client, ready):
    weight = WeightMeasurement.objects.get(case=ready)
    client.force_login(cast.coordinator)
    _void(client, ready, "weight", weight, "First reason")
    client.force_login(cast.physician)
    response = _void(client, ready, "weight", weight, "Second reason")
    assert response.status_code == 400
    assert "Already voided by Coordinator" in response.content.decode()
    weight.refresh_from_db()
    assert weight.void_reason == "First reason" and weight.voided_by == cast.coordinator


def test_who_may_void_and_what_cannot_be_reached(cast, client, ready):
    weight = WeightMeasurement.objects.get(case=ready)
    client.force_login(cast.billing)
    assert _void(client, ready, "weight", weight).status_code == 403
    client.force_login(cast.outsider)
    assert _void(client, ready, "weight", weight).status_code == 404
    client.force_login(cast.coordinator)
    assert _void(client, ready, "patient", weight).status_code == 404
    assert _void(client, cast.case_a, "weight", weight).status_code == 404  # another case's row
    assert client.get(reverse("cases:entry_void", args=[ready.pk, "weight", weight.pk])).status_code == 405
    weight.refresh_from_db()
    assert weight.voided_at is None


def test_a_voided_clinical_check_no_longer_lets_the_record_be_signed(cast, client, ready):
    make_record(ready, cast.coordinator)
    check = ClinicalStatusCheck.objects.get(case=ready)
    client.force_login(cast.coordinator)
    assert _void(client, ready, "clinical", check).status_code == 403  # a physician's check
    client.force_login(cast.physician)
    response = _void(client, ready, "clinical", check, "Recorded for the sibling")
    assert response.status_code == 302 and response["Location"].endswith("#clinical")
    page = client.get(reverse("cases:infusion", args=[ready.pk])).content.decode()
    assert "Recorded for the sibling" in page and "<del>" in page
    response = client.post(reverse("cases:infusion_sign", args=[ready.pk]), {"password": PASSWORD})
    assert "No physician check of infection and clinical stability" in response.content.decode()


def test_the_steroid_course_and_baseline_skip_voided_rows(cast, ready):
    WeightMeasurement.objects.create(case=ready, measured_on=TODAY() - timedelta(days=1), kg=Decimal("9.9"))
    newest = WeightMeasurement.objects.get(case=ready, kg=Decimal("9.9"))
    newest.voided_at = timezone.now()
    newest.save()
    assert _latest_weight_kg(ready, TODAY()) == Decimal("5.4")
    BaselineLab.objects.filter(case=ready, analyte="platelets").update(voided_at=timezone.now())
    assert "platelets" not in baseline_for(ready)
