"""The managers' overdue-labs dashboard: the queries, kept constant in number as data grows.

A draw past its window is exactly one of: *overdue* once the grace passed too and no snooze is
running (monitoring.schedule.draw_state; window and grace are product policy [D],
monitoring/protocol.py); else *snoozed* while someone's snooze runs (it may be past the grace:
the escalation waits for the snooze); else *late*. The summary counts and each table row use
these three, so the summary adds up to the table. Both are computed here from the dates in each site's time zone, so
the dashboard never depends on how recently stored states were advanced. The on-time rate is
draws done within their window (``days_late == 0``) over draws whose window closed in the
period (the outcome of each is then known).
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime, timedelta
from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import BooleanField, Count, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.access import sites_for
from cases.analytes import ANALYTES
from cases.models import Case, ClinicalOverride
from common.dates import local_today
from common.paging import KeysFirstPaginator
from monitoring.kinds import kind_label
from monitoring.models import Acknowledgement, Draw, ProtocolVersion, Reminder, ReminderStatus
from monitoring.reminders.models import SHORT_KIND_LABELS
from monitoring.schedule import OPEN_STATES

PAGE_SIZE = 25


@dataclasses.dataclass(frozen=True)
class Filters:
    """Validated dashboard filters (monitoring.reminders.forms.DashboardFilterForm)."""

    site: int | None = None
    coordinator: int | None = None
    payer: int | None = None
    kind: str = ""
    min_days: int | None = None


@dataclasses.dataclass
class Scope:
    """The sites a user sees, each with its local today, and the protocols' grace and window.

    Date conditions are grouped by local day (sites in US time zones share one almost always),
    and every window condition also bounds ``due_on`` (due_on <= window_closes <= due_on +
    window), so PostgreSQL can range-scan the (site, state, due_on) index.
    """

    sites: list
    todays: dict[int, date]
    graces: dict[int, int]
    max_window: int

    @classmethod
    def for_user(cls, user, now: datetime) -> Scope:
        sites = list(sites_for(user).order_by("short_code"))
        todays = {site.pk: local_today(site.timezone, now) for site in sites}
        protocols = list(ProtocolVersion.objects.values_list("pk", "grace_days", "window_days"))
        graces = {pk: grace for pk, grace, _ in protocols}
        max_window = max((window for _, _, window in protocols), default=0)
        return cls(sites=sites, todays=todays, graces=graces, max_window=max_window)

    def by_day(self) -> dict[date, list[int]]:
        groups: dict[date, list[int]] = {}
        for site_pk, today in self.todays.items():
            groups.setdefault(today, []).append(site_pk)
        return groups

    def _any(self, terms: list[Q]) -> Q:
        return reduce(or_, terms) if terms else Q(pk__in=[])

    def late_q(self, min_days: int = 1) -> Q:
        """Window closed at least ``min_days`` days ago (site-local)."""
        days = max(1, min_days)
        terms = []
        for today, site_ids in self.by_day().items():
            cut = today - timedelta(days=days)
            terms.append(Q(site_id__in=site_ids, due_on__lte=cut, window_closes__lte=cut))
        return self._any(terms)

    def overdue_q(self) -> Q:
        """Grace passed and no snooze running (draw_state step 5)."""
        terms = []
        for today, site_ids in self.by_day().items():
            for protocol_pk, grace in self.graces.items():
                terms.append(
                    Q(site_id__in=site_ids, protocol_id=protocol_pk, window_closes__lt=today - timedelta(days=grace))
                    & (Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
                )
        return self._any(terms)

    def snoozed_q(self) -> Q:
        """A snooze is running: it ends after today (never overdue, draw_state step 5)."""
        return self._any(
            [Q(site_id__in=site_ids, snoozed_until__gt=today) for today, site_ids in self.by_day().items()]
        )

    def closed_since_q(self, days: int) -> Q:
        """Window closed within the last ``days`` days (before today)."""
        terms = []
        for today, site_ids in self.by_day().items():
            start = today - timedelta(days=days)
            terms.append(
                Q(
                    site_id__in=site_ids,
                    due_on__gte=start - timedelta(days=self.max_window),
                    due_on__lt=today,
                    window_closes__gte=start,
                    window_closes__lt=today,
                )
            )
        return self._any(terms)


def _filtered(qs: QuerySet, filters: Filters) -> QuerySet:
    if filters.site:
        qs = qs.filter(site_id=filters.site)
    if filters.coordinator:
        qs = qs.filter(case__coordinator_id=filters.coordinator)
    if filters.payer:
        qs = qs.filter(case__payer_id=filters.payer)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs


def late_draws(scope: Scope, filters: Filters) -> QuerySet:
    """Open draws past their window at the user's sites, with the filters applied."""
    qs = Draw.objects.filter(site_id__in=list(scope.todays), state__in=OPEN_STATES)
    return _filtered(qs.filter(scope.late_q(filters.min_days or 1)), filters)


