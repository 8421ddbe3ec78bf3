"""The one shape every parser produces (a LabReport of Observations), the error every step
raises (InboxError, with the HL7 acknowledgement it deserves), and ``interpret``: from a report
to the result lines GeneGate records (analyte, value, unit, ULN). Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from monitoring.inbox import codes

# HL7 table 0357 (message error condition codes) used in ERR-3.
ERR_SEGMENT_SEQUENCE = "100"
ERR_REQUIRED_FIELD = "101"
ERR_DATA_TYPE = "102"
ERR_TABLE_VALUE = "103"
ERR_UNSUPPORTED_MESSAGE = "200"
ERR_UNSUPPORTED_EVENT = "201"
ERR_UNSUPPORTED_VERSION = "203"
ERR_UNKNOWN_KEY = "204"
ERR_INTERNAL = "207"

# Analytes judged by the laboratory's upper limit (cases.analytes limit "upper" and used by
# the flags as ×ULN): the ULN travels with the result, as on the typed form (monitoring.forms).
ULN_ANALYTES = ("alt", "ast", "tbili", "pt", "inr")


class InboxError(Exception):
    """A message GeneGate cannot take as it is. ``ack`` is the HL7 acknowledgement code:
    AR (rejected: not a message we accept at all) or AE (application error: understood but
    not applicable); ``code`` an HL7 table 0357 error code."""

    def __init__(self, reason: str, *, ack: str = "AE", code: str = ERR_INTERNAL):
        super().__init__(reason)
        self.reason = reason
        self.ack = ack
        self.code = code


@dataclass
class Observation:
    code: str
    system: str
    name: str
    value: str
    unit: str
    reference_range: str = ""
    low: Decimal | None = None
    high: Decimal | None = None
    lab_flag: str = ""
    status: str = codes.FINAL
    observed_at: datetime | None = None


@dataclass
class LabReport:
    """One patient's results from one message (or one report's rows of a CSV file)."""

    control_id: str
    sender: str
    receiving: str = ""
    version: str = ""
    mrn: str = ""
    birth_date: date | None = None
    family_name: str = ""
    given_name: str = ""
    collected_at: datetime | None = None
    accession: str = ""
    observations: list[Observation] = field(default_factory=list)


@dataclass(frozen=True)
class ResultLine:
    """One result to record: value and ULN in ``unit`` (a unit cases.analytes accepts)."""

    analyte: str
    value: Decimal
    unit: str
    uln: Decimal | None
    low: Decimal | None
    lab_flag: str
    status: str
    code: str
    collected_at: datetime

    def as_json(self) -> dict:
        return {
            "analyte": self.analyte,
            "value": str(self.value),
            "unit": self.unit,
            "uln": None if self.uln is None else str(self.uln),
            "low": None if self.low is None else str(self.low),
            "lab_flag": self.lab_flag,
            "status": self.status,
            "code": self.code,
            "collected_at": self.collected_at.isoformat(),
        }


@dataclass
class Interpretation:
    lines: list[ResultLine]
    notes: list[str]
    preliminary: list[str]
    unmapped: list[str] = field(default_factory=list)


def interpret(report: LabReport, local_codes: dict | None = None) -> Interpretation:
    """The results to record, and notes on everything else.

    1. Each observation's code → analyte (codes.analyte_for); unknown or unkept codes are
       noted as not recorded.
    2. Cancelled results are noted; preliminary ones wait for the final report.
    3. Value and unit must convert (cases.analytes.to_canonical), else InboxError (AE) with
       the reason: a message is recorded whole or not at all.
    4. The ULN is the reference range's upper limit for ULN-judged analytes (else the site's
       fallback applies in monitoring.workflows.results_record); the lower limit is kept.
    5. Two results of one analyte in one report are refused (which one counts is a guess).
    """
    if report.collected_at is None:
        raise InboxError("The collection time is missing.", code=ERR_REQUIRED_FIELD)
    lines: list[ResultLine] = []
    notes: list[str] = []
    preliminary: list[str] = []
    unmapped: list[str] = []
    seen: set[str] = set()
    for obs in report.observations:
        analyte, display = codes.analyte_for(obs.code, obs.system, local_codes)
        name = display or obs.name or obs.code or "unnamed test"
        if analyte is None:
            notes.append(f"{name} ({obs.code or 'no code'}): not a monitored analyte, not recorded")
            unmapped.append(obs.code or name)
            continue
        if obs.status == codes.CANCELLED:
            notes.append(f"{name}: cancelled by the laboratory")
            continue
        if obs.status == codes.PRELIMINARY:
            preliminary.append(name)
            continue
        if analyte in seen:
            raise InboxError(f"{name} is reported twice in one report.", code=ERR_SEGMENT_SEQUENCE)
        seen.add(analyte)
        try:
            value = codes.number(obs.value, name)
            unit = codes.unit_for(analyte, obs.unit)
        except codes.MeaningError as exc:
            raise InboxError(str(exc), code=ERR_DATA_TYPE) from None
        low, high = obs.low, obs.high
        if low is None and high is None and obs.reference_range:
            low, high = codes.reference_range(obs.reference_range)
        lines.append(
            ResultLine(
                analyte=analyte,
                value=value,
                unit=unit,
                uln=high if analyte in ULN_ANALYTES and high else None,
                low=low,
                lab_flag=obs.lab_flag[:10],
                status=obs.status,
                code=obs.code,
                collected_at=obs.observed_at or report.collected_at,
            )
        )
    return Interpretation(lines, notes, preliminary, unmapped)
