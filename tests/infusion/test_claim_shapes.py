"""Claim shapes by setting (institutional at a hospital, professional elsewhere), the stricter
scrubber on rendered pages, modifiers from payer policy, site billing settings in the admin, and
the X12 837I/837P files validated with pyx12 against the 005010 implementation-guide maps."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from billing.claims.lines import claim_summary
from billing.claims.x12 import Envelope, X12Refused, claim_837
from billing.models import ChargeItem, SiteBilling
from cases.infusion.models import GateOverride, InfusionRecord
from tests.infusion.factories import billing_settings, make_record, payer, ready_case
from tests.personas import MARKER_NAME

NOW = datetime(2026, 12, 1, 15, 7)


def claim(client, case, **params) -> str:
    return client.get(reverse("billing:claim", args=[case.pk]), params).content.decode()


def lines_table(body: str) -> str:
    start = body.index('id="claim-lines"')
    return body[start : body.index("</table>", start)]


def rows(table: str) -> list[list[str]]:
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def signed_case(cast, pos="22", *, minutes=60, payer_fields=None, **record_fields):
    case = ready_case(cast.site_a, name="Claim Child", mrn="MRN-C")
    case.site_of_care_pos = pos
    case.payer = payer("Claim Health", **(payer_fields or {}))
    case.save()
    make_record(case, cast.coordinator, minutes=minutes, signed_by=cast.physician, **record_fields)
    return case


# --- Claim type by setting ---------------------------------------------------------------------
@pytest.mark.parametrize(("pos", "tob"), [("22", "0131"), ("19", "0131"), ("21", "0111")])
def test_a_hospital_bills_the_drug_and_infusion_on_the_institutional_claim(cast, client, pos, tob):
    case = signed_case(cast, pos, minutes=95)
    client.force_login(cast.billing)
    body = claim(client, case)
    assert "<strong>Institutional claim</strong> (UB-04 / X12 837I) · type of bill " + tob in body
    assert rows(lines_table(body)) == [
        [
            "1",
            "0636",
            "<strong>J3399</strong>",
            "1",
            "—",
            rows(lines_table(body))[0][5],
            "N471894012504 UN1",
            "A",
            pos,
            "—",
            "$2125000.00",
        ],
        ["2", "0260", "<strong>96365</strong>", "1", "—", rows(lines_table(body))[1][5], "—", "A", pos, "—", "$450.00"],
        ["3", "0260", "<strong>96366</strong>", "1", "—", rows(lines_table(body))[2][5], "—", "A", pos, "—", "$150.00"],
    ]
    assert 'id="total-charge">$2125600.00' in body
    assert "the hospital bills the drug and the infusion on this claim" in body
    assert "Attending physician" in body and "TIN 123456789" in body


def test_an_office_infusion_is_a_professional_claim_without_revenue_codes(cast, client):
    case = signed_case(cast, "11", payer_fields={"allowed_pos": ["11", "21", "22", "19"]})
    client.force_login(cast.billing)
    body = claim(client, case)
    assert "<strong>Professional claim</strong> (CMS-1500 / X12 837P)" in body and "type of bill" not in body
    assert "Rev. code" not in lines_table(body)
    assert [r[1] for r in rows(lines_table(body))] == ["<strong>J3399</strong>", "<strong>96365</strong>"]
    assert "No findings: the claim passes the scrubber." in body


def test_an_office_case_the_payer_refuses_says_so(cast, client):
    case = signed_case(cast, "11")  # the card's default: POS 11 not allowed
    client.force_login(cast.billing)
    body = claim(client, case)
    assert "Professional claim" in body and 'data-finding="pos_not_allowed"' in body


@pytest.mark.parametrize(
    ("carve_out", "text"),
    [
        ("carved_out", "carves the drug out of the DRG"),
        ("in_drg", "pays the drug within the inpatient DRG"),
        ("unknown", 'data-finding="carve_out_unknown"'),
    ],
)
def test_an_inpatient_claim_says_what_the_payer_expects_of_the_drug(cast, client, carve_out, text):
    case = signed_case(cast, "21", payer_fields={"inpatient_drug_carve_out": carve_out})
    client.force_login(cast.billing)
    assert text in claim(client, case)


def test_a_site_without_billing_settings_or_a_price_is_told_what_to_add(cast, client):
    case = signed_case(cast, "22")
    ChargeItem.objects.filter(code="96365").delete()
    client.force_login(cast.billing)
    body = claim(client, case)
    assert 'data-finding="missing_charge"' in body and "96365 has no charge" in body
    SiteBilling.objects.all().delete()
    body = claim(client, case)
    assert 'data-finding="billing_settings"' in body and "Admin → Site billing settings" in body


# --- The stricter scrubber on the derived and the keyed claim -----------------------------------
def keyed(client, case, rows_, claim_type="", pa_number="PA-1"):
    params = {"check": "1", "claim_type": claim_type, "pa_number": pa_number}
    params |= {"line-TOTAL_FORMS": str(len(rows_)), "line-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows_):
        for key, value in row.items():
            params[f"line-{i}-{key}"] = value
    body = claim(client, case, **params)
    return body[body.index('id="keyed-results"') :] if 'id="keyed-results"' in body else body


DRUG = {"code": "J3399", "units": "1", "revenue_code": "0636", "ndc": "71894012504", "ndc_unit": "UN", "pos": "22"}
ADMIN = {"code": "96365", "units": "1", "revenue_code": "0260", "pos": "22"}


@pytest.mark.parametrize(
    ("rows_", "claim_type", "finding"),
    [
        ([{**DRUG, "ndc": "71894-999-99"}, ADMIN], "", "ndc_unknown"),
        ([{**DRUG, "ndc": "71894-156-14"}, ADMIN], "", "ndc_not_recorded_kit"),
        ([{**DRUG, "ndc_unit": "ML"}, ADMIN], "", "ndc_unit"),
        ([{**DRUG, "ndc_quantity": "30.3"}, ADMIN], "", "ndc_unit"),
        ([DRUG, {**ADMIN, "pos": "19"}], "", "pos_mixed"),
        ([{**DRUG, "pos": "19"}, {**ADMIN, "pos": "19"}], "", "pos_not_record"),
        ([DRUG, ADMIN], "professional", "admin_in_facility"),
        ([DRUG, ADMIN], "professional", "drug_on_professional_in_facility"),
        ([{**DRUG, "revenue_code": ""}, ADMIN], "", "missing_revenue_code"),
        ([{**DRUG, "modifiers": "JW JZ"}, ADMIN], "", "modifier_jw_jz"),
        ([DRUG, {**ADMIN, "modifiers": "JZ"}], "", "modifier_not_drug"),
    ],
)
def test_each_new_scrubber_rule_shows_on_the_keyed_claim_with_its_fix(cast, client, rows_, claim_type, finding):
    case = signed_case(cast, "22")
    client.force_login(cast.billing)
    results = keyed(client, case, rows_, claim_type)
    assert f'data-finding="{finding}"' in results, results[:3000]
    item = results[results.index(f'data-finding="{finding}"') :]
    assert "Fix:" in item[:1500] and "Source:" in item[:1500]


def test_a_pa_number_that_is_not_the_approved_one_is_an_error(cast, client):
    from billing.models import PriorAuthorization

    case = signed_case(cast, "22", payer_fields={"pa_required": True})
    today = timezone.localdate()
    PriorAuthorization.objects.create(
        case=case, payer=case.payer, status="approved", auth_number="UHC-4471", valid_from=today, valid_through=today
    )
    case.refresh_from_db()
    client.force_login(cast.billing)
    assert "UHC-4471" in lines_table(claim(client, case))
    results = keyed(client, case, [DRUG, ADMIN], pa_number="UHC-0000")
    assert 'data-finding="pa_mismatch"' in results and "Enter the approved PA number UHC-4471" in results


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("modifiers", "JZZ", "is not a modifier"),
        ("revenue_code", "63", "A revenue code is 4 digits"),
        ("ndc_quantity", "-1", "greater than or equal to 0.001"),
        ("ndc", "71894-9", "Enter the NDC as 11 digits"),
    ],
)
def test_bad_keyed_input_is_refused_next_to_the_field(cast, client, field, value, message):
    case = signed_case(cast, "22")
    client.force_login(cast.billing)
    body = keyed(client, case, [{**DRUG, field: value}])
    assert message in body and 'class="invalid-feedback"' in body and 'id="keyed-results"' not in body


def test_a_physician_override_is_flagged_for_billing_review(cast, client):
    case = signed_case(cast, "22")
    GateOverride.objects.create(
        case=case,
        gate_id="titer",
        gate_title="Anti-AAV9 antibody titer",
        detail_at_override="stale",
        judged_on=timezone.localdate(),
        reason="Clinically justified, written reason here",
        by=cast.physician,
        by_name="Dr P",
    )
    client.force_login(cast.billing)
    body = claim(client, case)
    assert 'data-finding="override_review"' in body and "“Anti-AAV9 antibody titer”" in body


def test_a_payers_jw_jz_rule_puts_jz_on_the_drug_line_everywhere(cast, client):
    rule = {"drug_modifier_rule": "jw_jz", "modifier_rule_source": "CMS JW/JZ policy FAQ"}
    case = signed_case(cast, "22", payer_fields=rule)
    client.force_login(cast.billing)
    body = claim(client, case)
    assert [r[4] for r in rows(lines_table(body))] == ["JZ", "—"]
    assert "No findings" in body
    csv_rows = list(csv.reader(io.StringIO(client.get(reverse("billing:claim_csv", args=[case.pk])).content.decode())))
    assert next(r for r in csv_rows if r[:2] == ["1", "J3399"])[11] == "JZ"
    results = keyed(client, case, [DRUG, ADMIN])
    assert 'data-finding="modifier_jw_jz"' in results and "CMS JW/JZ policy FAQ" in results


# --- Site billing settings in the admin --------------------------------------------------------
def test_a_site_admin_edits_only_their_sites_billing_settings_and_a_negative_charge_is_refused(cast, client):
    from django.contrib.auth.models import Permission

    from tests.personas import make_user

    mine, other = billing_settings(cast.site_a), billing_settings(cast.site_b)
    user = make_user("siteadmin2", "admin", cast.site_a, is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    client.force_login(user)
    listing = client.get(reverse("admin:billing_sitebilling_changelist")).content.decode()
    assert escape(cast.site_a.name) in listing and escape(cast.site_b.name) not in listing
    assert client.get(reverse("admin:billing_sitebilling_change", args=[other.pk])).status_code in (302, 404)
    url = reverse("admin:billing_sitebilling_change", args=[mine.pk])
    data = {
        "site": cast.site_a.pk,
        "tin": "12345678A",
        "taxonomy_code": "",
        "submitter_id": "",
        "street": mine.street,
        "city": mine.city,
        "state": mine.state,
        "zip_code": mine.zip_code,
        "contact_name": mine.contact_name,
        "contact_phone": mine.contact_phone,
        "type_of_bill_outpatient": "0141",
        "type_of_bill_inpatient": "0111",
        "physician_bills_separately": "on",
        "charges-TOTAL_FORMS": "1",
        "charges-INITIAL_FORMS": "0",
        "charges-MIN_NUM_FORMS": "0",
        "charges-MAX_NUM_FORMS": "3",
    }
    # The three price lines exist; post one change to the first of them.
    first = mine.charges.order_by("code").first()
    data |= {"charges-INITIAL_FORMS": "1", "charges-0-id": first.pk, "charges-0-settings": mine.pk}
    data |= {"charges-0-code": first.code, "charges-0-revenue_code": "0636", "charges-0-charge": "-5"}
    body = client.post(url, data).content.decode()
    errors = re.findall(r"errorlist[^>]*>(.*?)</ul>", body, re.S)
    assert "Enter 9 digits." in body and "Hospital outpatient bills are 013x" in body, errors
    assert "A charge is a positive amount." in body
    before = first.charge
    first.refresh_from_db()
    assert first.charge == before and SiteBilling.objects.get(pk=mine.pk).type_of_bill_outpatient == "0131"


# --- X12 837I and 837P ---------------------------------------------------------------------------
def validate(text: str) -> list[dict]:
    """Run pyx12 (the 005010 implementation-guide maps it ships); return its errors."""
    import pyx12.params
    import pyx12.x12n_document

    errors = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(text), fd_997=io.StringIO(), fd_html=None, fd_json=errors
    )
    found = json.loads(errors.getvalue() or "[]")
    assert ok or found, "pyx12 refused the file without saying why"
    return [] if ok else found


def segments(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.strip().rstrip("~").split("~")]


def test_the_837i_of_an_outpatient_hospital_claim_passes_pyx12_and_matches_the_claim(cast, client):
    case = signed_case(
        cast, "22", minutes=95, payer_fields={"drug_modifier_rule": "jw_jz", "modifier_rule_source": "CMS"}
    )
    record = InfusionRecord.objects.get(case=case)
    summary = claim_summary(case, record)
    text = claim_837(summary, Envelope(now=NOW, control=42))
    assert validate(text) == []
    segs = segments(text)
    assert ["ST", "837", "0001", "005010X223A2"] in segs
    clm = next(s for s in segs if s[0] == "CLM")
    assert clm[1] == f"GG{case.pk}" and clm[2] == "2125600" and clm[5] == "13:A:1"
    assert [s[1:] for s in segs if s[0] == "SV2"] == [
        ["0636", "HC:J3399:JZ", "2125000", "UN", "1"],
        ["0260", "HC:96365", "450", "UN", "1"],
        ["0260", "HC:96366", "150", "UN", "1"],
    ]
    assert ["LIN", "", "N4", "71894012504"] in segs and ["CTP", "", "", "", "1", "UN"] in segs
    assert ["HI", "ABK:G120"] in segs
    assert next(s for s in segs if s[0] == "NM1" and s[1] == "71")[-1] == "1234567893"  # attending NPI
    # Only what the claim needs: no MRN, no guardian, no phone of the family.
    patient = case.patient
    assert patient.mrn not in text and patient.guardian_name not in text and patient.guardian_phone not in text
    # The download is the same file shape.
    client.force_login(cast.billing)
    response = client.get(reverse("billing:claim_x12", args=[case.pk]))
    assert response.status_code == 200 and f"claim-case-{case.pk}-v1-837I.x12" in response["Content-Disposition"]
    assert MARKER_NAME not in response["Content-Disposition"]
    assert validate(response.content.decode()) == []


def test_the_837p_of_an_office_claim_passes_pyx12_and_carries_the_infusion(cast):
    case = signed_case(cast, "11", payer_fields={"allowed_pos": ["11"]})
    case.secondary_diagnosis = "Z82.0"
    case.save()
    text = claim_837(claim_summary(case, InfusionRecord.objects.get(case=case)), Envelope(now=NOW, control=7))
    assert validate(text) == []
    segs = segments(text)
    assert ["ST", "837", "0001", "005010X222A1"] in segs
    assert next(s for s in segs if s[0] == "CLM")[5] == "11:B:1"
    assert [s[1:] for s in segs if s[0] == "SV1"] == [
        ["HC:J3399", "2125000", "UN", "1", "", "", "1:2"],
        ["HC:96365", "450", "UN", "1", "", "", "1:2"],
    ]
    assert ["HI", "ABK:G120", "ABF:Z820"] in segs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("member", "The case has no member ID."),
        ("payer_id", "has no payer ID for electronic claims"),
        ("npi", "The physician's NPI is missing"),
        ("errors", "The scrubber reports"),
        ("inpatient", "An inpatient claim needs the stay's admission and discharge dates"),
        ("settings", "The site has no billing settings"),
    ],
)
def test_missing_or_bad_data_stops_the_export_with_a_clear_message(cast, client, change, message):
    case = signed_case(cast, "21" if change == "inpatient" else "22")
    if change == "member":
        case.member_id = ""
    elif change == "payer_id":
        case.payer.payer_id = ""
        case.payer.save()
    elif change == "npi":
        case.ordering_physician_npi = "1234567890"
    elif change == "errors":
        case.prior_j3399 = True
    elif change == "settings":
        SiteBilling.objects.all().delete()
    case.save()
    with pytest.raises(X12Refused, match=re.escape(message)):
        claim_837(claim_summary(case, InfusionRecord.objects.get(case=case)), Envelope(now=NOW, control=1))
    client.force_login(cast.billing)
    response = client.get(reverse("billing:claim_x12", args=[case.pk]), follow=True)
    body = response.content.decode()
    assert response.redirect_chain and "file was not made" in body and message.replace("'", "&#x27;") in body


def test_an_unsigned_record_has_no_claim_file(cast, client):
    case = ready_case(cast.site_a)
    make_record(case, cast.coordinator)
    client.force_login(cast.billing)
    body = client.get(reverse("billing:claim_x12", args=[case.pk]), follow=True).content.decode()
    assert "the infusion record is not signed yet" in body


def test_the_outsider_gets_404_for_the_claim_file(cast, client):
    case = signed_case(cast, "22")
    client.force_login(cast.outsider)
    response = client.get(reverse("billing:claim_x12", args=[case.pk]))
    assert response.status_code == 404 and MARKER_NAME not in response.content.decode()
