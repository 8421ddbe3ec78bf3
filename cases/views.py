"""Case views. Each view: decorators → access helper → role → form → save → response."""

from __future__ import annotations

import csv
import io
from itertools import groupby
from urllib.parse import urlencode

from auditlog.models import LogEntry
from auditlog.signals import accessed
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Q, Value, When
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from accounts.access import sites_for, user_site_ids
from accounts.permissions import can, require
from cases.access import cases_for, get_case_for_user, record_cases_viewed
from cases.analytes import PANEL_ANALYTES
from cases.audit import AuditHistory, case_entries, entry_rows, kind_filter, people
from cases.corrections import VOIDABLE, VoidRefused, entry_void
from cases.diagnoses import diagnosis_descriptor
from cases.documents import EXTENSIONS, document_store
from cases.forms import (
    SORTS,
    AuditFilterForm,
    CaseFilterForm,
    CaseForm,
    DocumentForm,
    LabPanelForm,
    MotorAssessmentForm,
    PatientForm,
    TherapyFormSet,
    TiterForm,
    VersionForm,
    WeightForm,
)
from cases.gate_display import gate_summary, gate_view
from cases.gate_facts import case_gate, gate_queryset
from cases.intake import DuplicateCase, EditConflict, case_create, case_update, patient_duplicate, result_recorded
from cases.models import BaselineLab, Case, Document, MotorAssessment, Stage, TiterResult, WeightMeasurement
from cases.panels import panel_contexts
from cases.pipeline import ORDER, TransitionError, case_advance
from cases.stage_actions import actions_for_case
from cases.timeline import pipeline_rows, time_to_therapy
from common.csvsafe import safe_row
from common.paging import KeysFirstPaginator
from common.params import int_param

AUDIT_SHOWN = 20  # on the case page; the case's history page shows every entry, paged
AUDIT_PAGE_SIZE = 50
FACTS_CHANGED = "case-facts-changed"
# The label's baseline order (cases.label); an INR result sits where PT does.
LAB_ORDER = {**{a: i for i, a in enumerate(PANEL_ANALYTES)}, "inr": PANEL_ANALYTES.index("pt")}
COLUMNS = [
    ("name", "Patient"),
    ("mrn", "MRN"),
    ("dob", "Born"),
    ("site", "Site"),
    ("stage", "Stage"),
    ("payer", "Payer"),
    ("planned", "Planned infusion"),
]  # htmx event: the gate and pipeline re-fetch themselves


# --- Access helpers ------------------------------------------------------------------------------
def _get_case_for_user(request, pk: int, *, viewed: bool = True) -> Case:
    """The case with its gate facts prefetched, if it belongs to one of the user's sites; 404
    otherwise. Records the view in the audit trail."""
    return get_case_for_user(request, pk, prefetch=_page_queryset, viewed=viewed)


def _page_queryset(qs):
    return gate_queryset(qs, for_display=True)


def _rows(case: Case, name: str, fresh):
    """The case's ``name`` rows as the page fetched them (with the gate's facts), or ``fresh()``
    once a save has made them stale (_section_response drops them)."""
    cache = getattr(case, "_prefetched_objects_cache", {})
    return list(cache[name]) if name in cache else list(fresh())


def _get_document_for_user(request, pk: int, document_pk: int) -> Document:
    """The document of a case at one of the user's sites; 404 otherwise."""
    documents = Document.objects.filter(case__in=cases_for(request.user), case_id=pk)
    return get_object_or_404(documents, pk=document_pk)


# --- Page sections -------------------------------------------------------------------------------
def _gate_ctx(case: Case) -> dict:
    today = timezone.localdate()
    infused = case.infused_on is not None or ORDER.index(Stage(case.stage)) >= ORDER.index(Stage.INFUSED)
    return {"case": case, "gate": gate_view(case, today), "infused": infused, "gate_today": today}


def _pipeline_ctx(request, case: Case) -> dict:
    events = [(e.stage, e.entered_at) for e in case.stage_events.all()]
    if not any(stage == Stage.INTAKE for stage, _ in events):
        events.insert(0, (Stage.INTAKE, case.created_at))  # cases opened before stage events existed
    return {
        "case": case,
        "stages": pipeline_rows(list(Stage.choices), events, case.stage, timezone.now()),
        "time_to_therapy": time_to_therapy(events, Stage.INTAKE, Stage.INFUSED),
        "can_start_gating": case.stage == Stage.INTAKE and can(request.user, "edit_case"),
        "stage_actions": [a for a in actions_for_case(case) if can(request.user, a.action)],
    }


