"""A payer's own criteria (issue 17 item 4): an admin sets them per payer, bad values are refused
next to their field, the case page shows which are met, and the PA packet prints them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Payer
from billing.packet import packet_case, packet_html, packet_snapshot
from cases.models import BaselineLab, MotorAssessment
from common.wording import day_text
from tests.billing.helpers import make_payer, make_ready_case
from tests.billing.test_reference_views import GOOD

CRITERIA = {
    "max_smn2_copies": "3",
    "motor_assessment": "chop_intend",
    "motor_assessment_max_age_days": "30",
    "symptom_onset_before_months": "6",
    "max_niv_hours_per_day": "15",
    "wbc_min": "",
    "wbc_max": "20",
    "require_no_active_infection": "",
}


def test_an_admin_sets_a_payers_criteria_on_the_payer_page(client, admin_user, db):
    client.force_login(admin_user)
    aetna = make_payer("Aetna", policy_reference="Aetna CPB 0953")
    response = client.post(reverse("billing:payer_edit", args=[aetna.pk]), {**GOOD, **CRITERIA})
    assert response.status_code == 302, response.context["form"].errors if response.context else None
    aetna.refresh_from_db()
    assert (aetna.max_smn2_copies, aetna.motor_assessment, aetna.motor_assessment_max_age_days) == (
        3,
        "chop_intend",
        30,
    )
    assert aetna.wbc_max == Decimal(20) and aetna.wbc_min is None and not aetna.require_no_active_infection
    assert aetna.motor_scales == frozenset({"chop_intend"})


def test_the_admin_site_edits_the_same_criteria(cast, client, django_user_model):
    # The Django admin's superuser (billing's admin_user fixture is the app's admin role).
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.invalid", "x-Pass-123456"))
    payer = make_payer("Cigna / Accredo")
    url = reverse("admin:billing_payer_change", args=[payer.pk])
    response = client.get(url)
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    body = response.content.decode()
    assert "SMN2 copy number at most" in body and "WBC at most" in body
    response = client.post(url, {**GOOD, "name": "Cigna / Accredo", "wbc_min": "30", "wbc_max": "20"})
    assert response.status_code == 200
    assert "The upper limit must be at least the lower limit" in response.content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"max_smn2_copies": "0"}, "max_smn2_copies", "greater than or equal to 1"),
        ({"max_smn2_copies": "9"}, "max_smn2_copies", "less than or equal to 8"),
        ({"max_smn2_copies": "three"}, "max_smn2_copies", "Enter a whole number"),
        ({"motor_assessment": "hfmse"}, "motor_assessment", "Select a valid choice"),
        ({"motor_assessment_max_age_days": "0"}, "motor_assessment_max_age_days", "greater than or equal to 1"),
        ({"motor_assessment_max_age_days": "366"}, "motor_assessment_max_age_days", "less than or equal to 365"),
        (
            {"motor_assessment": "", "motor_assessment_max_age_days": "30"},
            "motor_assessment_max_age_days",
            "Choose the motor assessment",
        ),
        ({"symptom_onset_before_months": "0"}, "symptom_onset_before_months", "greater than or equal to 1"),
        ({"symptom_onset_before_months": "25"}, "symptom_onset_before_months", "less than or equal to 24"),
        ({"max_niv_hours_per_day": "25"}, "max_niv_hours_per_day", "less than or equal to 24"),
        ({"max_niv_hours_per_day": "-1"}, "max_niv_hours_per_day", "greater than or equal to 0"),
        ({"wbc_min": "-1"}, "wbc_min", "greater than or equal to 0"),
        ({"wbc_max": "101"}, "wbc_max", "less than or equal to 100"),
        ({"wbc_max": "twenty"}, "wbc_max", "Enter a number"),
        ({"wbc_min": "25", "wbc_max": "20"}, "wbc_max", "The upper limit must be at least the lower limit (25)"),
    ],
)
def test_bad_criteria_are_refused_next_to_the_field_and_nothing_changes(client, admin_user, db, change, field, message):
    client.force_login(admin_user)
    aetna = make_payer("Aetna")
    before = Payer.objects.filter(pk=aetna.pk).values().get()
    response = client.post(reverse("billing:payer_edit", args=[aetna.pk]), {**GOOD, **CRITERIA, **change})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and any(message in e for e in errors[field]), errors
    assert f'id="error_1_id_{field}"' in response.content.decode()
    assert Payer.objects.filter(pk=aetna.pk).values().get() == before


def _case_with_criteria(cast, **criteria):
    today = timezone.localdate()
    payer = make_payer("Cigna / Accredo", policy_reference="eviCore Zolgensma policy", **criteria)
    case = make_ready_case(cast.site_a, today=today, payer=payer, mrn="MRN-PC1")
    return case, today


def test_the_case_page_shows_met_not_met_and_missing_payer_criteria(cast, login):
    case, today = _case_with_criteria(
        cast, max_smn2_copies=3, motor_assessment="chop_intend", wbc_max=Decimal(20), max_niv_hours_per_day=15
    )
    BaselineLab.objects.create(
        case=case, drawn_on=today - timedelta(days=2), analyte="wbc", value=Decimal("23.5"), unit="10^9/L",
        uln=Decimal("17.5"), value_canonical=Decimal("23.5"), uln_canonical=Decimal("17.5"), canonical_unit="10^9/L",
    )  # fmt: skip
    body = login(cast.coordinator).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Payer criteria: Cigna / Accredo" in body
    assert "2 met, 1 not met, 1 missing" in body
    for item_id in ("payer_smn2", "payer_motor", "payer_wbc", "payer_ventilation"):
        assert f'data-gate-item="{item_id}"' in body
    assert "eviCore Zolgensma policy" in body
    assert "above Cigna / Accredo" in body and "No CHOP INTEND score recorded" in body
    assert "Ready for PA" not in body


def test_a_voided_motor_assessment_never_reaches_the_gate(cast, login):
    case, today = _case_with_criteria(cast, motor_assessment="chop_intend")
    client = login(cast.coordinator)
    url = reverse("cases:motor_add", args=[case.pk])
    response = client.post(url, {"scale": "chop_intend", "score": "40", "assessed_on": today.isoformat()})
    assert response.status_code == 302
    body = client.get(reverse("cases:gate", args=[case.pk])).content.decode()
    assert "CHOP INTEND 40 of 64" in body and "Ready for PA" in body
    row = MotorAssessment.objects.get(case=case)
    client.post(reverse("cases:entry_void", args=[case.pk, "motor", row.pk]), {"reason": "Wrong child's score"})
    body = client.get(reverse("cases:gate", args=[case.pk])).content.decode()
    assert "No CHOP INTEND score recorded" in body and "1 item blocks" in body


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"scale": "chop_intend", "score": "65"}, "score", "CHOP INTEND is scored 0–64; 65 is out of range."),
        ({"scale": "hine2", "score": "27"}, "score", "HINE-2 is scored 0–26; 27 is out of range."),
        ({"scale": "hine2", "score": "-3"}, "score", "greater than or equal to 0"),
        ({"scale": "hine2", "score": "lots"}, "score", "Enter a whole number"),
        ({"scale": "hfmse", "score": "20"}, "scale", "Select a valid choice"),
        ({"scale": "chop_intend", "score": "20", "assessed_on": "2999-01-01"}, "assessed_on", "future"),
        ({"scale": "chop_intend", "score": "20", "assessed_on": "not a date"}, "assessed_on", "Enter a valid date"),
    ],
)
def test_a_bad_motor_assessment_is_refused_next_to_its_field(cast, login, data, field, message):
    case, today = _case_with_criteria(cast, motor_assessment="either")
    client = login(cast.coordinator)
    data = {"assessed_on": today.isoformat(), **data}
    response = client.post(reverse("cases:motor_add", args=[case.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="error_1_motor_{field}"' in body or "invalid-feedback" in body
    assert message in body
    assert not MotorAssessment.objects.filter(case=case).exists()


def test_the_packet_prints_the_payers_criteria_with_marks(cast):
    case, today = _case_with_criteria(cast, max_smn2_copies=3, require_no_active_infection=True)
    snapshot = packet_snapshot(packet_case(case.pk), today=today)
    items = {i["id"]: i for i in snapshot["gate"]["payer_items"]}
    assert items["payer_smn2"]["status"] == "pass" and items["payer_infection"]["status"] == "missing"
    assert snapshot["gate"]["payer_summary"] == "1 met, 1 missing"
    assert all(i["source"].startswith("eviCore Zolgensma policy") for i in items.values())
    assert not any(i["id"].startswith("payer_") for i in snapshot["gate"]["items"])
    html = packet_html(snapshot, [])
    assert "Cigna / Accredo criteria" in html and "SMN2 copy number ≤ 3" in html
    assert "☑ met" in html and "☒ not met" in html


def test_a_packet_for_a_payer_without_criteria_says_so(cast):
    today = timezone.localdate()
    case = make_ready_case(cast.site_a, today=today, payer=make_payer("BCBS plans"), mrn="MRN-PC2")
    html = packet_html(packet_snapshot(packet_case(case.pk), today=today), [])
    assert "BCBS plans sets no coverage criteria of its own" in html


def test_the_payer_list_says_each_payers_own_criteria(client, admin_user, db):
    client.force_login(admin_user)
    make_payer("Cigna / Accredo", max_smn2_copies=3, wbc_max=Decimal("20.00"), motor_assessment="either")
    make_payer("BCBS plans")
    body = client.get(reverse("billing:payers")).content.decode()
    assert "SMN2 copy number ≤ 3" in body and "WBC ≤ 20 × 10⁹/L" in body
    assert "Baseline CHOP INTEND or HINE-2 with score and date" in body
    assert "none beyond the label" in body


def test_a_checklist_line_can_be_proved_by_the_payers_criteria(cast):
    case, today = _case_with_criteria(
        cast,
        max_smn2_copies=3,
        documentation_checklist=[{"evidence": "payer_criteria", "text": "Meets the plan's clinical criteria"}],
    )
    snapshot = packet_snapshot(packet_case(case.pk), today=today)
    [line] = snapshot["payer"]["checklist"]
    assert line["met"] and "all 1 of the payer's criteria met" in line["detail"]


def test_the_packets_clinical_summary_and_letter_print_the_motor_assessment(cast):
    case, today = _case_with_criteria(cast, motor_assessment="chop_intend")
    MotorAssessment.objects.create(case=case, scale="chop_intend", score=32, assessed_on=today - timedelta(days=4))
    snapshot = packet_snapshot(packet_case(case.pk), today=today)
    expected = f"CHOP INTEND 32 of 64 on {day_text(today - timedelta(days=4))}"
    assert snapshot["clinical"]["motor_text"] == expected
    html = packet_html(snapshot, [])
    assert f"<th>Baseline motor function</th><td>{expected}</td>" in html
