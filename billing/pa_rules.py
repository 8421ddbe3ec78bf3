"""Prior authorization rules as pure functions: the status machine and the approval-window warnings.

No ORM here; billing/pa.py applies these to the database. Sources: issue #4 item 2 and
DESIGN.md "State machines" (draft → submitted → pended → approved | denied → appealed →
approved | denied); the 7-day expiry warning is issue #4's product rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

DRAFT = "draft"
SUBMITTED = "submitted"
PENDED = "pended"
APPROVED = "approved"
DENIED = "denied"
APPEALED = "appealed"
STATUSES = (DRAFT, SUBMITTED, PENDED, APPROVED, DENIED, APPEALED)

# Every allowed move, in one place. A payer may decide without pending first, so submitted goes
# straight to approved or denied too. Approved is final; a denial can be appealed again.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (SUBMITTED,),
    SUBMITTED: (PENDED, APPROVED, DENIED),
    PENDED: (APPROVED, DENIED),
    DENIED: (APPEALED,),
    APPEALED: (APPROVED, DENIED),
    APPROVED: (),
}

# The case pipeline stage each PA status moves the case to (cases/pipeline.py). An appeal puts
# the case back under payer review. Pended keeps the case where it is.
PIPELINE_STAGE_FOR_STATUS = {
    SUBMITTED: "pa_submitted",
    APPROVED: "pa_approved",
    DENIED: "gating",
    APPEALED: "pa_submitted",
}

# Warn when an approval ends within this many days (issue #4 item 2).
EXPIRY_WARNING_DAYS = 7

# CMS-0057-F (docs/domain.md §13b): since 1 January 2026 impacted payers (Medicare Advantage,
# Medicaid and CHIP, QHP issuers on the federal exchanges) decide an expedited prior authorization
# request within 72 hours and a standard one within 7 calendar days.
EXPEDITED_DECISION = timedelta(hours=72)
STANDARD_DECISION = timedelta(days=7)
# The statuses in which the payer owes a decision (the clock is shown).
AWAITING_DECISION = (SUBMITTED, PENDED, APPEALED)


class PATransitionError(ValueError):
    """A move the PA status machine does not allow; the message is shown to the user."""


_LABELS = {
    DRAFT: "draft",
    SUBMITTED: "submitted",
    PENDED: "pended",
    APPROVED: "approved",
    DENIED: "denied",
    APPEALED: "appealed",
}


def next_statuses(current: str) -> tuple[str, ...]:
    """Return the statuses a PA in ``current`` may move to (empty for approved)."""
    if current not in TRANSITIONS:
        raise PATransitionError(f"Unknown prior authorization status {current!r}.")
    return TRANSITIONS[current]


def check_transition(current: str, to: str) -> None:
    """Raise PATransitionError with a plain message unless ``current`` → ``to`` is allowed."""
    if to not in TRANSITIONS:
        raise PATransitionError(f"Unknown prior authorization status {to!r}.")
    allowed = next_statuses(current)
    if to in allowed:
        return
    if not allowed:
        raise PATransitionError(f"This prior authorization is {_LABELS[current]}; it cannot change any more.")
    options = " or ".join(_LABELS[s] for s in allowed)
    raise PATransitionError(
        f"A {_LABELS[current]} prior authorization cannot become {_LABELS[to]}; next it can be {options}."
    )


@dataclass(frozen=True)
class DecisionClock:
    """A payer's decision times: the federal rule's for an impacted payer, else its own (None: not set)."""

    impacted: bool
    standard_days: int | None = None
    expedited_hours: int | None = None


def decision_window(clock: DecisionClock | None, *, expedited: bool) -> timedelta | None:
    """How long the payer has to decide: 72 hours / 7 calendar days for a payer impacted by
    CMS-0057-F, else the payer's own setting; None when the payer has none for this kind of request."""
    if clock is None:
        return None
    if clock.impacted:
        return EXPEDITED_DECISION if expedited else STANDARD_DECISION
    if expedited:
        return timedelta(hours=clock.expedited_hours) if clock.expedited_hours else None
    return timedelta(days=clock.standard_days) if clock.standard_days else None