def _weights_ctx(request, case: Case, form=None) -> dict:
    today = timezone.localdate()
    return {
        "case": case,
        "can_result": can(request.user, "enter_pretreatment_results"),
        "weights": _rows(
            case, "weights", lambda: WeightMeasurement.objects.filter(case=case).select_related("entered_by")
        ),
        "weight_form": form or WeightForm(case=case, initial={"measured_on": today}),
    }


def _titers_ctx(request, case: Case, form=None) -> dict:
    today = timezone.localdate()
    return {
        "case": case,
        "can_result": can(request.user, "enter_pretreatment_results"),
        "titers": _rows(case, "titers", lambda: TiterResult.objects.filter(case=case).select_related("entered_by")),
        "titer_form": form or TiterForm(case=case, initial={"drawn_on": today, "method": "ELISA"}),
    }


def _labs_ctx(request, case: Case, form=None) -> dict:
    labs = _rows(
        case,
        "baseline_labs",
        lambda: BaselineLab.objects.filter(case=case).select_related("entered_by").order_by("-drawn_on", "analyte"),
    )
    panels = [
        (drawn_on, sorted(rows, key=lambda lab: LAB_ORDER.get(lab.analyte, 99)))
        for drawn_on, rows in groupby(labs, key=lambda lab: lab.drawn_on)
    ]
    return {
        "case": case,
        "can_result": can(request.user, "enter_pretreatment_results"),
        "lab_panels": panels,
        # The 25-field panel form is rendered when asked for (it is most of the page's
        # rendering time otherwise): opening "Add a lab panel" loads it (labs_add GET), and
        # ?add=labs renders it in place without JavaScript. A form with errors always shows.
        "lab_form": form or (_blank_lab_form(case) if request.GET.get("add") == "labs" else None),
    }


def _blank_lab_form(case: Case) -> LabPanelForm:
    return LabPanelForm(case=case, initial={"drawn_on": timezone.localdate()})


def _motor_ctx(request, case: Case, form=None) -> dict:
    today = timezone.localdate()
    return {
        "case": case,
        "can_result": can(request.user, "enter_pretreatment_results"),
        "motor_assessments": _rows(
            case,
            "motor_assessments",
            lambda: MotorAssessment.objects.filter(case=case).select_related("entered_by", "voided_by"),
        ),
        "motor_form": form or MotorAssessmentForm(case=case, initial={"assessed_on": today}),
    }


def _documents_ctx(request, case: Case, form=None) -> dict:
    return {
        "case": case,
        "can_result": can(request.user, "enter_pretreatment_results"),
        "documents": _rows(case, "documents", lambda: Document.objects.filter(case=case).select_related("uploaded_by")),
        "document_form": form or DocumentForm(case=case),
    }


def _audit_entries(case: Case) -> tuple[list, int]:
    """The newest lines of the history for the case page, and how many there are in all."""
    history = AuditHistory(case)
    return history[:AUDIT_SHOWN], history.count()


def _descriptor(code: str) -> str:
    """'G12.0 Infantile spinal muscular atrophy, ...' with the official descriptor (docs/domain.md §7)."""
    if not code:
        return ""
    try:
        return f"{code} {diagnosis_descriptor(code)}"
    except ValueError:
        return code


SECTIONS = {
    "weights": _weights_ctx,
    "titers": _titers_ctx,
    "labs": _labs_ctx,
    "motor": _motor_ctx,
    "documents": _documents_ctx,
}


def _detail_context(request, case: Case, void_error: dict | None = None, **forms) -> dict:
    context = {
        "void_error": void_error or {},
        "case": case,
        "can_edit": can(request.user, "edit_case"),
        "primary_descriptor": _descriptor(case.primary_diagnosis),
        "secondary_descriptor": _descriptor(case.secondary_diagnosis),
    }
    context.update(_gate_ctx(case))
    context.update(_pipeline_ctx(request, case))
    context["clinical_overrides"] = list(case.clinical_overrides.select_related("voided_by"))
    for name, build in SECTIONS.items():
        context.update(build(request, case, forms.get(name)))
    if can(request.user, "read_case_audit"):
        context["audit_entries"], context["audit_total"] = _audit_entries(case)
    context["panels"] = panel_contexts(request, case)
    return context


