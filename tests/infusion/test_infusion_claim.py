"""Claim lines from the signed record, the scrubber with the card's fixes, CSV and PDF."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.denials import FIX_WRONG_CPT, FIX_WRONG_HCPCS
from common.wording import day_text
from tests.infusion.factories import make_record, payer, ready_case
from tests.personas import MARKER_NAME, make_case

TODAY = timezone.localdate


@pytest.fixture
def signed(cast):
    case = ready_case(cast.site_a)
    make_record(case, cast.coordinator, signed_by=cast.physician)
    return case


def claim(client, case, **params):
    return client.get(reverse("billing:claim", args=[case.pk]), params).content.decode()


def line_codes(body: str) -> list[tuple[str, str]]:
    table = body[body.index('id="claim-lines"') : body.index("</table>", body.index('id="claim-lines"'))]
    return re.findall(r"<td><strong>(\w+)</strong></td><td[^>]*>([\d.]+)</td>", table)


@pytest.mark.parametrize(
    ("minutes", "codes"),
    [
        (59, [("J3399", "1"), ("96365", "1")]),
        (60, [("J3399", "1"), ("96365", "1")]),
        (90, [("J3399", "1"), ("96365", "1")]),
        (91, [("J3399", "1"), ("96365", "1"), ("96366", "1")]),
        (150, [("J3399", "1"), ("96365", "1"), ("96366", "1")]),
    ],
)
def test_the_infusion_time_gives_96365_and_96366_only_over_90_minutes(cast, client, minutes, codes):
    case = ready_case(cast.site_a)
    make_record(case, cast.coordinator, minutes=minutes, signed_by=cast.physician)
    client.force_login(cast.billing)
    body = claim(client, case)
    assert line_codes(body) == codes
    assert f"({minutes} minutes actual infusion time)" in body
    assert "No findings: the claim passes the scrubber." in body


def test_the_j3399_line_carries_the_n4_11_digit_ndc_pointers_pos_and_pa_number(cast, client, signed, monkeypatch):
    from billing.claims import lines as infusion_claim
    from cases.infusion.pa import PaStatus

    monkeypatch.setattr(infusion_claim, "pa_status_for", lambda c, on: PaStatus(True, True, "PA-778812", "ok"))
    signed.secondary_diagnosis = "Z82.0"
    signed.save()
    client.force_login(cast.billing)
    body = claim(client, signed)
    assert "N471894012504 UN1" in body  # 71894-125-04 in 5-4-2 form with N4 and UN 1
    assert '<td data-label="Dx">AB</td><td data-label="POS">21</td><td data-label="PA">PA-778812</td>' in body
    assert "Family history of epilepsy and other diseases of the nervous system" in body


def test_the_place_of_service_falls_back_to_the_sites_own(cast, client, signed):
    signed.site_of_care_pos = ""
    signed.save()
    client.force_login(cast.billing)
    assert "21 Inpatient Hospital" in claim(client, signed)


# --- Scrubber findings on the derived claim ----------------------------------------------------
def test_a_patient_with_prior_j3399_gets_the_one_time_finding_with_its_fix(cast, client, signed):
    signed.prior_j3399 = True
    signed.save()
    client.force_login(cast.billing)
    body = claim(client, signed)
    assert 'data-finding="j3399_prior_billed"' in body and "Do not bill J3399 again" in body


def test_another_signed_record_for_the_same_child_counts_as_billed_before(cast, client, signed):
    patient = signed.patient
    duplicate = make_case(cast.site_a, name=patient.legal_name, mrn="DUP-1", dob=patient.date_of_birth)
    make_record(duplicate, cast.coordinator, signed_by=cast.physician)
    client.force_login(cast.billing)
    assert 'data-finding="j3399_prior_billed"' in claim(client, signed)


def test_a_payer_that_requires_pa_without_a_pa_number_gets_the_missing_pa_finding(cast, client, signed):
    signed.payer = payer("Strict Health", pa_required=True)
    signed.save()
    client.force_login(cast.billing)
    body = claim(client, signed)
    assert 'data-finding="missing_pa"' in body and "Enter the payer&#x27;s PA number (item 23)." in body


def test_a_place_of_service_the_payer_does_not_allow_gets_its_finding(cast, client, signed):
    signed.site_of_care_pos = "11"
    signed.save()
    client.force_login(cast.billing)
    body = claim(client, signed)
    assert 'data-finding="pos_not_allowed"' in body and "Infuse and bill at a site the payer allows" in body


def test_a_push_length_infusion_has_no_administration_line_and_a_warning(cast, client):
    case = ready_case(cast.site_a)
    make_record(case, cast.coordinator, minutes=15, signed_by=cast.physician)
    client.force_login(cast.billing)
    body = claim(client, case)
    assert line_codes(body) == [("J3399", "1")] and 'data-finding="missing_admin"' in body


# --- Scrubber on lines keyed by hand -----------------------------------------------------------
def keyed(client, case, rows, pa_number="PA-1"):
    params = {"check": "1", "pa_number": pa_number, "line-TOTAL_FORMS": str(len(rows)), "line-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            params[f"line-{i}-{key}"] = value
    return claim(client, case, **params)


J3399 = {"code": "J3399", "units": "1", "revenue_code": "0636", "ndc": "71894012504", "ndc_unit": "UN", "pos": "21"}
ADMIN = {"code": "96365", "units": "1", "revenue_code": "0260", "pos": "21"}


@pytest.mark.parametrize(
    ("rows", "finding", "fix"),
    [
        ([{**J3399, "units": "2"}, ADMIN], "j3399_units", "Bill J3399 × 1 unit on a single line."),
        ([{**J3399, "code": "J3490"}, ADMIN], "wrong_hcpcs", FIX_WRONG_HCPCS),
        ([{**J3399, "code": "J3590"}, ADMIN], "wrong_hcpcs", FIX_WRONG_HCPCS),
        ([J3399, {**J3399, "code": "C9399"}, ADMIN], "wrong_hcpcs", FIX_WRONG_HCPCS),
        ([J3399, {**ADMIN, "code": "96374"}], "wrong_cpt", FIX_WRONG_CPT),
        ([J3399, {**ADMIN, "code": "79101"}], "wrong_cpt", FIX_WRONG_CPT),
        ([J3399, {**ADMIN, "code": "96413"}], "cpt_96413", "unless the payer confirms 96413"),
        ([{**J3399, "ndc": ""}, ADMIN], "missing_ndc", "Enter the kit NDC from the kit label"),
        ([{**J3399, "pos": "49"}, {**ADMIN, "pos": "49"}], "pos_not_allowed", "Infuse and bill at a site"),
        ([J3399, ADMIN, {"code": "96366", "units": "1", "pos": "21"}], "add_on_96366", "Remove 96366"),
    ],
)
def test_every_scrubber_finding_shows_with_the_cards_fix(cast, client, signed, rows, finding, fix):
    client.force_login(cast.billing)
    body = keyed(client, signed, rows)
    results = body[body.index('id="keyed-results"') :]
    assert f'data-finding="{finding}"' in results and fix in results.replace("&#x27;", "'")


def test_a_missing_pa_number_is_found_when_the_payer_requires_pa(cast, client, signed):
    signed.payer = payer("Strict Health", pa_required=True)
    signed.save()
    client.force_login(cast.billing)
    body = keyed(client, signed, [J3399, ADMIN], pa_number="")
    assert 'data-finding="missing_pa"' in body[body.index('id="keyed-results"') :]


def test_correctly_keyed_lines_pass(cast, client, signed):
    client.force_login(cast.billing)
    body = keyed(client, signed, [J3399, ADMIN])
    assert "No findings" in body[body.index('id="keyed-results"') :]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**J3399, "ndc": "7189401"}, "Enter the NDC as 11 digits"),
        ({**J3399, "code": "J33"}, "5 letters or digits"),
        ({**J3399, "pos": "X1"}, "two digits"),
        ({**J3399, "units": ""}, "Enter the units billed"),
        ({**J3399, "units": "-1"}, "greater than or equal to 0.001"),
        ({**J3399, "ndc_unit": "KG"}, "Select a valid choice"),
    ],
)
def test_bad_keyed_input_is_refused_next_to_the_field(cast, client, signed, row, message):
    client.force_login(cast.billing)
    body = keyed(client, signed, [row])
    assert message in body and 'id="keyed-results"' not in body


def test_the_claim_page_explains_when_there_is_no_signed_record(cast, client):
    case = ready_case(cast.site_a)
    client.force_login(cast.billing)
    assert "there is no infusion record yet" in claim(client, case)
    make_record(case, cast.coordinator)
    assert "the record is not signed yet" in claim(client, case)
    assert client.get(reverse("billing:claim_csv", args=[case.pk])).status_code == 404


# --- Downloads ---------------------------------------------------------------------------------
def test_billing_downloads_the_claim_summary_as_csv(cast, client, signed):
    from cases.infusion.models import GateOverride

    GateOverride.objects.create(
        case=signed,
        gate_id="titer",
        gate_title="Titer",
        detail_at_override="stale",
        judged_on=TODAY(),
        reason="=HYPERLINK(evil) but also a real reason",
        by=cast.physician,
        by_name="Physician",
    )
    client.force_login(cast.billing)
    response = client.get(reverse("billing:claim_csv", args=[signed.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert f"claim-summary-case-{signed.pk}-v1.csv" in response["Content-Disposition"]
    assert MARKER_NAME not in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][2].endswith(" UTC") and rows[0][3].startswith("times UTC")  # the header says UTC
    assert next(r for r in rows if r[:1] == ["Signed by"])[2].endswith(" UTC")
    assert rows[rows.index(next(r for r in rows if r[:1] == ["1"]))][:4] == ["1", "J3399", "HCPCS", "1"]
    assert any(r[:2] == ["2", "96365"] for r in rows)
    assert any(r[2:3] == ["'=HYPERLINK(evil) but also a real reason"] for r in rows)


def test_the_claim_csv_neutralises_a_formula_in_the_payer_name(cast, client, signed):
    signed.payer.name = "=1+1"
    signed.payer.save()
    client.force_login(cast.billing)
    rows = list(csv.reader(io.StringIO(client.get(reverse("billing:claim_csv", args=[signed.pk])).content.decode())))
    assert next(r for r in rows if r[:1] == ["Payer"])[1] == "'=1+1"


def test_the_claim_summary_pdf_is_a_pdf(cast, client, signed):
    client.force_login(cast.billing)
    response = client.get(reverse("billing:claim_pdf", args=[signed.pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "J3399" in text and "96365" in text and "N471894012504" in text


def test_the_outsider_gets_404_for_the_claim_and_its_downloads(cast, client, signed):
    client.force_login(cast.outsider)
    for name in ("claim", "claim_csv", "claim_pdf"):
        response = client.get(reverse(f"billing:{name}", args=[signed.pk]))
        assert response.status_code == 404 and MARKER_NAME not in response.content.decode()


def test_the_case_page_links_billing_to_the_claim_lines(cast, client, signed):
    client.force_login(cast.billing)
    body = client.get(reverse("cases:detail", args=[signed.pk])).content.decode()
    assert reverse("billing:claim", args=[signed.pk]) in body
    assert "Open the infusion day" not in body


def test_a_record_date_in_the_past_is_the_date_of_service(cast, client):
    on = TODAY() - timedelta(days=3)
    case = ready_case(cast.site_a, on)
    make_record(case, cast.coordinator, on, signed_by=cast.physician)
    client.force_login(cast.billing)
    assert f'<tr><th scope="row">Date of service</th><td>{day_text(on)}</td></tr>' in claim(client, case)


def test_a_paused_infusion_is_billed_on_its_actual_time_on_the_claim_and_the_billing_summary(cast, client):
    from datetime import time

    case = ready_case(cast.site_a)
    make_record(
        case, cast.coordinator, minutes=95, signed_by=cast.physician, pauses=[(time(9, 20), time(9, 50), "Occlusion")]
    )
    client.force_login(cast.billing)
    body = claim(client, case)
    assert line_codes(body) == [("J3399", "1"), ("96365", "1")]
    assert "65 minutes actual infusion time: 95 minutes less 30 paused" in body
    panel = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    admin_box = panel[panel.index("3 · Administration CPT") :]
    assert '<div class="fw-semibold">96365</div>' in admin_box[:200]
    assert "Actual run 65 min (claim version 1, from the signed record, pauses excluded)" in admin_box
    rows = list(csv.reader(io.StringIO(client.get(reverse("billing:claim_csv", args=[case.pk])).content.decode())))
    assert ["Infusion", "09:00-10:35", "65 min actual", "95 min elapsed", "30 min paused"] in rows
    assert not any(r[1:2] == ["96366"] for r in rows)
