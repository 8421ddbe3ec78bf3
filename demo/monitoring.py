"""Monitoring demo data: results, flags, steroid decisions and milestones for the infused demo
cases of demo/context.py DEMO_CASES (idempotent: a rerun changes nothing).

If the infusion step did not create the schedule (demo.infusion missing), the schedule
is created here with the infusion dates the scenarios describe.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from cases.pipeline import case_advance
from monitoring import milestones as milestone_rules
from monitoring.models import Assessment, Draw, SteroidCourse, SteroidDecision
from monitoring.workflows import (
    ResultInput,
    draws_advance,
    results_record,
    schedule_create,
    steroid_course_start,
    steroid_decide,
)

# Days since infusion, from the scenarios in demo/context.py DEMO_CASES.
INFUSED_DAYS_AGO = {
    "infused_recent": 3,
    "monitoring_normal": 40,
    "monitoring_abnormal": 30,
    "overdue": 27,
    "extension": 100,
    "lpc_overdue": 20,
}
FOLLOW_UP_MONTHS_AGO = 8  # "infused 8 months ago: 6-month milestone recorded"

ULN = {"alt": Decimal(55), "ast": Decimal(60), "tbili": Decimal("1.0"), "pt": Decimal(14)}
UNITS = {
    "alt": "U/L",
    "ast": "U/L",
    "tbili": "mg/dL",
    "pt": "s",
    "platelets": "10^9/L",
    "hemoglobin": "g/dL",
    "troponin_i": "ng/L",
}
NORMAL = {
    "alt": Decimal(32),
    "ast": Decimal(41),
    "tbili": Decimal("0.4"),
    "pt": Decimal("12.1"),
    "platelets": Decimal(285),
    "hemoglobin": Decimal("11.8"),
    "troponin_i": Decimal(10),  # at or below the baseline 12 ng/L: back to baseline
}


def _infused_on(key: str, today: date) -> date:
    if key == "follow_up":
        return milestone_rules.add_months(today, -FOLLOW_UP_MONTHS_AGO)
    return today - timedelta(days=INFUSED_DAYS_AGO[key])


def _values(draw: Draw, overrides: dict | None) -> list[ResultInput]:
    values = {**NORMAL, **(overrides or {})}
    return [ResultInput(a, values[a], UNITS[a], ULN.get(a)) for a in draw.analytes]


def _record(draw: Draw, by, overrides: dict | None = None) -> None:
    """Results collected on the due date at 09:30 local, entered the same day."""
    if draw.state == "done":
        return
    collected = datetime.combine(draw.due_on, time(9, 30), tzinfo=ZoneInfo(draw.site.timezone))
    results_record(
        draw=draw, results=_values(draw, overrides), collected_at=collected, by=by, now=collected + timedelta(hours=6)
    )


def _record_through(case, last_day: int, by, abnormal: dict[tuple[str, int], dict] | None = None, skip=()) -> None:
    for draw in (
        Draw.objects.filter(case=case, day__lte=last_day)
        .exclude(kind="steroid_review")
        .select_related("site", "protocol", "case__patient")
    ):
        if (draw.kind, draw.day) in skip:
            continue
        _record(draw, by, (abnormal or {}).get((draw.kind, draw.day)))


def _decide(case, action: str, reason: str, by, on: date) -> None:
    course = SteroidCourse.objects.get(case=case)
    if SteroidDecision.objects.filter(course=course).exists():
        return
    steroid_decide(course=course, action=action, reason=reason, clinical_exam_normal=True, by=by, today=on)


def seed(ctx) -> None:
    cases = ctx.extra.get("cases") or {}
    today = ctx.today
    coordinator = ctx.users.get("coordinator")
    lpc_coordinator = ctx.users.get("outsider")  # the Lakeshore coordinator in demo/context.py
    physician = ctx.users.get("physician")
    keys = [*INFUSED_DAYS_AGO, "follow_up"]
    for key in keys:
        case = cases.get(key)
        if case is None:
            continue
        case.refresh_from_db()  # the infusion step signs through its own copy of the case
        if not Draw.objects.filter(case=case).exists():
            infused_on = case.infused_on or _infused_on(key, today)
            stage = "follow_up" if key == "follow_up" else "monitoring"
            type(case).objects.filter(pk=case.pk).update(infused_on=infused_on, stage=stage)
            case.infused_on, case.stage = infused_on, stage
            schedule_create(case=case, infused_on=infused_on, today=today)
        steroid_course_start(case=case, infused_on=case.infused_on)
    by = {key: (lpc_coordinator if key.startswith("lpc_") else coordinator) for key in keys}
    if "monitoring_normal" in cases:
        case = cases["monitoring_normal"]
        _record_through(case, 28, by["monitoring_normal"])
        _decide(
            case,
            "taper",
            "Day-28 liver panel unremarkable and exam normal: taper over 28 days.",
            physician,
            case.infused_on + timedelta(days=28),
        )
    if "monitoring_abnormal" in cases:
        case = cases["monitoring_abnormal"]
        _record_through(
            case,
            28,
            by["monitoring_abnormal"],
            {
                ("liver", 21): {"alt": Decimal(99)},
                ("liver", 28): {"alt": Decimal("170.5")},
                ("troponin", 28): {"troponin_i": Decimal(18)},
            },
        )
        _decide(
            case,
            "continue",
            "ALT 3.1×ULN at day 28: continue 1 mg/kg/day and recheck with the day-42 panel.",
            physician,
            today,
        )
    if "overdue" in cases:
        _record_through(cases["overdue"], 14, by["overdue"])  # day 21 left open
    if "extension" in cases:
        case = cases["extension"]
        abnormal = {("liver", day): {"alt": Decimal(140), "ast": Decimal(150)} for day in (28, 42, 56, 70, 84)}
        _record_through(case, 84, by["extension"], abnormal)
        _decide(
            case,
            "continue",
            "ALT and AST above 2×ULN at day 28: continue full dose.",
            physician,
            case.infused_on + timedelta(days=28),
        )
    if "follow_up" in cases:
        case = cases["follow_up"]
        _record_through(case, 84, by["follow_up"])
        _decide(case, "taper", "Unremarkable at day 28: taper.", physician, case.infused_on + timedelta(days=28))
        milestone = case.milestones.filter(month=6).first()
        if milestone and not milestone.assessments.exists():
            Assessment.objects.create(
                milestone=milestone,
                case=case,
                site=case.site,
                assessed_on=milestone.due_on,
                sits=True,
                walks=False,
                chop_intend=52,
                hine2=14,
                who_milestones=dict.fromkeys(milestone_rules.INSTRUMENTS["who_motor"].items, False)
                | {"sitting without support": True},
                ventilator_free=True,
                notes="Sits without support for 30 s; no respiratory support.",
                entered_by=by["follow_up"],
            )
            milestone.state, milestone.next_change_at = "done", None
            milestone.completed_at = datetime.combine(milestone.due_on, time(12), tzinfo=ZoneInfo(case.site.timezone))
            milestone.save(update_fields=["state", "next_change_at", "completed_at"])
        case.refresh_from_db()
        if case.stage == "monitoring" and not case.draws.exclude(state__in=("done", "missed")).exists():
            case_advance(case=case, to="follow_up", by=physician, note="Demo: lab monitoring complete")
    if "lpc_overdue" in cases:
        _record_through(cases["lpc_overdue"], 7, by["lpc_overdue"])  # day 14 left open -> overdue
    draws_advance()
