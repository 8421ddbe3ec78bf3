"""The stored, versioned claim (issue 16 item 4): built when the record is signed, rebuilt as a new
version when the signed record is amended or the billing data it reads changes, old versions kept
and viewable, every version audited, and every view rendering the stored version."""

from __future__ import annotations

import csv
import io
import re
from datetime import time
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from billing.claims.store import current_claim
from billing.models import ChargeItem, Claim
from cases.infusion.models import InfusionRecord
from cases.models import Stage
from tests.infusion.factories import make_record, ready_case
from tests.infusion.test_claim_shapes import segments, signed_case, validate
from tests.personas import MARKER_NAME


def _claim_page(client, case, version=None) -> str:
    url = (
        reverse("billing:claim_version", args=[case.pk, version])
        if version
        else reverse("billing:claim", args=[case.pk])
    )
    return client.get(url).content.decode()


def _codes(claim: Claim) -> list[tuple[str, str]]:
    return [(ln.code, str(ln.units)) for ln in claim.summary.lines]


@pytest.fixture
def signed_by_workflow(cast, client):
    """A hospital outpatient case whose record the physician signs through the sign page."""
    case = ready_case(cast.site_a)
    case.stage = Stage.SCHEDULED
    case.save()
    record = make_record(case, cast.coordinator, minutes=95)
    client.force_login(cast.physician)
    from tests.personas import PASSWORD

    response = client.post(
        reverse("cases:infusion_sign", args=[case.pk]), {"password": PASSWORD, "version": record.version}
    )
    assert response.status_code == 302
    return case


def test_signing_stores_version_1_built_from_the_signed_record_and_audited(cast, signed_by_workflow):
    claim = Claim.objects.get(case=signed_by_workflow)
    record = InfusionRecord.objects.get(case=signed_by_workflow)
    assert claim.version == 1 and claim.record == record and claim.record_version == record.version
    assert claim.reason == "Built from the infusion record signed by Physician."
    assert claim.built_by == cast.physician and claim.changes == []
    assert _codes(claim) == [("J3399", "1"), ("96365", "1"), ("96366", "1")]
    assert claim.summary.infusion.signed_name == "Physician" and claim.summary.infusion_minutes == 95
    entry = LogEntry.objects.get_for_object(claim).get()
    assert entry.action == LogEntry.Action.CREATE and "data" not in entry.changes_dict


def test_an_amendment_builds_the_next_version_and_the_old_one_stays_viewable(cast, client, signed_by_workflow):
    case = signed_by_workflow
    client.force_login(cast.coordinator)
    why = "Pump log shows the stop at 09:55; the 10:35 was the flush."
    version = InfusionRecord.objects.get(case=case).version
    response = client.post(
        reverse("cases:infusion_amend", args=[case.pk]),
        {"field": "stopped_at", "new_value": "09:55", "reason": why, "version": version},
    )
    assert response.status_code == 302
    v1, v2 = Claim.objects.filter(case=case).order_by("version")
    assert v2.version == 2 and v2.record_version == version + 1 and v2.built_by == cast.coordinator
    assert v2.reason == "The signed record was amended: Infusion stopped, 10:35 → 09:55."
    assert "service lines" in v2.changes and "infusion record" in v2.changes and "amendments" in v2.changes
    assert _codes(v1) == [("J3399", "1"), ("96365", "1"), ("96366", "1")]  # kept as built
    assert _codes(v2) == [("J3399", "1"), ("96365", "1")]
    assert LogEntry.objects.get_for_object(v2).exists()

    client.force_login(cast.billing)
    current = _claim_page(client, case)
    assert "<strong>Version 2</strong>" in current and "<td><strong>96366</strong></td>" not in current
    assert 'id="claim-versions"' in current and "The signed record was amended: Infusion stopped" in current
    assert "Download X12" in current and 'id="superseded"' not in current
    old = _claim_page(client, case, 1)
    assert "<strong>Version 1</strong>" in old and "superseded by version 2" in old and 'id="superseded"' in old
    assert "<td><strong>96366</strong></td>" in old and "95 minutes actual infusion time" in old
    assert "Download X12" not in old and "Check the claim as keyed" not in old
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("billing:claim_version_csv", args=[case.pk, 1])).content.decode()))
    )
    assert next(r for r in rows if r[:1] == ["Claim version"])[1:2] == ["1"]
    assert "superseded by version 2" in next(r for r in rows if r[:1] == ["Claim version"])
    assert any(r[:2] == ["3", "96366"] for r in rows)
    pdf = client.get(reverse("billing:claim_version_pdf", args=[case.pk, 1]))
    assert pdf["Content-Type"] == "application/pdf" and f"case-{case.pk}-v1.pdf" in pdf["Content-Disposition"]
    # Nothing new was built by reading.
    assert Claim.objects.filter(case=case).count() == 2


