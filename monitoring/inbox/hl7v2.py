"""HL7 v2 ORU^R01 (v2.5.1; 2.3 to 2.7 as laboratories send them) → LabReport, and the ACK.

Library: ``hl7`` (python-hl7, pinned in requirements.txt). Chosen over ``hl7apy`` because
- it parses any 2.x version by the message's own delimiters, without per-version structure
  files, so a 2.3 lab and a 2.7 lab go through the same code (hl7apy validates against one
  version's grammar and refuses the small deviations real laboratories send);
- it is small, pure Python and fast (a plain split per delimiter: thousands of messages a
  second, issue 19's 200/s with room), with no dependencies;
- it unescapes \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ on field access, builds ACKs (``create_ack``),
  and splits files and batches of many messages (``split_file``).
We read the segments and fields we need by position (MSH, PID, OBR, OBX); nothing here
splits HL7 text by hand.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from zoneinfo import ZoneInfo

import hl7
from hl7.exceptions import ParseException

from monitoring.inbox import codes
from monitoring.inbox.records import (
    ERR_DATA_TYPE,
    ERR_REQUIRED_FIELD,
    ERR_SEGMENT_SEQUENCE,
    ERR_UNSUPPORTED_EVENT,
    ERR_UNSUPPORTED_MESSAGE,
    ERR_UNSUPPORTED_VERSION,
    InboxError,
    LabReport,
    Observation,
)

SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1")
# MSH-18 character sets we decode (HL7 table 0211); none given means ASCII, read as UTF-8.
CHARSETS = {"": "utf-8", "ASCII": "ascii", "UNICODE UTF-8": "utf-8", "UTF-8": "utf-8", "8859/1": "latin-1"}


def decode(data: bytes) -> str:
    """The message as text, in the character set MSH-18 declares (UTF-8 when none).

    InboxError (AR) for a character set we do not read or bytes that are not in it."""
    first = data.lstrip().replace(b"\n", b"\r").split(b"\r", 1)[0].decode("latin-1")
    declared = ""
    if first.startswith("MSH") and len(first) > 8:
        try:
            declared = _f(hl7.parse(first).segment("MSH"), 18).upper()
        except (ParseException, ValueError, IndexError, KeyError, AssertionError, TypeError, AttributeError):
            declared = ""
    encoding = CHARSETS.get(declared)
    if encoding is None:
        raise InboxError(f"Character set {declared[:20]!r} (MSH-18) is not supported; send UTF-8.", ack="AR")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise InboxError(
            f"The message is not valid {encoding.upper()}; declare its character set in MSH-18.",
            ack="AR",
            code=ERR_DATA_TYPE,
        ) from None


def split(text: str) -> list[str]:
    """The messages of an uploaded file (one or many; FHS/BHS batch envelopes allowed)."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").lstrip("\ufeff")
    try:
        parts = hl7.split_file(text)
    except (ParseException, ValueError, IndexError, KeyError, AssertionError, TypeError):
        parts = []
    return [p for p in parts if p.strip()] or ([text] if text.strip() else [])


def _f(segment, field: int, component: int = 1, repeat: int = 1) -> str:
    """One component of one field, unescaped; '' when absent."""
    try:
        value = segment.extract_field(1, field, repeat, component, 1)
    except (IndexError, KeyError, TypeError, AttributeError):
        return ""
    return str(value).strip()


def _segments(message, name: str) -> list:
    try:
        return list(message.segments(name))
    except KeyError:
        return []


