"""The claim summary as CSV and PDF, and the scrubber run on lines keyed by hand."""

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
from common.csvsafe import safe_row


def claim_csv(case, summary: ClaimSummary, overrides) -> str:
    """Return the claim summary as CSV: header facts, lines, findings, overrides, amendments."""
    out = io.StringIO()
    w = csv.writer(out)

    def row(*cells):
        w.writerow(safe_row(cells))  # formula characters neutralised (common.csvsafe)

    record, patient = summary.record, case.patient
    row(
        "GeneGate claim summary",
        f"case {case.pk}",
        f"generated {timezone.now().astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        f"times UTC; infusion clock times are local at the site ({case.site.timezone})",
    )
    row(
        "Claim",
        summary.claim_name,
        f"{summary.paper_form} / X12 {summary.x12_name}",
        "Type of bill",
        summary.type_of_bill or "",
    )
    row("Patient", patient.legal_name, "DOB", patient.date_of_birth.isoformat(), "MRN", patient.mrn)
    row("Payer", case.payer.name if case.payer else "", "Member ID", case.member_id, "Plan", case.plan_name)
    row("Billing provider", case.site.name, "NPI", case.site.npi, "TIN", summary.billing.tin if summary.billing else "")
    row(
        "Attending physician" if summary.is_institutional else "Rendering physician",
        case.ordering_physician_name,
        "NPI",
        case.ordering_physician_npi,
    )
    row(
        "Date of service", record.infused_on.isoformat(), "Place of service", summary.place_of_service, summary.pos_name
    )
    row("PA number", summary.pa.auth_number or "", summary.pa.message)
    row(
        "Infusion",
        f"{record.started_at:%H:%M}-{record.stopped_at:%H:%M}",
        f"{summary.infusion_minutes} min actual",
        f"{summary.elapsed_minutes} min elapsed",
        f"{summary.paused_minutes} min paused",
    )
    for pause in record.pauses.all():
        row("Pause", f"{pause.started_at:%H:%M}-{pause.resumed_at:%H:%M}", f"{pause.minutes} min", pause.reason)
    row("Signed by", record.signed_name, record.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))
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
    for o in overrides:
        row("", o.gate_title, o.reason, o.by_name, o.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    so = record.sign_override
    if so is not None:
        row()
        row("Signed with an override", "Gate items overridden", "Listed reason", "In the physician's words", "By", "At")
        row(
            "",
            so.subject,
            so.reason_label,
            so.explanation,
            so.by_name,
            so.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    row()
    row("Amendments", "Field", "Old", "New", "Reason", "By", "At")
    for a in record.amendments.all():
        at = a.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        row("", a.field_label, a.old_value, a.new_value, a.reason, a.by_name, at)
    return out.getvalue()


def _no_remote(url: str, *args, **kwargs):
    raise ValueError("The claim summary PDF loads no external resources")


def claim_pdf(case, summary: ClaimSummary, overrides) -> bytes:
    """Return the claim summary as a plain PDF (WeasyPrint; nothing is fetched from anywhere)."""
    from weasyprint import HTML

    html = render_to_string(
        "billing/claims/claim_pdf.html",
        {
            "case": case,
            "summary": summary,
            "record": summary.record,
            "overrides": overrides,
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
                date_of_service=summary.record.infused_on,
                ndc_11=ndc,
                ndc_qualifier=NDC_PRODUCT_QUALIFIER if ndc else None,
                ndc_quantity=(data.get("ndc_quantity") or KIT_NDC_QUANTITY) if ndc else None,
                ndc_unit=(data.get("ndc_unit") or None) if ndc else None,
                modifiers=data.get("modifiers") or (),
                revenue_code=(data.get("revenue_code") or None) if claim_type == INSTITUTIONAL else None,
            )
        )
    return scrub(lines, replace(summary.context, claim_type=claim_type))
