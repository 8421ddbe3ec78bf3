"""Cases whose gate passes on a given day, and infusion records, for the infusion-day tests."""

from __future__ import annotations

import hashlib
from datetime import date, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from billing.models import ChargeItem, Payer, SiteBilling
from cases.analytes import BASELINE_LAB_ANALYTES
from cases.infusion.models import InfusionPause, InfusionRecord, InfusionVial
from cases.models import BaselineLab, ClinicalStatusCheck, Document, TiterResult, WeightMeasurement
from tests.personas import make_case, make_user

NORMAL_LABS = {
    "alt": ("30", "60"),
    "ast": ("40", "60"),
    "tbili": ("0.5", "1.2"),
    "pt": ("12", "13"),
    "creatinine": ("0.3", None),
    "hemoglobin": ("11", None),
    "platelets": ("300", None),
    "troponin_i": ("0.01", None),
}


def payer(name: str = "Open Health", **fields) -> Payer:
    fields.setdefault("pa_required", False)
    fields.setdefault("payer_id", "OPENH01")
    fields.setdefault("inpatient_drug_carve_out", "carved_out")
    return Payer.objects.get_or_create(name=name, defaults=fields)[0]


# A site's chargemaster: (revenue code, charge) per code (demo prices, not real ones).
CHARGES = {
    "J3399": ("0636", Decimal("2125000.00")),
    "96365": ("0260", Decimal("450.00")),
    "96366": ("0260", Decimal("150.00")),
}


def billing_settings(site, **fields) -> SiteBilling:
    """The site's billing settings and full price list (idempotent)."""
    values = dict(
        tin="123456789",
        street="100 Harbor Way",
        city="Northfield",
        state="MA",
        zip_code="013601234",
        contact_name="Billing Office",
        contact_phone="4135550100",
    )
    values.update(fields)
    settings, created = SiteBilling.objects.get_or_create(site=site, defaults=values)
    if created:
        for code, (revenue, charge) in CHARGES.items():
            ChargeItem.objects.create(settings=settings, code=code, revenue_code=revenue, charge=charge)
    return settings


def _a_physician(site):
    """A physician of ``site`` (the cast's, when there is one)."""
    physician = get_user_model().objects.filter(groups__name="physician", memberships__site=site).first()
    return physician or make_user(f"physician-{site.short_code.lower()}", "physician", site)