SECTION_ROWS = {
    "weights": "weights",
    "titers": "titers",
    "labs": "baseline_labs",
    "motor": "motor_assessments",
    "documents": "documents",
}


def _section_response(request, case: Case, section: str, *, saved: str = "", form=None):
    """Answer a result POST: the section partial (htmx) or the page (redirect / errors)."""
    if saved:  # the rows fetched with the case are from before the save
        getattr(case, "_prefetched_objects_cache", {}).pop(SECTION_ROWS[section], None)
    if request.htmx:
        response = render(request, f"cases/case_detail.html#{section}", SECTIONS[section](request, case, form))
        return trigger_client_event(response, FACTS_CHANGED) if saved else response
    if saved:
        messages.success(request, saved)
        return redirect(reverse("cases:detail", args=[case.pk]) + f"#{section}")
    return render(request, "cases/case_detail.html", _detail_context(request, case, **{section: form}), status=400)


# --- Pages ----------------------------------------------------------------------------------------
def case_list(request):
    """Cases of the user's sites: search, filter, sort and page, all in the URL."""
    # The payers of the user's own cases: the filter offers only what can match.
    payers = tuple(
        cases_for(request.user)
        .exclude(payer=None)
        .values_list("payer_id", "payer__name")
        .distinct()
        .order_by("payer__name")
    )
    form = CaseFilterForm(request.GET, sites=list(sites_for(request.user)), payers=payers)
    filters = form.cleaned_data if form.is_valid() else {}
    cases = _filtered_cases(cases_for(request.user), filters)
    page = KeysFirstPaginator(cases, 25, load=gate_queryset).get_page(request.GET.get("page"))
    rows = []
    for case in page:
        report = case_gate(case)
        rows.append((case, report, gate_summary(case, report)))
    record_cases_viewed(case.pk for case, _report, _summary in rows)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "sort": filters.get("sort") or "name",
        "columns": COLUMNS,
        "can_open": can(request.user, "edit_case"),
    }
    template = "cases/case_list.html#results" if request.htmx else "cases/case_list.html"
    return render(request, template, context)


def _filtered_cases(cases, filters: dict):
    if q := (filters.get("q") or "").strip():
        cases = cases.filter(Q(patient__legal_name__icontains=q) | Q(patient__mrn__icontains=q))
    if filters.get("site"):
        cases = cases.filter(site_id=filters["site"])
    if filters.get("stage"):
        cases = cases.filter(stage=filters["stage"])
    if filters.get("payer"):
        cases = cases.filter(payer_id=filters["payer"])
    sort = filters.get("sort") or "name"
    field = SORTS[sort.lstrip("-")]
    cases = cases.annotate(
        stage_order=SqlCase(*(When(stage=s, then=Value(i)) for i, s in enumerate(ORDER)), output_field=IntegerField())
    )
    return cases.order_by(f"-{field}" if sort.startswith("-") else field, "pk")


def _audit_filters(request, case: Case) -> tuple[AuditFilterForm, str, int | None, int]:
    """The history's filters from the URL, and the newest entry it is pinned to (?upto=)."""
    form = AuditFilterForm(request.GET or None, people=people(case))
    data = form.cleaned_data if form.is_valid() else {}
    upto = int_param(request.GET.get("upto"))
    if upto is None:
        upto = case_entries(case).values_list("pk", flat=True).first() or 0
    person = data.get("person")
    return form, data.get("kind") or "", person.pk if person else None, upto


@require_GET
def case_audit(request, pk: int):
    """The case's audit history, 50 lines a page (managers; reading it is a view of the case).
    Filter by kind of entry and by person; views are one line per person per day. Pages are
    pinned to the newest entry when the history was opened (?upto=), so the entries each page
    view adds do not shift older ones onto the next page."""
    case = _get_case_for_user(request, pk)
    require(request.user, "read_case_audit")
    form, kind, person, upto = _audit_filters(request, case)
    history = AuditHistory(case, kind=kind, actor_id=person, upto=upto)
    page = Paginator(history, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in (("kind", kind), ("person", person or ""), ("upto", upto)) if v})
    return render(
        request,
        "cases/case_audit.html",
        {
            "case": case,
            "form": form,
            "page": page,
            "upto": upto,
            "upto_query": query,
            "audit_entries": page.object_list,
            "kind": kind,
        },
    )


