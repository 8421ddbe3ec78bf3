"""The claim page of a signed infusion record: claim lines, the scrubber's findings, a check of
lines as keyed into the billing system, and the CSV and PDF downloads."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import require
from billing.claims.export import claim_csv, claim_pdf, keyed_findings
from billing.claims.forms import KeyedClaimForm, KeyedLineFormSet
from billing.claims.lines import claim_summary
from billing.claims.x12 import Envelope, X12Refused, claim_837
from cases.access import get_case_for_user
from cases.gate_facts import gate_queryset
from cases.infusion.models import record_for_case, signed_record_or_404
from cases.models import Case


def _get_case_for_user(request, pk: int) -> Case:
    """The case with its gate facts, if at one of the user's sites; 404 otherwise. Audited."""
    return get_case_for_user(request, pk, prefetch=gate_queryset)


@require_GET
def claim_page(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "read_claim")
    record = record_for_case(case)
    summary = claim_summary(case, record) if record and record.is_signed else None
    ctx = {"case": case, "record": record, "summary": summary, "overrides": list(case.gate_overrides.all())}
    if summary is not None:
        if "check" in request.GET:
            ctx["keyed_form"] = KeyedClaimForm(request.GET)
            ctx["keyed_lines"] = KeyedLineFormSet(request.GET, prefix="line")
            ctx["keyed_findings"] = keyed_findings(summary, ctx["keyed_form"], ctx["keyed_lines"])
        else:
            ctx["keyed_form"], ctx["keyed_lines"] = _keyed_initial(summary)
    return render(request, "billing/claims/claim.html", ctx)


def _keyed_initial(summary):
    rows = [
        {
            "code": ln.code,
            "modifiers": " ".join(ln.modifiers),
            "units": ln.units,
            "revenue_code": ln.revenue_code or "",
            "ndc": ln.ndc_11 or "",
            "ndc_unit": ln.ndc_unit or "",
            "ndc_quantity": ln.ndc_quantity or "",
            "pos": ln.place_of_service or "",
        }
        for ln in summary.lines
    ]
    form = KeyedClaimForm(initial={"pa_number": summary.pa.auth_number or "", "claim_type": summary.claim_type})
    return form, KeyedLineFormSet(prefix="line", initial=rows + [{}, {}])


@require_GET
def claim_csv_download(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "read_claim")
    record = signed_record_or_404(case)
    body = claim_csv(case, claim_summary(case, record), list(case.gate_overrides.all()))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="claim-summary-case-{case.pk}.csv"'
    return response


@require_GET
def claim_pdf_download(request, pk: int):
    case = _get_case_for_user(request, pk)
    require(request.user, "read_claim")
    record = signed_record_or_404(case)
    pdf = claim_pdf(case, claim_summary(case, record), list(case.gate_overrides.all()))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="claim-summary-case-{case.pk}.pdf"'
    return response


@require_GET
def claim_x12_download(request, pk: int):
    """The claim as an 837I or 837P file; a claim that cannot go out returns to the page with why."""
    case = _get_case_for_user(request, pk)
    require(request.user, "read_claim")
    record = record_for_case(case)
    if record is None or not record.is_signed:
        messages.error(request, "There is no claim to export: the infusion record is not signed yet.")
        return redirect("billing:claim", pk=case.pk)
    summary = claim_summary(case, record)
    now = timezone.localtime()
    try:
        body = claim_837(case, summary, Envelope(now=now, control=int(now.timestamp()) % 1_000_000_000 or 1))
    except X12Refused as exc:
        messages.error(request, f"The {summary.x12_name} file was not made. {exc}")
        return redirect("billing:claim", pk=case.pk)
    response = HttpResponse(body, content_type="application/edi-x12; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="claim-case-{case.pk}-{summary.x12_name}.x12"'
    return response