def make_ready(case, on: date | None = None, weight: str = "5.4"):
    """Give ``case`` every fact the gate needs to pass for an infusion on ``on`` (default today)."""
    on = on or timezone.localdate()
    case.smn1_genotype = "0_copies"
    case.genetic_method = "MLPA"
    case.genetic_report_date = on - timedelta(days=60)
    case.smn2_copies = 2
    case.site_of_care_pos = "21"
    case.planned_infusion_date = on
    case.steroid_plan_start = on - timedelta(days=1)
    case.ordering_physician_name = "Dr. Test Physician"
    case.ordering_physician_npi = "1234567893"
    if case.payer is None:
        case.payer = payer()
    case.member_id = case.member_id or "M7000123"
    case.save()
    billing_settings(case.site)
    content = b"%PDF-1.4 genetic report"
    Document.objects.create(
        case=case,
        kind=Document.Kind.GENETIC_REPORT,
        file=ContentFile(content, name="report.pdf"),
        original_name="report.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    WeightMeasurement.objects.create(case=case, measured_on=on - timedelta(days=2), kg=Decimal(weight))
    # The physician's infection and stability check the day before (label §5), which signing needs.
    ClinicalStatusCheck.objects.create(
        case=case,
        checked_on=on - timedelta(days=1),
        no_active_infection=True,
        clinically_stable=True,
        recorded_by=_a_physician(case.site),
    )
    TiterResult.objects.create(
        case=case, drawn_on=on - timedelta(days=5), lab="Lab", result_text="1:25", result_key=Decimal("25")
    )
    for analyte in BASELINE_LAB_ANALYTES:
        value, uln = NORMAL_LABS[analyte]
        BaselineLab.objects.create(
            case=case,
            drawn_on=on - timedelta(days=5),
            analyte=analyte,
            value=Decimal(value),
            unit="u",
            uln=Decimal(uln) if uln else None,
            value_canonical=Decimal(value),
            uln_canonical=Decimal(uln) if uln else None,
            canonical_unit="u",
        )
    return case


def ready_case(site, on: date | None = None, *, name: str = "Ready Child", mrn: str = "MRN-R", **fields):
    on = on or timezone.localdate()
    case = make_case(site, name=name, mrn=mrn, dob=on - timedelta(days=120), **fields)
    return make_ready(case, on)


# Band 5.1-5.5 kg: kit 71894-125-04, 1 × 5.5 mL + 3 × 8.3 mL, 30.3 mL (label Table 1).
KIT_5_4 = "71894-125-04"
SIZES_5_4 = ["5.5", "8.3", "8.3", "8.3"]


def record_post(on: date, **overrides) -> dict:
    """POST data for a complete record: 5.4 kg, 60-minute infusion, four vials (a new record:
    version 0; pass ``version`` to edit a saved one)."""
    data = {
        "version": "0",
        "infused_on": on.isoformat(),
        "weight_kg": "5.4",
        "steroid_started_on": (on - timedelta(days=1)).isoformat(),
        "steroid_started_at": "08:00",
        "steroid_mg": "5.4",
        "steroid_confirmed": "on",
        "kit_ndc": KIT_5_4,
        "total_volume_ml": "30.3",
        "syringe_pump": "Medfusion 4000, asset SP-12",
        "catheter": "24G PIV left saphenous + backup right hand",
        "started_at": "09:00",
        "stopped_at": "10:00",
        "adverse_events": "None",
        "administered_by": "J. Rivera, RN",
        "vial-TOTAL_FORMS": str(len(SIZES_5_4)),
        "vial-INITIAL_FORMS": "0",
        "vial-MIN_NUM_FORMS": "0",
        "vial-MAX_NUM_FORMS": "14",
        "pause-TOTAL_FORMS": "0",
        "pause-INITIAL_FORMS": "0",
    }
    for i, size in enumerate(SIZES_5_4):
        data[f"vial-{i}-size_ml"] = size
        data[f"vial-{i}-lot_number"] = f"LOT-{i + 1}A"
        data[f"vial-{i}-expires_on"] = (on + timedelta(days=200)).isoformat()
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def vial_post(sizes: list[str], on: date) -> dict:
    data = {"vial-TOTAL_FORMS": str(len(sizes))}
    for i, size in enumerate(sizes):
        data[f"vial-{i}-size_ml"] = size
        data[f"vial-{i}-lot_number"] = f"LOT-{i + 1}A"
        data[f"vial-{i}-expires_on"] = (on + timedelta(days=200)).isoformat()
    return data


def make_record(
    case, by, on: date | None = None, *, minutes: int = 60, signed_by=None, pauses=(), **fields
) -> InfusionRecord:
    """A complete record saved directly (5.4 kg kit), optionally marked signed (no schedule).

    ``minutes`` is the clock time from 09:00; ``pauses`` are (stopped, resumed, why) inside it."""
    on = on or timezone.localdate()
    start = time(9, 0)
    stop_minutes = 9 * 60 + minutes
    values = dict(
        infused_on=on,
        weight_kg=Decimal("5.4"),
        steroid_started_on=on - timedelta(days=1),
        steroid_started_at=time(8, 0),
        steroid_mg=Decimal("5.4"),
        steroid_confirmed=True,
        kit_ndc=KIT_5_4,
        total_volume_ml=Decimal("30.3"),
        syringe_pump="Medfusion 4000",
        catheter="24G PIV + backup",
        started_at=start,
        stopped_at=time(stop_minutes // 60, stop_minutes % 60),
        adverse_events="None",
        administered_by="J. Rivera, RN",
        entered_by=by,
    )
    values.update(fields)
    record = InfusionRecord.objects.create(case=case, **values)
    for i, size in enumerate(SIZES_5_4, start=1):
        InfusionVial.objects.create(
            record=record, position=i, size_ml=size, lot_number=f"LOT-{i}A", expires_on=on + timedelta(days=200)
        )
    for i, (stopped, resumed, why) in enumerate(pauses, start=1):
        InfusionPause.objects.create(record=record, position=i, started_at=stopped, resumed_at=resumed, reason=why)
    if signed_by is not None:
        record.signed_by = signed_by
        record.signed_name = signed_by.get_full_name() or signed_by.username
        record.signed_at = timezone.now()
        record.save()
    return record
