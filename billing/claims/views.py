"""The claim page of a signed infusion record: the stored claim (billing.claims.store) with its
lines, the scrubber's findings and its versions, a check of lines as keyed into the billing
system, and the CSV, PDF and X12 837 downloads. Every view renders one stored version."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import require
from billing.claims.export import claim_csv, claim_pdf, keyed_findings
from billing.claims.forms import KeyedClaimForm, KeyedLineFormSet
from billing.claims.store import claim_version, current_claim, versions
from billing.claims.x12 import Envelope, X12Refused, claim_837, refusal
from cases.access import get_case_for_user
from cases.gate_facts import gate_queryset
from cases.infusion.models import record_for_case
from cases.models import Case


def _get_case_for_user(request, pk: int) -> Case:
    """The case with its gate facts, if at one of the user's sites; 404 otherwise. Audited."""
    return get_case_for_user(request, pk, prefetch=gate_queryset)


def _claims(request, pk: int, version: int | None):
    """(case, record, newest stored claim, the claim asked for): the newest is first brought up
    to date with the signed record and the billing data (billing.claims.store.current_claim)."""
    case = _get_case_for_user(request, pk)
    require(request.user, "read_claim")
    record = record_for_case(case)
    latest = current_claim(case, by=request.user, record=record)
    if version is None:
        return case, record, latest, latest
    claim = claim_version(case, version) if latest is not None else None
    if claim is None:
        raise Http404("No such claim version")
    return case, record, latest, claim


@require_GET
def claim_page(request, pk: int, version: int | None = None):
    case, record, latest, claim = _claims(request, pk, version)
    summary = claim.summary if claim else None
    ctx = {
        "case": case,
        "record": record,
        "claim": claim,
        "latest": latest,
        "summary": summary,
        "is_current": claim is not None and claim.pk == latest.pk,
        "versions": versions(case) if claim else [],
    }
    if summary is not None and ctx["is_current"]:
        ctx["x12_refusal"] = refusal(summary)
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


def _file_name(claim, ext: str) -> str:
    return f"claim-summary-case-{claim.case_id}-v{claim.version}.{ext}"


@require_GET
def claim_csv_download(request, pk: int, version: int | None = None):
    _case, _record, latest, claim = _claims(request, pk, version)
    if claim is None:
        raise Http404("No signed infusion record")
    response = HttpResponse(claim_csv(claim, latest=latest), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(claim, "csv")}"'
    return response


@require_GET
def claim_pdf_download(request, pk: int, version: int | None = None):
    _case, _record, latest, claim = _claims(request, pk, version)
    if claim is None:
        raise Http404("No signed infusion record")
    response = HttpResponse(claim_pdf(claim, latest=latest), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(claim, "pdf")}"'
    return response


@require_GET
def claim_x12_download(request, pk: int):
    """The newest claim version as an 837I or 837P file; a claim that cannot go out returns to
    the page with why. Superseded versions are viewable but never exported."""
    case, _record, claim, _same = _claims(request, pk, None)
    if claim is None:
        messages.error(request, "There is no claim to export: the infusion record is not signed yet.")
        return redirect("billing:claim", pk=case.pk)
    summary = claim.summary
    now = timezone.localtime()
    try:
        body = claim_837(
            summary, Envelope(now=now, control=int(now.timestamp()) % 1_000_000_000 or 1), version=claim.version
        )
    except X12Refused as exc:
        messages.error(request, f"The {summary.x12_name} file was not made (claim version {claim.version}). {exc}")
        return redirect("billing:claim", pk=case.pk)
    response = HttpResponse(body, content_type="application/edi-x12; charset=us-ascii")
    response["Content-Disposition"] = (
        f'attachment; filename="claim-case-{case.pk}-v{claim.version}-{summary.x12_name}.x12"'
    )
    return response
