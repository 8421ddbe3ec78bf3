"""Gather a case's facts for cases.stage_rules (a few queries, only for the stages that need them)."""

from __future__ import annotations

from django.utils import timezone

from cases.gate_facts import case_gate, gate_queryset, has_gate_facts
from cases.infusion.pa import pa_status_for
from cases.models import Case
from cases.stage_rules import SCHEDULE_FROM, StageAction, StageFacts, stage_actions


def actions_for_case(case: Case) -> list[StageAction]:
    today = timezone.localdate()
    ready, blocking, pa_required, pa_valid = False, 0, False, False
    open_draws = open_milestones = 0
    if case.stage in SCHEDULE_FROM and case.planned_infusion_date:
        full = case if has_gate_facts(case) else gate_queryset(Case.objects.filter(pk=case.pk)).get()
        report = case_gate(full, case.planned_infusion_date)
        ready, blocking = report.is_ready, len(report.blocking_items)
        pa = pa_status_for(full, case.planned_infusion_date)
        pa_required, pa_valid = pa.required, pa.approved_and_valid
    elif case.stage in SCHEDULE_FROM:
        pa_required = case.payer is None or case.payer.pa_required
    if case.stage == "monitoring":
        open_draws = case.draws.exclude(state__in=("done", "missed")).count()
    if case.stage == "follow_up":
        open_milestones = case.milestones.exclude(state__in=("done", "missed")).count()
    return stage_actions(
        StageFacts(
            stage=case.stage,
            planned_infusion_date=case.planned_infusion_date,
            gate_ready_on_planned_date=ready,
            gate_blocking_count=blocking,
            pa_required=pa_required,
            pa_valid_on_planned_date=pa_valid,
            open_draws=open_draws,
            open_milestones=open_milestones,
            today=today,
        )
    )
