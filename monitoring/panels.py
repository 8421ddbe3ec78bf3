"""The monitoring panel of the case page (cases/panels.py): urgent banner, open flags, the
schedule with its states, trend charts, the steroid course and outcome milestones."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from accounts.permissions import can
from monitoring import charts, steroids
from monitoring.models import Assessment, Draw, Flag, FlagLevel, Milestone, SteroidCourse
from monitoring.workflows import latest_liver_draw, review_pending


def case_panel(request, case) -> tuple[str, dict]:
    """Return the panel template and its context; a constant number of queries per case."""
    every = list(Draw.objects.filter(case=case).select_related("protocol").prefetch_related("results"))
    draws = [d for d in every if not d.unscheduled]
    # Results no scheduled window covered (issue 19 item 2); one whose results all moved away is not shown.
    unscheduled = [d for d in every if d.unscheduled and d.results.all()]
    flags = list(Flag.objects.filter(case=case, resolved_at__isnull=True).select_related("draw", "acknowledged_by"))
    current = Assessment.objects.filter(voided_at__isnull=True)
    milestones = list(
        Milestone.objects.filter(case=case).prefetch_related(
            Prefetch("assessments", queryset=current, to_attr="current_assessments")
        )
    )
    course = (
        SteroidCourse.objects.filter(case=case)
        .prefetch_related("decisions__decided_by", "decisions__liver_draw")
        .first()
    )
    liver_draw = latest_liver_draw(case) if course else None
    decisions = list(course.decisions.all()) if course else []
    today = timezone.localdate()
    taper = []
    if course and course.status == SteroidCourse.Status.TAPERING and course.full_dose_mg:
        taper = steroids.taper_plan(course.taper_starts_on, course.full_dose_mg)
    context = {
        "case": case,
        "draws": draws,
        "unscheduled": unscheduled,
        "protocol": draws[0].protocol if draws else None,
        "flags": flags,
        "urgent_flags": [f for f in flags if f.level == FlagLevel.URGENT],
        "milestones": milestones,
        "course": course,
        "decisions": decisions,
        "last_decision": next((d for d in reversed(decisions) if d.is_current), None),
        "review_pending": bool(course and review_pending(course, liver_draw, today)),
        "taper_plan": taper,
        "charts": charts.CHARTS,
        "has_results": any(d.results.all() for d in every),
        "can_enter": can(request.user, "enter_monitoring_results"),
        "can_acknowledge": can(request.user, "acknowledge_result_flag"),
    }
    return "monitoring/_panel.html", context
