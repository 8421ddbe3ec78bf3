"""The coordinator's monitoring worklist on the home page: what is due, late or overdue at
the user's sites, open flags and outcome assessments due. A fixed number of queries whatever
the data size: it reads the indexed state columns the sweep (workflows.draws_advance) keeps
current, counts every group in one query and reads at most ``ROWS`` draws of each group
through the (site, state, due_on) index."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q

from accounts.access import scope_to_sites
from common.paging import KeysFirstPaginator
from monitoring.models import Draw, DrawState, Flag, Milestone

# Rows shown per group on the home page; the badge gives the whole count and "See all" opens
# the group's own paged list (worklist_group_page).
ROWS = 10
GROUP_PAGE_SIZE = 25
# Open flags and assessments shown (they are few; a longer list is a sign of a backlog).
LIMIT = 50

GROUP_TITLES = {
    "overdue": "Overdue",
    "late": "Late (on-time window closed)",
    "today": "Due today",
    "week": "Due this week",
}


def _group_filters(today: date, week_end: date) -> dict[str, Q]:
    """Each open draw due by ``week_end`` falls in exactly one group. "Due today" takes a draw
    whose due date has come even if the sweep has not yet opened its window; "due this week" is
    then a due-date range the (site, state, due_on) index reads directly."""
    return {
        "overdue": Q(state=DrawState.OVERDUE),
        "late": Q(state=DrawState.LATE),
        "today": Q(state__in=[DrawState.UPCOMING, DrawState.DUE], due_on__lte=today),
        "week": Q(state__in=[DrawState.UPCOMING, DrawState.DUE], due_on__gt=today),
    }


def _open_draws(user, week_end: date):
    return scope_to_sites(Draw.objects.all(), user).filter(
        state__in=[DrawState.UPCOMING, DrawState.DUE, DrawState.LATE, DrawState.OVERDUE], due_on__lte=week_end
    )


def worklist_group_page(user, today: date, key: str, page_number):
    """One worklist group whole, a page at a time, earliest due first (KeyError: no group)."""
    q = _group_filters(today, today + timedelta(days=7))[key]
    draws = _open_draws(user, today + timedelta(days=7)).filter(q).order_by("due_on", "pk")
    paginator = KeysFirstPaginator(draws, GROUP_PAGE_SIZE, load=lambda qs: qs.select_related("case__patient", "site"))
    return paginator.get_page(page_number)


def worklist_for(user, today: date) -> dict:
    """Return the worklist groups for ``user``'s sites on ``today``.

    1. Draws: overdue, late (oldest first), due today (window open, due date reached) and due
       this week (in the next 7 days): one count query, the keys of up to ``ROWS`` draws a
       group, then those draws in one query (sorting keys, not joined rows: common.paging).
    2. Open flags, most severe first. 3. Milestone assessments whose window is open or past.
    """
    week_end = today + timedelta(days=7)
    open_draws = _open_draws(user, week_end)
    filters = _group_filters(today, week_end)
    counts = open_draws.aggregate(**{key: Count("pk", filter=q) for key, q in filters.items()})
    keys = {
        key: list(open_draws.filter(q).order_by("due_on", "pk").values_list("pk", flat=True)[:ROWS])
        for key, q in filters.items()
    }
    by_pk = open_draws.select_related("case__patient", "site").in_bulk([pk for ids in keys.values() for pk in ids])
    draw_groups = [
        {
            "key": key,
            "title": GROUP_TITLES[key],
            "draws": [by_pk[pk] for pk in ids if pk in by_pk],
            "count": counts[key],
        }
        for key, ids in keys.items()
    ]
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
        "draw_groups": draw_groups,
        "draws_open": sum(counts.values()),
        "open_flags": flags,
        "milestones_due": milestones,
        "today": today,
    }


def worklist_case_ids(worklist: dict) -> set[int]:
    """The cases a worklist names (draws, flags, milestones): each is viewed (access entries)."""
    ids = {draw.case_id for group in worklist["draw_groups"] for draw in group["draws"]}
    ids |= {flag.case_id for flag in worklist["open_flags"]}
    ids |= {milestone.case_id for milestone in worklist["milestones_due"]}
    return ids
