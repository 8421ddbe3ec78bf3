"""CSV exports from a laboratory portal → LabReports, through the column mapping saved on the
Laboratory (monitoring.inbox.models.CSV_FIELDS). Python's csv module reads the file.

Each report (rows of one patient and one accession, or one collection time) becomes its own
inbox message whose raw text is the header plus those rows, so a message can be parsed again
on its own after a mapping fix. A row that cannot be read is reported with its number and
reason and stored as a failed message of its own; the good rows go on.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from monitoring.inbox import codes
from monitoring.inbox.models import CSV_FIELDS, CSV_REQUIRED
from monitoring.inbox.records import ERR_DATA_TYPE, ERR_REQUIRED_FIELD, InboxError, LabReport, Observation

MAX_ROWS = 20_000


@dataclass
class Group:
    raw: str
    report: LabReport
    first_row: int


@dataclass
class BadRow:
    number: int
    raw: str
    reason: str


@dataclass
class CsvResult:
    groups: list[Group] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)


def mapping_problems(mapping: dict) -> list[str]:
    """What is wrong with a laboratory's column mapping (empty when it is usable)."""
    if not isinstance(mapping, dict):
        return ["The CSV mapping must be an object of field → column name."]
    problems = [
        f"Unknown field {key!r}; fields are: {', '.join(CSV_FIELDS)}" for key in mapping if key not in CSV_FIELDS
    ]
    problems += [f"Map the required field {key!r} to a column." for key in CSV_REQUIRED if not mapping.get(key)]
    return problems


def _dialect(header_line: str):
    try:
        return csv.Sniffer().sniff(header_line, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _parse_when(text: str, fmt: str, tz: ZoneInfo, what: str) -> datetime:
    text = (text or "").strip()
    try:
        value = datetime.strptime(text, fmt)  # noqa: DTZ007 (made aware just below)
    except ValueError:
        raise ValueError(f"{what} {text[:30]!r} does not match the laboratory's format {fmt}") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _row_report(row: dict, mapping: dict, lab, tz: ZoneInfo) -> tuple[tuple, LabReport]:
    """One row as (group key, one-observation LabReport); ValueError with the reason."""

    def col(name: str) -> str:
        column = mapping.get(name)
        return (row.get(column) or "").strip() if column else ""

    for name in CSV_REQUIRED:
        if not col(name):
            raise ValueError(f"{CSV_FIELDS[name].split(' (')[0]} (column {mapping.get(name)!r}) is empty")
    birth = _parse_when(col("birth_date"), lab.csv_date_format, tz, "Birth date").date()
    collected = _parse_when(col("collected_at"), lab.csv_datetime_format, tz, "Collection time")
    analyte, display = codes.analyte_for(col("code"), "", lab.local_codes)
    status = codes.HL7_STATUS.get(col("status").upper()[:1], codes.FINAL) if col("status") else codes.FINAL
    if analyte and status not in (codes.CANCELLED, codes.PRELIMINARY):
        try:
            codes.number(col("value"), display)
            codes.unit_for(analyte, col("unit"))
        except codes.MeaningError as exc:
            raise ValueError(str(exc)) from None
    observation = Observation(
        code=col("code"),
        system="",
        name=display,
        value=col("value"),
        unit=col("unit"),
        reference_range=col("reference_range"),
        lab_flag=col("flag"),
        status=status,
    )
    key = (col("mrn"), birth, col("accession") or collected.isoformat())
    report = LabReport(
        control_id="",
        sender=lab.name[:200],
        mrn=col("mrn"),
        birth_date=birth,
        family_name=col("family_name"),
        collected_at=collected,
        accession=col("accession"),
        observations=[observation],
    )
    return key, report


def parse(text: str, lab, tz: ZoneInfo) -> CsvResult:
    """Every report of a CSV file, and every row that could not be read."""
    problems = mapping_problems(lab.csv_mapping)
    if problems:
        raise InboxError(f"{lab.name}'s CSV mapping is incomplete: {'; '.join(problems)}", code=ERR_REQUIRED_FIELD)
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InboxError("The CSV file is empty.", ack="AR", code=ERR_REQUIRED_FIELD)
    header_line = lines[0]
    reader = csv.DictReader(io.StringIO(text), dialect=_dialect(header_line))
    missing = [c for c in lab.csv_mapping.values() if c and c not in (reader.fieldnames or [])]
    if missing:
        raise InboxError(
            f"The file has no column {', '.join(repr(c) for c in missing)} (header: {header_line[:200]!r}).",
            ack="AR",
            code=ERR_REQUIRED_FIELD,
        )
    result = CsvResult()
    grouped: dict[tuple, tuple[list[str], LabReport, int]] = {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect=reader.dialect, lineterminator="\n")
    for number, row in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            raise InboxError(f"The file has more than {MAX_ROWS} rows; split it.", ack="AR")
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([row.get(name) or "" for name in reader.fieldnames or []])
        raw_row = buffer.getvalue()
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        try:
            if None in row:
                raise ValueError("the row has more cells than the header")
            key, report = _row_report(row, lab.csv_mapping, lab, tz)
        except ValueError as exc:
            result.bad_rows.append(BadRow(number, header_line + "\n" + raw_row, f"Row {number}: {exc}"))
            continue
        if key in grouped:
            grouped[key][0].append(raw_row)
            grouped[key][1].observations.extend(report.observations)
        else:
            grouped[key] = ([raw_row], report, number)
    for rows, report, first in grouped.values():
        raw = header_line + "\n" + "".join(rows)
        report.control_id = hashlib.sha256(raw.encode()).hexdigest()
        result.groups.append(Group(raw, report, first))
    return result


def parse_one(text: str, lab, tz: ZoneInfo) -> LabReport:
    """The one report a stored CSV message holds (InboxError when its rows do not read)."""
    if lab is None:
        raise InboxError("The message has no laboratory, so its columns cannot be read.", code=ERR_REQUIRED_FIELD)
    result = parse(text, lab, tz)
    if result.bad_rows:
        raise InboxError(result.bad_rows[0].reason, code=ERR_DATA_TYPE)
    if len(result.groups) != 1:
        raise InboxError("The stored rows do not form one report.", code=ERR_REQUIRED_FIELD)
    return result.groups[0].report
