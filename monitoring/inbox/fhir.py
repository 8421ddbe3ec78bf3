"""FHIR R4 Bundle (DiagnosticReport + Observation, US Core laboratory result) → LabReport.

Library: ``fhir.resources`` (pinned in requirements.txt, with its ``fhir-core`` and pydantic 2).
It validates every element's type and cardinality against the published resource definitions
and gives typed objects (Decimal values, aware datetimes), so a bundle that is not FHIR fails
with the element's path. We use its R4B models: R4B (4.3) left DiagnosticReport, Observation,
Patient and Bundle as R4 (4.0.1) has them, and the package no longer ships a separate R4 set.
Installs and runs on Python 3.11 and 3.13 (pure-Python models; pydantic-core has wheels).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from monitoring.inbox import codes
from monitoring.inbox.records import ERR_DATA_TYPE, ERR_REQUIRED_FIELD, InboxError, LabReport, Observation

BUNDLE_TYPES = ("collection", "transaction", "batch", "message", "document", "searchset")
MRN_TYPE = "MR"  # HL7 v2 table 0203 identifier type, used by FHIR Patient.identifier.type


def _errors(exc: ValidationError) -> str:
    """The first few validation errors by element path, without the offending values (PHI)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:3]:
        path = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__") or "bundle"
        parts.append(f"{path}: {' '.join(str(err.get('msg', '')).split())[:160]}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _when(value, tz: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz)
    return None


def _coding(concept) -> tuple[str, str, str]:
    """(code, system, display) of a CodeableConcept: the LOINC coding first, else the first."""
    codings = list(getattr(concept, "coding", None) or [])
    for c in codings:
        if (c.system or "") == codes.LOINC_SYSTEM:
            return c.code or "", "LN", c.display or ""
    if codings:
        c = codings[0]
        return c.code or "", c.system or "", c.display or ""
    return "", "", getattr(concept, "text", "") or ""


def _mrn(patient) -> str:
    identifiers = list(patient.identifier or [])
    for ident in identifiers:
        types = [c.code for c in ((ident.type.coding or []) if ident.type else [])]
        if MRN_TYPE in types and ident.value:
            return ident.value
    return next((i.value for i in identifiers if i.value), "")


def parse_bundle(text: str | bytes) -> Bundle:
    """The validated Bundle, or InboxError (AR) naming what is wrong."""
    try:
        bundle = Bundle.model_validate_json(text)
    except ValidationError as exc:
        raise InboxError(f"Not a valid FHIR R4 Bundle: {_errors(exc)}", ack="AR", code=ERR_DATA_TYPE) from None
    except (ValueError, TypeError) as exc:
        raise InboxError(f"Not a valid FHIR R4 Bundle ({type(exc).__name__}).", ack="AR") from None
    if bundle.type not in BUNDLE_TYPES:
        raise InboxError(f"Bundle type {str(bundle.type)[:30]!r} is not accepted.", ack="AR")
    return bundle


def parse(text: str | bytes, tz: ZoneInfo) -> LabReport:
    """A Bundle's one patient and their laboratory results.

    1. Entries by resource type; Observations referenced by a DiagnosticReport, or every
       Observation when there is no report. One Patient (the reports' subject) per bundle.
    2. MRN: the Patient identifier typed MR, else the first; birth date; family name.
    3. Collection time: the report's effective time, else the first Observation's.
    4. Each Observation: LOINC code, valueQuantity (value, UCUM code or unit), first
       referenceRange low/high, interpretation code, status (final, corrected/amended,
       preliminary, cancelled/entered-in-error).
    The control id is Bundle.identifier.value, else Bundle.id.
    """
    bundle = parse_bundle(text)
    by_url, patients, reports, observations = {}, [], [], []
    for entry in bundle.entry or []:
        resource = entry.resource
        if resource is None:
            continue
        kind = resource.get_resource_type()
        for key in (entry.fullUrl, f"{kind}/{resource.id}" if resource.id else None):
            if key:
                by_url[key] = resource
        if kind == "Patient":
            patients.append(resource)
        elif kind == "DiagnosticReport":
            reports.append(resource)
        elif kind == "Observation":
            observations.append(resource)
    if not observations:
        raise InboxError("The bundle has no Observation.", code=ERR_REQUIRED_FIELD)
    subjects = {r.subject.reference for r in [*reports, *observations] if r.subject and r.subject.reference}
    subject_patients = {id(by_url[s]): by_url[s] for s in subjects if s in by_url}
    candidates = list(subject_patients.values()) or patients
    if len(candidates) != 1:
        raise InboxError(
            "The bundle must carry exactly one Patient (the reports' subject)."
            if candidates
            else "The bundle has no Patient resource for the reports' subject.",
            code=ERR_REQUIRED_FIELD,
        )
    patient = candidates[0]
    if reports:
        referenced = [by_url.get(ref.reference) for r in reports for ref in (r.result or [])]
        chosen = [o for o in referenced if o is not None and o.get_resource_type() == "Observation"]
        observations = chosen or observations
    collected = None
    for r in reports:
        collected = collected or _when(r.effectiveDateTime, tz) or _when(getattr(r, "effectivePeriod", None), tz)
    lines = []
    for obs in observations:
        code, system, display = _coding(obs.code)
        quantity = obs.valueQuantity
        value = "" if quantity is None or quantity.value is None else str(quantity.value)
        if quantity is not None and quantity.comparator:
            value = f"{quantity.comparator}{value}"
        unit = ""
        if quantity is not None:
            unit = (quantity.code if quantity.system == codes.UCUM_SYSTEM and quantity.code else quantity.unit) or ""
        low = high = None
        ranges = list(obs.referenceRange or [])
        if ranges:
            low = ranges[0].low.value if ranges[0].low is not None else None
            high = ranges[0].high.value if ranges[0].high is not None else None
        flags = [c.code for i in (obs.interpretation or []) for c in (i.coding or []) if c.code]
        observed = _when(obs.effectiveDateTime, tz)
        collected = collected or observed
        lines.append(
            Observation(
                code=code,
                system=system,
                name=display,
                value=value,
                unit=unit,
                low=low,
                high=high,
                lab_flag=",".join(flags),
                status=codes.FHIR_STATUS.get(str(obs.status), codes.FINAL),
            )
        )
    family = given = ""
    if patient.name:
        family = patient.name[0].family or ""
        given = " ".join(patient.name[0].given or [])
    control = (bundle.identifier.value if bundle.identifier and bundle.identifier.value else None) or bundle.id or ""
    return LabReport(
        control_id=str(control)[:200],
        sender="",
        mrn=_mrn(patient),
        birth_date=patient.birthDate if isinstance(patient.birthDate, date) else None,
        family_name=family,
        given_name=given,
        collected_at=collected,
        accession=(reports[0].id or "") if reports else "",
        observations=lines,
    )
