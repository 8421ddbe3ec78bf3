"""Small real files and form data for the case tests."""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_bytes(fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format=fmt)
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def intake_data(site, **overrides) -> dict:
    """A complete, valid intake POST."""
    today = date.today()
    data = {
        "site": site.pk,
        "legal_name": "Nora Intake",
        "date_of_birth": (today - timedelta(days=100)).isoformat(),
        "sex": "F",
        "mrn": "MRN-NEW-1",
        "gestational_age_weeks": "39",
        "gestational_age_days": "1",
        "birth_weight_kg": "3.40",
        "guardian_name": "Pat Intake",
        "guardian_phone": "555-0199",
        "guardian_email": "",
        "preferred_language": "English",
        "sma_type": "1",
        "symptomatic": "on",
        "nbs_date": "",
        "primary_diagnosis": "G12.0",
        "secondary_diagnosis": "",
        "genetic_method": "MLPA",
        "smn1_genotype": "0_copies",
        "smn2_copies": "2",
        "genetic_report_date": (today - timedelta(days=80)).isoformat(),
        "payer": "",
        "plan_name": "",
        "member_id": "",
        "site_of_care_pos": "21",
        "ordering_physician_name": "Dr. Test",
        "ordering_physician_npi": "1234567893",
        "planned_infusion_date": (today + timedelta(days=7)).isoformat(),
        "steroid_plan_start": (today + timedelta(days=6)).isoformat(),
        "respiratory_support_hours": "0",
        "respiratory_support_days": "0",
        "therapies-TOTAL_FORMS": "2",
        "therapies-INITIAL_FORMS": "0",
        "therapies-MIN_NUM_FORMS": "0",
        "therapies-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


LAB_PANEL = {
    "alt": ("30", "U/L", "55"),
    "ast": ("40", "U/L", "60"),
    "tbili": ("8.55", "µmol/L", "20.5"),
    "pt": ("12", "s", "14"),
    "creatinine": ("0.3", "mg/dL", "0.45"),
    "hemoglobin": ("115", "g/L", "140"),
    "platelets": ("300", "10^9/L", "450"),
    "troponin_i": ("0.012", "ng/mL", "0.04"),
}


def lab_data(drawn: date, **overrides) -> dict:
    data = {"drawn_on": drawn.isoformat()}
    for analyte, (value, unit, uln) in LAB_PANEL.items():
        data[f"{analyte}_value"], data[f"{analyte}_unit"], data[f"{analyte}_uln"] = value, unit, uln
    data.update(overrides)
    return data
