"""Infusion-day views. Each view: decorators → access helper → role → form → save → response.

Roles: coordinators and physicians enter the record; only physicians override and sign;
billing reads the claim lines and downloads the summary; managers read.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import can, require
from cases.access import get_case_for_user
from cases.dosing import kit_for_weight, prednisolone_mg_per_day, round_weight, to_decimal_kg
from cases.gate_facts import gate_queryset
from cases.infusion.forms import (
    PAUSE_BLANK_ROWS,
    AmendmentForm,
    ClinicalStatusForm,
    InfusionRecordForm,
    OverrideForm,
    PauseFormSet,
    PlanForm,
    SignForm,
    VialFormSet,
    apply_rules,
    pause_rows,
    vial_rows,
)
from cases.infusion.models import InfusionRecord, record_for_case, signed_record_or_404
from cases.infusion.rules import check_record, kit_words, vg_text
from cases.infusion.workflows import (
    InfusionError,
    StaleRecord,
    amendment_add,
    clinical_check_add,
    infusion_readiness,
    infusion_sign,
    override_add,
    plan_set,
    record_save,
)
from cases.models import Case
from common.wording import day_text


# --- Access helpers -----------------------------------------------------------------------------
def _get_case_for_user(request, pk: int) -> Case:
    """The case with its gate facts, if at one of the user's sites; 404 otherwise. Audited."""
    return get_case_for_user(request, pk, prefetch=gate_queryset)


# --- Page assembly ------------------------------------------------------------------------------
def _day_date(case: Case, record: InfusionRecord | None):
    if record is not None:
        return record.infused_on
    return case.planned_infusion_date or timezone.localdate()


def _weight_on(case: Case, on):
    for w in case.weights.all():  # prefetched newest first, voided ones left out (gate_queryset)
        if w.measured_on <= on and w.voided_at is None:
            return w.kg
    return None


def _kit_context(request, case: Case, record, on) -> dict:
    """The dose-and-kit panel: a weight typed in the preview, else the record's, else the day's."""
    raw = request.GET.get("weight", "").strip()
    error = ""
    weight = record.weight_kg if record else _weight_on(case, on)
    if raw:
        # A typed weight replaces the record's only when it is one: "1e28" once reached
        # round_weight's quantize and failed there (issue 13 item 7).
        try:
            typed = to_decimal_kg(raw)
            if typed > Decimal("60"):
                raise ValueError
            weight = typed
        except (ValueError, ArithmeticError):
            error = f"“{raw[:20]}” is not a weight in kg; enter e.g. 5.4."
    kit = kit_for_weight(weight) if weight is not None and not error else None
    return {
        "weight": weight,
        "rounded": round_weight(weight) if weight is not None else None,
        "kit": kit,
        "kit_words": kit_words(kit) if kit else "",
        "total_vg": vg_text(kit.total_vg) if kit else "",
        "weight_error": error,
        "preview": bool(raw),
        "prednisolone_mg": prednisolone_mg_per_day(weight) if weight is not None and not error else None,
    }


def _new_record_forms(case: Case, on, kit_ctx: dict):
    kit, weight = kit_ctx["kit"], kit_ctx["weight"]
    initial = {
        "infused_on": on,
        "weight_kg": weight,
        "steroid_started_on": on - timedelta(days=1),
        "steroid_mg": kit_ctx["prednisolone_mg"],
        "kit_ndc": kit.kit_ndc if kit else "",
    }
    sizes = ["5.5"] * kit.vials_5_5 + ["8.3"] * kit.vials_8_3 if kit else []
    form = InfusionRecordForm(initial=initial, instance=InfusionRecord(case=case))
    pauses = PauseFormSet(prefix="pause", initial=[{} for _ in range(PAUSE_BLANK_ROWS)])
    return form, VialFormSet(prefix="vial", initial=[{"size_ml": s} for s in sizes]), pauses


def _record_forms(record: InfusionRecord, kit_ctx: dict):
    vials = [{"size_ml": v.size_ml, "lot_number": v.lot_number, "expires_on": v.expires_on} for v in record.vials.all()]
    kit = kit_ctx["kit"]
    missing = (kit.total_vials - len(vials)) if kit else 0
    blanks = [{} for _ in range(max(0, missing))]
    pauses = [{"started_at": p.started_at, "resumed_at": p.resumed_at, "reason": p.reason} for p in record.pauses.all()]
    pause_formset = PauseFormSet(prefix="pause", initial=pauses + [{} for _ in range(PAUSE_BLANK_ROWS)])
    return InfusionRecordForm(instance=record), VialFormSet(prefix="vial", initial=vials + blanks), pause_formset