@require_GET
def case_audit_csv(request, pk: int):
    """Every entry of the filtered history, one per line (views not summarised), for a
    compliance officer; formula-safe cells, ISO 8601 times. The export is itself recorded."""
    case = _get_case_for_user(request, pk, viewed=False)
    require(request.user, "read_case_audit")
    _form, kind, person, upto = _audit_filters(request, case)
    LogEntry.objects.log_create(
        case,
        action=LogEntry.Action.ACCESS,
        changes=None,
        force_log=True,
        additional_data={"case_id": case.pk, "export": "Audit history exported (CSV)"},
    )
    entries = case_entries(case).filter(pk__lte=upto)
    if person:
        entries = entries.filter(actor_id=person)
    entries = entries.filter(kind_filter(kind, None))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["when", "who", "kind", "what", "changes"])
    for chunk_start in range(0, entries.count(), 500):
        for row in entry_rows(list(entries[chunk_start : chunk_start + 500])):
            who = (row.actor.get_full_name() or row.actor.username) if row.actor else "system"
            when = timezone.localtime(row.timestamp).isoformat(timespec="seconds")
            writer.writerow(safe_row([when, who, row.kind, row.what, "; ".join(row.changes)]))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="case-{case.pk}-audit-history.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def case_detail(request, pk: int):
    case = _get_case_for_user(request, pk)
    return render(request, "cases/case_detail.html", _detail_context(request, case))


@require_GET
def case_gate_panel(request, pk: int):
    """The gate partial on its own, re-fetched when the case's facts change."""
    case = _get_case_for_user(request, pk, viewed=False)
    return render(request, "cases/case_detail.html#gate", _gate_ctx(case))


@require_GET
def case_pipeline_panel(request, pk: int):
    case = _get_case_for_user(request, pk, viewed=False)
    return render(request, "cases/case_detail.html#pipeline", _pipeline_ctx(request, case))


@require_http_methods(["GET", "POST"])
def case_new(request):
    """Intake: one form for the patient and their case (coordinators)."""
    require(request.user, "edit_case")
    patient_form = PatientForm(request.POST or None, sites=sites_for(request.user))
    dob = patient_form.cleaned_data.get("date_of_birth") if patient_form.is_bound and patient_form.is_valid() else None
    case_form = CaseForm(request.POST or None, request.FILES or None, date_of_birth=dob)
    therapies = TherapyFormSet(
        request.POST or None, instance=Case(), prefix="therapies", form_kwargs={"date_of_birth": dob}
    )
    duplicate = None
    if request.method == "POST" and all([patient_form.is_valid(), case_form.is_valid(), therapies.is_valid()]):
        patient, data = patient_form.instance, patient_form.cleaned_data
        duplicate = patient_duplicate(
            site_ids=user_site_ids(request.user),
            site_id=patient.site_id,
            mrn=data["mrn"],
            legal_name=data["legal_name"],
            date_of_birth=data["date_of_birth"],
        )
        if duplicate is None:
            try:
                case = _create_from_forms(request, patient_form, case_form, therapies)
            except DuplicateCase as exc:
                duplicate = exc
            else:
                messages.success(request, "Case opened. Add the pre-treatment results below.")
                return redirect("cases:detail", pk=case.pk)
    context = {"patient_form": patient_form, "case_form": case_form, "therapies": therapies, "duplicate": duplicate}
    return render(request, "cases/case_form.html", context, status=400 if request.method == "POST" else 200)


def _create_from_forms(request, patient_form, case_form, therapies) -> Case:
    therapy_rows = [
        f.save(commit=False) for f in therapies.forms if f.has_changed() and not f.cleaned_data.get("DELETE")
    ]
    return case_create(
        patient=patient_form.save(commit=False),
        case=case_form.save(commit=False),
        therapies=therapy_rows,
        genetic_report=case_form.cleaned_data.get("genetic_report"),
        by=request.user,
    )


