"""PA packet speed and memory (issue #4 item 6): a benchmark that prints figures, not a timed test.

`bench_packet(runs=N)` builds a throw-away case whose packet is about 10 pages (packet pages plus
an appended 4-page genetic report and a titer image), renders it N times and returns the median
render time and the process's peak resident memory. Everything is created inside a transaction
that is rolled back. The integrator wires it into `manage.py bench`.
Target on the 2-core machine: median < 3 s, peak < 300 MB.
"""

from __future__ import annotations

import hashlib
import io
import resource
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from billing.packet import load_attachments, packet_case, packet_render, packet_snapshot
from cases.models import BaselineLab, Case, Document, Patient, Site, TiterResult, WeightMeasurement
from cases.titers import parse_titer

_LABS = [
    ("alt", "32", "U/L", "55"),
    ("ast", "48", "U/L", "60"),
    ("tbili", "0.6", "mg/dL", "1.2"),
    ("pt", "12.1", "s", "13.5"),
    ("creatinine", "0.25", "mg/dL", "0.5"),
    ("hemoglobin", "11.8", "g/dL", None),
    ("platelets", "310", "10^9/L", None),
    ("troponin_i", "12", "ng/L", "40"),
]


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def _report_pdf(pages: int) -> bytes:
    from weasyprint import HTML

    body = "".join(
        f"<section style='break-before: page'><h1>Laboratory report</h1><p>Page {n}</p>"
        + "<p>SMN1 exon 7 copy number: 0. SMN2 copy number: 2. Method: MLPA.</p>" * 20
        + "</section>"
        for n in range(1, pages + 1)
    )
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def _png() -> bytes:
    import qrcode

    out = io.BytesIO()
    qrcode.make("AAV9 titer report 1:25").save(out, format="PNG")
    return out.getvalue()


def _make_case(today) -> Case:
    site = Site.objects.create(
        name="Bench site", short_code="BENCH", npi="1245319599", address="1 Bench Rd", place_of_service="21",
        certified_center=True,
    )  # fmt: skip
    patient = Patient.objects.create(
        site=site, legal_name="Bench Patient", date_of_birth=today - timedelta(days=120), sex="F", mrn="BENCH-1",
        gestational_age_weeks=39, birth_weight_kg=Decimal("3.3"), guardian_name="Guardian", guardian_phone="555-0100",
    )  # fmt: skip
    planned = today + timedelta(days=6)
    case = Case.objects.create(
        patient=patient, site=site, sma_type="1", primary_diagnosis="G12.0", secondary_diagnosis="Z82.0",
        genetic_method="MLPA", smn1_genotype="0_copies", smn2_copies=2, member_id="MBR-1", site_of_care_pos="21",
        ordering_physician_name="Dr. Bench", ordering_physician_npi="1234567893", planned_infusion_date=planned,
        steroid_plan_start=planned - timedelta(days=1), genetic_report_date=today - timedelta(days=30),
    )  # fmt: skip
    for n in range(6):  # a history of results, as a real case accumulates
        day = today - timedelta(days=3 + 7 * n)
        WeightMeasurement.objects.create(case=case, measured_on=day, kg=Decimal("5.2") - Decimal("0.1") * n)
        TiterResult.objects.create(
            case=case, drawn_on=day, lab="Lab", result_text="1:25", result_key=parse_titer("1:25").key
        )
        for analyte, value, unit, uln in _LABS:
            BaselineLab.objects.create(
                case=case, drawn_on=day, analyte=analyte, value=Decimal(value), unit=unit,
                uln=Decimal(uln) if uln else None, value_canonical=Decimal(value),
                uln_canonical=Decimal(uln) if uln else None, canonical_unit=unit,
            )  # fmt: skip
    for kind, data, content_type in (
        (Document.Kind.GENETIC_REPORT, _report_pdf(4), "application/pdf"),
        (Document.Kind.TITER_REPORT, _png(), "image/png"),
    ):
        doc = Document(case=case, kind=kind, original_name="report", content_type=content_type, size=len(data),
                       sha256=hashlib.sha256(data).hexdigest())  # fmt: skip
        doc.file.save("ignored", ContentFile(data), save=False)
        doc.save()
    return case


class _Rollback(Exception):
    pass


def bench_packet(runs: int = 5) -> dict:
    """Render a ~10-page packet ``runs`` times; return pages, median and max wall seconds, median
    CPU seconds, and peak RSS MB.

    Steps: 1. create the case (rolled back at the end); 2. gather the snapshot once; 3. time
    each render (packet_render: WeasyPrint + appended documents); 4. read the peak RSS.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    result: dict = {}
    created_files: list[str] = []
    try:
        with transaction.atomic():
            case = _make_case(timezone.localdate())
            created_files = [d.file.name for d in case.documents.all()]
            snapshot = packet_snapshot(packet_case(case.pk), final=False)
            attachments = load_attachments(snapshot)
            timings, cpu = [], []
            pages = 0
            for _ in range(runs):
                start, start_cpu = time.perf_counter(), time.process_time()
                rendered = packet_render(snapshot, attachments)
                timings.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                pages = rendered.page_count
            result = {
                "runs": runs,
                "pages": pages,
                "median_s": round(statistics.median(timings), 3),
                "max_s": round(max(timings), 3),
                # CPU seconds of this process: what the render costs when the machine is shared
                "median_cpu_s": round(statistics.median(cpu), 3),
                "peak_rss_mb": round(_peak_rss_mb(), 1),
            }
            raise _Rollback
    except _Rollback:
        pass
    finally:
        from django.core.files.storage import default_storage

        for name in created_files:
            default_storage.delete(name)
    return result


def format_result(result: dict) -> str:
    return (
        f"PA packet: {result['pages']} pages, {result['runs']} runs, median {result['median_s']} s "
        f"(max {result['max_s']} s, CPU {result['median_cpu_s']} s), peak RSS {result['peak_rss_mb']} MB (targets: < 3 s, < 300 MB)"
    )
