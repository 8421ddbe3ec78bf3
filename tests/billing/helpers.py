"""Test data for billing: a case whose every blocking gate passes, payers, documents."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile

from accounts.models import PrescriberProfile
from billing.lmn import letter_save, letter_state
from billing.models import Payer
from cases.models import BaselineLab, Document, TiterResult, WeightMeasurement
from cases.titers import parse_titer
from tests.personas import make_case

# Baseline panel (analyte, value, unit, ULN): all normal.
NORMAL_LABS = [
    ("alt", "32", "U/L", "55"),
    ("ast", "48", "U/L", "60"),
    ("tbili", "0.6", "mg/dL", "1.2"),
    ("pt", "12.1", "s", "13.5"),
    ("creatinine", "0.25", "mg/dL", "0.5"),
    ("hemoglobin", "11.8", "g/dL", None),
    ("platelets", "310", "10^9/L", None),
    ("troponin_i", "12", "ng/L", "40"),
]


def make_payer(name: str = "Aetna", **extra) -> Payer:
    defaults = dict(
        outcomes_based_agreement=Payer.Oba.YES,
        oba_terms="Milestones at 6/12/24/36/60 months via OneGene.",
        key_documentation="FDA label; site-of-care; pediatric specialty review",
        documentation_checklist=["Genetic report (bi-allelic SMN1)", "AAV9 titer <= 1:50", "Liver monitoring plan"],
    )
    defaults.update(extra)
    return Payer.objects.create(name=name, **defaults)


def pdf_bytes(text: str, pages: int = 1) -> bytes:
    """A small real PDF (rendered by WeasyPrint) with ``text`` on each page."""
    from weasyprint import HTML

    body = "".join(
        f"<div style='break-before: page'><h1>{text}</h1><p>page {n} of {pages}</p></div>" for n in range(1, pages + 1)
    )
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def png_bytes() -> bytes:
    """A small PNG (a QR code image, made with the installed qrcode package)."""
    import qrcode

    out = io.BytesIO()
    qrcode.make("TITER REPORT").save(out, format="PNG")
    return out.getvalue()


def many_page_pdf(pages: int) -> bytes:
    """A PDF of ``pages`` blank 1-inch pages: about 120 bytes a page (3,000 pages: ~370 KB)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=72, height=72)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def huge_png(width: int, height: int) -> bytes:
    """A one-bit black PNG of ``width`` × ``height`` pixels: 12,000 × 12,000 compresses to ~17 KB."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG")
    return out.getvalue()


def add_document(case, kind: str, data: bytes, content_type: str, name: str = "report.pdf", user=None) -> Document:
    sha = hashlib.sha256(data).hexdigest()
    doc = Document(
        case=case,
        kind=kind,
        original_name=name,
        content_type=content_type,
        size=len(data),
        sha256=sha,
        uploaded_by=user,
    )
    doc.file.save("ignored", ContentFile(data), save=False)
    doc.save()
    return doc


def make_ready_case(
    site,
    *,
    today: date,
    payer: Payer | None = None,
    name: str = "Ava Ready",
    mrn: str = "MRN-R1",
    labs: int = 1,
    documents: bool = True,
    **extra,
):
    """A case whose every blocking gate passes for an infusion 6 days after ``today``.

    ``labs`` > 1 adds that many older copies of each lab, weight and titer (for query counts).
    """
    planned = today + timedelta(days=6)
    fields = dict(
        sma_type="1",
        primary_diagnosis="G12.0",
        secondary_diagnosis="Z82.0",
        genetic_method="MLPA",
        smn1_genotype="0_copies",
        smn2_copies=2,
        genetic_report_date=today - timedelta(days=40),
        payer=payer,
        plan_name="Choice Plus",
        member_id="MBR-445566",
        site_of_care_pos="21",
        ordering_physician_name="Dr. Priya Raman",
        ordering_physician_npi="1234567893",
        planned_infusion_date=planned,
        steroid_plan_start=planned - timedelta(days=1),
        nbs_identified=True,
        nbs_date=today - timedelta(days=110),
    )
    fields.update(extra)
    case = make_case(site, name=name, mrn=mrn, dob=today - timedelta(days=120), **fields)
    for n in range(labs):
        back = timedelta(days=3 + n)
        WeightMeasurement.objects.create(case=case, measured_on=today - back, kg=Decimal("5.2"))
        titer = parse_titer("1:25")
        TiterResult.objects.create(
            case=case, drawn_on=today - back, lab="Athena Diagnostics", result_text="1:25", result_key=titer.key
        )
        for analyte, value, unit, uln in NORMAL_LABS:
            BaselineLab.objects.create(
                case=case,
                drawn_on=today - back,
                analyte=analyte,
                value=Decimal(value),
                unit=unit,
                uln=Decimal(uln) if uln else None,
                value_canonical=Decimal(value),
                uln_canonical=Decimal(uln) if uln else None,
                canonical_unit=unit,
            )
    if documents:
        add_document(case, Document.Kind.GENETIC_REPORT, pdf_bytes("GENETIC REPORT SMN1", pages=2), "application/pdf")
        add_document(case, Document.Kind.TITER_REPORT, png_bytes(), "image/png", name="titer.png")
    return case


def prescriber(user, npi: str = "1234567893", specialty: str = "child_neurology", credentials: str = "MD"):
    """Give ``user`` (a physician) the individual NPI the test cases name as ordering physician."""
    PrescriberProfile.objects.update_or_create(
        user=user, defaults={"npi": npi, "specialty": specialty, "credentials": credentials}
    )
    return user


def sign_letter(case, physician, body: str | None = None):
    """The physician signs the case's letter of medical necessity as GeneGate drafts it (or ``body``)."""
    if not PrescriberProfile.objects.filter(user=physician).exists():
        prescriber(physician)
    state = letter_state(case)
    return letter_save(
        case=case,
        body=body if body is not None else state.text,
        based_on=state.latest.version if state.latest else 0,
        by=physician,
        sign=True,
    )