TABLE_ORDER = ("window_closes", "due_on", "pk")
# The table and CSV show the payer's name only; its policy text and JSON lists stay unread.
PAYER_COLUMNS_NOT_SHOWN = (
    "key_documentation",
    "documentation_checklist",
    "oba_terms",
    "allowed_pos",
    "milestone_months",
    "source",
)


def table_rows(scope: Scope, filters: Filters) -> QuerySet:
    """The table: most days late first, with the last reminder and acknowledgement."""
    return _with_details(late_draws(scope, filters), scope).order_by(*TABLE_ORDER)


def _with_details(qs: QuerySet, scope: Scope) -> QuerySet:
    """What a table row shows beyond the draw: case, patient, coordinator, payer, site, whether
    it is overdue, and the last reminder sent and acknowledgement made."""
    sent = Reminder.objects.filter(draw=OuterRef("pk"), status=ReminderStatus.SENT).order_by("-sent_at", "-pk")
    acks = Acknowledgement.objects.filter(draw=OuterRef("pk")).order_by("-created_at", "-pk")
    # How many reminders this draw, as scheduled now, has had (escalation repeats included).
    sent_count = (
        Reminder.objects.filter(draw=OuterRef("pk"), due_on=OuterRef("due_on"), status=ReminderStatus.SENT)
        .order_by()
        .values("draw")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        qs.select_related("case__patient", "case__coordinator", "case__payer", "site")
        .defer(*(f"case__payer__{name}" for name in PAYER_COLUMNS_NOT_SHOWN))
        .annotate(
            is_overdue=ExpressionWrapper(scope.overdue_q(), output_field=BooleanField()),
            last_reminder_at=Subquery(sent.values("sent_at")[:1]),
            last_reminder_kind=Subquery(sent.values("kind")[:1]),
            reminders_sent=Coalesce(Subquery(sent_count), 0),
            ack_reason=Subquery(acks.values("reason")[:1]),
            ack_at=Subquery(acks.values("created_at")[:1]),
            ack_snoozed_until=Subquery(acks.values("snoozed_until")[:1]),
        )
    )


# A row's status (describe_row) and the summary's columns.
STATUSES = ("late", "snoozed", "overdue")


def late_counts(scope: Scope, filters: Filters) -> tuple[list[dict], list[dict]]:
    """Late, snoozed and overdue draws per site and per coordinator (most overdue first), from
    one query grouped by both; the three are the table rows' statuses (describe_row).

    The case's coordinator is read by a correlated lookup on the case's primary key for each
    late draw, not by joining the cases table: PostgreSQL misjudges how few open draws are
    past their window (state and dates are correlated) and would hash the whole table."""
    overdue, snoozed = scope.overdue_q(), scope.snoozed_q()
    coordinator = Subquery(Case.objects.filter(pk=OuterRef("case_id")).order_by().values("coordinator_id")[:1])
    rows = list(
        late_draws(scope, filters)
        .order_by()
        .annotate(coordinator_id=coordinator)
        .values("site_id", "coordinator_id")
        .annotate(
            late=Count("pk", filter=~overdue & ~snoozed),
            snoozed=Count("pk", filter=~overdue & snoozed),
            overdue=Count("pk", filter=overdue),
        )
    )
    sites: dict[int, dict] = {}
    coordinators: dict[int | None, dict] = {}
    for row in rows:
        for key, totals in ((row["site_id"], sites), (row["coordinator_id"], coordinators)):
            entry = totals.setdefault(key, dict.fromkeys(STATUSES, 0))
            for status in STATUSES:
                entry[status] += row[status]
    by_site = [
        {"site": site, **sites.get(site.pk, dict.fromkeys(STATUSES, 0))}
        for site in scope.sites
        if not filters.site or site.pk == filters.site
    ]
    users = get_user_model().objects.in_bulk([pk for pk in coordinators if pk])
    by_coordinator = []
    for pk, counts in coordinators.items():
        user = users.get(pk)
        by_coordinator.append(
            {
                "id": pk,
                "name": (user.get_full_name() or user.username) if user else "No coordinator assigned",
                "last_name": user.last_name if user else "",
                **counts,
            }
        )
    by_coordinator.sort(key=lambda r: (-r["overdue"], -sum(r[s] for s in STATUSES), r["last_name"]))
    return by_site, by_coordinator


