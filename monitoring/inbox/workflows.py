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

Many messages at once (receive_hl7_batch: the listener's frames that arrived together, an
uploaded file) are read once for the batch and written in a few set-based queries
(process_many); if any of them fails, the batch is done again one savepoint per message, so a
bad message fails alone. The speed is issue 19 item 8 (demo/bench/inbox.py).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.auditbatch import AuditBatch, auditlog_off, snapshot
from monitoring.inbox import csvfile, fhir, hl7v2
from monitoring.inbox.matching import KIND_FOR_ANALYTE, Known, match_draws, match_patient, sites_for_facilities
from monitoring.inbox.models import InboxMessage, InboxSource, InboxStatus, Laboratory
from monitoring.inbox.records import (
    ERR_DATA_TYPE,
    ERR_INTERNAL,
    ERR_UNKNOWN_KEY,
    InboxError,
    Interpretation,
    LabReport,
    interpret,
)
from monitoring.workflows import RecordContext, ResultInput, results_record, rows_update, unscheduled_draw_save

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
    """One HL7 v2 message as bytes (a file's, the demo's): receive_hl7_batch of one."""
    return receive_hl7_batch([data], site=site, default_site=default_site, by=by)[0]


def receive_hl7_batch(datas: list[bytes], *, site=None, default_site=None, by=None) -> list[Outcome]:
    """HL7 v2 messages as bytes (the MLLP listener's frames that arrived together, an uploaded
    file's messages): one outcome (and ACK) per message, in order.

    The site is the one given (an upload: the message must not name another site in MSH-6),
    else the site MSH-6 names, else ``default_site`` (the listener's ``--site``).

    1. Each message is decoded and parsed once; sites, laboratories and earlier copies (the
       same site, source, sender and control id) are looked up for the whole batch.
    2. The new messages are stored raw in one insert and committed before any processing (a
       crash leaves them received); one that cannot be taken is stored failed with the reason.
    3. process_many records them in one transaction, a savepoint each.
    A message already taken (not failed) is a duplicate: nothing new. One already failed is
    processed again with the new text.
    """
    outcomes: list[Outcome | None] = [None] * len(datas)
    heads: dict[int, tuple[str, str, str]] = {}  # index -> (text, MSH-6, MSH-4)
    parsed: dict[int, object] = {}  # index -> the python-hl7 message, read once
    for i, data in enumerate(datas):
        try:
            text = hl7v2.decode(data)
        except InboxError as exc:
            raw = data.decode("utf-8", "replace")
            message = store_failed(source=InboxSource.HL7, raw=raw, site=site or default_site, reason=exc.reason, by=by)
            outcomes[i] = Outcome(message, exc.ack, exc.reason, exc.code)
            continue
        try:
            parsed[i] = hl7v2.parse_message(text)
            head = hl7v2.header(parsed[i])
            heads[i] = (text, head["receiving_facility"], head["sending_facility"])
        except (InboxError, KeyError):
            heads[i] = (text, "", "")
    named = sites_for_facilities([code for _, code, _ in heads.values()])
    targets: dict[int, tuple] = {}  # index -> (text, site, MSH-4)
    for i, (text, code, facility) in heads.items():
        found = named.get(code)
        if site is not None and found is not None and found.pk != site.pk:
            reason = "The message is addressed to another site (MSH-6)."
            message = store_failed(source=InboxSource.HL7, raw=text, site=site, reason=reason, by=by)
            outcomes[i] = Outcome(message, "AR", reason, ERR_UNKNOWN_KEY)
            continue
        target = site or found or default_site
        if target is None:
            reason = f"Unknown receiving facility {code[:20]!r} (MSH-6): no site has this code."
            message = store_failed(source=InboxSource.HL7, raw=text, site=None, reason=reason, by=by)
            outcomes[i] = Outcome(message, "AR", reason, ERR_UNKNOWN_KEY)
            continue
        targets[i] = (text, target, facility)
    labs: dict[int, list[Laboratory]] = {}
    if any(facility for _, _, facility in targets.values()):
        site_ids = {target.pk for _, target, _ in targets.values()}
        for lab in Laboratory.objects.filter(site_id__in=site_ids, active=True):  # Laboratory's ordering
            labs.setdefault(lab.site_id, []).append(lab)
    taken: dict[int, tuple] = {}  # index -> (text, site, laboratory, report)
    for i, (text, target, facility) in targets.items():
        laboratory = (
            next((lab for lab in labs.get(target.pk, []) if lab.hl7_sending_facility.upper() == facility.upper()), None)
            if facility
            else None
        )
        if "\x00" in text:
            reason = "The message contains NUL bytes; it is not text."
            message = store_failed(
                source=InboxSource.HL7, raw=text, site=target, reason=reason, by=by, laboratory=laboratory
            )
            outcomes[i] = Outcome(message, "AR", reason, ERR_DATA_TYPE)
            continue
        try:
            report = hl7v2.parse(text, _tz(target), parsed.get(i))
        except InboxError as exc:
            message = store_failed(
                source=InboxSource.HL7, raw=text, site=target, reason=exc.reason, by=by, laboratory=laboratory
            )
            logger.info("inbox message %s failed to parse", message.pk)
            outcomes[i] = Outcome(message, exc.ack, exc.reason, exc.code)
            continue
        taken[i] = (text, target, laboratory, report)
    _store_and_process(taken, outcomes, by)
    return outcomes


