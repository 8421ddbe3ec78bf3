"""Demo patients and cases: one per DEMO_CASES row, with the pre-infusion facts of its scenario.

Dates are relative to ``ctx.today`` so the gate shows each scenario's state on the day the demo
is loaded. Cases already present (same site and MRN) are left alone, so rerunning changes nothing.
Infused and monitoring cases get complete pre-infusion facts dated before their infusion date,
and that date as the planned infusion date; the infusion record itself is another step's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from billing.models import Payer
from cases.analytes import ANALYTES, PANEL_ANALYTES, to_canonical
from cases.documents import document_store
from cases.eligibility import add_months, second_birthday
from cases.models import (
    BaselineLab,
    Case,
    Document,
    MotorAssessment,
    Patient,
    SmnTherapy,
    Stage,
    StageEvent,
    TiterResult,
    WeightMeasurement,
)
from cases.pipeline import case_advance
from cases.titers import parse_titer
from common.typeset import typeset_text
from demo.context import DEMO_CASES, DemoContext

# The billing card's payer table (demo.billing creates them with their policies).
PAYERS = ["UnitedHealthcare (Optum)", "Aetna", "BCBS plans", "Cigna / Accredo", "State Medicaid"]
# The ordering physician of each site's cases: the demo physician users (demo.context.PRESCRIBERS).
PHYSICIANS = {
    "NCH": ("Dr. Priya Raman", "1987654328", "child_neurology"),
    "LPC": ("Dr. Lena Fischer", "1765432103", "neuromuscular"),
}
COORDINATORS = {"NCH": "coordinator", "LPC": "outsider"}
# A normal infant baseline panel: (value, unit, ULN) per analyte.
NORMAL_LABS = {
    "alt": ("28", "U/L", "55"),
    "ast": ("42", "U/L", "60"),
    "tbili": ("6.8", "µmol/L", "20.5"),
    "pt": ("12.1", "s", "14.0"),
    "creatinine": ("0.25", "mg/dL", "0.45"),
    "hemoglobin": ("11.4", "g/dL", "14.0"),
    "platelets": ("310", "10^9/L", "450"),
    "troponin_i": ("12", "ng/L", "40"),
    # Not a label requirement: some payers' own criteria ask for it (Cigna / Accredo in the demo).
    "wbc": ("9.8", "10^9/L", "17.5"),
}
# Scenario facts for the payers' own criteria (demo.billing sets which payer asks for what):
# the child's age at symptom onset by SMA type (presymptomatic: none), and the baseline motor
# assessment (scale, score) done on the day of the baseline labs.
ONSET_MONTHS = {"1": 2, "2": 8}
MOTOR = {"1": ("chop_intend", 32), "pre": ("chop_intend", 52), "2": ("hine2", 14)}


@dataclass
class Scenario:
    """Offsets in days from today (negative: past) of the facts that set the gate state."""

    planned: int | None = None  # planned infusion date
    infused_days_ago: int | None = None  # infusion N days ago: facts dated before it
    weight: int | None = None
    titer: int | None = None
    titer_text: str = "1:25"
    labs: int | None = None
    genetics: bool = True
    ga_weeks: int = 39
    sma: str = "1"
    extra: dict = field(default_factory=dict)
    opened: int | None = None  # intake date when the case's story began before its current results
    titer_days_before: int = 10  # infused cases: the titer's draw, days before the infusion
    labs_override: dict = field(default_factory=dict)  # analyte -> (value, unit, ULN) instead of NORMAL_LABS


def _scenarios(today: date) -> dict[str, Scenario]:
    follow_up_days = (today - add_months(today, -8)).days
    return {
        "ready": Scenario(planned=6, weight=-3, titer=-5, labs=-4),
        "pa_submitted": Scenario(
            planned=10, weight=-2, titer=-3, titer_text="<1:25", labs=-2, sma="pre",
            extra=dict(smn1_genotype="1_copy_plus_variant", genetic_method="sequencing", secondary_diagnosis="Z82.0"),
        ),
        "titer_stale": Scenario(planned=5, weight=-2, titer=-15, labs=-2, sma="2"),  # drawn 20 days before
        # Its payer (Cigna / Accredo) caps WBC at 20 × 10^9/L: 23.5 is not met; no infection check yet.
        "titer_high": Scenario(
            planned=10, weight=-2, titer=-3, titer_text="1:100", labs=-2, sma="pre",
            labs_override={"wbc": ("23.5", "10^9/L", "17.5")},
        ),
        "intake": Scenario(genetics=False, sma="pre"),
        "age_out": Scenario(weight=0, titer=0, labs=0, sma="2", extra=dict(respiratory_support_hours=10, respiratory_support_days=30)),
        "premature": Scenario(planned=10, weight=-1, titer=-2, labs=-1, ga_weeks=32, sma="pre"),
        # Denied a month ago, appealed: the results on file now were redrawn for the appeal.
        "pa_denied": Scenario(planned=8, weight=-1, titer=-2, labs=-1, opened=-40),
        "infused_recent": Scenario(infused_days_ago=3, extra=dict(site_of_care_pos="22")),  # NCH outpatient
        "monitoring_normal": Scenario(infused_days_ago=40),
        # Infused under a physician's override of the payer's 14-day titer currency (demo.infusion):
        # the titer was <1:25 but drawn 17 days before, so the gate and the PA packet say stale too.
        "monitoring_abnormal": Scenario(infused_days_ago=30, titer_days_before=17, titer_text="<1:25"),
        "overdue": Scenario(infused_days_ago=27),
        "extension": Scenario(infused_days_ago=100),
        "follow_up": Scenario(infused_days_ago=follow_up_days),
        "lpc_ready": Scenario(planned=7, weight=-2, titer=-4, labs=-2),
        "lpc_overdue": Scenario(infused_days_ago=20),
        # Infused in Lakeshore's clinic office (POS 11): a professional claim the payer's site-of-care
        # policy refuses (demo.infusion records the physician's override of the site-of-care item).
        "lpc_office": Scenario(infused_days_ago=10, extra=dict(site_of_care_pos="11")),
    }  # fmt: skip


def _weight_for_age(days: int) -> Decimal:
    """A plausible infant weight: about 25 g/day for 4 months, 12 g/day after (demo only)."""
    kg = Decimal("3.3") + Decimal("0.025") * min(days, 120) + Decimal("0.012") * max(0, days - 120)
    return kg.quantize(Decimal("0.01"))


def _pdf(title: str, lines: list[str]) -> bytes:
    import logging

    from django.utils.html import escape
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # its INFO lines are per-step noise

    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    html = f"<html><body><h1>{escape(title)}</h1>{body}<p><em>Demo document (synthetic data)</em></p></body></html>"
    return HTML(string=html).write_pdf()


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(9, 0)))


def seed(ctx: DemoContext) -> None:
    today = ctx.today
    payers = [Payer.objects.get_or_create(name=name)[0] for name in PAYERS]
    scenarios = _scenarios(today)
    cases: dict[str, Case] = ctx.extra.setdefault("cases", {})  # type: ignore[assignment]
    for index, (key, site_code, name, sex, age_days, _scenario_text) in enumerate(DEMO_CASES):
        site = ctx.sites[site_code]
        mrn = f"{site_code}-{10001 + index}"
        existing = Case.objects.filter(site=site, patient__mrn=mrn).first()
        if existing is not None:
            if not existing.patient.address_line1:  # seeded before addresses were recorded
                Patient.objects.filter(pk=existing.patient_id).update(**_address(site, index))
            cases[key] = existing
            continue
        cases[key] = _create(
            ctx, key, index, site, mrn, name, sex, today - timedelta(days=age_days), scenarios[key], payers
        )


# Made-up home addresses near each demo site (the 837's subscriber N3/N4).
HOME_TOWNS = {"NCH": ("Northfield", "MA", "01360"), "LPC": ("Chicago", "IL", "60614")}


def _address(site, index: int) -> dict:
    city, state, zip5 = HOME_TOWNS.get(site.short_code, ("Springfield", "IL", "62701"))
    return dict(
        address_line1=f"{10 + index * 7} {('Maple', 'Oak', 'Cedar', 'Birch')[index % 4]} Street",
        address_line2=f"Apt {index}" if index % 3 == 0 else "",
        city=city,
        state=state,
        zip_code=f"{zip5}{1000 + index:04d}" if index % 2 else zip5,
    )


def _create(ctx, key, index, site, mrn, name, sex, dob, sc: Scenario, payers) -> Case:
    today = ctx.today
    by = ctx.users.get(COORDINATORS[site.short_code])
    surname = name.split()[-1]
    patient = Patient.objects.create(
        site=site,
        legal_name=name,
        date_of_birth=dob,
        sex=sex,
        mrn=mrn,
        gestational_age_weeks=sc.ga_weeks,
        gestational_age_days=2 if sc.ga_weeks >= 37 else 0,
        birth_weight_kg=Decimal("1.80") if sc.ga_weeks < 37 else Decimal("3.30"),
        guardian_name=f"{'Jordan' if index % 2 else 'Alex'} {surname}",
        guardian_phone=f"555-01{index:02d}",
        guardian_email=f"guardian{index}@example.invalid",
        preferred_language="Spanish" if index % 5 == 3 else "English",
        **_address(site, index),
    )
    if sc.infused_days_ago is not None:
        planned = today - timedelta(days=sc.infused_days_ago)
        weight, titer, labs = (
            planned - timedelta(days=3),
            planned - timedelta(days=sc.titer_days_before),
            planned - timedelta(days=5),
        )
    else:
        planned = today + timedelta(days=sc.planned) if sc.planned is not None else None
        if key == "age_out":
            planned = second_birthday(dob) + timedelta(days=3)  # after the label's "< 2 years" ends
        weight, titer, labs = (
            today + timedelta(days=d) if d is not None else None for d in (sc.weight, sc.titer, sc.labs)
        )
    physician, npi, specialty = PHYSICIANS[site.short_code]
    presymptomatic = sc.sma == "pre"
    fields = dict(
        sma_type=sc.sma,
        symptomatic=not presymptomatic,
        symptom_onset_months=None if presymptomatic else ONSET_MONTHS.get(sc.sma),
        nbs_identified=presymptomatic,
        nbs_date=dob + timedelta(days=2) if presymptomatic else None,
        primary_diagnosis={"1": "G12.0", "2": "G12.1"}.get(sc.sma, "G12.9"),
        genetic_method="MLPA" if sc.genetics else "",
        smn1_genotype="0_copies" if sc.genetics else "",
        smn2_copies=2 if sc.sma == "1" else 3,
        genetic_report_date=dob + timedelta(days=12) if sc.genetics else None,
        payer=payers[index % len(payers)],
        plan_name="Commercial PPO" if index % 5 != 4 else "Medicaid managed care",
        member_id=f"M{700000 + index * 37}",
        site_of_care_pos=site.place_of_service,  # a scenario's extra may set another (e.g. 22, 11)
        ordering_physician_name=physician,
        ordering_physician_npi=npi,
        ordering_physician_specialty=specialty,
        planned_infusion_date=planned,
        steroid_plan_start=planned - timedelta(days=1) if planned else None,
        coordinator=by,
    )
    fields.update(sc.extra)
    case = Case.objects.create(patient=patient, site=site, **fields)
    first = min([d for d in (weight, titer, labs) if d is not None], default=None)
    opened = (first or today) - timedelta(days=3)
    if sc.opened is not None:
        opened = today + timedelta(days=sc.opened)
        first = opened + timedelta(days=3) if first is not None else None  # gating: first results then
    StageEvent.objects.create(
        case=case, stage=Stage.INTAKE, by=by, entered_at=_at(max(opened, dob)), note="Demo intake"
    )
    if key == "age_out":
        SmnTherapy.objects.create(case=case, drug="nusinersen", started_on=dob + timedelta(days=200))
    if key == "pa_denied":
        SmnTherapy.objects.create(
            case=case, drug="risdiplam", started_on=dob + timedelta(days=60), stopped_on=today - timedelta(days=20)
        )
    if sc.genetics:
        _document(case, Document.Kind.GENETIC_REPORT, "SMN1/SMN2 genetic report", [
            f"Patient: {patient.legal_name}, born {dob.isoformat()}",
            f"Method: {case.genetic_method}. SMN1: {case.get_smn1_genotype_display()}. SMN2 copies: {case.smn2_copies}.",
            f"Report date: {case.genetic_report_date.isoformat()}",
        ], by)  # fmt: skip
    if weight is not None:
        WeightMeasurement.objects.create(
            case=case, measured_on=weight, kg=_weight_for_age((weight - dob).days), entered_by=by
        )
    if titer is not None:
        result = sc.titer_text
        TiterResult.objects.create(
            case=case, drawn_on=titer, lab="Labcorp Viral Vector Serology", method="ELISA",
            result_text=result, result_key=parse_titer(result).key, entered_by=by,
        )  # fmt: skip
        _document(case, Document.Kind.TITER_REPORT, "Anti-AAV9 total binding antibody", [
            f"Patient: {patient.legal_name}, born {dob.isoformat()}",
            f"Drawn {titer.isoformat()}; ELISA; result {result}",
        ], by)  # fmt: skip
    if labs is not None:
        scale, score = MOTOR.get(sc.sma, MOTOR["1"])
        MotorAssessment.objects.create(case=case, scale=scale, score=score, assessed_on=labs, entered_by=by)
        for analyte in PANEL_ANALYTES:
            value, unit, uln = {**NORMAL_LABS, **sc.labs_override}.get(analyte, NORMAL_LABS[analyte])
            value_c, canonical = to_canonical(analyte, value, unit)
            uln_c, _ = to_canonical(analyte, uln, unit)
            BaselineLab.objects.create(
                case=case, drawn_on=labs, analyte=analyte, value=Decimal(value), unit=unit, uln=Decimal(uln),
                value_canonical=value_c.quantize(Decimal("0.001")), uln_canonical=uln_c.quantize(Decimal("0.001")),
                canonical_unit=canonical, entered_by=by,
            )  # fmt: skip
        _lab_reports(case, key, patient, labs, by)
    if case.payer is not None and case.payer.name == "State Medicaid" and sc.genetics:
        # The payer's own form, uploaded as an "Other" document: the packet appends it and its
        # checklist item reads met.
        _document(case, Document.Kind.OTHER, "State Medicaid service request form", [
            f"Member: {patient.legal_name}, born {dob.isoformat()}, ID {case.member_id}",
            "Requested: J3399 × 1 (onasemnogene abeparvovec-xioi), one-time IV infusion",
            f"Prescriber: {physician}, NPI {npi}",
        ], by)  # fmt: skip
    if first is not None:
        case_advance(case=case, to=Stage.GATING, by=by, note="First pre-treatment result recorded", at=_at(first))
    return case


def _lab_reports(case: Case, key: str, patient: Patient, labs: date, by) -> None:
    """The laboratory's own report of the baseline panel, for the scenarios whose packet shows one:
    the ready case appends it; the appealed case redrew its labs, so its first report is superseded
    and the packet says so (issue 17 item 6: an uploaded report is never left out without a word)."""
    if key not in ("ready", "pa_denied"):
        return
    lines = [f"Patient: {patient.legal_name}, born {patient.date_of_birth.isoformat()}"] + [
        typeset_text(f"{ANALYTES[analyte].label}: {value} {unit} (reference range up to {uln} {unit})")
        for analyte, (value, unit, uln) in NORMAL_LABS.items()
    ]
    if key == "pa_denied":
        _document(case, Document.Kind.LAB_REPORT, "Baseline laboratory report (first draw)", [
            *lines[:1], f"Drawn {(labs - timedelta(days=35)).isoformat()}", *lines[1:]
        ], by)  # fmt: skip
    _document(case, Document.Kind.LAB_REPORT, "Baseline laboratory report", [
        *lines[:1], f"Drawn {labs.isoformat()}", *lines[1:]
    ], by)  # fmt: skip


def _document(case: Case, kind: str, title: str, lines: list[str], by) -> None:
    upload = ContentFile(_pdf(title, lines), name=f"{kind}.pdf")
    document_store(case=case, kind=kind, upload=upload, by=by)
