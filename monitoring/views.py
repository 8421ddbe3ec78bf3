"""Monitoring views. Each view: decorators → access helper → form → save → response."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from csp.decorators import csp_update
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import scope_to_sites
from accounts.permissions import can, require
from cases.access import get_case_for_user, record_case_viewed, record_cases_viewed
from cases.models import Case
from common.params import int_param
from common.wording import day_text
from monitoring import calendar, charts, steroids
from monitoring.forms import (
    WHO_FIELDS,
    AssessmentForm,
    FlagAcknowledgeForm,
    MissForm,
    ProtocolVersionForm,
    ResultMoveForm,
    ResultsForm,
    SteroidCorrectionForm,
    SteroidDecisionForm,
)
from monitoring.models import (
    OPEN_STATES,
    Assessment,
    Draw,
    Flag,
    Milestone,
    ProtocolVersion,
    Result,
    ResultAcknowledgement,
    SteroidCourse,
    SteroidDecision,
)
from monitoring.workflows import (
    acknowledgement_void,
    assessment_record,
    assessment_void,
    baseline_for,
    course_infused_on,
    draw_miss,
    draw_name,
    flags_acknowledge,
    flags_awaiting_acknowledgement,
    latest_liver_draw,
    protocol_from_version,
    protocol_version_create,
    result_move,
    results_record,
    steroid_decide,
    steroid_recommendation,
)
from monitoring.worklist import GROUP_TITLES, worklist_group_page


def _get_case_for_user(request, pk: int) -> Case:
    return get_case_for_user(request, pk, prefetch=lambda qs: qs.select_related("patient", "site"))


def _get_draw_for_user(request, draw_pk: int) -> Draw:
    """The draw at one of the user's sites (else 404); its page shows the patient: a case view."""
    qs = Draw.objects.select_related("case__patient", "site", "protocol")
    draw = get_object_or_404(scope_to_sites(qs, request.user), pk=draw_pk)
    record_case_viewed(draw.case)
    return draw


def _get_milestone_for_user(request, milestone_pk: int) -> Milestone:
    """The milestone at one of the user's sites (else 404); its page shows the patient: a case view."""
    qs = Milestone.objects.select_related("case__patient", "site")
    milestone = get_object_or_404(scope_to_sites(qs, request.user), pk=milestone_pk)
    record_case_viewed(milestone.case)
    return milestone


def _case_monitoring_url(case) -> str:
    return reverse("cases:detail", args=[case.pk]) + "#monitoring"


# --- Protocol ---------------------------------------------------------------------------------


@require_GET
def protocol(request):
    """The protocol versions, newest first, each row with its days and source (read-only)."""
    versions = [(v, protocol_from_version(v)) for v in ProtocolVersion.objects.select_related("created_by")]
    versions.sort(key=lambda item: (not item[0].in_force, -item[0].pk))
    return render(request, "monitoring/protocol.html", {"versions": versions})