RATES_CACHE_SECONDS = 600


def on_time_rates(scope: Scope, filters: Filters) -> list[dict]:
    """Per site: draws done within their window / draws whose window closed, last 30 and 90 days.

    The 90-day count reads every draw of the period, and the figures move only as draws are
    completed, so they are cached for 10 minutes per (sites, day, filters)."""
    key = (
        "gg:ontime:"
        + hashlib.sha256(repr((sorted(scope.todays.items()), dataclasses.astuple(filters))).encode()).hexdigest()
    )
    counts = cache.get(key)
    if counts is None:
        counts = _on_time_counts(scope, filters)
        cache.set(key, counts, RATES_CACHE_SECONDS)
    return _rates_from(scope, filters, counts)


def _on_time_counts(scope: Scope, filters: Filters) -> dict[int, dict]:
    in_30, in_90 = scope.closed_since_q(30), scope.closed_since_q(90)
    on_time = Q(state="done", days_late=0)
    # An unscheduled result was never due: it counts neither way.
    qs = _filtered(Draw.objects.filter(site_id__in=list(scope.todays), unscheduled=False).filter(in_90), filters)
    rows = (
        qs.order_by()
        .values("site_id")
        .annotate(
            due_30=Count("pk", filter=in_30),
            ok_30=Count("pk", filter=in_30 & on_time),
            due_90=Count("pk"),
            ok_90=Count("pk", filter=on_time),
        )
    )
    return {row["site_id"]: row for row in rows}


def _rates_from(scope: Scope, filters: Filters, by_site: dict[int, dict]) -> list[dict]:
    def pct(ok: int, due: int) -> int | None:
        return round(100 * ok / due) if due else None

    out = []
    for site in scope.sites:
        if filters.site and site.pk != filters.site:
            continue
        row = by_site.get(site.pk, {"due_30": 0, "ok_30": 0, "due_90": 0, "ok_90": 0})
        out.append(
            {
                "site": site,
                "rate_30": pct(row["ok_30"], row["due_30"]),
                "due_30": row["due_30"],
                "ok_30": row["ok_30"],
                "rate_90": pct(row["ok_90"], row["due_90"]),
                "due_90": row["due_90"],
                "ok_90": row["ok_90"],
            }
        )
    return out


def describe_row(draw: Draw, scope: Scope) -> dict:
    """Display values for one table row (no queries: everything came with the row)."""
    today = scope.todays[draw.site_id]
    snoozed = draw.snoozed_until is not None and draw.snoozed_until > today
    if draw.is_overdue:
        status = "overdue"
    elif snoozed:
        status = "snoozed"
    else:
        status = "late"
    return {
        "draw": draw,
        "kind_label": kind_label(draw.kind),
        "analytes": ", ".join(ANALYTES[a].label if a in ANALYTES else a for a in draw.analytes)
        if draw.analytes
        else ("exam and labs" if draw.kind == "steroid_review" else ""),
        "days_late": (today - draw.window_closes).days,
        "status": status,
        "snoozed_until": draw.snoozed_until if snoozed else None,
        "last_reminder": SHORT_KIND_LABELS.get(draw.last_reminder_kind, "") if draw.last_reminder_kind else "",
    }


# The physicians' overrides (issue 15 item 2) counted over this many days, and the newest listed.
OVERRIDE_DAYS = 90
OVERRIDES_LISTED = 10
OVERRIDE_KINDS = tuple(ClinicalOverride.Kind)