def _store_and_process(taken: dict[int, tuple], outcomes: list, by) -> None:
    """receive_hl7_batch's steps 2 and 3 for the messages that parsed."""
    keys = {}
    for i, (_text, target, laboratory, report) in taken.items():
        sender = (report.sender or (laboratory.name if laboratory else ""))[:200]
        keys[i] = (target.pk, sender, report.control_id)
    earlier: dict[tuple, InboxMessage] = {}
    controls = sorted({key[2] for key in keys.values() if key[2]})
    if controls:
        rows = InboxMessage.objects.filter(
            source=InboxSource.HL7, control_id__in=controls, site_id__in={key[0] for key in keys.values()}
        )
        for message in rows:
            earlier.setdefault((message.site_id, message.sender, message.control_id), message)
    new: dict[int, InboxMessage] = {}
    again: dict[int, InboxMessage] = {}
    first_of: dict[tuple, int] = {}
    for i, (text, target, laboratory, report) in taken.items():
        key = keys[i]
        existing = earlier.get(key) if key[2] else None
        if key[2] and key in first_of:  # the same message twice in one batch: the later one is the duplicate
            outcomes[i] = ("same", first_of[key])
            continue
        if key[2]:
            first_of[key] = i
        if existing is not None and existing.status != InboxStatus.FAILED:
            outcomes[i] = Outcome(
                existing, "AA", f"Duplicate of inbox message {existing.pk}: nothing new.", duplicate=True
            )
            continue
        if existing is not None:
            existing.raw, existing.raw_sha256, existing.status = text, _sha(text), InboxStatus.RECEIVED
            existing.save(update_fields=["raw", "raw_sha256", "status"])
            again[i] = existing
            continue
        new[i] = InboxMessage(
            site=target,
            source=InboxSource.HL7,
            sender=key[1],
            control_id=report.control_id,
            laboratory=laboratory,
            raw=text,
            raw_sha256=_sha(text),
            received_by=by,
        )
    try:
        with transaction.atomic():
            InboxMessage.objects.bulk_create(list(new.values()))
            audit = AuditBatch()
            for message in new.values():
                audit.created(message)
            audit.flush()
    except IntegrityError:  # a copy arrived at the same moment on another connection: one by one
        for i in list(new):
            text, target, laboratory, report = taken[i]
            outcomes[i] = receive(
                source=InboxSource.HL7, raw=text, site=target, laboratory=laboratory, by=by, report=report
            )
        new = {}
    stored = {**new, **again}
    order = sorted(stored)
    if order:
        done = process_many([stored[i] for i in order], [taken[i][3] for i in order], by=by)
        for i, outcome in zip(order, done, strict=True):
            outcomes[i] = outcome
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, tuple):  # a duplicate within the batch: of the first copy's message
            first = outcomes[outcome[1]]
            message = first.message if isinstance(first, Outcome) else None
            outcomes[i] = Outcome(
                message,
                "AA",
                f"Duplicate of inbox message {message.pk if message else '-'}: nothing new.",
                duplicate=True,
            )


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


@dataclass
class _Prepared:
    """One locked message, parsed and interpreted (pure work, before any matching)."""

    message: InboxMessage
    old: InboxMessage  # as locked: the "before" of its audit entry
    report: LabReport | None = None
    meaning: Interpretation | None = None
    error: InboxError | None = None
    case: object = None  # the matched case, once matched
    base: dict = field(default_factory=dict)  # what the message's details say of it