def clock_words(clock: DecisionClock | None, *, expedited: bool) -> str:
    """The decision time in words, e.g. "standard: 7 calendar days, CMS-0057-F"; "" when not set."""
    window = decision_window(clock, expedited=expedited)
    if window is None:
        return ""
    if expedited:
        amount = f"expedited: {int(window.total_seconds() // 3600)} hours"
    else:
        days = window.days
        amount = f"standard: {days} calendar day{'' if days == 1 else 's'}"
    return f"{amount}, {'CMS-0057-F' if clock.impacted else 'the payer’s own time'}"


def decision_due(
    received: datetime | date, *, expedited: bool, clock: DecisionClock | None, tz: tzinfo | None = None
) -> datetime | None:
    """Return when the payer's decision is due for a request it received at ``received``, or None
    when the payer has no decision time for this kind of request (never a guessed clock).

    1. The window is decision_window(clock, expedited): 72 hours or 7 calendar days for an impacted
       payer, the payer's own hours or days otherwise.
    2. A received time counts from that moment. A received day (no time recorded) counts from the
       start of that day in ``tz`` (the site's zone; UTC when not given), the earliest the payer can
       have had it, so the clock never shows more time than the payer has.
    3. Calendar days are added as wall-clock days in the zone, so a daylight-saving change does not
       move the due time by an hour.
    """
    window = decision_window(clock, expedited=expedited)
    if window is None:
        return None
    start = received if isinstance(received, datetime) else datetime.combine(received, time.min, tzinfo=tz or UTC)
    if not expedited and start.tzinfo is not None and tz is not None:
        local = start.astimezone(tz)
        return (local.replace(tzinfo=None) + window).replace(tzinfo=tz).astimezone(start.tzinfo)
    return start + window


def pipeline_target(status: str, stage_order: list[str], current_stage: str) -> str | None:
    """Return the case stage a PA status should move the case to, or None to leave it.

    1. Pended (and draft) never move the case.
    2. Approved moves a case forward to pa_approved only; a case already scheduled or infused
       stays where it is.
    3. Denied and appealed move the case only while it has not been infused (a retrospective
       payer decision does not undo an infusion).
    """
    target = PIPELINE_STAGE_FOR_STATUS.get(status)
    if target is None or target == current_stage:
        return None
    position = stage_order.index
    if status == APPROVED:
        return target if position(current_stage) < position(target) else None
    if position(current_stage) >= position("infused"):
        return None
    return target


@dataclass(frozen=True)
class PAWarning:
    code: str
    message: str


def approval_warnings(
    *, status: str, valid_from: date | None, valid_through: date | None, planned_on: date | None, today: date
) -> list[PAWarning]:
    """Return warnings about an approval's window, for display next to the PA.

    1. Only approved authorizations are checked.
    2. Missing valid-from/through dates: say so (the window cannot be checked).
    3. The planned infusion date before valid-from or after valid-through: outside the window.
    4. Valid-through already passed: expired. Within 7 days from today: expiring soon.
    """
    if status != APPROVED:
        return []
    if valid_from is None or valid_through is None:
        return [PAWarning("window_missing", "Record the approval's valid-from and valid-through dates.")]
    out: list[PAWarning] = []
    if planned_on is not None and not (valid_from <= planned_on <= valid_through):
        out.append(
            PAWarning(
                "outside_window",
                f"The planned infusion date {planned_on.isoformat()} is outside the approval window "
                f"{valid_from.isoformat()} to {valid_through.isoformat()}: ask the payer to extend or move the date.",
            )
        )
    days_left = (valid_through - today).days
    if days_left < 0:
        out.append(PAWarning("expired", f"The approval expired on {valid_through.isoformat()}."))
    elif days_left <= EXPIRY_WARNING_DAYS:
        when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
        out.append(
            PAWarning("expiring", f"The approval expires {when} ({valid_through.isoformat()}): infuse or extend.")
        )
    return out
