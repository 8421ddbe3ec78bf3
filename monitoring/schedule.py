"""Dated post-infusion draws, their result-aware extension, and the draw state machine.

Pure functions over plain values and an explicit `today`; no clock is read here.
The protocol itself (days, window, grace, cadence) is data in `monitoring/protocol.py`.

Sources: docs/domain.md §4 (schedule, "reminders must stay open past D84 while any result is not yet
unremarkable or back to baseline"), §11.1, §11.2, §11.4; label §5.1 and §5. The window, grace
and state machine are product policy [D] (STYLE.md, "Periodic work": due work is data, the next
transition date is stored and indexed, never "date == today + N").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitoring.protocol import Protocol

UPCOMING = "upcoming"
DUE = "due"
LATE = "late"
OVERDUE = "overdue"
DONE = "done"
MISSED = "missed"
OPEN_STATES = (UPCOMING, DUE, LATE, OVERDUE)
TERMINAL_STATES = (DONE, MISSED)

# Plain-words cadence for extension reasons; other intervals read "every N days".
_CADENCE_WORDS = {7: "weekly", 14: "every other week", 28: "monthly (every 28 days)"}


@dataclass(frozen=True)
class PlannedDraw:
    """One planned check: `day` after the infusion (Day 0), its due date and on-time window."""

    kind: str
    day: int
    due_on: date
    window_opens: date
    window_closes: date
    analytes: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class DrawState:
    """A draw's state on a given day and the date of its next automatic transition (or None)."""

    state: str
    next_change_on: date | None


def _draw(
    kind: str,
    day: int,
    infusion_date: date,
    protocol: Protocol,
    analytes: tuple[str, ...],
    reason: str,
) -> PlannedDraw:
    due_on = infusion_date + timedelta(days=day)
    window = timedelta(days=protocol.window_days)
    return PlannedDraw(
        kind=kind,
        day=day,
        due_on=due_on,
        window_opens=due_on - window,
        window_closes=due_on + window,
        analytes=analytes,
        reason=reason,
    )


def planned_draws(infusion_date: date, protocol: Protocol) -> list[PlannedDraw]:
    """Return every protocol draw for an infusion on `infusion_date`, ordered by due date.

    1. For each protocol row and each of its days, due_on = infusion_date + day.
    2. The window is due_on ± protocol.window_days (inclusive at both ends).
    3. The reason is the row's phase text for that day (e.g. "Label §5.1: liver panel weekly in
       month 1").
    4. Sort by (due_on, row order) so same-day draws keep the protocol's order.
    """
    draws: list[tuple[date, int, PlannedDraw]] = []
    for order, row in enumerate(protocol.rows):
        for day in row.days:
            draw = _draw(
                row.kind,
                day,
                infusion_date,
                protocol,
                row.analytes,
                row.reason_for(day),
            )
            draws.append((draw.due_on, order, draw))
    return [draw for _, _, draw in sorted(draws, key=lambda item: (item[0], item[1]))]


def cadence_words(interval_days: int) -> str:
    """Return plain words for an interval: 14 -> "every other week", 10 -> "every 10 days"."""
    return _CADENCE_WORDS.get(interval_days, f"every {interval_days} days")


def next_extension(
    kind: str,
    last_day: int,
    resolved: bool,
    infusion_date: date,
    protocol: Protocol,
    *,
    finding: str,
) -> PlannedDraw | None:
    """Return the extra draw that follows `last_day` for `kind`, or None when none is needed.

    `finding` says why, in the clinic's words, e.g. "ALT 2.4×ULN on 2027-03-01"; it goes
    into the reason. `resolved` means the latest result is unremarkable (liver) or back to
    baseline (platelets, troponin-I), as decided by `monitoring/flags.py`.

    1. An unknown kind raises ValueError (Protocol.row).
    2. If the result is resolved, or the row never extends (steroid_review), return None.
    3. `last_day` must be the row's last protocol day or a later extension day; an earlier
       day raises ValueError, because the protocol already plans the next draw.
    4. The next day is last_day + the row's interval (liver and platelets 14 days, "every
       other week"; troponin-I 28 days, "monthly"; label §5.1/§5, docs/domain.md §4).
    5. Build the draw with the usual ± window and the row's extension reason.
    """
    row = protocol.row(kind)
    interval = protocol.interval_for(kind)
    if resolved or interval is None:
        return None
    if last_day < row.days[-1]:
        raise ValueError(
            f"{kind} extensions start after day {row.days[-1]}; "
            f"day {last_day} is inside the protocol, which already plans the next draw"
        )
    if not finding.strip():
        raise ValueError("finding must say why the extra draw is needed, e.g. 'ALT 2.4×ULN on 2027-03-01'")
    reason = row.extension_reason.format(finding=finding.strip(), cadence=cadence_words(interval))
    return _draw(kind, last_day + interval, infusion_date, protocol, row.analytes, reason)


def draw_state(
    window_opens: date,
    window_closes: date,
    grace_days: int,
    today: date,
    done: bool,
    missed: bool,
    snoozed_until: date | None = None,
) -> DrawState:
    """Return the draw's state on `today` and the date its state next changes by itself.

    States: upcoming -> due -> late -> overdue; done and missed are terminal and can be
    reached from any open state. A snooze ("we know, the family comes on the 5th") only delays
    the late -> overdue escalation, to `snoozed_until` at the latest (step 5); it never hides
    an upcoming or due draw.

    1. Reject inconsistent input: done and missed together, a window that closes before it
       opens, or a negative grace.
    2. done -> ("done", None); missed -> ("missed", None).
    3. today < window_opens -> upcoming, changes on window_opens.
    4. window_opens <= today <= window_closes -> due, changes on window_closes + 1 day.
    5. Overdue starts on max(window_closes + grace_days + 1 day, snoozed_until), i.e. once
       today > window_closes + grace_days and any snooze has run out.
    6. Before that -> late, changes on that date; from then -> overdue, next change None
       (it stays overdue until someone records done or missed).
    """
    if done and missed:
        raise ValueError("a draw cannot be both done and missed")
    if window_closes < window_opens:
        raise ValueError(f"window closes ({window_closes}) before it opens ({window_opens})")
    if grace_days < 0:
        raise ValueError(f"grace_days must be 0 or more, not {grace_days}")
    if done:
        return DrawState(DONE, None)
    if missed:
        return DrawState(MISSED, None)
    if today < window_opens:
        return DrawState(UPCOMING, window_opens)
    if today <= window_closes:
        return DrawState(DUE, window_closes + timedelta(days=1))
    overdue_from = window_closes + timedelta(days=grace_days + 1)
    if snoozed_until is not None and snoozed_until > overdue_from:
        overdue_from = snoozed_until
    if today < overdue_from:
        return DrawState(LATE, overdue_from)
    return DrawState(OVERDUE, None)


def next_change_at(next_change_on: date | None, tz: str | ZoneInfo) -> datetime | None:
    """Return the aware local midnight that starts `next_change_on` in `tz`, or None for None.

    Midnight exists on every day in the IANA zones we serve (US DST shifts happen at 02:00),
    so the result is unambiguous; store it (or its UTC value) as the indexed `send_after`.
    """
    if next_change_on is None:
        return None
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return datetime.combine(next_change_on, time(0, 0), tzinfo=zone)


def days_late(window_closes: date, on: date) -> int:
    """Return how many days after the window closed a draw was done on `on` (0 if on time)."""
    return max(0, (on - window_closes).days)
