"""Demo results inbox (seed_demo step `demo.inbox`): a laboratory with its local codes and CSV
mapping, inbox messages in every state, and synthetic HL7 sample files. Idempotent.

Synthetic data only: the messages name the demo patients (demo/cases.py), never real ones.

- processed: the "overdue" case's day-21 platelets and troponin-I arrive by HL7 (its day-21
  liver panel stays overdue, as the reminders demo needs);
- matched: a preliminary liver panel for the same case, waiting for the final report;
- needs_review: "monitoring_abnormal"'s panel with a mistyped MRN;
- failed: bilirubin in a unit GeneGate cannot convert;
- received: a FHIR Bundle stored while the listener was stopped, not yet processed.

Sample files (data/samples/, one per demo case with an open draw whose window has opened)
are what the README's ``manage.py mllp_send`` example sends to the running listener.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings

from monitoring.inbox.models import InboxMessage, InboxSource, Laboratory
from monitoring.inbox.workflows import receive_hl7
from monitoring.models import OPEN_STATES, Draw

LAB_NAME = "Northfield Reference Laboratory"
LAB_FACILITY = "NREFLAB"

# Synthetic normal values per analyte: (LOINC, name, value, UCUM unit, reference range).
NORMAL = {
    "alt": ("1742-6", "ALT", "32", "U/L", "10-55"),
    "ast": ("1920-8", "AST", "41", "U/L", "10-60"),
    "tbili": ("1975-2", "Bilirubin total", "0.4", "mg/dL", "0.2-1.0"),
    "pt": ("5902-2", "Prothrombin time", "12.1", "s", "10.0-14.0"),
    "platelets": ("777-3", "Platelets", "285", "10*9/L", "150-450"),
    "hemoglobin": ("718-7", "Hemoglobin", "11.8", "g/dL", "10.5-14.0"),
    "troponin_i": ("10839-9", "Troponin I", "10", "ng/L", "<40"),
}


def oru(control: str, patient, site_code: str, collected: datetime, rows, status: str = "F") -> str:
    """A synthetic ORU^R01 (HL7 v2.5.1) for ``patient`` with ``rows`` (NORMAL-shaped tuples)."""
    ts = collected.strftime("%Y%m%d%H%M%z")
    family = patient.legal_name.split()[-1]
    given = " ".join(patient.legal_name.split()[:-1])
    segments = [
        f"MSH|^~\\&|LIS|{LAB_FACILITY}|GENEGATE|{site_code}|{ts}||ORU^R01^ORU_R01|{control}|P|2.5.1",
        f"PID|1||{patient.mrn}^^^{site_code}^MR||{family}^{given}||{patient.date_of_birth:%Y%m%d}|{patient.sex}",
        f"OBR|1||{control}-ACC|24325-3^Hepatic function panel^LN|||{ts}",
    ]
    for i, (code, name, value, unit, ref) in enumerate(rows, start=1):
        segments.append(f"OBX|{i}|NM|{code}^{name}^LN||{value}|{unit}|{ref}||||{status}|||{ts}")
    return "\r".join(segments) + "\r"


def _collected(draw: Draw, today) -> datetime:
    day = min(draw.due_on, today)
    return datetime.combine(day, time(9, 30), tzinfo=ZoneInfo(draw.site.timezone))


def _send(text: str) -> None:
    receive_hl7(text.encode("utf-8"))


def _laboratory(site) -> Laboratory:
    lab, _ = Laboratory.objects.get_or_create(
        site=site,
        name=LAB_NAME,
        defaults={
            "hl7_sending_facility": LAB_FACILITY,
            "local_codes": {"ALTX": "1742-6", "PLT": "777-3"},
            "csv_mapping": {
                "mrn": "MRN",
                "birth_date": "DOB",
                "family_name": "Last name",
                "collected_at": "Collected",
                "code": "Test",
                "value": "Result",
                "unit": "Units",
                "reference_range": "Range",
                "flag": "Flag",
                "accession": "Accession",
            },
            "csv_datetime_format": "%m/%d/%Y %H:%M",
            "csv_date_format": "%m/%d/%Y",
        },
    )
    return lab


def _received_bundle(case, site) -> None:
    """A FHIR Bundle stored but not processed yet (status received)."""
    control = "DEMO-FHIR-RECEIVED"
    if InboxMessage.objects.filter(site=site, control_id=control).exists():
        return
    patient = case.patient
    body = {
        "resourceType": "Bundle",
        "id": control,
        "type": "collection",
        "identifier": {"value": control},
        "entry": [
            {
                "fullUrl": "urn:uuid:p",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"value": patient.mrn}],
                    "birthDate": patient.date_of_birth.isoformat(),
                },
            }
        ],
    }
    raw = json.dumps(body)
    InboxMessage.objects.create(
        site=site,
        source=InboxSource.FHIR,
        sender="token (demo)",
        control_id=control,
        raw=raw,
        raw_sha256=hashlib.sha256(raw.encode()).hexdigest(),
    )


def write_samples(cases: dict, today, directory: Path) -> list[Path]:
    """One HL7 file per demo case with an open draw whose window has opened: its results."""
    written = []
    directory.mkdir(parents=True, exist_ok=True)
    for key, case in cases.items():
        draws = list(
            Draw.objects.filter(case=case, state__in=OPEN_STATES, window_opens__lte=today)
            .exclude(kind="steroid_review")
            .select_related("site", "case__patient")
            .order_by("due_on")[:3]
        )
        if not draws:
            continue
        first = draws[0]
        rows = [NORMAL[a] for d in draws if d.due_on == first.due_on for a in d.analytes if a in NORMAL]
        text = oru(
            f"SAMPLE-{key.upper()}-{first.day}", case.patient, case.site.short_code, _collected(first, today), rows
        )
        path = directory / f"{key}-day{first.day}.hl7"
        path.write_text(text.replace("\r", "\n"))
        written.append(path)
    return written


def seed(ctx) -> None:
    cases = ctx.extra.get("cases") or {}
    nch = ctx.sites.get("NCH")
    if nch is None:
        return
    _laboratory(nch)
    today = ctx.today
    overdue = cases.get("overdue")
    if overdue is not None:
        patient = overdue.patient
        for kind in ("platelets", "troponin"):
            draw = Draw.objects.filter(case=overdue, kind=kind, day=21).select_related("site").first()
            if draw is not None:
                rows = [NORMAL[a] for a in draw.analytes]
                _send(oru(f"DEMO-{kind.upper()}-21", patient, "NCH", _collected(draw, today), rows))
        liver = Draw.objects.filter(case=overdue, kind="liver", day=21).select_related("site").first()
        if liver is not None and liver.state != "done":
            rows = [NORMAL[a] for a in liver.analytes]
            _send(oru("DEMO-LIVER-21-PRELIM", patient, "NCH", _collected(liver, today), rows, status="P"))
    abnormal = cases.get("monitoring_abnormal")
    if abnormal is not None:
        patient = abnormal.patient
        when = datetime.combine(today - timedelta(days=1), time(8, 15), tzinfo=ZoneInfo(nch.timezone))
        typo = type(patient)(
            mrn=patient.mrn + "7", legal_name=patient.legal_name, date_of_birth=patient.date_of_birth, sex=patient.sex
        )
        _send(oru("DEMO-REVIEW-1", typo, "NCH", when, [NORMAL[a] for a in ("alt", "ast", "tbili", "pt")]))
        bad = [NORMAL["alt"], ("1975-2", "Bilirubin total", "9", "mmol/L", "3-17")]
        _send(oru("DEMO-FAILED-1", patient, "NCH", when, bad))
        _received_bundle(abnormal, nch)
    write_samples(cases, today, Path(settings.DATA_DIR) / "samples")