def _datetime(text: str, tz: ZoneInfo, what: str) -> datetime | None:
    """An HL7 TS/DTM; without an offset it is the receiving site's local time."""
    if not text:
        return None
    try:
        value = hl7.parse_datetime(text)
    except (ValueError, TypeError):
        value = None
    if value is None:
        raise InboxError(f"{what} {text[:20]!r} is not an HL7 date/time (YYYYMMDDHHMM).", code=ERR_DATA_TYPE)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def parse_message(text: str):
    """The python-hl7 Message, or InboxError (AR) if it is not one we accept."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip().lstrip("\ufeff")
    if not text.startswith("MSH"):
        raise InboxError("Not an HL7 v2 message: it must begin with an MSH segment.", ack="AR", code=ERR_REQUIRED_FIELD)
    try:
        message = hl7.parse(text)
        message.segment("MSH")
        return message
    # python-hl7 asserts on impossible delimiters (MSH-2) rather than raising ParseException.
    except (ParseException, ValueError, IndexError, KeyError, AssertionError, TypeError, AttributeError) as exc:
        raise InboxError(f"Not a readable HL7 v2 message ({type(exc).__name__}).", ack="AR") from None


def header(message) -> dict[str, str]:
    """MSH fields the inbox uses (sender, receiver, control id, type, version)."""
    msh = message.segment("MSH")
    return {
        "sending_app": _f(msh, 3),
        "sending_facility": _f(msh, 4),
        "receiving_facility": _f(msh, 6),
        "type": _f(msh, 9, 1),
        "event": _f(msh, 9, 2),
        "control_id": _f(msh, 10),
        "version": _f(msh, 12),
    }


def parse(text: str, tz: ZoneInfo, message=None) -> LabReport:
    """An ORU^R01's patient and results as a LabReport.

    1. MSH: ORU^R01 only (AR otherwise), a supported version (AR), a control id (AR).
    2. One PID per message: MRN from PID-3 (the repetition typed MR, else the first),
       family and given name (PID-5), birth date (PID-7).
    3. Collection time from OBR-7 (else the first OBX-14), local to the site without offset.
    4. Every OBX: code (OBX-3, LOINC or local; the alternate triplet when the first is not
       LOINC), value (OBX-5), unit (OBX-6), range (OBX-7), lab flag (OBX-8), status (OBX-11).

    ``message`` is ``parse_message(text)`` when the caller has it already (read once).
    """
    message = message if message is not None else parse_message(text)
    h = header(message)
    if h["type"] != "ORU" or h["event"] not in ("R01", ""):
        kind = f"{h['type']}^{h['event']}".strip("^") or "none"
        raise InboxError(
            f"Message type {kind} is not accepted here; send ORU^R01.",
            ack="AR",
            code=ERR_UNSUPPORTED_MESSAGE if h["type"] != "ORU" else ERR_UNSUPPORTED_EVENT,
        )
    if h["version"] not in SUPPORTED_VERSIONS:
        raise InboxError(
            f"HL7 version {h['version'][:10] or 'none'} is not supported (2.3 to 2.7).",
            ack="AR",
            code=ERR_UNSUPPORTED_VERSION,
        )
    if not h["control_id"]:
        raise InboxError("MSH-10 (message control id) is empty.", ack="AR", code=ERR_REQUIRED_FIELD)
    pids = _segments(message, "PID")
    if len(pids) != 1:
        raise InboxError(
            "The message must carry exactly one patient (PID)." if pids else "The message has no PID segment.",
            code=ERR_SEGMENT_SEQUENCE if pids else ERR_REQUIRED_FIELD,
        )
    pid = pids[0]
    mrn = ""
    for repeat in range(1, 6):
        value, kind = _f(pid, 3, 1, repeat), _f(pid, 3, 5, repeat)
        if value and (kind.upper() == "MR" or not mrn):
            mrn = value
            if kind.upper() == "MR":
                break
    birth = _datetime(_f(pid, 7), tz, "Birth date (PID-7)")
    obrs = _segments(message, "OBR")
    obxs = _segments(message, "OBX")
    if not obxs:
        raise InboxError("The message has no results (OBX).", code=ERR_REQUIRED_FIELD)
    collected = _datetime(_f(obrs[0], 7), tz, "Collection time (OBR-7)") if obrs else None
    observations = []
    for obx in obxs:
        code, name, system = _f(obx, 3, 1), _f(obx, 3, 2), _f(obx, 3, 3)
        if system.upper() not in ("LN", "LOINC") and _f(obx, 3, 6).upper() in ("LN", "LOINC"):
            code, name, system = _f(obx, 3, 4), _f(obx, 3, 5) or name, "LN"
        value = _f(obx, 5)
        if _f(obx, 2).upper() == "SN":  # structured numeric: comparator^number
            comparator, num = _f(obx, 5, 1), _f(obx, 5, 2)
            value = num if comparator in ("", "=") else f"{comparator}{num}"
        observed = _datetime(_f(obx, 14), tz, "Observation time (OBX-14)")
        collected = collected or observed
        observations.append(
            Observation(
                code=code,
                system=system,
                name=name,
                value=value,
                unit=_f(obx, 6, 1),
                reference_range=_f(obx, 7),
                lab_flag=_f(obx, 8),
                status=codes.HL7_STATUS.get(_f(obx, 11).upper(), codes.FINAL),
            )
        )
    return LabReport(
        control_id=h["control_id"][:200],
        sender="^".join(p for p in (h["sending_app"], h["sending_facility"]) if p)[:200],
        receiving=h["receiving_facility"],
        version=h["version"],
        mrn=mrn,
        birth_date=birth.date() if birth else None,
        family_name=_f(pid, 5, 1),
        given_name=_f(pid, 5, 2),
        collected_at=collected,
        accession=_f(obrs[0], 3) if obrs else "",
        observations=observations,
    )


def ack(text: str | None, code: str, reason: str = "", error_code: str = "") -> str:
    """The ACK for a message: MSA-1 ``code`` (AA, AE, AR), MSA-2 its control id, MSA-3 and an
    ERR segment (ERR-3 error code, ERR-4 severity, ERR-8 text) with the reason. When the
    message cannot be read at all, a minimal ACK answers with an empty MSA-2."""
    out = None
    if text:
        try:
            with warnings.catch_warnings():  # python-hl7 stamps the ACK with datetime.utcnow()
                warnings.simplefilter("ignore", DeprecationWarning)
                out = parse_message(text).create_ack(ack_code=code, application="GENEGATE")
        except (
            InboxError,
            ParseException,
            KeyError,
            IndexError,
            TypeError,
            ValueError,
            AttributeError,
            AssertionError,
        ):
            out = None  # a header too broken to answer from: the minimal ACK below
    if out is None:
        now = datetime.now().strftime("%Y%m%d%H%M%S")
        out = hl7.parse(f"MSH|^~\\&|GENEGATE||||{now}||ACK|{now}|P|2.5.1\rMSA|{code}|")
    reason = " ".join(reason.split())[:200]
    if reason:
        msa = out.segment("MSA")
        msa.assign_field(out.escape(reason), 3)
        err = out.create_segment([out.create_field(["ERR"])])
        err.assign_field(error_code or "207", 3, 1, 1)
        err.assign_field("HL70357", 3, 1, 3)
        err.assign_field("E", 4)
        err.assign_field(out.escape(reason), 8)
        out.append(err)
    return str(out)