def test_a_change_of_billing_data_builds_a_new_version_once_with_what_changed(cast, client):
    case = signed_case(cast, "22")
    client.force_login(cast.billing)
    _claim_page(client, case)
    assert Claim.objects.filter(case=case).count() == 1
    ChargeItem.objects.filter(code="96365").update(charge=Decimal("480.00"))
    body = _claim_page(client, case)
    v2 = Claim.objects.get(case=case, version=2)
    assert v2.reason.startswith("The billing data the claim reads changed since version 1")
    assert v2.changes == ["service lines"] and v2.built_by == cast.billing
    assert "$480.00" in body and "Changed: service lines." in body
    # Reading again, and from the case page, the CSV and the PDF, builds nothing more.
    client.get(reverse("cases:detail", args=[case.pk]))
    client.get(reverse("billing:claim_csv", args=[case.pk]))
    client.get(reverse("billing:claim_pdf", args=[case.pk]))
    _claim_page(client, case)
    assert Claim.objects.filter(case=case).count() == 2
    # A payer policy change (JW/JZ) is named as what changed.
    case.payer.drug_modifier_rule = "jw_jz"
    case.payer.modifier_rule_source = "CMS JW/JZ policy"
    case.payer.save()
    _claim_page(client, case)
    v3 = Claim.objects.get(case=case, version=3)
    assert {"service lines", "payer policy"} <= set(v3.changes)
    assert v3.summary.lines[0].modifiers == ("JZ",)


def test_a_claim_version_is_never_edited_or_deleted(cast, client):
    case = signed_case(cast, "22")
    claim = current_claim(case, by=cast.billing)
    claim.reason = "changed"
    with pytest.raises(ValueError, match="never edited"):
        claim.save()
    with pytest.raises(ValueError, match="never deleted"):
        claim.delete()


def test_every_view_renders_the_stored_version_not_a_claim_built_on_the_fly(cast, client):
    """The stored data is what every view prints: a PA number written only into the stored
    version (its hash unchanged, so no rebuild) shows on the page, CSV, PDF, panel and 837."""
    case = signed_case(cast, "22")
    claim = current_claim(case, by=cast.billing)
    data = claim.data
    data["pa"]["auth_number"] = "STORED-ONLY-77"
    for line in data["lines"]:
        line["pa_number"] = "STORED-ONLY-77"
    Claim.objects.filter(pk=claim.pk).update(data=data)  # test only: a version is never edited
    client.force_login(cast.billing)
    page = _claim_page(client, case)
    assert Claim.objects.filter(case=case).count() == 1, Claim.objects.get(case=case, version=2).changes
    assert "STORED-ONLY-77" in page
    assert "STORED-ONLY-77" in client.get(reverse("billing:claim_csv", args=[case.pk])).content.decode()
    from pypdf import PdfReader

    pdf = client.get(reverse("billing:claim_pdf", args=[case.pk])).content
    assert "STORED-ONLY-77" in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    panel = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert '<span class="claim-pa">STORED-ONLY-77</span>' in panel
    x12 = client.get(reverse("billing:claim_x12", args=[case.pk])).content.decode()
    assert ["REF", "G1", "STORED-ONLY-77"] in segments(x12) and validate(x12) == []
    assert Claim.objects.filter(case=case).count() == 1


def test_a_version_that_does_not_exist_or_is_at_another_site_is_404(cast, client):
    case = signed_case(cast, "22")
    client.force_login(cast.billing)
    _claim_page(client, case)
    assert client.get(reverse("billing:claim_version", args=[case.pk, 9])).status_code == 404
    assert client.get(reverse("billing:claim_version_csv", args=[case.pk, 0])).status_code == 404
    client.force_login(cast.outsider)
    for name in ("billing:claim_version", "billing:claim_version_csv", "billing:claim_version_pdf"):
        response = client.get(reverse(name, args=[case.pk, 1]))
        assert response.status_code == 404 and MARKER_NAME not in response.content.decode()


def test_an_unsigned_record_has_no_stored_claim(cast, client):
    case = ready_case(cast.site_a)
    make_record(case, cast.coordinator)
    client.force_login(cast.billing)
    assert "the record is not signed yet" in _claim_page(client, case)
    assert client.get(reverse("billing:claim_version", args=[case.pk, 1])).status_code == 404
    assert not Claim.objects.exists()


def test_a_pause_added_by_amendment_is_a_new_version_with_the_new_minutes(cast, client, signed_by_workflow):
    case = signed_by_workflow
    client.force_login(cast.coordinator)
    record = InfusionRecord.objects.get(case=case)
    client.post(
        reverse("cases:infusion_amend", args=[case.pk]),
        {
            "field": "pause-add",
            "new_value": "09:20-09:50 Line occlusion",
            "reason": "Pause written in the adverse events only; pump log 09:20-09:50.",
            "version": record.version,
        },
    )
    latest = Claim.objects.filter(case=case).order_by("-version").first()
    assert latest.version == 2 and latest.summary.infusion_minutes == 65
    assert latest.summary.infusion.pauses[0].started_at == time(9, 20)
    assert _codes(latest) == [("J3399", "1"), ("96365", "1")]
    assert re.search(r"Add a pause.*blank → pause 09:20-09:50: Line occlusion", latest.reason)