def _render_day(request, case: Case, status: int = 200, **forms):
    """Render the infusion day page; ``forms`` replaces the default form of that name (bound, with errors)."""
    record = record_for_case(case)
    on = _day_date(case, record)
    overrides = list(case.gate_overrides.all())
    readiness = infusion_readiness(case, on, overrides)
    kit_ctx = _kit_context(request, case, record, on)
    user = request.user
    can_enter, is_physician = can(user, "enter_infusion"), can(user, "sign_infusion")
    check = check_record(record.values()) if record else None
    ctx = {
        "case": case,
        "record": record,
        "on": on,
        "readiness": readiness,
        "overrides": overrides,
        "check": check,
        "can_enter": can_enter,
        "is_physician": is_physician,
        **kit_ctx,
    }
    today = timezone.localdate()
    ctx["clinical_checks"] = list(case.clinical_checks.select_related("recorded_by", "voided_by"))
    ctx["can_record_clinical"] = can(user, "record_clinical_status") and not (record and record.is_signed)
    if can(user, "record_clinical_status") and (record is None or not record.is_signed):
        ctx["clinical_form"] = forms.get("clinical_form") or _clinical_form(case, today)
    ctx["future_draft"] = record is not None and not record.is_signed and record.infused_on > today
    if record is None or not record.is_signed:
        if can(user, "edit_infusion_plan"):
            ctx["plan_form"] = forms.get("plan_form") or _plan_form(case, today)
        # A draft stays editable while something blocks: its own date and steroid start are what
        # the gate judges, so the page must let them be fixed (issue 15 item 3: never stuck).
        if can_enter and (readiness.is_open or record is not None or "record_form" in forms):
            default = _record_forms(record, kit_ctx) if record else _new_record_forms(case, on, kit_ctx)
            ctx["record_form"] = forms.get("record_form") or default[0]
            ctx["vial_formset"] = forms.get("vial_formset") or default[1]
            ctx["pause_formset"] = forms.get("pause_formset") or default[2]
        if is_physician and (readiness.blockers or "override_form" in forms):
            ctx["override_form"] = forms.get("override_form") or OverrideForm(items=readiness.blockers)
        if is_physician and record is not None:
            ctx["sign_form"] = forms.get("sign_form") or SignForm(
                request=request, initial={"version": record.version}, overridden=_overridden_titles(readiness)
            )
    elif can_enter:
        vials = list(record.vials.all())
        ctx["amend_form"] = forms.get("amend_form") or AmendmentForm(record=record, vials=vials)
    template = "cases/infusion/day.html#kit" if request.htmx else "cases/infusion/day.html"
    return render(request, template, ctx, status=status)


def _clinical_form(case: Case, today, data=None) -> ClinicalStatusForm:
    return ClinicalStatusForm(
        data, initial={"checked_on": today}, today=today, date_of_birth=case.patient.date_of_birth
    )


def _plan_form(case: Case, today, data=None) -> PlanForm:
    initial = {
        "version": case.version,
        "planned_on": case.planned_infusion_date,
        "steroid_start": case.steroid_plan_start,
    }
    return PlanForm(data, initial=initial, today=today, date_of_birth=case.patient.date_of_birth)


def _refuse_locked(request, case: Case, record: InfusionRecord):
    messages.error(
        request, f"The record was signed by {record.signed_name} and is locked; changes are added as amendments."
    )
    return redirect(_day_url(case))


def _overridden_titles(readiness) -> tuple[str, ...]:
    """The gate items that block but were overridden: signing with them takes an override."""
    return tuple(item.title for item, _override in readiness.overridden)


def _blocked_message(readiness) -> str:
    what = [item.title for item in readiness.blockers] + (["prior authorization"] if readiness.pa.blocks else [])
    return f"The infusion cannot proceed on {readiness.on.isoformat()}; blocking: {'; '.join(what)}."


def _day_url(case: Case) -> str:
    return reverse("cases:infusion", args=[case.pk])


# --- Views --------------------------------------------------------------------------------------
@require_GET
def infusion_day(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "open_infusion_day")
    return _render_day(request, case)


@require_POST
def infusion_record_save(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "enter_infusion")
    record = record_for_case(case)
    if record is not None and record.is_signed:
        return _refuse_locked(request, case, record)
    form = InfusionRecordForm(request.POST, instance=record or InfusionRecord(case=case), today=timezone.localdate())
    vial_formset = VialFormSet(request.POST, prefix="vial")
    pause_formset = PauseFormSet(request.POST, prefix="pause")
    check = apply_rules(form, vial_formset, pause_formset)
    if check is not None:
        on = form.cleaned_data["infused_on"]
        # The steroid start typed here is the one the gate judges (one source of truth).
        readiness = infusion_readiness(
            case, on, list(case.gate_overrides.all()), steroid_start=form.cleaned_data.get("steroid_started_on")
        )
        if not readiness.is_open:
            form.add_error("infused_on", _blocked_message(readiness))
        else:
            vials = [f.cleaned_data for _, f in vial_rows(vial_formset)]
            pauses = [f.cleaned_data for _, f in pause_rows(pause_formset)]
            try:
                record_save(
                    case=case,
                    record=form.instance,
                    vials=vials,
                    pauses=pauses,
                    version=form.cleaned_data["version"],
                    by=request.user,
                )
            except StaleRecord as exc:
                form.add_error("version", str(exc))
            except InfusionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Infusion record saved.")
                return redirect(_day_url(case))
    return _render_day(request, case, record_form=form, vial_formset=vial_formset, pause_formset=pause_formset)


