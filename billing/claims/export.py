"""A stored claim version as CSV and PDF, and the scrubber run on lines keyed by hand."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone

from billing.claims.forms import code_descriptor, code_type_for
from billing.claims.lines import ClaimSummary
from billing.claims.rules import INSTITUTIONAL, KIT_NDC_QUANTITY, ClaimLine, Finding, scrub
from billing.codes import NDC_PRODUCT_QUALIFIER
from billing.models import Claim
from common.csvsafe import safe_row


def _utc(at) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _hhmm(value) -> str:
    return value.strftime("%H:%M") if value is not None else ""


def claim_csv(claim: Claim, *, latest: Claim | None = None) -> str:
    """Return one stored claim version as CSV: version, header facts, lines, findings, overrides,
    amendments. Every value comes from the stored claim (billing.models.Claim.data)."""
    summary = claim.summary
    out = io.StringIO()
    w = csv.writer(out)

    def row(*cells):
        w.writerow(safe_row(cells))  # formula characters neutralised (common.csvsafe)

    inf, patient, payer, provider = summary.infusion, summary.patient, summary.payer, summary.provider
    row(
        "GeneGate claim summary",
        f"case {summary.case_id}",
        f"generated {timezone.now().astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        f"times UTC; infusion clock times are local at the site ({provider.timezone})",
    )
    superseded = latest is not None and latest.version != claim.version
    row(
        "Claim version",
        claim.version,
        f"built {_utc(claim.built_at)}",
        f"from infusion record version {claim.record_version}",
        f"superseded by version {latest.version}" if superseded else "current",
        claim.reason,
    )
    row(
        "Claim",
        summary.claim_name,
        f"{summary.paper_form} / X12 {summary.x12_name}",
        "Type of bill",
        summary.type_of_bill or "",
    )
    row("Patient", patient.name, "DOB", patient.date_of_birth.isoformat(), "MRN", patient.mrn)
    row(
        "Payer",
        payer.name if payer else "",
        "Member ID",
        payer.member_id if payer else "",
        "Plan",
        payer.plan_name if payer else "",
    )
    row("Billing provider", provider.name, "NPI", provider.npi, "TIN", provider.tin)
    row(
        "Attending physician" if summary.is_institutional else "Rendering physician",
        summary.physician.name,
        "NPI",
        summary.physician.npi,
    )
    row("Date of service", inf.infused_on.isoformat(), "Place of service", summary.place_of_service, summary.pos_name)
    row("PA number", summary.pa.auth_number or "", summary.pa.message)
    row(
        "Infusion",
        f"{_hhmm(inf.started_at)}-{_hhmm(inf.stopped_at)}",
        f"{summary.infusion_minutes} min actual",
        f"{summary.elapsed_minutes} min elapsed",
        f"{summary.paused_minutes} min paused",
    )
    row("Kit NDC", inf.kit_ndc, "Lots", " ".join(inf.lots))
    for pause in inf.pauses:
        row("Pause", f"{_hhmm(pause.started_at)}-{_hhmm(pause.resumed_at)}", f"{pause.minutes} min", pause.reason)
    row("Signed by", inf.signed_name, _utc(inf.signed_at))
    for letter, (code, descriptor) in zip("ABCDEFGHIJKL", summary.diagnoses, strict=False):
        row(f"Diagnosis {letter}", code, descriptor)
    row()
    row(
        "Line",
        "Code",
        "Type",
        "Units",
        "Descriptor",
        "NDC",
        "Dx pointers",
        "POS",
        "PA number",
        "DOS",
        "Revenue code",
        "Modifiers",
        "Charge",
    )
    for ln in summary.lines:
        row(
            ln.line_no,
            ln.code,
            ln.code_type,
            ln.units,
            ln.descriptor,
            ln.ndc_supplemental or "",
            ln.diagnosis_pointers,
            ln.place_of_service or "",
            ln.pa_number or "",
            ln.date_of_service.isoformat(),
            ln.revenue_code or "",
            " ".join(ln.modifiers),
            ln.charge if ln.charge is not None else "",
        )
    if summary.total_charge is not None:
        row("Total charges", "", "", "", "", "", "", "", "", "", "", "", summary.total_charge)
    for note in summary.notes:
        row("Payer expects", note)
    row()
    row("Scrubber", "Severity", "Finding", "Fix", "Source")
    if not summary.findings:
        row("", "", "No findings: the claim passes the scrubber.")
    for f in summary.findings:
        row(f.code, f.severity, f.message, f.fix, f.source)
    row()
    row("Gate overrides", "Item", "Reason", "By", "At")
    for o in summary.overrides:
        row("", o.title, o.reason, o.by_name, _utc(o.at))
    row()
    row("Amendments", "Field", "Old", "New", "Reason", "By", "At")
    for a in summary.amendments:
        row("", a.label, a.old, a.new, a.reason, a.by_name, _utc(a.at))
    return out.getvalue()


def _no_remote(url: str, *args, **kwargs):
    raise ValueError("The claim summary PDF loads no external resources")


def claim_pdf(claim: Claim, *, latest: Claim | None = None) -> bytes:
    """Return one stored claim version as a plain PDF (WeasyPrint; nothing is fetched from anywhere)."""
    from weasyprint import HTML

    html = render_to_string(
        "billing/claims/claim_pdf.html",
        {
            "case": claim.case,  # _claim_body.html names the site's time zone
            "claim": claim,
            "latest": latest or claim,
            "summary": claim.summary,
            "generated": timezone.localtime(),
        },
    )
    return HTML(string=html, url_fetcher=_no_remote).write_pdf()


def keyed_findings(summary: ClaimSummary, form, formset) -> list[Finding] | None:
    """Scrub the lines as keyed in the billing system; None while the input has errors.

    The lines keep the derived claim's diagnoses and date of service; the scrubber
    (billing.claims.rules.scrub) judges codes, units, NDC, POS and the PA number.
    """
    if not (form.is_valid() and formset.is_valid()):
        return None
    pointers = summary.lines[0].diagnosis_pointers if summary.lines else ""
    pa_number = form.cleaned_data.get("pa_number", "").strip() or None
    claim_type = form.cleaned_data.get("claim_type") or summary.claim_type
    lines: list[ClaimLine] = []
    for f in formset.forms:
        data = f.cleaned_data
        if not data.get("code"):
            continue
        ndc = data.get("ndc") or None
        lines.append(
            ClaimLine(
                line_no=len(lines) + 1,
                code=data["code"],
                code_type=code_type_for(data["code"]),
                units=Decimal(data["units"]),
                descriptor=code_descriptor(data["code"]),
                diagnosis_pointers=pointers,
                place_of_service=data.get("pos") or None,
                pa_number=pa_number,
                date_of_service=summary.infusion.infused_on,
                ndc_11=ndc,
                ndc_qualifier=NDC_PRODUCT_QUALIFIER if ndc else None,
                ndc_quantity=(data.get("ndc_quantity") or KIT_NDC_QUANTITY) if ndc else None,
                ndc_unit=(data.get("ndc_unit") or None) if ndc else None,
                modifiers=data.get("modifiers") or (),
                revenue_code=(data.get("revenue_code") or None) if claim_type == INSTITUTIONAL else None,
            )
        )
    return scrub(lines, replace(summary.context, claim_type=claim_type))