@require_http_methods(["GET", "POST"])
def case_edit(request, pk: int):
    """Edit the patient and case; a save over someone else's newer save is refused (version)."""
    case = _get_case_for_user(request, pk)
    require(request.user, "edit_case")
    data = request.POST or None
    version_form = VersionForm(data, initial={"version": case.version})
    patient_form = PatientForm(data, instance=case.patient)
    dob = (
        patient_form.cleaned_data.get("date_of_birth")
        if data and patient_form.is_valid()
        else case.patient.date_of_birth
    )
    case_form = CaseForm(data, instance=case, date_of_birth=dob, with_report=False)
    therapies = TherapyFormSet(data, instance=case, prefix="therapies", form_kwargs={"date_of_birth": dob})
    duplicate = conflict = None
    if data and all([version_form.is_valid(), patient_form.is_valid(), case_form.is_valid(), therapies.is_valid()]):
        duplicate = _edit_duplicate(request, case, patient_form.cleaned_data)
        if duplicate is None:
            try:
                case_update(
                    case=case,
                    patient=case.patient,
                    version=version_form.cleaned_data["version"],
                    save_related=therapies.save,
                )
            except EditConflict as exc:
                conflict = _conflict_rows(exc.current, patient_form, case_form)
            else:
                messages.success(request, "Case saved.")
                return redirect("cases:detail", pk=case.pk)
    context = {
        "case": case,
        "version_form": version_form,
        "patient_form": patient_form,
        "case_form": case_form,
        "therapies": therapies,
        "duplicate": duplicate,
        "conflict": conflict,
    }
    return render(request, "cases/case_form.html", context, status=409 if conflict is not None else 200)


def _edit_duplicate(request, case: Case, data: dict) -> DuplicateCase | None:
    return patient_duplicate(
        site_ids=user_site_ids(request.user),
        site_id=case.site_id,
        mrn=data["mrn"],
        legal_name=data["legal_name"],
        date_of_birth=data["date_of_birth"],
        exclude_patient_id=case.patient_id,
    )


def _conflict_rows(current: Case, patient_form, case_form) -> list[tuple[str, str, str]]:
    """(field label, value saved now, value the user entered) where the two differ."""
    rows = []
    for form, saved in ((patient_form, current.patient), (case_form, current)):
        for name, field in form.fields.items():
            mine = form.cleaned_data.get(name)
            now = getattr(saved, name, None)
            if hasattr(mine, "pk"):
                mine = mine.pk
                now = getattr(saved, f"{name}_id", None)
            if (mine or None) != (now or None):
                rows.append((str(field.label or name), _show(now), _show(mine)))
    return rows


def _show(value) -> str:
    return "—" if value in (None, "") else str(value)


# --- Actions ------------------------------------------------------------------------------------
@require_POST
def case_start_gating(request, pk: int):
    """Move a case from intake to gating by hand (it also happens on the first result)."""
    case = _get_case_for_user(request, pk, viewed=False)
    require(request.user, "edit_case")
    try:
        moved = case_advance(case=case, to=Stage.GATING, by=request.user, note="Started gating by hand")
    except TransitionError as exc:
        messages.error(request, str(exc))
    else:
        if moved:
            messages.success(request, "The case is now in gating.")
    if request.htmx:
        response = render(request, "cases/case_detail.html#pipeline", _pipeline_ctx(request, case))
        return trigger_client_event(response, FACTS_CHANGED)
    return redirect("cases:detail", pk=case.pk)


@require_POST
def case_stage_move(request, pk: int):
    """Take one of the hand-made pipeline moves (cases.stage_rules) if it is allowed now."""
    case = _get_case_for_user(request, pk, viewed=False)
    wanted = request.POST.get("to", "")
    action = next((a for a in actions_for_case(case) if a.to == wanted), None)
    if action is None:
        messages.error(request, "That move does not apply to this case now.")
    else:
        require(request.user, action.action)
        note = request.POST.get("note", "").strip()[:300]
        if not action.allowed:
            messages.error(request, f"Not yet: {action.reason}.")
        elif action.needs_note and len(note) < 5:
            messages.error(request, "Add a short note saying why the case is being closed.")
        else:
            try:
                case_advance(case=case, to=action.to, by=request.user, note=note or action.label)
            except TransitionError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Done: {action.label}.")
    if request.htmx:
        response = render(request, "cases/case_detail.html#pipeline", _pipeline_ctx(request, case))
        return trigger_client_event(response, FACTS_CHANGED)
    return redirect("cases:detail", pk=case.pk)


@require_POST
def weight_add(request, pk: int):
    case = _get_case_for_user(request, pk, viewed=False)
    require(request.user, "enter_pretreatment_results")
    form = WeightForm(request.POST, case=case)
    if not form.is_valid():
        return _section_response(request, case, "weights", form=form)
    form.instance.case, form.instance.entered_by = case, request.user
    form.save()
    result_recorded(case=case, by=request.user)
    return _section_response(request, case, "weights", saved="Weight recorded.")


