"""One claim, many views: for every demo claim, the claim page, the billing panel on the case
page, the CSV, the PDF and the X12 file (where it may be exported) are rendered from the one
stored claim version (billing.models.Claim) and agree with it, and with each other, on the
version, codes, units, NDC, minutes, place of service and PA number; the demo covers every
claim setting."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from billing.claims.lines import claim_summary
from billing.models import Claim
from cases.infusion.models import InfusionRecord
from demo.context import DEMO_CASES
from demo.context import USERS as DEMO_USERS


@pytest.fixture
def demo(db):
    from django.apps import apps

    from accounts.roles import ensure_roles

    ensure_roles(apps)
    call_command("seed_demo", verbosity=0)
    records = InfusionRecord.objects.select_related("case", "case__site", "case__payer", "case__patient")
    keys = {f"{site}-{10001 + i}": key for i, (key, site, *_rest) in enumerate(DEMO_CASES)}
    return {keys[r.case.patient.mrn]: r for r in records.filter(signed_at__isnull=False)}


def _billing_user(site_code):
    from django.contrib.auth import get_user_model

    name = next(u for u, _n, role, sites in DEMO_USERS if role == "billing" and sites == [site_code])
    return get_user_model().objects.get(username=name)


def _page_lines(body: str) -> list[tuple[str, str, str, str, str]]:
    table = body[body.index('id="claim-lines"') :]
    table = table[table.index("<tbody>") : table.index("</tbody>")]
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        code_at = next(i for i, c in enumerate(cells) if c.startswith("<strong>"))
        code = cells[code_at][8:-9]
        out.append((code, cells[code_at + 1], cells[code_at + 4], cells[code_at + 6], cells[code_at + 7]))
    return out  # (code, units, NDC text, POS, PA)


def test_every_demo_claim_renders_the_same_facts_everywhere(demo, client):
    import pyx12.params  # noqa: F401  (the validator is installed: requirements-dev.txt)
    from pypdf import PdfReader

    from tests.infusion.test_claim_shapes import segments, validate

    assert len(demo) == 8
    settings = set()
    exported = 0
    for key, record in demo.items():
        case = record.case
        client.force_login(_billing_user(case.site.short_code))
        page = client.get(reverse("billing:claim", args=[case.pk])).content.decode()
        # The demo's claims were stored when the records were signed (and amended); reading
        # them builds nothing new.
        stored = Claim.objects.filter(case=case).order_by("-version").first()
        assert stored is not None and Claim.objects.filter(case=case).count() == stored.version, key
        summary = stored.summary
        # The stored claim is the claim the signed record and the billing data give now.
        assert summary == claim_summary(case, InfusionRecord.objects.get(pk=record.pk)), key
        assert stored.record_version == InfusionRecord.objects.get(pk=record.pk).version, key
        settings.add((summary.claim_type, summary.place_of_service))
        expected = [
            (ln.code, str(ln.units), ln.ndc_supplemental or "—", ln.place_of_service, ln.pa_number or "—")
            for ln in summary.lines
        ]
        assert _page_lines(page) == expected, key
        assert f"({summary.infusion_minutes} minutes actual infusion time" in page, key
        assert f'data-version="{stored.version}"' in page and f"<strong>Version {stored.version}</strong>" in page
        assert f'<td id="claim-pos">{summary.place_of_service} ' in page, key
        assert f'<td id="claim-pa">{summary.pa.auth_number or "— none"} ' in page, key

        panel = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
        admin_box = panel[panel.index("3 · Administration CPT") :][:600]
        admin = [(c, u) for c, u, *_ in expected if c != "J3399"]
        words = " + ".join(c if u == "1" else f"{c} × {u}" for c, u in admin)
        assert f'<div class="fw-semibold">{words}</div>' in admin_box, key
        assert f"Actual run {summary.infusion_minutes} min (claim version {stored.version}," in admin_box, key
        box = panel[panel.index('id="billing-claim"') :][:1500]
        assert f'data-version="{stored.version}"' in box, key
        assert f'<span class="claim-pos">{summary.place_of_service}</span>' in box, key
        assert f'<span class="claim-pa">{summary.pa.auth_number or "—"}</span>' in box, key
        assert f'<span class="claim-minutes">{summary.infusion_minutes}</span>' in box, key
        panel_lines = " + ".join(
            c + (f" × {u}" if u != "1" else "") + (f" ({n})" if n != "—" else "") for c, u, n, *_ in expected
        )
        assert f'<span class="claim-lines">{panel_lines}</span>' in box, key

        body = client.get(reverse("billing:claim_csv", args=[case.pk])).content.decode()
        rows = list(csv.reader(io.StringIO(body)))
        header = next(i for i, r in enumerate(rows) if r[:2] == ["Line", "Code"])
        csv_lines = [r for r in rows[header + 1 :] if r and r[0].isdigit()]
        assert [(r[1], r[3], r[5] or "—", r[7], r[8] or "—") for r in csv_lines] == expected, key
        assert f"{summary.infusion_minutes} min actual" in body, key
        assert next(r for r in rows if r[:1] == ["Claim version"])[1:2] == [str(stored.version)], key
        assert next(r for r in rows if r[:1] == ["PA number"])[1] == (summary.pa.auth_number or ""), key
        assert next(r for r in rows if r[:1] == ["Date of service"])[3] == summary.place_of_service, key

        pdf = client.get(reverse("billing:claim_pdf", args=[case.pk])).content
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        flat = re.sub(r"\s+", " ", text)
        for code, _units, ndc, _pos, pa in expected:
            assert code in flat, (key, code)
            if ndc != "—":
                assert ndc in flat, (key, ndc)
            if pa != "—":
                assert pa in flat, (key, pa)
        assert f"{summary.infusion_minutes} minutes actual infusion time" in flat, key
        assert summary.claim_name in flat, key
        assert f"claim version {stored.version}" in flat and f"Version {stored.version}" in flat, key
        assert f"Place of service {summary.place_of_service} " in flat, key

        response = client.get(reverse("billing:claim_x12", args=[case.pk]))
        if response.status_code == 200:
            exported += 1
            text = response.content.decode()
            assert validate(text) == [], key
            segs = segments(text)
            assert next(s for s in segs if s[0] == "BHT")[3].startswith(f"GG{case.pk}-V{stored.version}-"), key
            lines = [s for s in segs if s[0] in ("SV1", "SV2")]
            x12_codes = [(s[2] if s[0] == "SV2" else s[1]).split(":")[1] for s in lines]
            assert x12_codes == [c for c, *_ in expected], key
            assert [s[-1] if s[0] == "SV2" else s[4] for s in lines] == [u for _c, u, *_ in expected], key
            ndc = next((s[3] for s in segs if s[0] == "LIN"), None)
            assert ndc == summary.lines[0].ndc_11, key
            pa = next((s[2] for s in segs if s[:2] == ["REF", "G1"]), None)
            assert pa == summary.pa.auth_number, key
            clm = next(s for s in segs if s[0] == "CLM")
            if summary.is_institutional:
                assert clm[5] == f"{summary.type_of_bill[1:3]}:A:{summary.type_of_bill[3:]}", key
            else:
                assert clm[5].split(":")[0] == summary.place_of_service, key
        else:
            assert response.status_code == 302, key
            assert summary.errors or summary.is_inpatient, key
        # Viewing everything stored nothing new.
        assert Claim.objects.filter(case=case).count() == stored.version, key

    # The demo shows each setting: hospital outpatient and inpatient (institutional), office
    # (professional); at least one claim exports as an 837I.
    assert ("institutional", "22") in settings and ("institutional", "21") in settings
    assert ("professional", "11") in settings
    assert exported >= 1


def test_the_demo_covers_pauses_carve_outs_overrides_and_a_refused_office_claim(demo, client):
    summaries = {key: claim_summary(r.case, InfusionRecord.objects.get(pk=r.pk)) for key, r in demo.items()}
    paused = summaries["monitoring_normal"]
    assert (paused.elapsed_minutes, paused.paused_minutes, paused.infusion_minutes) == (95, 30, 65)
    assert [ln.code for ln in paused.lines] == ["J3399", "96365"]
    assert paused.lines[0].modifiers == ("JZ",)  # State Medicaid's JW/JZ rule
    assert any("carves the drug out of the DRG" in n for n in paused.notes)
    assert any("pays the drug within the inpatient DRG" in n for n in summaries["monitoring_abnormal"].notes)
    assert "override_review" in {f.code for f in summaries["monitoring_abnormal"].findings}
    office = summaries["lpc_office"]
    assert office.claim_type == "professional" and "pos_not_allowed" in {f.code for f in office.errors}
    assert [ln.code for ln in summaries["follow_up"].lines] == ["J3399", "96365", "96366"]
    # The override's titer is the one the gate and the packet judge stale.
    from cases.gate_facts import case_gate

    case = demo["monitoring_abnormal"].case
    assert case_gate(case, case.infused_on).item("titer").status == "fail"
