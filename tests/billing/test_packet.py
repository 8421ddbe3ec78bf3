"""The PA packet PDF: its content, DRAFT and refusal, versions, and failure handling (issue #4 items 3-4)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest

from billing import packet as packet_module
from billing.models import PAPacket, PriorAuthorization
from billing.packet import PacketError, packet_case, packet_create, packet_snapshot
from cases.models import BaselineLab, Document, TiterResult
from cases.titers import parse_titer
from common.wording import day_text
from tests.billing.conftest import pdf_pages, pdf_text
from tests.billing.helpers import add_document, make_payer, make_ready_case, pdf_bytes, sign_letter
from tests.personas import MARKER_NAME


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_a_ready_case_packet_contains_every_required_element(ready_case, cast, tmp_path):
    PriorAuthorization.objects.create(case=ready_case, payer=ready_case.payer, planned_infusion_minutes=60)
    packet = packet_create(case=ready_case, by=cast.billing, final=True)
    text = _flat(pdf_text(packet.file.read(), tmp_path))
    planned = ready_case.planned_infusion_date
    required = [
        # cover letter: payer, patient, member id, physician with NPI, site with POS and certified status
        "To: Aetna",
        # the prescriber's letter first, signed, then billing's transmittal
        "Letter of medical necessity — Zolgensma (onasemnogene abeparvovec-xioi)",
        "I am writing to request coverage of Zolgensma",
        "Individual NPI 1234567893",
        "Electronically signed",
        "Transmittal",
        "Ava Ready",
        "MBR-445566",
        "Dr. Priya Raman, individual NPI 1234567893",
        "POS 21 (Inpatient Hospital)",
        "certified SMA treatment center",
        "Novartis OneGene Program (1-855-441-4363",
        # requested service with official descriptors
        "HCPCS J3399",
        "Injection, onasemnogene abeparvovec-xioi, per treatment, up to 5 × 10¹⁵ vector genomes",
        "71894-125-04",
        "CPT 96365",
        "initial, up to 1 hour",
        "ICD-10-CM G12.0",
        "Infantile spinal muscular atrophy, type I [Werdnig-Hoffman]",
        "Family history of epilepsy and other diseases of the nervous system",
        # clinical summary, checklist with values and dates
        "Clinical summary",
        "Eligibility checklist",
        "Ready for PA",
        "1:25 drawn",
        "0 SMN1 copies (homozygous deletion)",
        "MLPA",
        "SMN2 copy number 2",
        "5.2 kg",
        # labs with xULN
        "Baseline laboratory results",
        "0.58 × ULN",
        "troponin-I",
        # steroid plan with mg and dates
        "Prednisolone 5.2 mg/day",
        day_text(planned - timedelta(days=1)),
        # monitoring plan with computed dates
        "Post-infusion monitoring plan",
        day_text(planned + timedelta(days=7)),
        day_text(planned + timedelta(days=84)),
        "Troponin-I",
        # payer checklist, each item judged, and the OBA terms
        "Aetna documentation checklist",
        "Liver monitoring plan ☑ met",
        "AAV9 titer ≤ 1:50 ☑ met",
        "Outcomes-based agreement",
        "Milestones at 6/12/24/36/60 months via OneGene.",
        # appended documents
        "GENETIC REPORT SMN1",
        "Appended document 2: AAV9 titer report",
    ]
    missing = [item for item in required if item not in text]
    assert not missing, missing
    assert "CPT 96366 Intravenous" not in text
    assert "DRAFT" not in text


def test_every_page_has_the_patient_header_and_page_x_of_y(ready_case, cast, tmp_path):
    packet = packet_create(case=ready_case, by=cast.billing, final=True)
    pages = pdf_pages(packet.file.read(), tmp_path)
    assert len(pages) == packet.page_count >= 8  # packet pages + 2 report pages + 1 image page
    dob = day_text(ready_case.patient.date_of_birth)
    for number, page in enumerate(pages, start=1):
        flat = _flat(page)
        assert "Ava Ready" in flat and f"DOB {dob}" in flat and "Member ID MBR-445566" in flat, number
        assert f"Page {number} of {len(pages)}" in flat, number
    assert "GENETIC REPORT SMN1" in pages[-3] and "page 2 of 2" in pages[-2]


def test_a_long_planned_infusion_adds_96366(ready_case, cast, tmp_path):
    PriorAuthorization.objects.create(case=ready_case, payer=ready_case.payer, planned_infusion_minutes=120)
    text = _flat(pdf_text(packet_create(case=ready_case, by=cast.billing, final=True).file.read(), tmp_path))
    assert "CPT 96365" in text and "CPT 96366" in text and "each additional hour" in text


def test_a_payer_without_an_oba_gets_no_oba_note(cast, today, tmp_path):
    payer = make_payer("Plain Payer", outcomes_based_agreement="no", oba_terms="")
    case = make_ready_case(cast.site_a, today=today, payer=payer, mrn="MRN-P2", documents=False)
    add_document(case, Document.Kind.GENETIC_REPORT, b"%PDF-1.4 broken", "application/pdf")
    # A document that cannot be appended is listed as not appended, with why (issue 13 item 3).
    draft = packet_create(case=case, by=cast.billing, final=False)
    assert [d["reason"] for d in draft.snapshot["not_appended"]] == ["it is not a readable PDF; upload it again."]
    assert "not a readable PDF" in _flat(pdf_text(draft.file.read(), tmp_path))
    Document.objects.filter(case=case).delete()
    add_document(case, Document.Kind.GENETIC_REPORT, pdf_bytes("G"), "application/pdf")
    sign_letter(case, cast.physician)
    text = _flat(pdf_text(packet_create(case=case, by=cast.billing, final=True).file.read(), tmp_path))
    assert "Outcomes-based agreement" not in text and "Plain Payer documentation checklist" in text


def test_a_failing_gate_gives_a_draft_with_watermark_and_what_blocks(ready_case, cast, today, tmp_path):
    TiterResult.objects.filter(case=ready_case).update(result_text="1:100", result_key=parse_titer("1:100").key)
    packet = packet_create(case=ready_case, by=cast.billing, final=False)
    assert not packet.final
    pages = pdf_pages(packet.file.read(), tmp_path)
    assert all("DRAFT" in p for p in pages)  # the watermark is on every page
    first = _flat(pages[0])
    assert "DRAFT — not for submission" in first
    assert "Anti-AAV9 antibody titer" in first and "1:100 drawn" in first and "Fix:" in first
    assert packet.snapshot["gate"]["blocking"]


def test_a_final_packet_is_refused_until_every_blocking_gate_passes(ready_case, cast):
    BaselineLab.objects.filter(case=ready_case, analyte="troponin_i").delete()
    with pytest.raises(PacketError, match="Still blocking: Baseline labs"):
        packet_create(case=ready_case, by=cast.billing, final=True)
    assert not PAPacket.objects.exists()


def test_a_final_packet_needs_a_planned_infusion_date(ready_case, cast):
    ready_case.planned_infusion_date = None
    ready_case.save()
    with pytest.raises(PacketError, match="Planned infusion date"):
        packet_create(case=ready_case, by=cast.billing, final=True)


def test_each_generation_is_a_new_kept_version_with_hash_and_snapshot(ready_case, cast):
    first = packet_create(case=ready_case, by=cast.billing, final=False)
    second = packet_create(case=ready_case, by=cast.billing, final=True)
    assert (first.version, second.version) == (1, 2)
    for packet in (first, second):
        packet.refresh_from_db()
        data = packet.file.read()
        assert hashlib.sha256(data).hexdigest() == packet.sha256 and packet.size == len(data)
        assert packet.created_by == cast.billing
        assert packet.snapshot["coverage"]["member_id"] == "MBR-445566"
        assert MARKER_NAME not in packet.file.name and "Ava" not in packet.file.name
        assert re.fullmatch(
            rf"packets/site-{ready_case.site_id}/case-{ready_case.pk}/v\d-[0-9a-f]{{16}}\.pdf", packet.file.name
        )
    assert PAPacket.objects.filter(case=ready_case).count() == 2


def test_a_packet_is_never_edited(ready_case, cast):
    packet = packet_create(case=ready_case, by=cast.billing, final=False)
    packet.final = True
    with pytest.raises(ValueError, match="never edited"):
        packet.save()


def test_a_render_failure_leaves_no_version_and_no_file(ready_case, cast, monkeypatch, settings):
    def broken(*args, **kwargs):
        raise RuntimeError("cairo exploded")

    monkeypatch.setattr("weasyprint.HTML.render", broken)
    with pytest.raises(PacketError, match="could not be rendered; nothing was saved"):
        packet_create(case=ready_case, by=cast.billing, final=True)
    assert not PAPacket.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "packets").exists()


def test_a_failure_while_saving_the_row_removes_the_written_file(ready_case, cast, monkeypatch, settings):
    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(PAPacket, "save", broken_save)
    with pytest.raises(RuntimeError):
        packet_create(case=ready_case, by=cast.billing, final=True)
    folder = Path(settings.MEDIA_ROOT) / "packets"
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def test_a_missing_stored_document_gives_a_clear_message(ready_case, cast):
    doc = Document.objects.get(case=ready_case, kind=Document.Kind.GENETIC_REPORT)
    doc.file.storage.delete(doc.file.name)
    packet = packet_create(case=ready_case, by=cast.billing, final=True)
    left_out = {d["id"]: d["reason"] for d in packet.snapshot["not_appended"]}
    assert left_out[doc.pk] == "the stored file is missing; upload it again."
    assert doc.pk not in {d["id"] for d in packet.snapshot["documents"]}


def test_only_the_newest_report_of_each_kind_is_appended(ready_case):
    snapshot = packet_snapshot(packet_case(ready_case.pk))
    assert [d["kind"] for d in snapshot["documents"]] == ["genetic_report", "titer_report"]


def test_the_snapshot_is_plain_json(ready_case):
    import json

    snapshot = packet_snapshot(packet_case(ready_case.pk))
    assert json.loads(json.dumps(snapshot)) == snapshot


def test_packet_module_names_its_sources():
    assert "issue #4" in packet_module.__doc__ and "domain.md" in packet_module.__doc__


def test_after_infusion_the_packet_dates_everything_from_the_infusion_day(ready_case, cast, today):
    """The gate, weight and kit are judged for the infusion day once infused (gate_date); the
    monitoring plan must start from the same day, not from the planned one."""
    from billing.summary import billing_summary

    case = ready_case
    case.infused_on = case.planned_infusion_date - timedelta(days=1)
    case.save()
    snapshot = packet_snapshot(packet_case(case.pk), today=today)
    assert snapshot["monitoring"]["infusion_date"] == case.infused_on.isoformat()
    summary = billing_summary(packet_case(case.pk), today=today)
    assert summary["five"].steroid_start == case.infused_on - timedelta(days=1)
