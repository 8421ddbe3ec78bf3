"""The case pipeline as a timeline: when each stage was reached and the days spent in it.

Pure: plain (stage, entered_at) pairs in, rows out. Time to therapy is the days from intake to
the infusion (DESIGN.md pipeline; issue 3 item 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StageRow:
    stage: str
    label: str
    reached_at: datetime | None  # first time the case entered the stage
    days: int | None  # whole days spent in the stage (all visits), None when never reached
    state: str  # "done", "skipped" (passed without entering it), "current" or "todo"


def _days(seconds: float) -> int:
    return int(seconds // 86400)


def pipeline_rows(
    stages: list[tuple[str, str]], events: list[tuple[str, datetime]], current: str, now: datetime
) -> list[StageRow]:
    """Return one row per pipeline stage, in pipeline order.

    1. Sort the events by time; each lasts until the next event (the last one until ``now``).
    2. A stage's first visit gives ``reached_at``; all its visits add up to ``days`` (a case sent
       back to gating after a denied PA counts both stays).
    3. Stages before the current one in the pipeline are "done" (or "skipped" when the case
       never entered them, e.g. infused straight from "PA approved"), the current one "current".
    """
    ordered = sorted(events, key=lambda e: e[1])
    first: dict[str, datetime] = {}
    seconds: dict[str, float] = {}
    for index, (stage, at) in enumerate(ordered):
        end = ordered[index + 1][1] if index + 1 < len(ordered) else now
        first.setdefault(stage, at)
        seconds[stage] = seconds.get(stage, 0.0) + max(0.0, (end - at).total_seconds())
    keys = [key for key, _ in stages]
    current_index = keys.index(current) if current in keys else -1
    rows = []
    for index, (key, label) in enumerate(stages):
        state = "current" if index == current_index else "done" if index < current_index else "todo"
        reached = first.get(key)
        if state == "done" and reached is None:
            state = "skipped"
        rows.append(StageRow(key, label, reached, _days(seconds[key]) if key in seconds else None, state))
    return rows


def time_to_therapy(events: list[tuple[str, datetime]], intake: str, infused: str) -> int | None:
    """Return whole days from the first intake event to the first infusion event, or None."""
    starts = [at for stage, at in events if stage == intake]
    ends = [at for stage, at in events if stage == infused]
    if not starts or not ends:
        return None
    return _days((min(ends) - min(starts)).total_seconds())
