"""Gather one case's facts from the database into the pure gate's plain values.

The gate itself (cases/eligibility.py) knows no ORM. This module is the one adapter between
the two, used by the case page, the PA packet and infusion day alike, so all three judge the
same facts. It runs a constant number of queries however many results a case has.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from cases.eligibility import (
    ClinicalStatusObs,
    GateFacts,
    GateItem,
    GatePolicy,
    GateReport,
    LabObs,
    MotorObs,
    PayerCriteria,
    TherapyObs,
    TiterObs,
    WeightObs,
    clinical_status_item,
    evaluate_gate,
)
from cases.models import (
    BaselineLab,
    Case,
    ClinicalStatusCheck,
    Document,
    MotorAssessment,
    SmnTherapy,
    TiterResult,
    WeightMeasurement,
)
from cases.titers import parse_titer


def _plain(value: Decimal | None) -> Decimal | None:
    """Drop the database's trailing zeros (28.000 → 28, 0.250 → 0.25) for display."""
    if value is None:
        return None
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def gate_queryset(qs, *, for_display: bool = False):
    """Add the prefetches facts_for_case needs to a Case queryset (7 queries more in all).

    Voided entries are left out. ``for_display`` brings every row, voided ones included, with
    who entered and who voided it and the documents' whole rows, so the case page shows its
    result tables from the same rows the gate reads (no second query); facts_for_case skips
    the voided ones."""
    current = {"voided_at__isnull": True}  # voided entries never reach the gate (issue 15 item 5)
    weights, titers, labs, motor = (
        m.filter(**current)
        for m in (WeightMeasurement.objects, TiterResult.objects, BaselineLab.objects, MotorAssessment.objects)
    )
    # The payer's infection criterion reads the current checks, oldest recorded first (who checked, too).
    checks = ClinicalStatusCheck.objects.filter(**current).select_related("recorded_by").order_by("recorded_at", "pk")
    documents = Document.objects.filter(**current).only("id", "case_id", "kind", "voided_at")
    if for_display:
        # The page shows voided rows too (struck through); facts_for_case leaves them out.
        weights, titers, labs, motor = (
            m.select_related("entered_by", "voided_by")
            for m in (WeightMeasurement.objects, TiterResult.objects, BaselineLab.objects, MotorAssessment.objects)
        )
        documents = Document.objects.select_related("uploaded_by", "voided_by")
    return qs.select_related("patient", "site", "payer", "infusion_record").prefetch_related(
        Prefetch("weights", queryset=weights.order_by("-measured_on", "-pk")),
        Prefetch("titers", queryset=titers.order_by("-drawn_on", "-pk")),
        Prefetch("baseline_labs", queryset=labs.order_by("-drawn_on", "analyte")),
        Prefetch("smn_therapies", queryset=SmnTherapy.objects.order_by("started_on")),
        Prefetch("documents", queryset=documents.order_by("-uploaded_at")),
        Prefetch("motor_assessments", queryset=motor.order_by("-assessed_on", "-pk")),
        Prefetch("clinical_checks", queryset=checks, to_attr="gate_clinical_checks"),
    )


GATE_RELATIONS = frozenset({"weights", "titers", "baseline_labs", "smn_therapies", "documents", "motor_assessments"})


def has_gate_facts(case: Case) -> bool:
    """Whether ``case`` came from gate_queryset (its facts are already loaded)."""
    return getattr(case, "_prefetched_objects_cache", {}).keys() >= GATE_RELATIONS


def criteria_for_payer(payer) -> PayerCriteria:
    """The payer's own criteria as plain values (read through the case's relation: cases does
    not import billing). Values an admin saved are validated by the payer form; should one be
    out of range anyway, the criterion is left out rather than the page failing."""
    values = dict(
        max_smn2_copies=payer.max_smn2_copies,
        motor_scales=payer.motor_scales,
        motor_max_age_days=payer.motor_assessment_max_age_days,
        symptom_onset_before_months=payer.symptom_onset_before_months,
        max_niv_hours_per_day=payer.max_niv_hours_per_day,
        wbc_min=payer.wbc_min,
        wbc_max=payer.wbc_max,
        require_no_active_infection=payer.require_no_active_infection,
    )
    try:
        return PayerCriteria(**values)
    except ValueError:
        kept = {}
        for name, value in values.items():
            try:
                PayerCriteria(**{name: value})
            except ValueError:
                continue
            kept[name] = value
        try:
            return PayerCriteria(**kept)
        except ValueError:  # e.g. WBC limits that contradict each other
            kept.pop("wbc_min", None)
            return PayerCriteria(**kept)


def policy_for_case(case: Case) -> GatePolicy:
    """The case's payer policy as plain values; the card's defaults when no payer is set."""
    payer = case.payer
    if payer is None:
        return GatePolicy()
    return GatePolicy(
        criteria=criteria_for_payer(payer),
        titer_ceiling_denominator=payer.titer_ceiling_denominator,
        titer_max_age_days=payer.titer_max_age_days,
        weight_max_age_days=payer.weight_max_age_days,
        labs_max_age_days=payer.labs_max_age_days,
        allowed_pos=frozenset(payer.allowed_pos),
        require_certified_center=payer.require_certified_center,
        payer_name=payer.name,
        policy_source=payer.policy_source,
    )


STEROID_FROM_RECORD = "infusion record"
STEROID_FROM_PLAN = "case plan"


