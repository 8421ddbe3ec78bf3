"""The claim summary as CSV and PDF, and the scrubber run on lines keyed by hand."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone

from billing.claims.forms import code_descriptor, code_type_for
from billing.claims.lines import ClaimSummary
from billing.claims.rules import KIT_NDC_QUANTITY, ClaimLine, Finding, scrub
from billing.codes import NDC_PRODUCT_QUALIFIER
from common.csvsafe import cell

_cell = cell  # the one formula-safe CSV cell (common/csvsafe.py)


def claim_csv(case, summary: ClaimSummary, overrides) -> str:
    """Return the claim summary as CSV: header facts, lines, findings, overrides, amendments."""
    out = io.StringIO()
    w = csv.writer(out)

    def row(*cells):
        w.writerow([_cell(c) for c in cells])

    record, patient = summary.record, case.patient
    row("GeneGate claim summary", f"case {case.pk}", f"generated {timezone.localtime():%Y-%m-%d %H:%M}")
    row("Patient", patient.legal_name, "DOB", patient.date_of_birth.isoformat(), "MRN", patient.mrn)
    row("Payer", case.payer.name if case.payer else "", "Member ID", case.member_id, "Plan", case.plan_name)
    row("Billing provider", case.site.name, "NPI", case.site.npi)
    row("Ordering physician", case.ordering_physician_name, "NPI", case.ordering_physician_npi)
    row(
        "Date of service", record.infused_on.isoformat(), "Place of service", summary.place_of_service, summary.pos_name
    )
    row("PA number", summary.pa.auth_number or "", summary.pa.message)
    row("Infusion", f"{record.started_at:%H:%M}-{record.stopped_at:%H:%M}", f"{record.duration_minutes} min")
    row("Signed by", record.signed_name, timezone.localtime(record.signed_at).strftime("%Y-%m-%d %H:%M"))
    for letter, (code, descriptor) in zip("ABCDEFGHIJKL", summary.diagnoses, strict=False):
        row(f"Diagnosis {letter}", code, descriptor)
    row()
    row("Line", "Code", "Type", "Units", "Descriptor", "NDC", "Dx pointers", "POS", "PA number", "DOS")
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
        )
    row()
    row("Scrubber", "Severity", "Finding", "Fix", "Source")
    if not summary.findings:
        row("", "", "No findings: the claim passes the scrubber.")
    for f in summary.findings:
        row(f.code, f.severity, f.message, f.fix, f.source)
    row()
    row("Gate overrides", "Item", "Reason", "By", "At")
    for o in overrides:
        row("", o.gate_title, o.reason, o.by_name, timezone.localtime(o.at).strftime("%Y-%m-%d %H:%M"))
    row()
    row("Amendments", "Field", "Old", "New", "Reason", "By", "At")
    for a in record.amendments.all():
        at = timezone.localtime(a.at).strftime("%Y-%m-%d %H:%M")
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
                ndc_quantity=KIT_NDC_QUANTITY if ndc else None,
                ndc_unit=(data.get("ndc_unit") or None) if ndc else None,
            )
        )
    return scrub(lines, summary.context)
