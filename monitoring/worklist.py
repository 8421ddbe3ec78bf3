"""The coordinator's monitoring worklist on the home page: what is due, late or overdue at
the user's sites, open flags and outcome assessments due. A fixed number of queries: it reads
the indexed state columns the sweep (workflows.draws_advance) keeps current."""

from __future__ import annotations

from datetime import date, timedelta

from common.access import scope_to_sites
from monitoring.models import Draw, DrawState, Flag, Milestone

# Enough rows for a busy clinic's week; the counts say when there are more.
LIMIT = 50


def worklist_for(user, today: date) -> dict:
    """Return the worklist groups for ``user``'s sites on ``today``.

    1. Draws: overdue, late, due today (window open, due date reached) and due this week
       (due in the next 7 days), one query over the open states.
    2. Open flags, most severe first. 3. Milestone assessments whose window is open or past.
    """
    week_end = today + timedelta(days=7)
    open_draws = (
        scope_to_sites(Draw.objects.all(), user)
        .filter(state__in=[DrawState.UPCOMING, DrawState.DUE, DrawState.LATE, DrawState.OVERDUE])
        .filter(due_on__lte=week_end)
        .select_related("case__patient", "site")
        .order_by("due_on", "pk")
    )
    groups: dict[str, list[Draw]] = {"overdue": [], "late": [], "today": [], "week": []}
    for draw in open_draws[: LIMIT * 4]:
        if draw.state == DrawState.OVERDUE:
            groups["overdue"].append(draw)
        elif draw.state == DrawState.LATE:
            groups["late"].append(draw)
        elif draw.due_on <= today and draw.state == DrawState.DUE:
            groups["today"].append(draw)
        else:
            groups["week"].append(draw)
    level_order = {"urgent": 0, "taper_blocked": 1, "watch": 2}
    flags = list(
        scope_to_sites(Flag.objects.filter(resolved_at__isnull=True), user)
        .select_related("case__patient", "draw")
        .order_by("-raised_at")[:LIMIT]
    )
    flags.sort(key=lambda f: level_order.get(f.level, 3))
    milestones = list(
        scope_to_sites(Milestone.objects.filter(state__in=[DrawState.DUE, DrawState.LATE, DrawState.OVERDUE]), user)
        .select_related("case__patient")
        .order_by("due_on")[:LIMIT]
    )
    return {
        "draw_groups": [
            ("overdue", "Overdue", groups["overdue"][:LIMIT]),
            ("late", "Late (window passed)", groups["late"][:LIMIT]),
            ("today", "Due today", groups["today"][:LIMIT]),
            ("week", "Due this week", groups["week"][:LIMIT]),
        ],
        "open_flags": flags,
        "milestones_due": milestones,
        "today": today,
    }