@dataclass
class _Loaded:
    """What processing a batch of messages reads once, whatever its size: the patients, cases
    and draws (matching.Known), the cases' results, baselines and open flags
    (monitoring.workflows.RecordContext, with the batch's audit entries), and the messages
    waiting for a final report (by site, case and accession)."""

    known: Known
    context: RecordContext
    waiting: dict[tuple, set[int]]
    items: list[_Prepared]
    chosen: dict | None
    pending: dict[int, InboxMessage] = field(default_factory=dict)  # finished, saved by write()

    def write(self) -> None:
        """A deferred batch's writes: the results, draws and flags (RecordContext.write), then
        every message's outcome in one update."""
        self.context.write()
        if self.pending:
            with auditlog_off():
                rows_update(list(self.pending.values()), [*FINISH_FIELDS, "processed_at"])
            self.pending = {}

    def refresh(self) -> None:
        """Read everything again after a rollback (the draws, results and flags in memory
        held what was rolled back); the audit entries of the work that stayed are kept."""
        audit = self.context.audit
        fresh = _load(self.items, self.chosen, deferred=self.context.deferred)
        self.known, self.context, self.waiting = fresh.known, fresh.context, fresh.waiting
        self.context.audit = audit


def _prepare(message: InboxMessage, report: LabReport | None) -> _Prepared:
    item = _Prepared(message, snapshot(message))
    message.attempts += 1
    if message.site is None:
        return item
    try:
        item.report = report or parse_stored(message)
        local = message.laboratory.local_codes if message.laboratory else None
        item.meaning = interpret(item.report, local)
        if item.report.collected_at > timezone.now() + FUTURE_TOLERANCE:
            raise InboxError("The collection time is in the future.")
    except InboxError as exc:
        item.error = exc
    return item


def _load(items: list[_Prepared], chosen: dict | None, *, deferred: bool = False) -> _Loaded:
    keys, kinds = set(), set()
    for item in items:
        if item.meaning is not None and not item.error:
            if item.report.mrn and not chosen:
                keys.add((item.message.site_id, item.report.mrn))
            kinds.update(
                KIND_FOR_ANALYTE[line.analyte] for line in item.meaning.lines if line.analyte in KIND_FOR_ANALYTE
            )
    picked = [next(iter(chosen.values())).case] if chosen else []
    known = Known.load(keys, kinds, extra_cases=picked)
    case_ids = {c.pk for c in known.cases.values()} | {c.pk for c in picked}
    # Chosen draws (a review) may be of kinds no line maps to: then every kind is read.
    context = RecordContext.load(case_ids, deferred=deferred, kinds=None if chosen else kinds)
    waiting: dict[tuple, set[int]] = {}
    if case_ids:
        rows = InboxMessage.objects.filter(case_id__in=sorted(case_ids), status=InboxStatus.MATCHED).values_list(
            "pk", "site_id", "case_id", "details__accession"
        )
        for pk, site_id, case_id, accession in rows:
            waiting.setdefault((site_id, case_id, accession), set()).add(pk)
    return _Loaded(known, context, waiting, items, chosen)


def _record(by_draw: dict, collected_at, by, context: RecordContext) -> list[dict]:
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
            context=context,
        )
        recorded += [{**line.as_json(), "draw": draw.pk} for line in lines]
    return recorded


# What processing changes on a message (the raw text is never rewritten here).
FINISH_FIELDS = ["status", "reason", "details", "case", "collected_at", "attempts", "reviewed_by", "reviewed_at"]


def _finish(item: _Prepared, loaded: _Loaded, status: str, reason: str = "", **details) -> None:
    message = item.message
    message.status = status
    message.reason = reason
    message.details = {**message.details, **details}
    if status == InboxStatus.PROCESSED:
        message.processed_at = timezone.now()
    fields = [*FINISH_FIELDS, "processed_at"] if status == InboxStatus.PROCESSED else FINISH_FIELDS
    if loaded.context.deferred:
        loaded.pending[message.pk] = message
    else:
        with auditlog_off():
            message.save(update_fields=fields)
    loaded.context.audit.updated(item.old, message, fields)
    if status == InboxStatus.MATCHED and message.case_id:
        loaded.waiting.setdefault((message.site_id, message.case_id, details.get("accession")), set()).add(message.pk)