@require_POST
def titer_add(request, pk: int):
    case = _get_case_for_user(request, pk, viewed=False)
    require(request.user, "enter_pretreatment_results")
    form = TiterForm(request.POST, case=case)
    if not form.is_valid():
        return _section_response(request, case, "titers", form=form)
    form.instance.case, form.instance.entered_by = case, request.user
    form.save()
    result_recorded(case=case, by=request.user)
    return _section_response(request, case, "titers", saved="AAV9 titer recorded.")


@require_http_methods(["GET", "POST"])
def labs_add(request, pk: int):
    case = _get_case_for_user(request, pk, viewed=False)
    require(request.user, "enter_pretreatment_results")
    if request.method == "GET":  # the empty form, loaded when "Add a lab panel" is opened
        if not request.htmx:
            return redirect(reverse("cases:detail", args=[case.pk]) + "?add=labs#labs")
        return render(request, "cases/case_detail.html#lab_form", {"case": case, "lab_form": _blank_lab_form(case)})
    form = LabPanelForm(request.POST, case=case)
    if not form.is_valid():
        return _section_response(request, case, "labs", form=form)
    drawn_on = form.cleaned_data["drawn_on"]
    for row in form.rows:
        BaselineLab.objects.create(case=case, drawn_on=drawn_on, entered_by=request.user, **row)
    result_recorded(case=case, by=request.user)
    return _section_response(request, case, "labs", saved=f"{len(form.rows)} baseline results recorded.")


@require_POST
def motor_add(request, pk: int):
    case = _get_case_for_user(request, pk, viewed=False)
    require(request.user, "enter_pretreatment_results")
    form = MotorAssessmentForm(request.POST, case=case)
    if not form.is_valid():
        return _section_response(request, case, "motor", form=form)
    form.instance.case, form.instance.entered_by = case, request.user
    form.save()
    result_recorded(case=case, by=request.user)
    return _section_response(request, case, "motor", saved="Motor assessment recorded.")


@require_POST
def document_add(request, pk: int):
    case = _get_case_for_user(request, pk, viewed=False)
    require(request.user, "enter_pretreatment_results")
    form = DocumentForm(request.POST, request.FILES, case=case)
    if not form.is_valid():
        return _section_response(request, case, "documents", form=form)
    document_store(case=case, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], by=request.user)
    return _section_response(request, case, "documents", saved="Document attached.")


@require_POST
def entry_void_view(request, pk: int, kind: str, row_pk: int):
    """Void a mistaken weight, titer, lab value, document or clinical check with a reason
    (issue 15 item 5): never deleted, struck through on the page, ignored by the gate."""
    case = _get_case_for_user(request, pk, viewed=False)
    spec = VOIDABLE.get(kind)
    if spec is None:
        raise Http404("Nothing of that kind can be voided.")
    row = get_object_or_404(spec.model, pk=row_pk, case=case)
    require(request.user, spec.action)
    reason = request.POST.get("reason", "")
    section = spec.section or "top"
    try:
        entry_void(row=row, by=request.user, reason=reason)
    except VoidRefused as exc:
        if not spec.section:  # the infusion page's check
            messages.error(request, str(exc))
            return redirect(reverse("cases:infusion", args=[case.pk]) + "#clinical")
        error = {"kind": kind, "pk": row.pk, "message": str(exc), "reason": reason[:300]}
        context = _detail_context(request, case, void_error=error)
        return render(request, "cases/case_detail.html", context, status=400)
    messages.success(request, f"The {spec.label} was voided; it stays in the history, struck through.")
    if not spec.section:
        return redirect(reverse("cases:infusion", args=[case.pk]) + "#clinical")
    return redirect(reverse("cases:detail", args=[case.pk]) + f"#{section}")


@require_GET
def document_download(request, pk: int, document_pk: int):
    """Stream a document as an attachment (never rendered inline); the access is audited."""
    document = _get_document_for_user(request, pk, document_pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    accessed.send(sender=Document, instance=document)
    filename = f"case-{document.case_id}-{document.kind.replace('_', '-')}-{document.pk}.{_extension(document)}"
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=document.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _extension(document: Document) -> str:

    return EXTENSIONS.get(document.content_type, "bin")
