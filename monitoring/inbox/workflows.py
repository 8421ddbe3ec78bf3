"""The results inbox's workflows: receive a message (store it raw first), process it (parse,
interpret, match, record), and the coordinator's review and re-processing.

    received → matched | needs_review | failed → processed

- received: stored, not yet processed (a crash mid-way leaves it here, to process again).
- matched: patient and draws found; only preliminary results, waiting for the final report.
- needs_review: no single patient or draw (or a changed value not marked corrected); the
  coordinator picks the draw on the inbox page.
- failed: unreadable or not convertible (the reason says why); process again after a fix.
- processed: results recorded through monitoring.workflows.results_record, the same code path
  as typed results (flags, urgent alerts, extension draws), or nothing to record. A result
  no scheduled window covers is recorded as an unscheduled result on the case.

A message is recorded whole or not at all (one savepoint); the same message (site, source,
sender, control id) twice creates nothing new. Nothing here logs patient data: log lines name
the message id and status only.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from monitoring.inbox import csvfile, fhir, hl7v2
from monitoring.inbox.matching import match_draws, match_patient, site_for_facility
from monitoring.inbox.models import InboxMessage, InboxSource, InboxStatus, Laboratory
from monitoring.inbox.records import ERR_DATA_TYPE, ERR_INTERNAL, ERR_UNKNOWN_KEY, InboxError, LabReport, interpret
from monitoring.workflows import ResultInput, results_record, unscheduled_draw_save

logger = logging.getLogger(__name__)

# A collection time this far ahead of the clock is an error, not a clock skew.
FUTURE_TOLERANCE = timedelta(minutes=15)


@dataclass
class Outcome:
    """What became of one incoming message, and the HL7 acknowledgement it earns."""

    message: InboxMessage | None
    ack: str  # AA, AE or AR
    reason: str = ""
    code: str = ""
    duplicate: bool = False


def _tz(site) -> ZoneInfo:
    return ZoneInfo(site.timezone) if site is not None else ZoneInfo(timezone.get_default_timezone_name())


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def parse_stored(message: InboxMessage) -> LabReport:
    """Parse a stored message again from its raw text (InboxError if it does not read)."""
    tz = _tz(message.site)
    if message.source == InboxSource.HL7:
        return hl7v2.parse(message.raw, tz)
    if message.source == InboxSource.FHIR:
        return fhir.parse(message.raw, tz)
    return csvfile.parse_one(message.raw, message.laboratory, tz)


# --- Receiving -------------------------------------------------------------------------------


def store_failed(*, source, raw: str, site, reason: str, by=None, laboratory=None, sender="", control_id=""):
    """Keep a message that cannot be taken, with the reason (NUL bytes, which no text column
    holds, become U+FFFD)."""
    raw = raw.replace("\x00", "\ufffd")
    return InboxMessage.objects.create(
        site=site,
        source=source,
        laboratory=laboratory,
        sender=sender[:200],
        control_id="",  # a failure before the id was read cannot claim it
        raw=raw,
        raw_sha256=_sha(raw),
        status=InboxStatus.FAILED,
        reason=reason,
        details={"control_id": control_id[:200]} if control_id else {},
        received_by=by,
        attempts=1,
    )


def receive(
    *, source: str, raw: str, site, laboratory=None, by=None, report: LabReport | None = None, sender: str = ""
) -> Outcome:
    """Store one message for ``site`` (its raw text first, committed), then process it.

    ``report`` is the already parsed report when the caller parsed it (CSV groups); else the
    raw text is parsed here. The same (site, source, sender, control id) again is a
    duplicate: nothing new, unless the earlier one failed, which is then processed again with
    the new text.
    """
    if "\x00" in raw:
        reason = "The message contains NUL bytes; it is not text."
        message = store_failed(source=source, raw=raw, site=site, reason=reason, by=by, laboratory=laboratory)
        return Outcome(message, "AR", reason, ERR_DATA_TYPE)
    try:
        if report is None:
            report = parse_stored(InboxMessage(source=source, raw=raw, site=site, laboratory=laboratory))
    except InboxError as exc:
        message = store_failed(source=source, raw=raw, site=site, reason=exc.reason, by=by, laboratory=laboratory)
        logger.info("inbox message %s failed to parse", message.pk)
        return Outcome(message, exc.ack, exc.reason, exc.code)
    sender = (report.sender or sender or (laboratory.name if laboratory else ""))[:200]
    key = dict(site=site, source=source, sender=sender, control_id=report.control_id)
    existing = InboxMessage.objects.filter(**key).first() if report.control_id else None
    if existing is not None and existing.status != InboxStatus.FAILED:
        return Outcome(existing, "AA", f"Duplicate of inbox message {existing.pk}: nothing new.", duplicate=True)
    if existing is not None:
        existing.raw, existing.raw_sha256, existing.status = raw, _sha(raw), InboxStatus.RECEIVED
        existing.save(update_fields=["raw", "raw_sha256", "status"])
        return process(existing)
    try:
        with transaction.atomic():
            message = InboxMessage.objects.create(
                **key, laboratory=laboratory, raw=raw, raw_sha256=_sha(raw), received_by=by
            )
    except IntegrityError:  # the same message arrived at the same moment on another connection
        existing = InboxMessage.objects.get(**key)
        return Outcome(existing, "AA", f"Duplicate of inbox message {existing.pk}: nothing new.", duplicate=True)
    return process(message)


def receive_hl7(data: bytes, *, site=None, default_site=None, by=None) -> Outcome:
    """One HL7 v2 message as bytes (from the MLLP listener or a file).

    The site is the one given (an upload: the message must not name another site in MSH-6),
    else the site MSH-6 names, else ``default_site`` (the listener's ``--site``).
    """
    try:
        text = hl7v2.decode(data)
    except InboxError as exc:
        raw = data.decode("utf-8", "replace")
        message = store_failed(source=InboxSource.HL7, raw=raw, site=site or default_site, reason=exc.reason, by=by)
        return Outcome(message, exc.ack, exc.reason, exc.code)
    named, facility = None, ""
    try:
        head = hl7v2.header(hl7v2.parse_message(text))
        named_code, facility = head["receiving_facility"], head["sending_facility"]
        named = site_for_facility(named_code)
    except (InboxError, KeyError):
        named_code = ""
    if site is not None and named is not None and named.pk != site.pk:
        reason = "The message is addressed to another site (MSH-6)."
        message = store_failed(source=InboxSource.HL7, raw=text, site=site, reason=reason, by=by)
        return Outcome(message, "AR", reason, ERR_UNKNOWN_KEY)
    target = site or named or default_site
    if target is None:
        reason = f"Unknown receiving facility {named_code[:20]!r} (MSH-6): no site has this code."
        message = store_failed(source=InboxSource.HL7, raw=text, site=None, reason=reason, by=by)
        return Outcome(message, "AR", reason, ERR_UNKNOWN_KEY)
    laboratory = (
        Laboratory.objects.filter(site=target, active=True, hl7_sending_facility__iexact=facility).first()
        if facility
        else None
    )
    return receive(source=InboxSource.HL7, raw=text, site=target, by=by, laboratory=laboratory)


def receive_fhir(data: bytes | str, *, site, by=None, sender: str = "") -> Outcome:
    """One FHIR Bundle (a file, or the token-authenticated endpoint's body) for ``site``."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return receive(source=InboxSource.FHIR, raw=text, site=site, by=by, sender=sender)


def receive_csv(text: str, *, site, laboratory, by=None) -> tuple[list[Outcome], list[str]]:
    """A lab portal's CSV file: one message per report, one failed message per bad row.

    Returns the outcomes and the bad rows' reasons (each with its row number)."""
    tz = _tz(site)
    try:
        parsed = csvfile.parse(text, laboratory, tz)
    except InboxError as exc:
        message = store_failed(
            source=InboxSource.CSV, raw=text, site=site, reason=exc.reason, by=by, laboratory=laboratory
        )
        return [Outcome(message, exc.ack, exc.reason, exc.code)], [exc.reason]
    outcomes = []
    for bad in parsed.bad_rows:
        message = store_failed(
            source=InboxSource.CSV, raw=bad.raw, site=site, reason=bad.reason, by=by, laboratory=laboratory
        )
        outcomes.append(Outcome(message, "AE", bad.reason))
    for group in parsed.groups:
        outcomes.append(
            receive(source=InboxSource.CSV, raw=group.raw, site=site, laboratory=laboratory, by=by, report=group.report)
        )
    return outcomes, [bad.reason for bad in parsed.bad_rows]


# --- Processing ------------------------------------------------------------------------------


def _record(by_draw: dict, collected_at, by) -> list[dict]:
    """Record each draw's lines through monitoring.workflows.results_record (typed results'
    path: flags, alerts, extension); return the recorded lines with their draw."""
    recorded = []
    for draw, lines in by_draw.values():
        draw = unscheduled_draw_save(draw)  # an unscheduled result's draw is stored now
        results_record(
            draw=draw,
            results=[ResultInput(line.analyte, line.value, line.unit, line.uln) for line in lines],
            collected_at=collected_at,
            by=by,
        )
        recorded += [{**line.as_json(), "draw": draw.pk} for line in lines]
    return recorded


def _finish(message: InboxMessage, status: str, reason: str = "", **details) -> None:
    message.status = status
    message.reason = reason
    message.details = {**message.details, **details}
    if status == InboxStatus.PROCESSED:
        message.processed_at = timezone.now()
    message.save()


def process(message: InboxMessage, *, chosen: dict | None = None, by=None) -> Outcome:
    """Parse, interpret, match and record one stored message; the message's new status says
    what became of it. ``chosen`` (draw kind → Draw) is the coordinator's pick at review.

    1. Parse the raw text again (a fixed mapping applies) and interpret it: units must
       convert, else failed.
    2. Patient by MRN + birth date (+ family name) at the message's site, else needs_review;
       a chosen draw names the patient instead.
    3. Each result to its draw (matching.match_draws), else needs_review.
    4. Record per draw (results_record) in one savepoint: all of the message or none of it.
    """
    with transaction.atomic():
        message = (
            InboxMessage.objects.select_for_update(of=("self",)).select_related("site", "laboratory").get(pk=message.pk)
        )
        message.attempts += 1
        if message.site is None:
            _finish(message, InboxStatus.FAILED, message.reason or "The message has no site.")
            return Outcome(message, "AR", message.reason, ERR_UNKNOWN_KEY)
        tz = _tz(message.site)
        try:
            report = parse_stored(message)
            local = message.laboratory.local_codes if message.laboratory else None
            meaning = interpret(report, local)
            if report.collected_at > timezone.now() + FUTURE_TOLERANCE:
                raise InboxError("The collection time is in the future.")
        except InboxError as exc:
            _finish(message, InboxStatus.FAILED, exc.reason)
            logger.info("inbox message %s failed", message.pk)
            return Outcome(message, exc.ack, exc.reason, exc.code)
        message.collected_at = report.collected_at
        base = {
            "accession": report.accession,
            "version": report.version,
            "lines": [line.as_json() for line in meaning.lines],
            "notes": meaning.notes,
            "preliminary": meaning.preliminary,
        }
        if chosen:
            case = next(iter(chosen.values())).case
        else:
            case, why = match_patient(message.site, report)
            if case is None:
                message.case = None
                _finish(message, InboxStatus.NEEDS_REVIEW, why, **base)
                return Outcome(message, "AE", f"Held for review: {why}", ERR_UNKNOWN_KEY)
        message.case = case
        if not meaning.lines and not meaning.preliminary and len(meaning.unmapped) == len(report.observations):
            codes_text = ", ".join(c[:20] for c in meaning.unmapped[:8])
            why = f"No test in the message maps to a monitored analyte ({codes_text}): map the laboratory's local codes, then process it again."
            _finish(message, InboxStatus.FAILED, why, **base)
            return Outcome(message, "AE", why, ERR_UNKNOWN_KEY)
        if not meaning.lines:
            if meaning.preliminary:
                _finish(
                    message, InboxStatus.MATCHED, "Preliminary results: recorded when the final report arrives.", **base
                )
                return Outcome(message, "AA", "Preliminary results held until the final report.")
            _finish(
                message,
                InboxStatus.PROCESSED,
                "Nothing to record: " + ("; ".join(meaning.notes) or "no results"),
                **base,
            )
            return Outcome(message, "AA", message.reason)
        found = match_draws(case, meaning.lines, tz, chosen=chosen)
        base["notes"] = [*meaning.notes, *found.notes]
        if found.reasons:
            _finish(message, InboxStatus.NEEDS_REVIEW, " ".join(found.reasons), **base)
            return Outcome(message, "AE", "Held for review: " + " ".join(found.reasons), ERR_UNKNOWN_KEY)
        message.status = InboxStatus.MATCHED
        try:
            with transaction.atomic():
                recorded = _record(found.by_draw, report.collected_at, by)
        except (ValueError, ArithmeticError) as exc:
            _finish(message, InboxStatus.FAILED, f"Results could not be recorded: {exc}", **base)
            return Outcome(message, "AE", message.reason, ERR_INTERNAL)
        base["lines"] = recorded
        if chosen:
            message.reviewed_by, message.reviewed_at = by, timezone.now()
        _finish(message, InboxStatus.PROCESSED, "; ".join(base["notes"]), **base)
        if report.accession:
            InboxMessage.objects.filter(
                site=message.site, case=case, status=InboxStatus.MATCHED, details__accession=report.accession
            ).exclude(pk=message.pk).update(
                status=InboxStatus.PROCESSED,
                reason=f"Superseded by inbox message {message.pk}.",
                processed_at=timezone.now(),
            )
        logger.info("inbox message %s processed", message.pk)
        return Outcome(message, "AA", f"Recorded {len(recorded)} result(s).")


def review(message: InboxMessage, *, chosen: dict, by) -> Outcome:
    """The coordinator picked the draw(s) for a message held for review: record it there.

    Every chosen draw must be of one case at the message's site (the form ensures it; this
    checks again), and a matched patient cannot be swapped for another."""
    cases = {d.case_id for d in chosen.values()}
    if len(cases) != 1 or any(d.site_id != message.site_id for d in chosen.values()):
        raise ValueError("Pick draws of one patient at the message's site.")
    if message.case_id and message.case_id not in cases:
        raise ValueError("The message was matched to another patient; pick that patient's draws.")
    if message.status != InboxStatus.NEEDS_REVIEW:
        raise ValueError("Only a message held for review can be assigned to draws.")
    return process(message, chosen=chosen, by=by)