def process(message: InboxMessage, *, chosen: dict | None = None, by=None) -> Outcome:
    """Parse, interpret, match and record one stored message; the message's new status says
    what became of it. ``chosen`` (draw kind → Draw) is the coordinator's pick at review.
    An error escapes (the message is left as it was); process_many contains it instead."""
    return process_many([message], chosen=chosen, by=by, contain=False)[0]


def process_many(
    messages: list[InboxMessage],
    reports: list[LabReport | None] | None = None,
    *,
    chosen: dict | None = None,
    by=None,
    contain: bool = True,
) -> list[Outcome]:
    """Process stored messages in one transaction, each in its own savepoint: a message that
    fails rolls back alone (it is marked failed, "Internal error", to process again) and the
    others are recorded (``contain``). What every message needs is read once for the batch
    (_load), so the queries per message do not grow with the batch or the data.

    1. Lock the messages; parse the raw text again (a fixed mapping applies; ``reports`` are
       the ones just parsed from the same text) and interpret it: units must convert, else failed.
    2. Patient by MRN + birth date (+ family name) at the message's site, else needs_review;
       a chosen draw names the patient instead.
    3. Each result to its draw (matching.match_draws), else needs_review.
    4. Record per draw (results_record) in one savepoint: all of the message or none of it.
    """
    reports = reports or [None] * len(messages)
    with transaction.atomic():
        pks = [m.pk for m in messages]
        locked = {
            m.pk: m
            for m in InboxMessage.objects.select_for_update(of=("self",))
            .select_related("site", "laboratory")
            .filter(pk__in=pks)
        }
        items = [_prepare(locked[pk], report) for pk, report in zip(pks, reports, strict=True)]
        if contain and len(items) > 1:
            # First the whole batch with its writes deferred: a few set-based queries for all of
            # it. Should any message fail (or another connection change what was read), that
            # is rolled back and the batch done again below, one savepoint per message.
            loaded = _load(items, chosen, deferred=True)
            try:
                with transaction.atomic():
                    outcomes = [_process_one(item, loaded, chosen=chosen, by=by, contained=True) for item in items]
                    loaded.write()
                loaded.context.audit.flush()
                return outcomes
            except Exception as exc:  # the type only: an exception's text may quote a message
                logger.info("inbox: batch of %d done again message by message (%s)", len(items), type(exc).__name__)
            fresh = InboxMessage.objects.select_related("site", "laboratory").in_bulk(pks)
            items = [_prepare(fresh[pk], item.report) for pk, item in zip(pks, items, strict=True)]
        loaded = _load(items, chosen)
        outcomes = []
        for item in items:
            if not contain:
                outcomes.append(_process_one(item, loaded, chosen=chosen, by=by, contained=False))
                continue
            mark = loaded.context.audit.mark()
            try:
                with transaction.atomic():  # this message's savepoint
                    outcomes.append(_process_one(item, loaded, chosen=chosen, by=by, contained=True))
                continue
            except (ValueError, ArithmeticError) as exc:  # raised by recording: the message fails alone
                reason, message_reason = f"Results could not be recorded: {exc}", None
            except Exception as exc:  # the type only: an exception's text may quote the message
                logger.error("inbox message %s: processing error (%s)", item.message.pk, type(exc).__name__)
                reason = "Internal error while processing; process it again from the inbox."
                message_reason = "Internal error while processing; the message is stored."
            loaded.context.audit.discard(mark)
            loaded.refresh()  # the rolled-back draws, results and flags were changed in memory too
            outcomes.append(_failed_after_rollback(item, loaded, reason, message_reason))
        loaded.context.audit.flush()
    return outcomes


def _failed_after_rollback(item: _Prepared, loaded: _Loaded, reason: str, ack_reason: str | None) -> Outcome:
    """A message whose savepoint was rolled back: stored failed with the reason (and what was
    read of it), to process again."""
    message = InboxMessage.objects.select_related("site", "laboratory").get(pk=item.message.pk)
    message.attempts = item.old.attempts + 1
    message.case, message.collected_at = item.case, item.report.collected_at if item.report else None
    item.message = message
    _finish(item, loaded, InboxStatus.FAILED, reason, **item.base)
    return Outcome(message, "AE", ack_reason or reason, ERR_INTERNAL)