def steroid_start_for_case(case: Case) -> tuple[date | None, str]:
    """The prednisolone start the gate and the steroid course use, and where it comes from.

    One source of truth (issue 15 item 3): once an infusion record gives a start, that start
    is the one used; before that, the case's planned start.
    """
    record = getattr(case, "infusion_record", None)
    if record is not None and record.steroid_started_on is not None:
        return record.steroid_started_on, STEROID_FROM_RECORD
    return case.steroid_plan_start, STEROID_FROM_PLAN


def _current(rows):
    """The rows nobody voided (issue 15 item 5)."""
    return [row for row in rows if row.voided_at is None]


def _clinical_rows(case: Case):
    """The case's current infection and stability checks, oldest recorded first (prefetched by
    gate_queryset; one query otherwise)."""
    rows = getattr(case, "gate_clinical_checks", None)
    if rows is None:
        rows = (
            ClinicalStatusCheck.objects.filter(case=case, voided_at__isnull=True)
            .select_related("recorded_by")
            .order_by("recorded_at", "pk")
        )
    return list(rows)


def _check_obs(row: ClinicalStatusCheck) -> ClinicalStatusObs:
    return ClinicalStatusObs(
        checked_on=row.checked_on,
        no_active_infection=row.no_active_infection,
        clinically_stable=row.clinically_stable,
        by=row.recorded_by.get_full_name() or row.recorded_by.get_username(),
    )


def motor_obs(case: Case) -> tuple[MotorObs, ...]:
    obs = []
    for row in _current(case.motor_assessments.all()):
        try:
            obs.append(MotorObs(assessed_on=row.assessed_on, scale=row.scale, score=row.score))
        except ValueError:
            continue  # a score outside its scale was refused at entry; skip rather than fail the page
    return tuple(obs)


def facts_for_case(case: Case, *, steroid_start: date | None = None) -> GateFacts:
    """Return the case's facts for the gate. Use a case from gate_queryset() to stay at a
    constant number of queries. ``steroid_start`` is a start typed on the infusion form that is
    being saved (it is judged as the record's own)."""
    patient = case.patient
    if steroid_start is not None:
        steroid_plan, steroid_source = steroid_start, STEROID_FROM_RECORD
    else:
        steroid_plan, steroid_source = steroid_start_for_case(case)
    titers = []
    for t in _current(case.titers.all()):
        try:
            titers.append(TiterObs(drawn_on=t.drawn_on, titer=parse_titer(t.result_text), lab=t.lab))
        except ValueError:
            continue  # a stored titer always parsed when it was entered; skip rather than fail the page
    return GateFacts(
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        gestational_age_weeks=patient.gestational_age_weeks,
        gestational_age_days=patient.gestational_age_days,
        diagnosis_code=case.primary_diagnosis or None,
        smn1_genotype=case.smn1_genotype or None,
        genetic_method=case.genetic_method or None,
        genetic_report_date=case.genetic_report_date,
        genetic_report_on_file=any(d.kind == Document.Kind.GENETIC_REPORT for d in _current(case.documents.all())),
        smn2_copies=case.smn2_copies,
        weights=tuple(WeightObs(measured_on=w.measured_on, kg=_plain(w.kg)) for w in _current(case.weights.all())),
        titers=tuple(titers),
        baseline_labs=tuple(
            LabObs(
                drawn_on=lab.drawn_on,
                analyte=lab.analyte,
                value=_plain(lab.value_canonical),
                unit=lab.canonical_unit,
                uln=_plain(lab.uln_canonical),
            )
            for lab in _current(case.baseline_labs.all())
        ),
        steroid_plan_start=steroid_plan,
        steroid_plan_source=steroid_source,
        site_pos=case.site_of_care_pos or None,
        site_certified=case.site.certified_center,
        prior_j3399=case.prior_j3399,
        tracheostomy=case.tracheostomy,
        respiratory_support_hours_per_day=case.respiratory_support_hours,
        respiratory_support_days=case.respiratory_support_days,
        smn_therapies=tuple(
            TherapyObs(drug=t.drug, started_on=t.started_on, stopped_on=t.stopped_on) for t in case.smn_therapies.all()
        ),
        symptomatic=case.symptomatic,
        symptom_onset_months=case.symptom_onset_months if case.symptomatic else None,
        motor_assessments=motor_obs(case),
        clinical_checks=tuple(_check_obs(row) for row in _clinical_rows(case)),
    )


def gate_date(case: Case, today: date | None = None) -> date:
    """The date the gate is judged for: the infusion day once infused (the record of the
    pre-treatment checks), else the planned infusion date, or today when none."""
    return case.infused_on or case.planned_infusion_date or today or timezone.localdate()


def case_gate(case: Case, on: date | None = None, *, steroid_start: date | None = None) -> GateReport:
    """Evaluate the gate for ``case`` on ``on`` (default: gate_date)."""
    facts = facts_for_case(case, steroid_start=steroid_start)
    return evaluate_gate(facts, policy_for_case(case), on or gate_date(case))


def clinical_checks_for_case(case: Case) -> tuple[ClinicalStatusObs, ...]:
    """The case's infection and stability checks as plain values, oldest recorded first."""
    # Always read afresh: a check recorded a moment ago (the infusion page) must count.
    rows = (
        ClinicalStatusCheck.objects.filter(case=case, voided_at__isnull=True)
        .select_related("recorded_by")
        .order_by("recorded_at", "pk")
    )
    return tuple(_check_obs(row) for row in rows)


def case_clinical_status(case: Case, on: date) -> GateItem:
    """The infection and clinical stability item for an infusion on ``on`` (label §5)."""
    return clinical_status_item(clinical_checks_for_case(case), on)