def overrides_shown(scope: Scope, filters: Filters, now: datetime) -> dict:
    """Decisions against the rules at the user's sites in the last OVERRIDE_DAYS days: counts per
    site and kind (one grouped query) and the newest few (one query). Voided overrides (their
    acknowledgement or decision was voided or corrected) are not counted."""
    qs = ClinicalOverride.objects.filter(
        site_id__in=list(scope.todays), at__gte=now - timedelta(days=OVERRIDE_DAYS), voided_at__isnull=True
    )
    if filters.site:
        qs = qs.filter(site_id=filters.site)
    if filters.coordinator:
        qs = qs.filter(case__coordinator_id=filters.coordinator)
    if filters.payer:
        qs = qs.filter(case__payer_id=filters.payer)
    counts: dict[int, dict[str, int]] = {}
    for row in qs.order_by().values("site_id", "kind").annotate(n=Count("pk")):
        counts.setdefault(row["site_id"], {})[row["kind"]] = row["n"]
    by_site = []
    for site in scope.sites:
        if filters.site and site.pk != filters.site:
            continue
        per_kind = [counts.get(site.pk, {}).get(kind.value, 0) for kind in OVERRIDE_KINDS]
        by_site.append({"site": site, "counts": per_kind, "total": sum(per_kind)})
    latest = list(qs.select_related("case__patient", "site").order_by("-at", "-pk")[:OVERRIDES_LISTED])
    return {
        "days": OVERRIDE_DAYS,
        "kinds": [kind.label for kind in OVERRIDE_KINDS],
        "by_site": by_site,
        "totals": [sum(row["counts"][i] for row in by_site) for i in range(len(OVERRIDE_KINDS))],
        "total": sum(row["total"] for row in by_site),
        "latest": latest,
    }


def dashboard_context(scope: Scope, filters: Filters, page_number, now: datetime | None = None) -> dict:
    """Everything the dashboard shows, in a fixed number of queries whatever the data size."""
    by_site, by_coordinator = late_counts(scope, filters)
    paginator = KeysFirstPaginator(
        late_draws(scope, filters).order_by(*TABLE_ORDER), PAGE_SIZE, load=lambda qs: _with_details(qs, scope)
    )
    # The same draws the site counts grouped: their sum is the table's length (no COUNT query).
    paginator.count = sum(row[status] for row in by_site for status in STATUSES)
    page = paginator.get_page(page_number)
    return {
        "page": page,
        "rows": [describe_row(draw, scope) for draw in page.object_list],
        "by_site": _with_rates(by_site, on_time_rates(scope, filters)),
        "by_coordinator": by_coordinator,
        "overrides": overrides_shown(scope, filters, now or timezone.now()),
    }


def _with_rates(by_site: list[dict], rates: list[dict]) -> list[dict]:
    rate_of = {rate["site"].pk: rate for rate in rates}
    return [{**row, "rate": rate_of.get(row["site"].pk)} for row in by_site]


CSV_HEADER = [
    "case",
    "initials",
    "site",
    "coordinator",
    "payer",
    "draw",
    "day",
    "analytes",
    "due_on",
    "window_closes",
    "days_late",
    "status",
    "last_reminder",
    "last_reminder_at_utc",
    "reminders_sent",
    "acknowledgement",
    "snoozed_until",
]


def csv_rows(scope: Scope, filters: Filters):
    """Yield the CSV header and one row per late draw (initials only, no names)."""
    yield CSV_HEADER
    for draw in table_rows(scope, filters).iterator(chunk_size=2000):
        row = describe_row(draw, scope)
        coordinator = draw.case.coordinator
        yield [
            draw.case_id,
            draw.case.patient.initials,
            draw.site.short_code,
            (coordinator.get_full_name() or coordinator.username) if coordinator else "",
            draw.case.payer.name if draw.case.payer else "",
            row["kind_label"],
            draw.day,
            row["analytes"],
            draw.due_on.isoformat(),
            draw.window_closes.isoformat(),
            row["days_late"],
            row["status"],
            row["last_reminder"],
            draw.last_reminder_at.astimezone(UTC).isoformat() if draw.last_reminder_at else "",
            draw.reminders_sent,
            draw.ack_reason or "",
            draw.ack_snoozed_until.isoformat() if draw.ack_snoozed_until else "",
        ]