def _process_one(item: _Prepared, loaded: _Loaded, *, chosen: dict | None, by, contained: bool) -> Outcome:
    """One message of process_many. ``contained``: it runs in its own savepoint, and an error
    while recording goes up to process_many, which rolls the savepoint back."""
    message = item.message
    if message.site is None:
        _finish(item, loaded, InboxStatus.FAILED, message.reason or "The message has no site.")
        return Outcome(message, "AR", message.reason, ERR_UNKNOWN_KEY)
    if item.error is not None:
        exc = item.error
        _finish(item, loaded, InboxStatus.FAILED, exc.reason)
        logger.info("inbox message %s failed", message.pk)
        return Outcome(message, exc.ack, exc.reason, exc.code)
    report, meaning = item.report, item.meaning
    tz = _tz(message.site)
    message.collected_at = report.collected_at
    base = {
        "accession": report.accession,
        "version": report.version,
        "lines": [line.as_json() for line in meaning.lines],
        "notes": meaning.notes,
        "preliminary": meaning.preliminary,
    }
    item.base = base
    if chosen:
        case = next(iter(chosen.values())).case
    else:
        case, why = match_patient(message.site, report, loaded.known)
        if case is None:
            message.case = None
            _finish(item, loaded, InboxStatus.NEEDS_REVIEW, why, **base)
            return Outcome(message, "AE", f"Held for review: {why}", ERR_UNKNOWN_KEY)
    message.case = item.case = case
    if not meaning.lines and not meaning.preliminary and len(meaning.unmapped) == len(report.observations):
        codes_text = ", ".join(c[:20] for c in meaning.unmapped[:8])
        why = f"No test in the message maps to a monitored analyte ({codes_text}): map the laboratory's local codes, then process it again."
        _finish(item, loaded, InboxStatus.FAILED, why, **base)
        return Outcome(message, "AE", why, ERR_UNKNOWN_KEY)
    if not meaning.lines:
        if meaning.preliminary:
            _finish(
                item,
                loaded,
                InboxStatus.MATCHED,
                "Preliminary results: recorded when the final report arrives.",
                **base,
            )
            return Outcome(message, "AA", "Preliminary results held until the final report.")
        _finish(
            item,
            loaded,
            InboxStatus.PROCESSED,
            "Nothing to record: " + ("; ".join(meaning.notes) or "no results"),
            **base,
        )
        return Outcome(message, "AA", message.reason)
    context = loaded.context
    found = match_draws(
        case,
        meaning.lines,
        tz,
        chosen=chosen,
        draws=loaded.known.draws.get(case.pk, []),
        results=context.results.get(case.pk, []),
    )
    base["notes"] = [*meaning.notes, *found.notes]
    if found.reasons:
        _finish(item, loaded, InboxStatus.NEEDS_REVIEW, " ".join(found.reasons), **base)
        return Outcome(message, "AE", "Held for review: " + " ".join(found.reasons), ERR_UNKNOWN_KEY)
    message.status = InboxStatus.MATCHED
    mark = context.audit.mark()
    try:
        with transaction.atomic(savepoint=not contained):
            recorded = _record(found.by_draw, report.collected_at, by, context)
    except (ValueError, ArithmeticError) as exc:
        if contained:
            raise
        context.audit.discard(mark)
        loaded.refresh()  # the rolled-back results and flags are not in memory either
        _finish(item, loaded, InboxStatus.FAILED, f"Results could not be recorded: {exc}", **base)
        return Outcome(message, "AE", message.reason, ERR_INTERNAL)
    base["lines"] = recorded
    if chosen:
        message.reviewed_by, message.reviewed_at = by, timezone.now()
    _finish(item, loaded, InboxStatus.PROCESSED, "; ".join(base["notes"]), **base)
    if report.accession:
        waiting = loaded.waiting.pop((message.site_id, case.pk, report.accession), set()) - {message.pk}
        for pk in sorted(waiting & set(loaded.pending)):  # held earlier in this batch, not saved yet
            other = loaded.pending[pk]
            other.status, other.reason = InboxStatus.PROCESSED, f"Superseded by inbox message {message.pk}."
            other.processed_at = timezone.now()
        if waiting - set(loaded.pending):
            InboxMessage.objects.filter(
                pk__in=sorted(waiting - set(loaded.pending)), status=InboxStatus.MATCHED
            ).update(
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
