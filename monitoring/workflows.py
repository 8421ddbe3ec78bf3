"""Monitoring workflows across models: the protocol in force, creating a case's schedule, and
keeping each draw's stored state and next state change current; results and their flags,
result-aware extension, the steroid course and outcome milestones."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Case, CharField, DateTimeField, F, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from cases.analytes import ANALYTES, to_canonical
from cases.corrections import VOID_REASON_MIN_LENGTH, VoidRefused, entry_void
from cases.models import BaselineLab, ClinicalOverride, WeightMeasurement
from cases.overrides import OverrideInput, override_record, override_void
from common.auditbatch import AuditBatch, auditlog_off, snapshot
from common.wording import day_text, moment_text
from monitoring import flags as flag_rules
from monitoring import milestones as milestone_rules
from monitoring import steroids
from monitoring.events import flags_raised
from monitoring.models import (
    OPEN_STATES,
    UNSENT,
    Assessment,
    Draw,
    DrawState,
    Flag,
    Milestone,
    ProtocolVersion,
    Reminder,
    ReminderStatus,
    Result,
    ResultAcknowledgement,
    SteroidCourse,
    SteroidDecision,
)
from monitoring.protocol import DEFAULT_GRACE_DAYS, PROTOCOL_V1, Phase, Protocol, ProtocolRow
from monitoring.reminders.freshness import dashboard_changed
from monitoring.schedule import days_late, draw_state, next_change_at, next_extension, planned_draws

# Milestone assessments escalate from late to overdue after the same grace as draws [D]
# (product policy, monitoring/protocol.py DEFAULT_GRACE_DAYS); their window is
# milestones.DEFAULT_WINDOW_DAYS.
MILESTONE_GRACE_DAYS = DEFAULT_GRACE_DAYS
LIVER = "liver"
LIVER_ANALYTES = ("alt", "ast", "tbili", "pt")


def protocol_in_force() -> ProtocolVersion:
    """The protocol version new schedules use; PROTOCOL_V1 is stored on first use."""
    current = ProtocolVersion.objects.filter(in_force=True).order_by("-created_at", "-pk").first()
    if current is not None:
        return current
    version, _ = ProtocolVersion.objects.get_or_create(
        version=PROTOCOL_V1.version,
        defaults={
            "rows": [dataclasses.asdict(row) for row in PROTOCOL_V1.rows],
            "window_days": PROTOCOL_V1.window_days,
            "grace_days": PROTOCOL_V1.grace_days,
            "source": "; ".join(row.source for row in PROTOCOL_V1.rows),
            "in_force": True,
        },
    )
    return version


def protocol_from_version(version: ProtocolVersion) -> Protocol:
    """Rebuild the plain Protocol a stored version describes (validated by its dataclasses)."""
    rows = []
    for data in version.rows:
        data = dict(data)
        data["analytes"] = tuple(data["analytes"])
        data["days"] = tuple(data["days"])
        data["phases"] = tuple(Phase(**p) for p in data["phases"])
        rows.append(ProtocolRow(**data))
    return dataclasses.replace(
        PROTOCOL_V1,
        version=version.version,
        rows=tuple(rows),
        window_days=version.window_days,
        grace_days=version.grace_days,
    )


@transaction.atomic
def protocol_version_create(*, version: str, window_days: int, grace_days: int, note: str, by) -> ProtocolVersion:
    """Store a new protocol version with an edited window/grace and put it in force.

    1. Copy the rows of the version in force (the label's rows and sources stay as they are).
    2. Validate the whole protocol through monitoring.protocol.Protocol (ValueError on junk).
    3. Take the previous version out of force. Cases keep the version they started with
       (Draw.protocol); only schedules created from now on use the new one.
    """
    current = protocol_in_force()
    protocol = dataclasses.replace(
        protocol_from_version(current), version=version, window_days=window_days, grace_days=grace_days
    )
    ProtocolVersion.objects.filter(in_force=True).update(in_force=False)
    return ProtocolVersion.objects.create(
        version=protocol.version,
        rows=current.rows,
        window_days=protocol.window_days,
        grace_days=protocol.grace_days,
        source=current.source,
        in_force=True,
        created_by=by,
        change_note=note,
    )


# --- States -----------------------------------------------------------------------------------


def _local_today(now: datetime, tz_name: str) -> date:
    return now.astimezone(ZoneInfo(tz_name)).date()


def apply_state(draw: Draw, today: date) -> None:
    """Set draw.state and draw.next_change_at for ``today`` (not saved)."""
    state = draw_state(
        draw.window_opens,
        draw.window_closes,
        draw.protocol.grace_days,
        today,
        done=draw.state == "done",
        missed=draw.state == "missed",
        snoozed_until=draw.snoozed_until,
    )
    draw.state = state.state
    draw.next_change_at = next_change_at(state.next_change_on, ZoneInfo(draw.site.timezone))


def apply_milestone_state(milestone: Milestone, today: date) -> None:
    """Set milestone.state and next_change_at for ``today`` (not saved); same state machine as
    draws, with MILESTONE_GRACE_DAYS after the window."""
    state = draw_state(
        milestone.window_opens,
        milestone.window_closes,
        MILESTONE_GRACE_DAYS,
        today,
        done=milestone.state == "done",
        missed=milestone.state == "missed",
    )
    milestone.state = state.state
    milestone.next_change_at = next_change_at(state.next_change_on, ZoneInfo(milestone.site.timezone))


def draws_advance(now: datetime | None = None, batch_size: int = 500) -> int:
    """Re-evaluate every draw and milestone whose stored next change has come; return how many.

    The beat runs this every 5 minutes (monitoring.tasks.advance_states, config/celery.py).

    1. Select only rows with next_change_at <= now (indexed; done and missed rows hold None).
    2. Recompute each row's state for its site's local date (schedule.draw_state; a snooze
       delays late -> overdue) and its next change.
    3. Write them back set-based, one UPDATE per batch, only to rows whose stored next change
       is still due: a draw recorded done, missed or snoozed between the read and the write
       has a next change of None or in the future, and stays as the user left it.
    A second run with the same ``now`` selects nothing.
    """
    now = now or timezone.now()
    count = 0
    for model, apply in ((Draw, apply_state), (Milestone, apply_milestone_state)):
        rows = model.objects.filter(next_change_at__lte=now).select_related("site").order_by("pk")
        if model is Draw:
            rows = rows.select_related("protocol")
        batch: list = []
        for row in rows.iterator(chunk_size=batch_size):
            apply(row, _local_today(now, row.site.timezone))
            batch.append(row)
            if len(batch) >= batch_size:
                count += _write_states(model, batch, now)
                batch = []
        if batch:
            count += _write_states(model, batch, now)
    if count:
        _dashboard_changed()  # update() sends no signals
    return count


def _write_states(model, rows: list, now: datetime) -> int:
    """One UPDATE for ``rows``' new state and next change (as bulk_update writes them), only
    where the stored next change is still due at ``now``."""
    state = Case(*(When(pk=row.pk, then=Value(row.state, output_field=CharField())) for row in rows))
    moment = DateTimeField()
    next_change = Cast(
        Case(*(When(pk=row.pk, then=Value(row.next_change_at, output_field=moment)) for row in rows)), moment
    )
    return model.objects.filter(pk__in=[row.pk for row in rows], next_change_at__lte=now).update(
        state=state, next_change_at=next_change
    )


def _dashboard_changed() -> None:

    dashboard_changed()


# --- Schedule ---------------------------------------------------------------------------------


def milestone_months_for(case) -> tuple[int, ...]:
    """The outcome milestone months of the case's payer contract, else the card's defaults.

    Contract months are not public (docs/domain.md §8, §11.17 [U]); a payer may carry its own
    ``milestone_months`` list, otherwise milestones.DEFAULT_MONTHS applies.
    """
    months = getattr(case.payer, "milestone_months", None) if case.payer_id else None
    return tuple(months) if months else milestone_rules.DEFAULT_MONTHS


def _latest_weight_kg(case, on: date) -> Decimal | None:

    weight = (
        WeightMeasurement.objects.filter(case=case, measured_on__lte=on, voided_at__isnull=True)
        .order_by("-measured_on", "-pk")
        .first()
    )
    return weight.kg if weight else None


@transaction.atomic
def schedule_create(
    *, case, infused_on: date, today: date | None = None, steroid_start: date | None = None
) -> list[Draw]:
    """Create the case's post-infusion draws, milestones and steroid course (idempotent).

    1. Take the protocol version in force; the case keeps it for all its draws.
    2. Plan every draw from the infusion date (monitoring.schedule.planned_draws).
    3. Store each with its state and next state change for today.
    4. Outcome milestones at the contract's months (milestones.milestone_dates), each with
       its window (docs/domain.md §8).
    5. The steroid course at 1 mg/kg/day on the latest weight (label §2.1), from the infusion
       record's prednisolone start when given (``steroid_start``), else Day -1.
    Returns the draws created by this call.
    """
    today = today or timezone.localdate()
    version = protocol_in_force()
    protocol = protocol_from_version(version)
    existing = set(Draw.objects.filter(case=case, unscheduled=False).values_list("kind", "day"))
    draws = []
    for planned in planned_draws(infused_on, protocol):
        if (planned.kind, planned.day) in existing:
            continue
        draw = Draw(
            case=case,
            site=case.site,
            protocol=version,
            kind=planned.kind,
            day=planned.day,
            analytes=list(planned.analytes),
            reason=planned.reason,
            due_on=planned.due_on,
            window_opens=planned.window_opens,
            window_closes=planned.window_closes,
        )
        apply_state(draw, today)
        draws.append(draw)
    Draw.objects.bulk_create(draws)
    _dashboard_changed()  # bulk_create sends no signals
    milestones_create(case=case, infused_on=infused_on, today=today)
    steroid_course_start(case=case, infused_on=infused_on, started_on=steroid_start)
    return draws


def milestones_create(*, case, infused_on: date, today: date) -> list[Milestone]:
    """Create the case's outcome milestones that do not exist yet (idempotent)."""
    existing = set(Milestone.objects.filter(case=case).values_list("month", flat=True))
    rows = []
    for planned in milestone_rules.milestone_dates(infused_on, milestone_months_for(case)):
        if planned.month in existing:
            continue
        row = Milestone(
            case=case,
            site=case.site,
            month=planned.month,
            due_on=planned.due_on,
            window_opens=planned.window_opens,
            window_closes=planned.window_closes,
        )
        apply_milestone_state(row, today)
        rows.append(row)
    Milestone.objects.bulk_create(rows)
    return rows


@transaction.atomic
def assessment_record(
    *, milestone: Milestone, values: dict, by, corrects: Assessment | None = None, correction_reason: str = ""
) -> Assessment:
    """Record a milestone assessment; the milestone is done (issue 15 item 3 for ``corrects``).

    ``corrects``: a current assessment of this milestone that was wrong. It is voided with
    ``correction_reason`` (refused, naming who, if it was voided meanwhile) and the new one names
    it, in one transaction: the old stays in the history struck through.
    """
    milestone = Milestone.objects.select_for_update().select_related("site").get(pk=milestone.pk)
    if corrects is not None:
        if corrects.milestone_id != milestone.pk:
            raise ValueError("That assessment belongs to another milestone.")
        why = " ".join(correction_reason.split())
        if len(why) < VOID_REASON_MIN_LENGTH:
            raise ValueError(
                f"Say why the earlier assessment was wrong (at least {VOID_REASON_MIN_LENGTH} characters)."
            )
        try:
            corrects = entry_void(row=corrects, by=by, reason=f"Corrected: {why}")
        except VoidRefused as exc:
            raise ValueError(str(exc)) from None
    assessment = Assessment.objects.create(
        milestone=milestone, case=milestone.case, site=milestone.site, entered_by=by, corrects=corrects, **values
    )
    milestone.state, milestone.completed_at, milestone.next_change_at = DrawState.DONE, timezone.now(), None
    milestone.save(update_fields=["state", "completed_at", "next_change_at"])
    return assessment


@transaction.atomic
def assessment_void(*, assessment: Assessment, by, reason: str, now: datetime | None = None) -> Assessment:
    """Void a mistaken assessment with a reason (cases.corrections.entry_void: a second void is
    refused naming who did it). Nothing is deleted. A milestone with no current assessment left is
    open again, in the state its dates give (the worklist and reminders read it)."""
    now = now or timezone.now()
    try:
        voided = entry_void(row=assessment, by=by, reason=reason)
    except VoidRefused as exc:
        raise ValueError(str(exc)) from None
    milestone = Milestone.objects.select_for_update().select_related("site").get(pk=voided.milestone_id)
    if not milestone.assessments.filter(voided_at__isnull=True).exists() and milestone.state == DrawState.DONE:
        milestone.state, milestone.completed_at = DrawState.UPCOMING, None
        apply_milestone_state(milestone, _local_today(now, milestone.site.timezone))
        milestone.save(update_fields=["state", "completed_at", "next_change_at"])
    return voided


def steroid_course_start(*, case, infused_on: date, started_on: date | None = None) -> SteroidCourse:
    """The case's steroid course: 1 mg/kg/day on the latest weight (label §2.1), from the
    infusion record's start (``started_on``) or else Day -1."""
    weight = _latest_weight_kg(case, infused_on)
    course, _ = SteroidCourse.objects.get_or_create(
        case=case,
        defaults={
            "site": case.site,
            "started_on": started_on or steroids.course_start(infused_on),
            "weight_kg": weight,
            "full_dose_mg": steroids.daily_dose_mg(weight) if weight else None,
        },
    )
    return course


# --- Results, flags and extensions ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ResultInput:
    """One analyte as entered: value and ULN in ``unit``; ``uln`` None means the lab gave none."""

    analyte: str
    value: Decimal
    unit: str
    uln: Decimal | None


SEX_FOR_FALLBACK = {"M": "male", "F": "female", "U": "unknown"}


def age_in_months(born: date, on: date) -> int:
    """Whole months from ``born`` to ``on``."""
    months = (on.year - born.year) * 12 + (on.month - born.month)
    if on.day < born.day:
        months -= 1
    return max(0, months)


def fallback_uln_for(case, analyte: str, on: date) -> Decimal | None:
    """Population ULN (canonical unit) for the patient's age and sex on ``on`` (docs/domain.md §9)."""
    patient = case.patient
    return flag_rules.fallback_uln(
        analyte, age_in_months(patient.date_of_birth, on), SEX_FOR_FALLBACK.get(patient.sex, "unknown")
    )


def baseline_for(case) -> dict[str, Decimal]:
    """The latest pre-infusion baseline per analyte in canonical units (cases.BaselineLab)."""

    baseline: dict[str, Decimal] = {}
    rows = (
        BaselineLab.objects.filter(case=case, voided_at__isnull=True)
        .order_by("drawn_on", "pk")
        .values_list("analyte", "value_canonical")
    )
    for analyte, value in rows:
        baseline[analyte] = value  # later rows overwrite earlier ones
    return baseline


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.001"))


def _result_values(results) -> dict[str, flag_rules.ResultValue]:
    return {r.analyte: flag_rules.ResultValue(r.value, r.uln, r.unit) for r in results}


@dataclasses.dataclass
class RecordContext:
    """What results_record reads before it writes, loaded once for many draws (the results
    inbox's batch of messages, issue 19 item 8) or for one (a typed entry): the same code path
    either way, only the number of queries differs.

    - ``results``: every stored result of the cases, by case pk (held results, "newer" ones).
    - ``baselines``: each case's baseline (baseline_for), by case pk.
    - ``open_flags``: each case's unresolved flags, by case pk (the ones a new panel resolves).
    - ``audit``: the audit entries of the writes, flushed by the owner of the context.
    - ``deferred``: the writes wait for ``write()``, which makes them in a few set-based
      queries for the whole batch; else each is made at once (a typed entry, and the inbox's
      one-savepoint-per-message path).

    results_record keeps it current as it writes. A second panel of a case whose writes still
    wait makes them first, so each case's pending writes come from one panel.
    """

    results: dict[int, list[Result]]
    baselines: dict[int, dict[str, Decimal]]
    open_flags: dict[int, list[Flag]]
    audit: AuditBatch = dataclasses.field(default_factory=AuditBatch)
    deferred: bool = False
    kinds: tuple[str, ...] | None = None  # the draw kinds whose results were read (None: all)
    pending: _PendingWrites = dataclasses.field(default_factory=lambda: _PendingWrites())

    @classmethod
    def load(cls, case_ids, *, deferred: bool = False, kinds=None) -> RecordContext:
        """Three queries for any number of cases. ``kinds``: only the results of draws of these
        kinds are read (each analyte is recorded by one kind: a panel's held results, newer
        results and flags are all of its own kind), for the inbox's batch of liver panels."""
        ids = sorted(set(case_ids))
        kinds = None if kinds is None else tuple(sorted(kinds))
        results: dict[int, list[Result]] = {pk: [] for pk in ids}
        for result in _results_of(ids, kinds).annotate(case_pk=F("draw__case_id")).order_by("pk"):
            results[result.case_pk].append(result)
        baselines: dict[int, dict[str, Decimal]] = {pk: {} for pk in ids}
        rows = (
            BaselineLab.objects.filter(case_id__in=ids, voided_at__isnull=True)
            .order_by("drawn_on", "pk")
            .values_list("case_id", "analyte", "value_canonical")
        )
        for case_id, analyte, value in rows:
            baselines[case_id][analyte] = value  # later rows overwrite earlier ones (baseline_for)
        open_flags: dict[int, list[Flag]] = {pk: [] for pk in ids}
        for flag in Flag.objects.filter(case_id__in=ids, resolved_at__isnull=True).order_by("pk"):
            open_flags[flag.case_id].append(flag)
        return cls(results, baselines, open_flags, deferred=deferred, kinds=kinds)

    def held(self, draw: Draw) -> dict[str, Result]:
        if self.kinds is not None and draw.kind not in self.kinds:
            raise ValueError(f"{draw.kind} results were not read for this batch")
        return {r.analyte: r for r in self.results.get(draw.case_id, []) if r.draw_id == draw.pk}

    def write(self) -> None:
        """Make the writes that wait (deferred): lock their draws, check that nobody changed
        those cases' results or open flags since they were read (else StaleContext: the caller
        does the work again, one message at a time), then one insert or update per table."""
        p = self.pending
        if not p.cases:
            return
        cases = sorted(p.cases)
        list(Draw.objects.select_for_update(of=("self",)).filter(pk__in=sorted(p.draws)).values_list("pk"))
        expected = {r.pk for case in cases for r in self.results.get(case, []) if r.pk is not None}
        if set(_results_of(cases, self.kinds).values_list("pk", flat=True)) != expected:
            raise StaleContext("results changed since they were read")
        expected = {f.pk for case in cases for f in self.open_flags.get(case, []) if f.pk is not None}
        expected |= {pk for pks, _ in p.resolve for pk in pks}
        if (
            set(Flag.objects.filter(case_id__in=cases, resolved_at__isnull=True).values_list("pk", flat=True))
            != expected
        ):
            raise StaleContext("open flags changed since they were read")
        with auditlog_off():
            Result.objects.bulk_create(p.new_results)
            rows_update([r for _, r in p.changed_results], RESULT_FIELDS)
            rows_update(list(p.draws.values()), DRAW_DONE_FIELDS)
        for result in p.new_results:
            self.audit.created(result)
        for pks, when in p.resolve:
            Flag.objects.filter(pk__in=pks).update(resolved_at=when)
        Flag.objects.bulk_create([f for panel in p.flags for f in panel])
        for panel in p.flags:
            flags_raised.send(sender=Flag, flags=panel)  # the physician's alert (monitoring/signals.py)
        dashboard_changed()  # the draws' post_save would have said so (bulk_update sends none)
        self.pending = _PendingWrites()

    # The writes results_record makes: at once, or kept for write().

    def _save_results(self, new: list[Result], changed: list[tuple[Result, Result]]) -> None:
        if self.deferred:
            self.pending.new_results += new
            self.pending.changed_results += changed
        else:
            with auditlog_off():
                Result.objects.bulk_create(new)
                for _, result in changed:
                    result.save()
            for result in new:
                self.audit.created(result)
        for old, result in changed:
            self.audit.updated(old, result)

    def _save_draw(self, old: Draw, draw: Draw) -> None:
        if self.deferred:
            self.pending.draws[draw.pk] = draw
        else:
            with auditlog_off():
                draw.save(update_fields=DRAW_DONE_FIELDS)
        self.audit.updated(old, draw, DRAW_DONE_FIELDS)

    def _resolve_flags(self, flags: list[Flag], now: datetime) -> None:
        stored = [f.pk for f in flags if f.pk is not None]
        for flag in flags:
            flag.resolved_at = now  # one not stored yet is stored resolved
        if stored and self.deferred:
            self.pending.resolve.append((stored, now))
        elif stored:
            Flag.objects.filter(pk__in=stored).update(resolved_at=now)

    def _add_flags(self, rows: list[Flag]) -> None:
        if self.deferred:
            self.pending.flags.append(rows)
            return
        if rows:
            Flag.objects.bulk_create(rows)
        flags_raised.send(sender=Flag, flags=rows)  # the physician's alert (monitoring/signals.py)


def _results_of(case_ids, kinds):
    rows = Result.objects.filter(draw__case_id__in=case_ids)
    return rows if kinds is None else rows.filter(draw__kind__in=kinds)


def rows_update(rows: list, fields: list[str]) -> None:
    """Save ``fields`` of many stored rows in one statement (UPDATE … FROM (VALUES …)), each
    value cast to its column's type; auto_now fields are set as save() would. bulk_update
    would build a CASE per row and field, which costs more Python than the rest of a batch."""
    if not rows:
        return
    meta = type(rows[0])._meta
    qn = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    pk = meta.pk
    casts = [f"%s::{field.db_type(connection).split('(')[0]}" for field in [pk, *columns]]
    row_sql = "(" + ", ".join(casts) + ")"
    params = []
    for row in rows:
        params.append(pk.get_db_prep_save(row.pk, connection))
        for field in columns:
            params.append(field.get_db_prep_save(field.pre_save(row, False), connection))
    names = ", ".join(qn(field.column) for field in [pk, *columns])
    sets = ", ".join(f"{qn(field.column)} = v.{qn(field.column)}" for field in columns)
    # Only quoted names from the model's metadata and placeholders: the values are parameters.
    values = ", ".join([row_sql] * len(rows))
    where = f"t.{qn(pk.column)} = v.{qn(pk.column)}"
    sql = f"UPDATE {qn(meta.db_table)} AS t SET {sets} FROM (VALUES {values}) AS v({names}) WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class StaleContext(RuntimeError):
    """What a RecordContext read changed before its deferred writes were made."""


@dataclasses.dataclass
class _PendingWrites:
    cases: set[int] = dataclasses.field(default_factory=set)
    draws: dict[int, Draw] = dataclasses.field(default_factory=dict)
    new_results: list[Result] = dataclasses.field(default_factory=list)
    changed_results: list[tuple[Result, Result]] = dataclasses.field(default_factory=list)
    resolve: list[tuple[list[int], datetime]] = dataclasses.field(default_factory=list)
    flags: list[list[Flag]] = dataclasses.field(default_factory=list)


RESULT_FIELDS = [
    "value",
    "unit",
    "uln",
    "uln_is_fallback",
    "value_canonical",
    "uln_canonical",
    "collected_at",
    "entered_by",
]
DRAW_DONE_FIELDS = ["state", "completed_at", "days_late", "next_change_at", "updated_at"]


def results_record(
    *,
    draw: Draw,
    results: list[ResultInput],
    collected_at: datetime,
    by,
    now: datetime | None = None,
    context: RecordContext | None = None,
) -> list[Flag]:
    """Store a draw's results, mark it done, raise and resolve flags, and plan any extension.

    1. Each analyte keeps the lab's ULN; without one, the fallback ULN by age and sex
       (flags.fallback_uln, England 2009) converted to the entered unit and marked fallback.
       Value and ULN are also stored in the canonical unit (flags.to_canonical).
    2. The draw is done; days_late = days the sample was collected after its window closed
       (schedule.days_late), so an overdue draw stays enterable and says how late it was.
    3. Flags from flags.flags_for_panel against the case's baseline (see _flags_update).
    4. From the row's last protocol day on, a result that is not unremarkable / not back to
       baseline plans the next extension draw (extension_plan).
    Returns the flags raised by this panel (stored once a deferred context writes).

    ``context`` is what the results inbox loaded for its whole batch (RecordContext); without
    it, it is loaded here for this draw's case and its audit entries written before returning.
    The draw's row is locked before the writes (RecordContext.write locks a batch's draws
    together): it serialises two recordings of one draw (a typed save and a lab message).
    """
    # A batch's caller holds a savepoint already: none more here.
    with transaction.atomic(savepoint=context is None):
        own = context is None
        if context is not None and context.deferred:
            if draw.case_id in context.pending.cases:
                context.write()  # this case's earlier panel first: one panel per case waits
            context.pending.cases.add(draw.case_id)
        else:
            list(Draw.objects.select_for_update(of=("self",)).filter(pk=draw.pk).values_list("pk"))
        if own:
            context = RecordContext.load([draw.case_id])
        raised = _results_write(draw, results, collected_at, by, now or timezone.now(), context)
        if own:
            context.audit.flush()
    return raised


def _results_write(
    draw: Draw, results: list[ResultInput], collected_at: datetime, by, now: datetime, context: RecordContext
) -> list[Flag]:
    tz = ZoneInfo(draw.site.timezone)
    collected_on = collected_at.astimezone(tz).date()
    held = context.held(draw)
    new, changed = [], []
    for item in results:
        value_c, _ = to_canonical(item.analyte, item.value, item.unit)
        per_canonical = to_canonical(item.analyte, 1, item.unit)[0]  # 1 entered unit, canonical
        uln, fallback = item.uln, False
        if uln is None:
            fallback_c = fallback_uln_for(draw.case, item.analyte, collected_on)
            if fallback_c is not None:
                uln, fallback = fallback_c / per_canonical, True
        uln_c = None if uln is None else to_canonical(item.analyte, uln, item.unit)[0]
        result = held.get(item.analyte)
        if result is None:
            result = Result(draw=draw, analyte=item.analyte)
            new.append(result)
        else:
            changed.append((snapshot(result), result))
        result.draw = draw  # at hand for its audit entry's case id (Result.get_additional_data)
        result.value, result.unit, result.uln = item.value, item.unit, None if uln is None else _q(uln)
        result.uln_is_fallback, result.value_canonical = fallback, _q(value_c)
        result.uln_canonical = None if uln_c is None else _q(uln_c)
        result.collected_at, result.entered_by = collected_at, by
        held[item.analyte] = result
    # One insert for the new analytes, an update per corrected one; each audited as auditlog
    # would (common.auditbatch), from the rows in hand rather than a re-read of each.
    context._save_results(new, changed)
    old_draw = snapshot(draw)
    draw.state = DrawState.DONE
    draw.completed_at = now
    draw.days_late = days_late(draw.window_closes, collected_on)
    draw.next_change_at = None
    context._save_draw(old_draw, draw)
    context.results.setdefault(draw.case_id, []).extend(new)
    stored = sorted(held.values(), key=lambda r: (r.collected_at, r.analyte))  # Result's ordering
    raised = _flags_update(draw, stored, collected_at, now, context)
    extension_plan(
        draw=draw, results=stored, today=now.astimezone(tz).date(), baseline=context.baselines.get(draw.case_id)
    )
    return raised


def _flags_update(
    draw: Draw, stored: list[Result], collected_at: datetime, now: datetime, context: RecordContext
) -> list[Flag]:
    """Raise this panel's flags and resolve older ones it supersedes.

    1. flags.flags_for_panel(results, baseline) gives the panel's findings.
    2. Open flags on the same analytes observed up to this sample are resolved: a newer
       normal result clears them, a still-abnormal one replaces them with its own flag.
       (Flags of this same draw are replaced too, so a corrected entry does not duplicate.)
    3. If a newer result of an analyte already exists, this older panel's flag for it is
       stored already resolved: it describes the past, not the patient today.
    The case's results and open flags come from ``context`` (read after the draw's lock, or
    checked unchanged when a deferred context writes).
    """
    case_id = draw.case_id
    baseline = context.baselines.get(case_id, {})
    findings = flag_rules.flags_for_panel(_result_values(stored), baseline)
    analytes = {r.analyte for r in stored}
    still_open, resolving = [], []
    for flag in context.open_flags.get(case_id, []):
        covered = flag.observed_at is None or flag.observed_at <= collected_at or flag.draw_id == draw.pk
        (resolving if flag.analyte in analytes and covered else still_open).append(flag)
    context._resolve_flags(resolving, now)
    newer = {
        r.analyte for r in context.results.get(case_id, []) if r.analyte in analytes and r.collected_at > collected_at
    }
    rows = [
        Flag(
            case=draw.case,
            site=draw.site,
            draw=draw,
            code=f.code,
            level=f.level,
            analyte=f.analyte,
            message=f.message,
            source=f.source,
            raised_at=now,
            observed_at=collected_at,
            resolved_at=now if f.analyte in newer else None,
        )
        for f in findings
    ]
    context._add_flags(rows)
    still_open.extend(f for f in rows if f.resolved_at is None)
    context.open_flags[case_id] = still_open
    return rows


def _finding(draw: Draw, results: list[Result], baseline: dict[str, Decimal]) -> tuple[bool, str]:
    """(resolved, finding) for a draw of the last protocol day or later (docs/domain.md §4).

    Liver: unremarkable = ALT and AST < 2×ULN, normal bilirubin and PT (flags.liver_unremarkable).
    Platelets / troponin-I: back to baseline (flags.back_to_baseline); without a baseline,
    platelets count as resolved at >= 150 ×10⁹/L, troponin-I never does (nothing to judge by).
    """
    values = _result_values(results)
    by_analyte = {r.analyte: r for r in results}
    when = by_analyte[results[0].analyte].collected_at.date().isoformat() if results else ""
    if draw.kind == LIVER:
        if flag_rules.liver_unremarkable(values):
            return True, ""
        parts = []
        for analyte in ("alt", "ast", "tbili"):
            r = by_analyte.get(analyte)
            if r and r.uln_canonical:
                parts.append(
                    f"{ANALYTES[analyte].label} {flag_rules.format_multiple(r.value_canonical / r.uln_canonical)}"
                )
        pt = by_analyte.get("pt")
        if pt and pt.uln_canonical and pt.value_canonical > pt.uln_canonical:
            parts.append("PT prolonged")
        return False, f"liver not unremarkable on {when} ({', '.join(parts) or 'incomplete panel'})"
    analyte = "platelets" if draw.kind == "platelets" else "troponin_i"
    result = by_analyte.get(analyte)
    if result is None:
        return True, ""
    label = ANALYTES[analyte].label
    unit = ANALYTES[analyte].canonical_unit
    base = baseline.get(analyte)
    value = result.value_canonical
    if base is None:
        if analyte == "platelets" and value >= flag_rules.PLATELET_LOW:
            return True, ""
        return False, f"{label} {value.normalize():f} {unit} on {when} with no baseline to compare"
    if flag_rules.back_to_baseline(value, base, analyte):
        return True, ""
    return False, f"{label} {value.normalize():f} {unit} on {when}, not back to baseline {base.normalize():f}"


def extension_plan(
    *, draw: Draw, results: list[Result], today: date, baseline: dict[str, Decimal] | None = None
) -> Draw | None:
    """Create the next extension draw after ``draw`` when its results call for one.

    1. Only scheduled liver, platelet and troponin-I draws on or after the row's last protocol
       day (84). An unscheduled result raises its flags and alerts but plans nothing: the
       schedule's own draws carry the extensions, and an alert's acknowledgement can add a repeat.
    2. Judge the results (_finding); resolved -> nothing more.
    3. schedule.next_extension gives the next day (liver/platelets every other week,
       troponin-I monthly) and a reason naming the finding; store it with its state.
    """
    if draw.kind not in ("liver", "platelets", "troponin") or not results or draw.unscheduled:
        return None
    protocol = protocol_from_version(draw.protocol)
    if draw.day < protocol.row(draw.kind).days[-1]:
        return None
    resolved, finding = _finding(draw, results, baseline_for(draw.case) if baseline is None else baseline)
    infused_on = draw.due_on - timedelta(days=draw.day)
    planned = next_extension(draw.kind, draw.day, resolved, infused_on, protocol, finding=finding or "resolved")
    if planned is None:
        return None
    extra, created = Draw.objects.get_or_create(
        case=draw.case,
        unscheduled=False,
        kind=planned.kind,
        day=planned.day,
        defaults={
            "site": draw.site,
            "protocol": draw.protocol,
            "analytes": list(planned.analytes),
            "reason": planned.reason[:300],
            "is_extension": True,
            "due_on": planned.due_on,
            "window_opens": planned.window_opens,
            "window_closes": planned.window_closes,
        },
    )
    if created:
        apply_state(extra, today)
        extra.save(update_fields=["state", "next_change_at"])
    return extra


# --- Unscheduled results and moving a result -------------------------------------------------


def draw_name(draw: Draw) -> str:
    """ "Liver panel day 14", "Liver panel day 3 (unscheduled)": a draw as people name it."""
    return f"{draw.kind_label} day {draw.day}" + (" (unscheduled)" if draw.unscheduled else "")


def unscheduled_draw_for(*, case, like: Draw, on: date) -> Draw:
    """The unscheduled draw of ``like``'s kind that holds a result collected on ``on``, a day no
    scheduled window covers (issue 19 item 2), not saved (unscheduled_draw_save saves it).

    Its day counts from the infusion; it is due, opens and closes on ``on``, is done from the
    start and records the kind's analytes. A day before the infusion is a ValueError: that
    sample is a baseline, not a post-infusion result."""
    infused_on = case.infused_on or (like.due_on - timedelta(days=like.day))
    day = (on - infused_on).days
    if day < 0:
        raise ValueError(
            f"it was collected before the infusion on {day_text(infused_on)} (a baseline, not a monitoring result)"
        )
    return Draw(
        case=case,
        site=case.site,
        protocol=like.protocol,
        kind=like.kind,
        day=day,
        analytes=list(like.analytes),
        reason=f"Unscheduled result: collected on {day_text(on)}, outside every scheduled window",
        unscheduled=True,
        due_on=on,
        window_opens=on,
        window_closes=on,
        state=DrawState.DONE,
        next_change_at=None,
    )


def unscheduled_draw_save(draw: Draw) -> Draw:
    """Store an unscheduled draw from unscheduled_draw_for, or return the one of that kind and
    day another message stored first (one per kind and day, a unique constraint)."""
    if draw.pk is not None:
        return draw
    fields = ("site", "protocol", "analytes", "reason", "due_on", "window_opens", "window_closes", "state")
    saved, _ = Draw.objects.get_or_create(
        case=draw.case,
        kind=draw.kind,
        day=draw.day,
        unscheduled=True,
        defaults={name: getattr(draw, name) for name in fields},
    )
    return saved


@transaction.atomic
def result_move(*, result: Result, to: Draw, reason: str, by, now: datetime | None = None) -> list[Flag]:
    """Move one result to another draw of its case (issue 19 item 2): the laboratory's date put
    it on the wrong draw, or an unscheduled result belongs to a scheduled one after all.

    1. Refused with the reason (ValueError): no reason given; a draw of another case; the same
       draw; a draw that does not record the analyte; a missed draw; a draw that already
       holds this analyte (correct the value there instead).
    2. The result's draw changes. Its audit entry shows the draw old -> new, with both draws'
       names and the reason (Result.get_additional_data), on the case's history.
    3. The target becomes done if it was open (days late from the collection date); a
       scheduled draw left without results opens again in the state its dates give.
    4. Both draws' flags are recomputed from what each holds now (_flags_reconcile): a
       finding that stays keeps its flag (and its acknowledgement), a flag that follows the
       result moves with it, a new finding raises a flag and its alert, the rest resolve.
    5. The target plans an extension as results_record would.
    Returns the flags newly raised on either draw.
    """
    now = now or timezone.now()
    reason = " ".join(reason.split())
    if len(reason) < 3:
        raise ValueError("Say why the result belongs to another draw.")
    related = ("site", "case__patient", "protocol")
    result = (
        Result.objects.select_for_update(of=("self",))
        .select_related(*(f"draw__{name}" for name in related))
        .get(pk=result.pk)
    )
    source = result.draw
    target = Draw.objects.select_for_update(of=("self",)).select_related(*related).get(pk=to.pk)
    label = ANALYTES[result.analyte].label if result.analyte in ANALYTES else result.analyte
    if target.case_id != source.case_id:
        raise ValueError("That draw belongs to another patient: a result moves only between draws of its own case.")
    if target.pk == source.pk:
        raise ValueError(f"The {label} result is on {draw_name(target)} already.")
    if not target.records(result.analyte):
        raise ValueError(f"{draw_name(target)} does not record {label}; pick a {source.kind_label.lower()} draw.")
    if target.state == DrawState.MISSED:
        raise ValueError(f"{draw_name(target)} is recorded as missed; pick another draw.")
    if Result.objects.filter(draw=target, analyte=result.analyte).exists():
        raise ValueError(f"{draw_name(target)} already has a result for {label}; correct the value there instead.")
    open_flags = {
        d.pk: list(Flag.objects.filter(draw=d, resolved_at__isnull=True).order_by("pk")) for d in (source, target)
    }
    result.draw = target
    result.audit_move = {
        "from_draw": source.pk,
        "to_draw": target.pk,
        "from": draw_name(source),
        "to": draw_name(target),
        "reason": reason[:300],
    }
    result.save(update_fields=["draw"])

    collected_on = result.collected_at.astimezone(ZoneInfo(target.site.timezone)).date()
    if target.state != DrawState.DONE:
        target.state, target.completed_at, target.next_change_at = DrawState.DONE, now, None
        target.days_late = days_late(target.window_closes, collected_on)
        target.save(update_fields=["state", "completed_at", "days_late", "next_change_at", "updated_at"])
    left = list(source.results.all())
    if not left and not source.unscheduled:
        source.state, source.completed_at, source.days_late = DrawState.UPCOMING, None, 0
        apply_state(source, _local_today(now, source.site.timezone))
        source.save(update_fields=["state", "completed_at", "days_late", "next_change_at", "updated_at"])

    baseline = baseline_for(source.case)
    raised, spare = _flags_reconcile(source, left, open_flags[source.pk], {}, baseline, now)
    held = list(target.results.all())
    raised_here, stale = _flags_reconcile(target, held, open_flags[target.pk], spare, baseline, now)
    raised += raised_here
    for flag in [f for flags in (*spare.values(), *stale.values()) for f in flags]:
        flag.resolved_at = now
        flag.save(update_fields=["resolved_at"])
    extension_plan(draw=target, results=held, today=_local_today(now, target.site.timezone))
    return raised


def _flags_reconcile(draw: Draw, results: list[Result], open_flags: list[Flag], spare: dict, baseline, now):
    """Bring ``draw``'s open flags in line with what flags.flags_for_panel finds in ``results``.

    A finding that matches an open flag of the draw (code and analyte) keeps it; else one
    from ``spare`` (flags another draw no longer finds, e.g. the moved result's) is moved
    here; else a new flag is raised (already resolved when a newer result of its analyte
    exists) and sent to the physician as results_record's are. Returns (the new flags, this
    draw's open flags no finding kept, by (code, analyte)); ``spare`` loses what was taken.
    """
    findings = flag_rules.flags_for_panel(_result_values(results), baseline) if results else []
    mine: dict[tuple[str, str], list[Flag]] = {}
    for flag in open_flags:
        mine.setdefault((flag.code, flag.analyte), []).append(flag)
    collected = {r.analyte: r.collected_at for r in results}
    latest: dict[str, datetime] = {}
    for analyte, at in Result.objects.filter(draw__case=draw.case, analyte__in=list(collected)).values_list(
        "analyte", "collected_at"
    ):
        latest[analyte] = max(at, latest.get(analyte, at))
    created = []
    for finding in findings:
        key = (finding.code, finding.analyte)
        pool = mine.get(key) or spare.get(key)
        if pool:
            flag = pool.pop(0)
            if flag.draw_id != draw.pk or flag.message != finding.message:
                flag.draw, flag.message = draw, finding.message[:400]
                flag.save(update_fields=["draw", "message"])
            continue
        observed = collected.get(finding.analyte)
        created.append(
            Flag(
                case=draw.case,
                site=draw.site,
                draw=draw,
                code=finding.code,
                level=finding.level,
                analyte=finding.analyte,
                message=finding.message,
                source=finding.source,
                raised_at=now,
                observed_at=observed,
                resolved_at=now if observed and latest.get(finding.analyte, observed) > observed else None,
            )
        )
    Flag.objects.bulk_create(created)
    if created:
        flags_raised.send(sender=Flag, flags=created)
    return created, {key: flags for key, flags in mine.items() if flags}


@transaction.atomic
def draw_miss(*, draw: Draw, reason: str, by, now: datetime | None = None) -> None:
    """Record a draw as missed with its reason (from any open state); audited by auditlog."""
    if not reason.strip():
        raise ValueError("Say why the draw was missed.")
    draw.state = DrawState.MISSED
    draw.missed_reason = reason.strip()[:300]
    draw.next_change_at = None
    draw.save(update_fields=["state", "missed_reason", "next_change_at", "updated_at"])


# --- Acknowledging result flags ---------------------------------------------------------------


def flags_awaiting_acknowledgement(case) -> list[Flag]:
    """The case's open urgent and abnormal flags no physician has acknowledged, most severe first."""
    flags = Flag.objects.filter(case=case, resolved_at__isnull=True, acknowledged_at__isnull=True).select_related(
        "draw"
    )
    order = {flag_rules.ALERT_URGENT: 0, flag_rules.ALERT_ABNORMAL: 1}
    return sorted((f for f in flags if f.alert), key=lambda f: (order[f.alert], f.raised_at, f.pk))


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user else "someone"


def _when(at: datetime, tz_name: str) -> str:
    """ "3 Dec 2026, 14:05 EST" in the site's zone."""
    with timezone.override(ZoneInfo(tz_name)):
        return moment_text(at)


def _flags_words(flags) -> str:
    return "; ".join(
        f"{f.message}" + (f" (day {f.draw.day})" if f.draw_id and f.draw is not None else "") for f in flags
    )[:480]


@transaction.atomic
def flags_acknowledge(
    *,
    case,
    flag_ids: list[int],
    by,
    note: str,
    plan: str,
    repeat_on: date | None,
    now: datetime | None = None,
    override: OverrideInput | None = None,
    corrects: ResultAcknowledgement | None = None,
    correction_reason: str = "",
) -> list[Flag]:
    """A physician acknowledges result flags with a note and a plan (issue 15 items 1-3).

    1. A note is required, and a plan unless ``override`` is given: marking a result reviewed
       without a plan is a decision against the rule (cases.overrides, kind "no_plan"). Nothing
       is saved without them (ValueError).
    2. The flags are locked; one already acknowledged (by a second physician a moment earlier)
       refuses the whole acknowledgement and names who did it and when, so nothing is overwritten.
       ``corrects``: the acknowledgement being corrected must still be current (ValueError naming
       who voided it otherwise) and is voided with ``correction_reason`` in the same transaction.
    3. One ResultAcknowledgement row keeps who, when, the note, the plan, any repeat-draw date and
       the override; each flag carries its words (audited).
    4. Unsent notices and escalations of these flags are cancelled.
    5. A repeat-draw date adds a draw of the same kind on that day to the schedule (unless one exists).
    """
    now = now or timezone.now()
    note, plan = " ".join(note.split()), " ".join(plan.split())
    if len(note) < 3:
        raise ValueError("Say in a few words what you saw.")
    if plan and len(plan) < 3:
        raise ValueError("An acknowledgement needs a plan: say what happens next.")
    if not plan and override is None:
        raise ValueError(
            "An acknowledgement needs a plan: say what happens next. Without one, record an override "
            "(a listed reason, your words and your password)."
        )
    if corrects is not None:
        acknowledgement_void(ack=corrects, by=by, reason=correction_reason, now=now, reopen=False)
    wanted = sorted(set(flag_ids))
    flags = list(
        Flag.objects.select_for_update(of=("self",))
        .filter(case=case, pk__in=wanted)
        .select_related("draw")
        .order_by("pk")
    )
    if not wanted or len(flags) != len(wanted):
        raise ValueError("These flags are not on this case any more; reload the page.")
    done = [f for f in flags if f.acknowledged_at is not None]
    if done:
        first = done[0]
        raise ValueError(
            f"Already acknowledged by {_who(first.acknowledged_by)} at {_when(first.acknowledged_at, case.site.timezone)}; "
            "your note was not saved, read theirs below and add a new one if needed."
        )
    if any(f.alert is None for f in flags):
        raise ValueError("Only urgent or abnormal result flags are acknowledged here.")
    recorded_override = None
    if not plan:
        recorded_override = override_record(
            case=case,
            kind=ClinicalOverride.Kind.NO_PLAN,
            given=override,
            subject=_flags_words(flags),
            by=by,
            at=now,
        )
    ack = ResultAcknowledgement.objects.create(
        case=case,
        site=case.site,
        note=note[:1000],
        plan=plan[:1000],
        repeat_on=repeat_on,
        override=recorded_override,
        corrects=corrects,
        by=by,
        at=now,
    )
    ack.flags.set(flags)
    for flag in flags:
        flag.acknowledged_by, flag.acknowledged_at = by, now
        flag.ack_note, flag.ack_plan, flag.ack_repeat_on = note[:1000], plan[:1000], repeat_on
        flag.save(update_fields=["acknowledged_by", "acknowledged_at", "ack_note", "ack_plan", "ack_repeat_on"])
    Reminder.objects.filter(flag__in=flags, status__in=UNSENT).update(
        status=ReminderStatus.CANCELLED, cancelled_reason="acknowledged", updated_at=now
    )
    if repeat_on is not None:
        for draw in {f.draw_id: f.draw for f in flags if f.draw is not None}.values():
            extra, created = repeat_draw_add(
                draw=draw, on=repeat_on, reason=f"Repeat ordered by {_who(by)} on acknowledging a flag"
            )
            if created:
                ack.repeat_draws.add(extra)
    return flags


@transaction.atomic
def acknowledgement_void(
    *, ack: ResultAcknowledgement, by, reason: str, now: datetime | None = None, reopen: bool = True
) -> ResultAcknowledgement:
    """Void a mistaken acknowledgement with a reason (issue 15 item 3). Nothing is deleted.

    1. A reason of at least VOID_REASON_MIN_LENGTH characters; the row is locked, and one already
       voided is refused naming who voided it, when and why (cases.corrections.entry_void).
    2. Its flags that still carry it lose its words (the audit trail shows old -> new); with
       ``reopen`` (a void, not a correction) they are awaiting acknowledgement again from now: a
       new round (Flag.ack_round), so the sweep notifies the physician again and escalates after
       the site's time as for a new flag.
    3. Its override (a review without a plan) is voided with it.
    4. The repeat draws it added that are still open, without results and never reminded of,
       leave the schedule (audited); others stay, and the caller is told which (``kept_draws``).
    """
    now = now or timezone.now()
    try:
        ack = entry_void(row=ack, by=by, reason=reason)
    except VoidRefused as exc:
        raise ValueError(str(exc)) from None
    flags = list(
        Flag.objects.select_for_update()
        .filter(pk__in=ack.flags.values("pk"), acknowledged_at=ack.at, acknowledged_by=ack.by_id)
        .order_by("pk")
    )
    for flag in flags:
        flag.acknowledged_by = flag.acknowledged_at = flag.ack_repeat_on = None
        flag.ack_note = flag.ack_plan = ""
        fields = ["acknowledged_by", "acknowledged_at", "ack_note", "ack_plan", "ack_repeat_on"]
        if reopen:
            flag.ack_round += 1
            flag.awaiting_since = now
            fields += ["ack_round", "awaiting_since"]
        flag.save(update_fields=fields)
    override_void(ack.override, by=by, reason=f"Acknowledgement voided: {ack.void_reason}", at=now)
    ack.kept_draws = []
    for draw in ack.repeat_draws.all():
        untouched = (
            draw.state in OPEN_STATES
            and not draw.results.exists()
            and not draw.reminders.filter(status=ReminderStatus.SENT).exists()
        )
        if untouched:
            draw.delete()
        else:
            ack.kept_draws.append(draw)
    return ack


def repeat_draw_add(*, draw: Draw, on: date, reason: str) -> tuple[Draw, bool]:
    """A draw of ``draw``'s kind and analytes on ``on`` (an extension), unless that day exists;
    returns it and whether it was added."""
    infused_on = draw.due_on - timedelta(days=draw.day)
    window = draw.protocol.window_days
    extra, created = Draw.objects.get_or_create(
        case=draw.case,
        unscheduled=False,
        kind=draw.kind,
        day=(on - infused_on).days,
        defaults={
            "site": draw.site,
            "protocol": draw.protocol,
            "analytes": list(draw.analytes),
            "reason": reason[:300],
            "is_extension": True,
            "due_on": on,
            "window_opens": on - timedelta(days=window),
            "window_closes": on + timedelta(days=window),
        },
    )
    if created:
        apply_state(extra, _local_today(timezone.now(), draw.site.timezone))
        extra.save(update_fields=["state", "next_change_at"])
    return extra, created


# --- Steroid course ---------------------------------------------------------------------------


def latest_liver_draw(case) -> Draw | None:
    """The case's most recent liver draw with results (by collection time)."""
    result = (
        Result.objects.filter(draw__case=case, draw__kind=LIVER)
        .select_related("draw")
        .order_by("-collected_at", "-pk")
        .first()
    )
    return result.draw if result else None


def course_infused_on(course: SteroidCourse) -> date:
    """The infusion date the course's review and taper count from: the case's (the course may
    start on another day than Day -1 when the record says so)."""
    return course.case.infused_on or course.started_on - timedelta(days=steroids.START_OFFSET_DAYS)


class OverrideNeeded(ValueError):
    """A taper against the rule's recommendation was asked for without an override."""


def current_decisions(course: SteroidCourse):
    """The course's decisions that no later decision corrected, oldest first."""
    return course.decisions.filter(superseded_by__isnull=True)


def steroid_recommendation(
    course: SteroidCourse,
    liver_draw: Draw | None,
    clinical_exam_normal: bool = True,
    excluding: SteroidDecision | None = None,
):
    """steroids.taper_decision on the latest liver results, counting earlier current 'continue'
    decisions as previous abnormal reviews (label §2.1); a decision being corrected
    (``excluding``) does not count."""
    results = _result_values(liver_draw.results.all()) if liver_draw else {}
    previous = current_decisions(course).filter(action=SteroidDecision.Action.CONTINUE)
    if excluding is not None:
        previous = previous.exclude(pk=excluding.pk)
    return steroids.taper_decision(results, clinical_exam_normal, previous_abnormal_reviews=previous.count())


def needs_taper_override(action: str, recommended: str) -> bool:
    """A taper while the label's rule says continue (ALT/AST >= 2×ULN, abnormal bilirubin or PT,
    missing results or an abnormal exam; label §2.1) needs an explicit override."""
    return action == SteroidDecision.Action.TAPER and recommended == SteroidDecision.Action.CONTINUE


def review_pending(course: SteroidCourse, liver_draw: Draw | None, today: date) -> bool:
    """A decision is needed: full dose, a liver result exists, and it is on or after the Day 28
    review and newer than the last decision ("review again at each next result", label §2.1)."""
    if course.status != SteroidCourse.Status.FULL_DOSE or liver_draw is None:
        return False
    infused_on = course_infused_on(course)
    if liver_draw.due_on < steroids.review_date(infused_on) - timedelta(days=liver_draw.protocol.window_days):
        return False
    last = current_decisions(course).order_by("-decided_at", "-pk").first()
    return last is None or last.liver_draw_id != liver_draw.pk


@transaction.atomic
def steroid_decide(
    *,
    course: SteroidCourse,
    action: str,
    reason: str,
    clinical_exam_normal: bool,
    by,
    today: date,
    override_reason: str = "",
    corrects: SteroidDecision | None = None,
    correction_reason: str = "",
) -> SteroidDecision:
    """Record a physician's taper/continue decision on the latest liver results.

    1. The course is locked: two decisions at once are taken one after the other.
    2. The recommendation (steroids.taper_decision) is stored next to the decision. A taper
       against a "continue" recommendation needs ``override_reason`` (OverrideNeeded otherwise)
       and is stored as an override; the view asks for the physician's password first.
    3. ``corrects``: the decision being corrected must still be current (a second correction of
       the same decision is refused, naming who corrected it), needs ``correction_reason``, and is
       marked superseded by the new one; nothing is deleted.
    4. Taper: the taper starts the day after the Day 28 review or the day after today,
       whichever is later (label §2.1: "over the next 28 days", never stop abruptly).
       Continue: the course is (back) on full dose with no taper date.
    5. The Day 28 steroid_review draw is done once any decision is recorded.
    """
    if not reason.strip():
        raise ValueError("Give the reason for the decision.")
    course = SteroidCourse.objects.select_for_update().select_related("case", "site").get(pk=course.pk)
    liver_draw = latest_liver_draw(course.case)
    if liver_draw is None:
        raise ValueError("There are no liver results to review yet.")
    if corrects is not None:
        corrects = SteroidDecision.objects.select_related("decided_by").get(pk=corrects.pk, course=course)
        if corrects.superseded_by_id is not None:
            later = SteroidDecision.objects.select_related("decided_by").get(pk=corrects.superseded_by_id)
            raise ValueError(
                f"This decision was already corrected by {_who(later.decided_by)} on "
                f"{moment_text(later.decided_at, ZoneInfo(course.site.timezone))}; "
                "correct the current decision instead."
            )
        if len(" ".join(correction_reason.split())) < 3:
            raise ValueError("Say why the earlier decision was wrong.")
    # The recommendation as it stands: a correction does not count the decision it replaces.
    advice = steroid_recommendation(course, liver_draw, clinical_exam_normal, excluding=corrects)
    against = needs_taper_override(action, advice.action)
    if against and override_reason not in SteroidDecision.OverrideReason.values:
        raise OverrideNeeded("This taper goes against the label's recommendation; it needs an override.")
    override = None
    if against:
        override = override_record(
            case=course.case,
            kind=ClinicalOverride.Kind.TAPER,
            given=OverrideInput(
                reason_code=override_reason,
                reason_label=SteroidDecision.OverrideReason(override_reason).label,
                explanation=reason,
            ),
            subject=f"day-{liver_draw.day} liver results, while the rule said continue: " + "; ".join(advice.reasons),
            by=by,
        )
    infused_on = course_infused_on(course)
    taper_start = None
    if action == SteroidDecision.Action.TAPER:
        taper_start = max(steroids.review_date(infused_on), today) + timedelta(days=1)
        course.status = SteroidCourse.Status.TAPERING
    else:
        course.status = SteroidCourse.Status.FULL_DOSE
    course.taper_starts_on = taper_start
    course.save(update_fields=["status", "taper_starts_on"])
    decision = SteroidDecision.objects.create(
        course=course,
        case=course.case,
        site=course.site,
        liver_draw=liver_draw,
        action=action,
        recommended=advice.action,
        recommendation=list(advice.reasons),
        consult_hepatology=advice.consult_hepatology,
        clinical_exam_normal=clinical_exam_normal,
        reason=reason.strip(),
        taper_starts_on=taper_start,
        decided_by=by,
        against_recommendation=action != advice.action,
        override_reason=override_reason if against else "",
        override=override,
        corrects=corrects,
        correction_reason=" ".join(correction_reason.split())[:1000] if corrects else "",
    )
    if corrects is not None:
        corrects.superseded_by, corrects.superseded_at = decision, decision.decided_at
        corrects.save(update_fields=["superseded_by", "superseded_at"])
        override_void(corrects.override, by=by, reason=f"Decision corrected: {decision.correction_reason}"[:300])
    for review in Draw.objects.filter(case=course.case, kind="steroid_review").exclude(state=DrawState.DONE):
        review.state, review.completed_at, review.next_change_at = DrawState.DONE, timezone.now(), None
        review.save(update_fields=["state", "completed_at", "next_change_at", "updated_at"])
    return decision
