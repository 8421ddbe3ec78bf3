"""Which hand-made pipeline moves a case may take now, and why not when it may not.

Pure: plain values in, plain values out. The automatic moves (intake → gating on the first
result, PA decisions, signing the infusion record) happen where those events happen; these are
the three a person decides: confirming the infusion date, ending lab monitoring, closing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from common.wording import day_text


@dataclass(frozen=True)
class StageFacts:
    stage: str
    planned_infusion_date: date | None
    gate_ready_on_planned_date: bool
    gate_blocking_count: int
    pa_required: bool
    pa_valid_on_planned_date: bool
    open_draws: int
    open_milestones: int
    today: date


@dataclass(frozen=True)
class StageAction:
    to: str
    label: str
    action: str  # the permission (accounts.permissions) that may take this move
    allowed: bool
    reason: str  # why it is not allowed yet, or what it confirms
    needs_note: bool = False


SCHEDULE_FROM = ("gating", "pa_submitted", "pa_approved")


def stage_actions(f: StageFacts) -> list[StageAction]:
    """Return the hand-made moves that apply to ``f.stage`` (allowed or not, with the reason).

    1. Scheduling (→ scheduled) needs a planned date not in the past, every blocking gate passing on
       that date, and, where the payer requires it, a PA valid that day (billing card: PA before
       infusion; the gate is the label's and the payer's pre-treatment requirements).
    2. Ending lab monitoring (→ follow-up) needs no open draw: the label asks for monitoring for
       at least 3 months and until results are unremarkable (docs/domain.md §4), which the schedule's
       extension draws encode.
    3. Closing (→ closed) from follow-up records a note; open milestones are named in the reason.
    """
    actions: list[StageAction] = []
    if f.stage in SCHEDULE_FROM:
        problems = []
        if f.planned_infusion_date is None:
            problems.append("record a planned infusion date")
        elif f.planned_infusion_date < f.today:
            problems.append("the planned infusion date is in the past")
        if f.planned_infusion_date is not None and not f.gate_ready_on_planned_date:
            n = f.gate_blocking_count
            problems.append(f"{n} gate item{'s' if n != 1 else ''} block{'s' if n == 1 else ''} on that date")
        if f.pa_required and not f.pa_valid_on_planned_date:
            problems.append("no approved prior authorization covers that date")
        when = day_text(f.planned_infusion_date) if f.planned_infusion_date else "the planned date"
        actions.append(
            StageAction(
                to="scheduled",
                label=f"Confirm infusion scheduled for {when}",
                action="stage_schedule",
                allowed=not problems,
                reason="; ".join(problems).capitalize() if problems else "Gate passes and PA covers that date.",
            )
        )
    if f.stage == "monitoring":
        actions.append(
            StageAction(
                to="follow_up",
                label="Lab monitoring complete: move to follow-up",
                action="stage_follow_up",
                allowed=f.open_draws == 0,
                reason=(
                    f"{f.open_draws} scheduled draw{'s are' if f.open_draws != 1 else ' is'} still open"
                    if f.open_draws
                    else "Every scheduled draw is done or documented as missed."
                ),
            )
        )
    if f.stage == "follow_up":
        actions.append(
            StageAction(
                to="closed",
                label="Close the case",
                action="stage_close",
                allowed=True,
                reason=(
                    f"{f.open_milestones} outcome milestone{'s' if f.open_milestones != 1 else ''} still open; "
                    "say why in the note"
                    if f.open_milestones
                    else "All outcome milestones are recorded."
                ),
                needs_note=True,
            )
        )
    return actions