@require_http_methods(["GET", "POST"])
def protocol_new(request):
    require(request.user, "edit_protocol")
    form = ProtocolVersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            protocol_version_create(
                version=data["version"],
                window_days=data["window_days"],
                grace_days=data["grace_days"],
                note=data["note"],
                by=request.user,
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Protocol {data['version']} is in force for schedules created from now on.")
            return redirect("monitoring:protocol")
    return render(request, "monitoring/protocol_new.html", {"form": form}, status=422 if form.errors else 200)


# --- Draws ------------------------------------------------------------------------------------


def _results_form(request, draw: Draw, data=None) -> ResultsForm:
    initial = {}
    for result in draw.results.all():
        initial.update(
            {
                f"{result.analyte}_value": result.value.normalize(),
                f"{result.analyte}_unit": result.unit,
                f"{result.analyte}_uln": None
                if result.uln_is_fallback or result.uln is None
                else result.uln.normalize(),
                "collected_at": timezone.localtime(result.collected_at),
            }
        )
    infused_on = draw.case.infused_on or (draw.due_on - timedelta(days=draw.day))
    return ResultsForm(data, analytes=draw.analytes, infused_on=infused_on, now=timezone.now(), initial=initial)


def _draw_page(request, draw: Draw, form=None, miss_form=None, move_form=None, status=200):
    results = list(draw.results.all())
    can_enter = can(request.user, "enter_monitoring_results")
    context = {
        "draw": draw,
        "case": draw.case,
        "form": form or _results_form(request, draw),
        "miss_form": miss_form or MissForm(),
        "move_form": move_form or (ResultMoveForm(draw=draw) if results and can_enter else None),
        "results": results,
        "can_enter": can_enter,
    }
    return render(request, "monitoring/draw.html", context, status=status)


@require_http_methods(["GET", "POST"])
def draw_results(request, draw_pk: int):
    """Enter (or correct) a draw's results; the draw becomes done and flags are raised."""
    draw = _get_draw_for_user(request, draw_pk)
    if draw.kind == "steroid_review":
        return redirect("monitoring:steroids", pk=draw.case_id)
    with timezone.override(ZoneInfo(draw.site.timezone)):
        if request.method != "POST":
            return _draw_page(request, draw)
        require(request.user, "enter_monitoring_results")
        form = _results_form(request, draw, request.POST)
        if not form.is_valid():
            return _draw_page(request, draw, form=form, status=422)
        raised = results_record(
            draw=draw, results=form.results(), collected_at=form.cleaned_data["collected_at"], by=request.user
        )
    urgent = [f for f in raised if f.level == "urgent"]
    text = f"Results saved for {draw.kind_label} day {draw.day}."
    if raised:
        text += f" {len(raised)} flag(s) raised" + (": consult pediatric hepatology now." if urgent else ".")
    (messages.warning if raised else messages.success)(request, text)
    return redirect(_case_monitoring_url(draw.case))


@require_POST
def draw_missed(request, draw_pk: int):
    """Record an open draw as missed, with the reason."""
    draw = _get_draw_for_user(request, draw_pk)
    require(request.user, "enter_monitoring_results")
    form = MissForm(request.POST)
    if draw.state not in OPEN_STATES:
        form.add_error(None, f"This draw is {draw.get_state_display().lower()}; only an open draw can be missed.")
    if not form.is_valid():
        with timezone.override(ZoneInfo(draw.site.timezone)):
            return _draw_page(request, draw, miss_form=form, status=422)
    draw_miss(draw=draw, reason=form.cleaned_data["reason"], by=request.user)
    messages.info(request, f"{draw.kind_label} day {draw.day} recorded as missed.")
    return redirect(_case_monitoring_url(draw.case))


@require_POST
def draw_move(request, draw_pk: int):
    """Move one of the draw's results to another draw of the same case (audited; flags of both
    draws recomputed). Another site's draw is a 404; a draw of another case is refused."""
    draw = _get_draw_for_user(request, draw_pk)
    require(request.user, "enter_monitoring_results")
    form = ResultMoveForm(request.POST, draw=draw)
    if form.is_valid():
        data = form.cleaned_data
        try:
            raised = result_move(result=data["result"], to=data["to"], reason=data["reason"], by=request.user)
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            text = f"{data['result'].analyte_label} moved from {draw_name(draw)} to {draw_name(data['to'])}."
            if raised:
                text += f" {len(raised)} flag(s) raised."
            (messages.warning if raised else messages.success)(request, text)
            return redirect(_case_monitoring_url(draw.case))
    with timezone.override(ZoneInfo(draw.site.timezone)):
        return _draw_page(request, draw, move_form=form, status=422)


# --- Result flags ------------------------------------------------------------------------------


def _get_flag_for_user(request, flag_pk: int) -> Flag:
    """The flag at one of the user's sites (else 404); its page shows the patient: a case view."""
    qs = Flag.objects.select_related("case__patient", "site", "draw", "acknowledged_by")
    flag = get_object_or_404(scope_to_sites(qs, request.user), pk=flag_pk)
    record_case_viewed(flag.case)
    return flag


def _current_ack_for_user(request, case, ack_pk) -> ResultAcknowledgement | None:
    """A current (not voided) acknowledgement of ``case`` to correct, or None (no or bad id)."""
    if ack_pk is None:
        return None
    return ResultAcknowledgement.objects.filter(case=case, pk=ack_pk, voided_at__isnull=True).first()


def _flag_page(request, flag: Flag, form, status: int = 200, void_error: dict | None = None, correcting=None):
    case = flag.case
    waiting = flags_awaiting_acknowledgement(case)
    waiting.sort(key=lambda f: f.pk != flag.pk)
    history = (
        ResultAcknowledgement.objects.filter(case=case)
        .select_related("by", "voided_by", "override__voided_by", "corrects")
        .prefetch_related("flags__draw", "repeat_draws")
    )
    context = {
        "case": case,
        "flag": flag,
        "waiting": waiting,
        "history": history,
        "form": form,
        "correcting": correcting,
        "void_error": void_error or {},
        "can_acknowledge": can(request.user, "acknowledge_result_flag"),
        "draw_results": list(flag.draw.results.all()) if flag.draw else [],
    }
    with timezone.override(ZoneInfo(flag.site.timezone)):
        return render(request, "monitoring/flag_acknowledge.html", context, status=status)


@require_http_methods(["GET", "POST"])
def flag_acknowledge(request, flag_pk: int):
    """A physician acknowledges the case's urgent and abnormal flags with a note and a plan.

    The page lists every flag of the case awaiting acknowledgement (the one the notice named
    first); the form carries their ids, so a flag raised while the page was open is not
    acknowledged unseen. A second physician acknowledging at the same moment is told who did.
    No plan takes the override step (issue 15 item 2). ``?correct=<id>`` corrects a current
    acknowledgement: the new one replaces it and the old stays struck through (item 3).
    """
    flag = _get_flag_for_user(request, flag_pk)
    case = flag.case
    today = timezone.localdate(timezone=ZoneInfo(flag.site.timezone))
    correcting = _current_ack_for_user(request, case, int_param(request.GET.get("correct")))
    if correcting is not None:
        initial = {
            "flags": list(correcting.flags.values_list("pk", flat=True)),
            "note": correcting.note,
            "plan": correcting.plan,
            "repeat_on": correcting.repeat_on,
        }
    else:
        initial = {"flags": [f.pk for f in flags_awaiting_acknowledgement(case)]}
    all_ids = list(Flag.objects.filter(case=case).values_list("pk", flat=True))
    form = FlagAcknowledgeForm(
        request.POST or None,
        flag_choices=all_ids,
        today=today,
        request=request,
        correcting=correcting is not None,
        initial=initial,
    )
    if request.method == "POST":
        require(request.user, "acknowledge_result_flag")
        if request.GET.get("correct") and correcting is None:
            form.add_error(None, "That acknowledgement was voided or corrected meanwhile; read the history below.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                done = flags_acknowledge(
                    case=case,
                    flag_ids=data["flags"],
                    by=request.user,
                    note=data["note"],
                    plan=data["plan"],
                    repeat_on=data["repeat_on"],
                    override=form.override_input(),
                    corrects=correcting,
                    correction_reason=data.get("correction_reason") or "",
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                repeat = f" Repeat draw on {day_text(data['repeat_on'])} added." if data["repeat_on"] else ""
                what = "Corrected the acknowledgement of" if correcting else "Acknowledged"
                how = " without a plan, as an override" if not data["plan"] else ""
                plural = "s" if len(done) != 1 else ""
                messages.success(request, f"{what} {len(done)} flag{plural}{how}.{repeat}")
                return redirect(_case_monitoring_url(case))
    return _flag_page(request, flag, form, status=422 if form.errors else 200, correcting=correcting)


@require_POST
def acknowledgement_void_view(request, flag_pk: int, ack_pk: int):
    """Void a mistaken acknowledgement with a reason (issue 15 item 3): it stays in the history
    struck through, its flags await a physician again and the escalation resumes."""
    flag = _get_flag_for_user(request, flag_pk)
    ack = get_object_or_404(ResultAcknowledgement, pk=ack_pk, case=flag.case)
    require(request.user, "acknowledge_result_flag")
    reason = request.POST.get("reason", "")
    try:
        voided = acknowledgement_void(ack=ack, by=request.user, reason=reason)
    except ValueError as exc:
        form = FlagAcknowledgeForm(
            flag_choices=[],
            today=timezone.localdate(),
            request=request,
            initial={"flags": [f.pk for f in flags_awaiting_acknowledgement(flag.case)]},
        )
        error = {"kind": "acknowledgement", "pk": ack.pk, "message": str(exc), "reason": reason[:300]}
        return _flag_page(request, flag, form, status=400, void_error=error)
    kept = "".join(
        f" The repeat draw on {day_text(d.due_on)} it ordered stays on the schedule (it has results or reminders);"
        " mark it missed if it is not wanted."
        for d in voided.kept_draws
    )
    messages.success(
        request,
        "The acknowledgement was voided; it stays in the history, struck through. Its flags await a "
        f"physician again and will escalate if nobody acknowledges them.{kept}",
    )
    return redirect(reverse("monitoring:flag_acknowledge", args=[flag.pk]))


# --- Steroids ---------------------------------------------------------------------------------


def _recommender(course: SteroidCourse, liver_draw, corrects=None):
    """recommend(clinical_exam_normal) -> the rule's action for the latest liver results."""

    def recommend(clinical_exam_normal: bool) -> str | None:
        if liver_draw is None:
            return None
        return steroid_recommendation(course, liver_draw, clinical_exam_normal, excluding=corrects).action

    return recommend


def _decide_from_form(request, course, form, corrects=None) -> bool:
    """Record the form's decision; refusals go back onto the form. True when recorded."""
    data = form.cleaned_data
    try:
        steroid_decide(
            course=course,
            action=data["action"],
            reason=data["reason"],
            clinical_exam_normal=data["clinical_exam_normal"],
            by=request.user,
            today=timezone.localdate(),
            override_reason=data.get("override_reason") or "",
            corrects=corrects,
            correction_reason=data.get("correction_reason") or "",
        )
    except ValueError as exc:
        form.add_error(None, str(exc))
        return False
    return True


def _steroid_context(request, case, course, liver_draw, form, corrects=None) -> dict:
    advice = steroid_recommendation(course, liver_draw, excluding=corrects) if liver_draw else None
    infused_on = course_infused_on(course)
    taper_start = course.taper_starts_on or max(steroids.review_date(infused_on), timezone.localdate()) + timedelta(
        days=1
    )
    decisions = list(course.decisions.select_related("decided_by", "liver_draw", "corrects"))
    return {
        "case": case,
        "course": course,
        "liver_draw": liver_draw,
        "liver_results": list(liver_draw.results.all()) if liver_draw else [],
        "advice": advice,
        "review_date": steroids.review_date(infused_on),
        "taper_plan": steroids.taper_plan(taper_start, course.full_dose_mg) if course.full_dose_mg else [],
        "taper_note": steroids.TAPER_NOTE,
        "decisions": decisions,
        "current": next((d for d in reversed(decisions) if d.is_current), None),
        "form": form,
        "corrects": corrects,
        "is_physician": can(request.user, "decide_steroids"),
    }


@require_http_methods(["GET", "POST"])
def steroid_review(request, pk: int):
    """The end-of-course review: latest liver results, the label's recommendation, the taper
    plan, and the physician's decision with who and why. A taper against the recommendation
    takes a second step (override reason, confirmation, password)."""
    case = _get_case_for_user(request, pk)
    course = get_object_or_404(SteroidCourse, case=case)
    liver_draw = latest_liver_draw(case)
    form = SteroidDecisionForm(request.POST or None, request=request, recommend=_recommender(course, liver_draw))
    if request.method == "POST":
        require(request.user, "decide_steroids")
        if liver_draw is None:
            form.add_error(None, "There are no liver results to review yet.")
        if form.is_valid() and _decide_from_form(request, course, form):
            against = form.needs_override and form.cleaned_data["action"] == SteroidDecision.Action.TAPER
            override = " as an override of the label's recommendation" if against else ""
            messages.success(request, f"Steroid decision recorded{override}.")
            return redirect(_case_monitoring_url(case))
    context = _steroid_context(request, case, course, liver_draw, form)
    return render(request, "monitoring/steroids.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def steroid_correct(request, pk: int, decision_pk: int):
    """Correct a mistaken steroid decision: a new decision supersedes it, with the reason; the
    old one stays in the history, struck through (issue 15 item 2)."""
    case = _get_case_for_user(request, pk)
    course = get_object_or_404(SteroidCourse, case=case)
    corrects = get_object_or_404(SteroidDecision.objects.select_related("decided_by"), pk=decision_pk, course=course)
    require(request.user, "decide_steroids")
    liver_draw = latest_liver_draw(case)
    form = SteroidCorrectionForm(
        request.POST or None, request=request, recommend=_recommender(course, liver_draw, corrects)
    )
    if not corrects.is_current and request.method != "POST":
        messages.warning(request, "That decision was already corrected; correct the current decision instead.")
        return redirect("monitoring:steroids", pk=case.pk)
    if request.method == "POST" and form.is_valid() and _decide_from_form(request, course, form, corrects):
        messages.success(request, "Decision corrected; the earlier one stays in the history.")
        return redirect(_case_monitoring_url(case))
    context = _steroid_context(request, case, course, liver_draw, form, corrects)
    return render(request, "monitoring/steroids.html", context, status=422 if form.errors else 200)


# --- Milestones -------------------------------------------------------------------------------


def _milestone_page(request, milestone, form, status=200, void_error=None):
    context = {
        "milestone": milestone,
        "case": milestone.case,
        "form": form,
        "who_fields": [form[name] for name, _ in WHO_FIELDS],
        "assessments": list(milestone.assessments.select_related("entered_by", "voided_by")),
        "can_enter": can(request.user, "enter_monitoring_results"),
        "void_error": void_error or {},
    }
    return render(request, "monitoring/assessment.html", context, status=status)


def _assessment_form(milestone, data=None) -> AssessmentForm:
    infused_on = milestone.case.infused_on or milestone.window_opens
    correcting = milestone.assessments.filter(voided_at__isnull=True).exists()
    return AssessmentForm(data, infused_on=infused_on, today=timezone.localdate(), correcting=correcting)


@require_http_methods(["GET", "POST"])
def milestone_assess(request, milestone_pk: int):
    """Enter an outcome milestone assessment; out-of-range scores are refused at the field. With a
    current assessment the new one corrects it: the old is voided with the reason given (issue 15
    item 3) and stays struck through."""
    milestone = _get_milestone_for_user(request, milestone_pk)
    form = _assessment_form(milestone, request.POST or None)
    if request.method == "POST":
        require(request.user, "enter_monitoring_results")
        if form.is_valid():
            current = milestone.assessments.filter(voided_at__isnull=True).order_by("-entered_at", "-pk").first()
            try:
                assessment_record(
                    milestone=milestone,
                    values=form.values(),
                    by=request.user,
                    corrects=current,
                    correction_reason=form.cleaned_data.get("correction_reason") or "",
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                what = "corrected; the earlier one stays in the history" if current else "recorded"
                messages.success(request, f"{milestone.month}-month assessment {what}.")
                return redirect(_case_monitoring_url(milestone.case))
    return _milestone_page(request, milestone, form, status=422 if form.errors else 200)


@require_POST
def assessment_void_view(request, milestone_pk: int, assessment_pk: int):
    """Void a mistaken assessment with a reason: struck through, kept; the milestone is open again
    when no current assessment is left."""
    milestone = _get_milestone_for_user(request, milestone_pk)
    assessment = get_object_or_404(Assessment, pk=assessment_pk, milestone=milestone)
    require(request.user, "enter_monitoring_results")
    reason = request.POST.get("reason", "")
    try:
        assessment_void(assessment=assessment, by=request.user, reason=reason)
    except ValueError as exc:
        error = {"kind": "assessment", "pk": assessment.pk, "message": str(exc), "reason": reason[:300]}
        return _milestone_page(request, milestone, _assessment_form(milestone), status=400, void_error=error)
    milestone.refresh_from_db()
    state = "" if milestone.state == "done" else f" The milestone is {milestone.get_state_display().lower()} again."
    messages.success(request, f"The assessment was voided; it stays in the history, struck through.{state}")
    return redirect(reverse("monitoring:milestone", args=[milestone.pk]))


# --- Charts and calendars ---------------------------------------------------------------------


@require_GET
@csp_update({"style-src": ["'unsafe-inline'"]})  # pygal puts its CSS in a <style> inside the SVG
def chart(request, pk: int, chart: str):
    """A trend chart of the case as image/svg+xml (site-scoped like the case)."""
    case = _get_case_for_user(request, pk)
    if chart not in charts.CHARTS or case.infused_on is None:
        raise Http404("No such chart")
    results = Result.objects.filter(draw__case=case).order_by("collected_at", "pk")
    svg = charts.chart_svg(chart, results, baseline_for(case), case.infused_on)
    response = HttpResponse(svg, content_type="image/svg+xml")
    return response


def _ics_response(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def case_ics(request, pk: int):
    """The family's calendar: the case's open draws and milestones, titles without names."""
    case = _get_case_for_user(request, pk)
    draws = case.draws.filter(state__in=OPEN_STATES).exclude(kind="steroid_review")
    events = [calendar.draw_event(d) for d in draws]
    events += [calendar.milestone_event(m) for m in case.milestones.filter(state__in=OPEN_STATES)]
    return _ics_response(calendar.render("Monitoring schedule", events), f"schedule-case-{case.pk}.ics")


@require_GET
def worklist_group(request, group: str):
    """One group of the home page's monitoring worklist (overdue, late, due today, due this
    week) whole, paged: the home page shows the first few of each."""

    if group not in GROUP_TITLES:
        raise Http404("No such worklist group.")
    page = worklist_group_page(request.user, timezone.localdate(), group, request.GET.get("page"))
    record_cases_viewed(draw.case_id for draw in page)
    return render(
        request, "monitoring/worklist_group.html", {"page": page, "group": group, "title": GROUP_TITLES[group]}
    )


@require_GET
def sites_ics(request):
    """The coordinator's calendar: open draws and milestones at the user's sites, initials only."""
    draws = scope_to_sites(Draw.objects.filter(state__in=OPEN_STATES), request.user).select_related("case__patient")
    milestones = scope_to_sites(Milestone.objects.filter(state__in=OPEN_STATES), request.user).select_related(
        "case__patient"
    )
    events = [calendar.draw_event(d, d.case.patient.initials) for d in draws]
    events += [calendar.milestone_event(m, m.case.patient.initials) for m in milestones]
    return _ics_response(calendar.render("GeneGate monitoring", events), "genegate-monitoring.ics")
