"""Synthetic laboratory messages (no real patient data) for the results inbox tests.

Dates are relative to today: the MLLP listener runs as a real subprocess, whose clock the
tests cannot freeze. The case was infused 10 days ago, so the day-7 draws (liver, platelets,
troponin-I) are due 3 days ago, their window ±2 days around it.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from tests.monitoring.helpers import infuse

NEW_YORK = ZoneInfo("America/New_York")
DOB = "20260601"  # tests.personas.make_case's default birth date
FAMILY = "Markerchild"  # tests.personas.MARKER_NAME's family name

LIVER = [
    ("1742-6", "ALT", "45", "U/L", "10-60", "", "F"),
    ("1920-8", "AST", "50", "U/L", "10-60", "", "F"),
    ("1975-2", "Bilirubin total", "0.5", "mg/dL", "0.2-1.0", "", "F"),
    ("5902-2", "PT", "12.5", "s", "10-14", "", "F"),
]


def today() -> date:
    return timezone.localdate(timezone=NEW_YORK)


def infused_case(case):
    """Infuse ``case`` 10 days ago (its schedule, weight and baseline labs)."""
    return infuse(case, today() - timedelta(days=10))


def collected(days_ago: int = 3, hour: int = 9) -> datetime:
    return datetime.combine(today() - timedelta(days=days_ago), time(hour, 30), tzinfo=NEW_YORK)


def oru(
    control: str = "CTRL-1",
    *,
    mrn: str = "MRN-MARKER-9137",
    dob: str = DOB,
    family: str = FAMILY,
    facility: str = "A",
    when: datetime | None = None,
    results=LIVER,
    version: str = "2.5.1",
    kind: str = "ORU^R01^ORU_R01",
    sender: str = "REFLAB",
    accession: str = "ACC-1",
    charset: str = "",
) -> str:
    """An ORU^R01 with one patient and ``results`` rows (code, name, value, unit, range, flag, status)."""
    ts = (when or collected()).strftime("%Y%m%d%H%M")
    msh = f"MSH|^~\\&|LIS|{sender}|GENEGATE|{facility}|{ts}||{kind}|{control}|P|{version}"
    if charset:
        msh += "||||||" + charset
    segments = [
        msh,
        f"PID|1||{mrn}^^^{facility}^MR||{family}^Zyxwv||{dob}|F",
        f"OBR|1||{accession}|24325-3^Hepatic function panel^LN|||{ts}",
    ]
    for i, (code, name, value, unit, ref, flag, status) in enumerate(results, start=1):
        segments.append(f"OBX|{i}|NM|{code}^{name}^LN||{value}|{unit}|{ref}|{flag}|||{status}|||{ts}")
    return "\r".join(segments) + "\r"


def bundle(
    bundle_id: str = "bundle-1",
    *,
    mrn: str = "MRN-MARKER-9137",
    birth: str = "2026-06-01",
    family: str = FAMILY,
    when: datetime | None = None,
    observations=None,
    status: str = "final",
) -> str:
    """A FHIR R4 collection Bundle: Patient, DiagnosticReport and US Core lab Observations."""
    at = (when or collected()).isoformat()
    observations = observations or [
        ("1742-6", "ALT", 45, "U/L", 10, 60),
        ("1920-8", "AST", 50, "U/L", 10, 60),
        ("1975-2", "Bilirubin", 0.5, "mg/dL", 0.2, 1.0),
        ("5902-2", "PT", 12.5, "s", 10, 14),
    ]
    entries = [
        {
            "fullUrl": "urn:uuid:patient-1",
            "resource": {
                "resourceType": "Patient",
                "id": "patient-1",
                "identifier": [
                    {
                        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                        "value": mrn,
                    }
                ],
                "name": [{"family": family, "given": ["Zyxwv"]}],
                "birthDate": birth,
            },
        }
    ]
    refs = []
    for i, (code, name, value, unit, low, high) in enumerate(observations, start=1):
        refs.append({"reference": f"urn:uuid:obs-{i}"})
        entries.append(
            {
                "fullUrl": f"urn:uuid:obs-{i}",
                "resource": {
                    "resourceType": "Observation",
                    "id": f"obs-{i}",
                    "status": status,
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "laboratory",
                                }
                            ]
                        }
                    ],
                    "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": name}]},
                    "subject": {"reference": "urn:uuid:patient-1"},
                    "effectiveDateTime": at,
                    "valueQuantity": {
                        "value": value,
                        "unit": unit,
                        "system": "http://unitsofmeasure.org",
                        "code": unit,
                    },
                    "referenceRange": [{"low": {"value": low, "unit": unit}, "high": {"value": high, "unit": unit}}],
                },
            }
        )
    entries.insert(
        1,
        {
            "fullUrl": "urn:uuid:report-1",
            "resource": {
                "resourceType": "DiagnosticReport",
                "id": "report-1",
                "status": status,
                "code": {"coding": [{"system": "http://loinc.org", "code": "24325-3"}]},
                "subject": {"reference": "urn:uuid:patient-1"},
                "effectiveDateTime": at,
                "result": refs,
            },
        },
    )
    return json.dumps(
        {
            "resourceType": "Bundle",
            "id": bundle_id,
            "type": "collection",
            "identifier": {"system": "urn:example:lab", "value": bundle_id},
            "entry": entries,
        }
    )