@require_POST
def infusion_clinical_status(request, pk: int):
    """A physician records the infection and stability check (label §5) that signing needs."""
    case = _get_case_for_user(request, pk)
    require(request.user, "record_clinical_status")
    record = record_for_case(case)
    if record is not None and record.is_signed:
        return _refuse_locked(request, case, record)
    form = _clinical_form(case, timezone.localdate(), request.POST)
    if form.is_valid():
        data = form.cleaned_data
        clinical_check_add(case=case, by=request.user, **data)
        if data["no_active_infection"] and data["clinically_stable"]:
            messages.success(request, "Check recorded: no active infection, clinically stable.")
        else:
            messages.warning(request, "Check recorded: postpone the infusion (label §5). Signing is blocked.")
        return redirect(_day_url(case) + "#clinical")
    return _render_day(request, case, status=422, clinical_form=form)


@require_POST
def infusion_plan(request, pk: int):
    """Move the planned infusion date and prednisolone start from the infusion page (coordinator
    or physician), so a changed plan never needs a gate override."""
    case = _get_case_for_user(request, pk)
    require(request.user, "edit_infusion_plan")
    record = record_for_case(case)
    if record is not None and record.is_signed:
        return _refuse_locked(request, case, record)
    form = _plan_form(case, timezone.localdate(), request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            plan_set(
                case=case,
                planned_on=data["planned_on"],
                steroid_start=data["steroid_start"],
                version=data["version"],
                by=request.user,
            )
        except InfusionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Plan saved: infusion {day_text(data['planned_on'])}, prednisolone from "
                f"{day_text(data['steroid_start'])}.",
            )
            return redirect(_day_url(case))
    return _render_day(request, case, status=422, plan_form=form)


@require_POST
def infusion_override(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "sign_infusion")
    record = record_for_case(case)
    if record is not None and record.is_signed:
        return _refuse_locked(request, case, record)  # a state, not a permission: say so
    on = _day_date(case, record)
    readiness = infusion_readiness(case, on, list(case.gate_overrides.all()))
    form = OverrideForm(request.POST, items=readiness.blockers)
    if form.is_valid():
        item = readiness.gate.item(form.cleaned_data["gate_id"])
        try:
            override_add(case=case, item=item, on=on, reason=form.cleaned_data["reason"], by=request.user)
        except InfusionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Override of “{item.title}” recorded.")
            return redirect(_day_url(case))
    return _render_day(request, case, override_form=form)


@require_POST
def infusion_sign_view(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "sign_infusion")
    record = record_for_case(case)
    if record is None:
        raise Http404("No infusion record")
    if record.is_signed:
        return _refuse_locked(request, case, record)
    today = timezone.localdate()
    readiness = infusion_readiness(case, record.infused_on, list(case.gate_overrides.all()))
    overridden = _overridden_titles(readiness)
    form = SignForm(request.POST, request=request, overridden=overridden)
    if form.is_valid():
        try:
            if not readiness.is_open:
                raise InfusionError(_blocked_message(readiness))
            if readiness.clinical.blocking:
                raise InfusionError(
                    f"{readiness.clinical.title}: {readiness.clinical.detail}. {readiness.clinical.fix} (label §5)."
                )
            if record.infused_on > today:
                raise InfusionError("A record for a future date cannot be signed.")
            draws = infusion_sign(
                record=record,
                version=form.cleaned_data["version"],
                by=request.user,
                today=today,
                overridden=overridden,
                override=form.override_input(),
            )
        except StaleRecord as exc:
            form.add_error("version", str(exc))
            form.show_version(exc.current_version)  # the page below shows that version
        except ValueError as exc:  # InfusionError, or an override the workflow refused
            form.add_error(None, str(exc))
        else:
            how = " with the override of the gate recorded" if overridden else ""
            messages.success(request, f"Signed{how}. The case moved to monitoring; {len(draws)} draws scheduled.")
            return redirect(_day_url(case))
    return _render_day(request, case, sign_form=form)


@require_POST
def infusion_amend(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "enter_infusion")
    record = signed_record_or_404(case)
    form = AmendmentForm(request.POST, record=record, vials=list(record.vials.all()))
    if form.is_valid():
        data = form.cleaned_data
        try:
            amendment_add(
                record=record,
                field=data["field"],
                label=data["label"],
                old=data["old"],
                new=data["new"],
                apply=form.applier(),
                reason=data["reason"],
                by=request.user,
                version=data["version"],
            )
        except StaleRecord as exc:
            # Shown again over the record as it stands now, with the version it now has.
            fresh = record_for_case(case)
            form = AmendmentForm(
                _with_version(request.POST, exc.current_version), record=fresh, vials=list(fresh.vials.all())
            )
            form.is_valid()
            form.add_error(None, str(exc))
        except InfusionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Amendment to “{data['label']}” added; the claim follows the amended record.")
            return redirect(_day_url(case))
    return _render_day(request, case, amend_form=form)


def _with_version(post, version: int):
    data = post.copy()
    data["version"] = str(version)
    return data
