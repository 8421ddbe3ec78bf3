"""The billing desk: billing's home page, a worklist of what the billing office acts on next.

Sections (issue 17 item 7): prior authorizations ready to submit, requests awaiting the payer's
decision (with the decision due time: 72 hours / 7 calendar days for payers impacted by
CMS-0057-F, the payer's own setting otherwise, and a plain "No decision time set" when there is
none), pended requests with what the payer asked for, denials with their specific reason and
appeal deadline, approvals ending before the planned infusion, and stored claims the scrubber
found errors on. Counts per site; filters in the query string (site, section, payer, overdue).

Every query starts from the user's sites (cases.access.cases_for); the page reads a constant
number of queries however many cases there are; every patient named is recorded as viewed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import F, OuterRef, Prefetch, Subquery
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import sites_for
from accounts.permissions import can, require
from billing.denials import DENIAL_CHOICES
from billing.models import Claim, PAEvent, PAPacket, PAStatus, Payer, PriorAuthorization
from cases.access import cases_for, record_cases_viewed
from cases.models import Stage
from common.params import int_param
from common.wording import day_text, moment_text, plain

READY, AWAITING, PENDED, DENIED, EXPIRING, CLAIMS = "ready", "awaiting", "pended", "denied", "expiring", "claims"
SECTIONS: tuple[tuple[str, str], ...] = (
    (READY, "Ready to submit"),
    (AWAITING, "Awaiting the payer's decision"),
    (PENDED, "Pended: the payer asks for more"),
    (DENIED, "Denied"),
    (EXPIRING, "Approvals ending before the planned infusion"),
    (CLAIMS, "Claims with scrubber errors"),
)
SECTION_TITLES = dict(SECTIONS)
# The PA statuses each decision section lists; the events that start a decision clock.
CLOCK_STARTS = (PAStatus.SUBMITTED, PAStatus.APPEALED)
DECISION_STATUSES = (PAStatus.SUBMITTED, PAStatus.APPEALED, PAStatus.PENDED, PAStatus.DENIED)
# A case past these stages has been infused: an approval's end no longer matters to the infusion.
INFUSED_STAGES = (Stage.INFUSED, Stage.MONITORING, Stage.FOLLOW_UP, Stage.CLOSED)
DENIAL_LABELS = dict(DENIAL_CHOICES)
SHOWN_MAX = 20  # characters of a refused filter value repeated back to the user


@dataclass(frozen=True)
class DeskFilters:
    """The desk's filters, validated: None means "all"; ``problems`` says what was ignored."""

    site_id: int | None = None
    section: str | None = None
    payer_id: int | None = None
    overdue: bool = False
    problems: tuple[str, ...] = ()

    def shows(self, section: str) -> bool:
        if self.overdue and section != AWAITING:
            return False
        return self.section in (None, section)


def _shown(raw: str) -> str:
    text = " ".join(raw.split())
    return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "…"


def desk_filters(query, *, site_ids: set[int], payer_ids: set[int]) -> DeskFilters:
    """Read the filters from ``query`` (a QueryDict). A value that is not one of the choices is
    ignored with a message, never an error page: a bookmarked link may name a site the user
    left or a payer since renamed."""
    problems = []
    raw_site = query.get("site", "").strip()
    site_id = int_param(raw_site)
    if raw_site and site_id not in site_ids:
        problems.append(f"“{_shown(raw_site)}” is not one of your sites: showing all your sites.")
        site_id = None
    raw_section = query.get("section", "").strip()
    section = raw_section if raw_section in SECTION_TITLES else None
    if raw_section and section is None:
        problems.append(f"There is no section “{_shown(raw_section)}”: showing every section.")
    raw_payer = query.get("payer", "").strip()
    payer_id = int_param(raw_payer)
    if raw_payer and payer_id not in payer_ids:
        problems.append(f"“{_shown(raw_payer)}” is not a payer on file: showing every payer.")
        payer_id = None
    raw_overdue = query.get("overdue", "").strip()
    overdue = raw_overdue == "1"
    if raw_overdue and raw_overdue not in ("0", "1"):
        problems.append(f"“{_shown(raw_overdue)}” is not a choice for overdue only: showing every decision.")
    if overdue and section not in (None, AWAITING):
        problems.append(f"Overdue decisions only lists requests awaiting a decision, not “{SECTION_TITLES[section]}”.")
        section = AWAITING
    return DeskFilters(site_id, section, payer_id, overdue, tuple(problems))


@dataclass
class DeskRow:
    """One line of a desk section: the case and what the billing office needs to act on it."""

    section: str
    case: object
    pa: PriorAuthorization | None = None
    claim: Claim | None = None
    payer: Payer | None = None
    # Decision clock (awaiting, pended)
    received: str = ""
    due_text: str = ""
    due_words: str = ""
    overdue: bool = False
    due_at: datetime | None = None
    no_clock: str = ""  # "No decision time set for Aetna"
    clock_kind: str = ""
    # Pended / denied
    since: str = ""
    asked: str = ""
    reason: str = ""
    payer_words: str = ""
    appeal_deadline: str = ""
    appeal_words: str = ""
    appeal_passed: bool = False
    no_appeal_window: str = ""
    # Expiring approvals
    valid_through: str = ""
    planned: str = ""
    gap_words: str = ""
    # Claims
    errors: list[str] = field(default_factory=list)
    packet_version: int | None = None

    @property
    def site(self):
        return self.case.site


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def span_words(delta: timedelta) -> str:
    """A duration in words, to the hour: "2 days 3 hours", "5 hours", "less than an hour"."""
    hours = int(delta.total_seconds() // 3600)
    if hours <= 0:
        return "less than an hour"
    days, hours = divmod(hours, 24)
    parts = [_plural(days, "day")] if days else []
    if hours:
        parts.append(_plural(hours, "hour"))
    return " ".join(parts)


def days_words(days: int) -> str:
    if days == 0:
        return "today"
    if days > 0:
        return f"{_plural(days, 'day')} left"
    return f"passed {_plural(-days, 'day')} ago"


def _clock(row: DeskRow, pa: PriorAuthorization, events: list[PAEvent], now: datetime) -> None:
    """Fill the row's decision clock from the latest event that started it (else the submission day)."""
    start = next((e for e in events if e.to_status in CLOCK_STARTS), None)
    received = start.at if start else pa.submitted_on
    zone = _zone(pa.case.site.timezone)
    row.clock_kind = "Expedited" if pa.expedited else "Standard"
    if received is None:
        row.no_clock = "No submission date recorded"
        return
    row.received = moment_text(received, zone) if isinstance(received, datetime) else day_text(received)
    if pa.payer is None:
        row.no_clock = "No payer recorded on this request"
        return
    due = pa.decision_due_from(received)
    if due is None:
        row.no_clock = f"No decision time set for {pa.payer.name}"
        return
    row.due_at = due
    row.due_text = moment_text(due, zone)
    row.overdue = due < now
    row.due_words = f"Overdue by {span_words(now - due)}" if row.overdue else f"Due in {span_words(due - now)}"


def _reason(row: DeskRow, pa: PriorAuthorization, event: PAEvent | None) -> None:
    slug = pa.denial_reason or (event.denial_reason if event else "")
    row.reason = DENIAL_LABELS.get(slug, "")
    row.payer_words = event.note.strip() if event and event.note else ""
    if not row.reason and not row.payer_words:
        row.reason = "No reason recorded: ask the payer for its specific reason for the denial"


def _appeal(row: DeskRow, pa: PriorAuthorization, event: PAEvent | None, today: date) -> None:
    denied_on = event.on if event else None
    row.since = day_text(denied_on) if denied_on else ""
    window = pa.payer.appeal_window_days if pa.payer else None
    if denied_on is None or window is None:
        name = pa.payer.name if pa.payer else "this request's payer"
        row.no_appeal_window = f"No appeal window set for {name}" if denied_on else "No denial date recorded"
        return
    deadline = denied_on + timedelta(days=window)
    left = (deadline - today).days
    row.appeal_deadline = day_text(deadline)
    row.appeal_words = days_words(left)
    row.appeal_passed = left < 0


def _pa_base(cases, filters: DeskFilters):
    qs = PriorAuthorization.objects.filter(case__in=cases).select_related("case__patient", "case__site", "payer")
    if filters.payer_id is not None:
        qs = qs.filter(payer_id=filters.payer_id)
    return qs


def desk_rows(user, filters: DeskFilters, *, today: date, now: datetime) -> list[DeskRow]:
    """Every row of every section for ``user``'s sites (payer filter applied; the site, section
    and overdue filters are applied by the caller, so the per-site counts see every site).
    Four queries whatever the number of cases."""
    cases = cases_for(user).values("pk")
    rows: list[DeskRow] = []

    # 1. Ready to submit: a draft whose newest packet is final (a final packet passed the gate and
    #    carries the signed letter, billing.packet.final_blockers).
    newest = PAPacket.objects.filter(case=OuterRef("case")).order_by("-version")
    ready = (
        _pa_base(cases, filters)
        .filter(status=PAStatus.DRAFT)
        .annotate(
            newest_final=Subquery(newest.values("final")[:1]), newest_version=Subquery(newest.values("version")[:1])
        )
        .filter(newest_final=True)
        .order_by("case__planned_infusion_date", "pk")
    )
    for pa in ready:
        rows.append(DeskRow(READY, pa.case, pa=pa, payer=pa.payer, packet_version=pa.newest_version))

    # 2. Awaiting a decision, pended, denied: one query and its events.
    events = PAEvent.objects.filter(to_status__in=DECISION_STATUSES).order_by("-at", "-pk")
    decisions = (
        _pa_base(cases, filters)
        .filter(status__in=DECISION_STATUSES)
        .prefetch_related(Prefetch("events", queryset=events, to_attr="desk_events"))
        .order_by("pk")
    )
    for pa in decisions:
        section = {PAStatus.PENDED: PENDED, PAStatus.DENIED: DENIED}.get(pa.status, AWAITING)
        row = DeskRow(section, pa.case, pa=pa, payer=pa.payer)
        latest = next((e for e in pa.desk_events if e.to_status == pa.status), None)
        if section in (AWAITING, PENDED):
            _clock(row, pa, pa.desk_events, now)
        if section == PENDED:
            row.since = day_text(latest.on) if latest else ""
            row.asked = (latest.note.strip() if latest else "") or "The payer's request is not recorded: call the payer"
        elif section == DENIED:
            _reason(row, pa, latest)
            _appeal(row, pa, latest, today)
        rows.append(row)

    # 3. Approvals that end before the planned infusion (not infused yet).
    expiring = (
        _pa_base(cases, filters)
        .filter(status=PAStatus.APPROVED, valid_through__lt=F("case__planned_infusion_date"))
        .exclude(case__stage__in=INFUSED_STAGES)
        .order_by("valid_through", "pk")
    )
    for pa in expiring:
        gap = (pa.case.planned_infusion_date - pa.valid_through).days
        rows.append(
            DeskRow(
                EXPIRING,
                pa.case,
                pa=pa,
                payer=pa.payer,
                valid_through=day_text(pa.valid_through),
                planned=day_text(pa.case.planned_infusion_date),
                gap_words=f"ends {_plural(gap, 'day')} before the infusion",
            )
        )

    # 4. The newest stored claim version of each case, when the scrubber found an error on it.
    newest_claim = Claim.objects.filter(case=OuterRef("case")).order_by("-version").values("version")[:1]
    claims = (
        Claim.objects.filter(case__in=cases)
        .annotate(newest=Subquery(newest_claim))
        .filter(version=F("newest"), data__findings__contains=[{"severity": "error"}])
        .select_related("case__patient", "case__site", "case__payer")
        .order_by("built_at", "pk")
    )
    if filters.payer_id is not None:
        claims = claims.filter(case__payer_id=filters.payer_id)
    for claim in claims:
        errors = [
            plain(f.get("message", "")) for f in (claim.data or {}).get("findings", []) if f.get("severity") == "error"
        ]
        rows.append(DeskRow(CLAIMS, claim.case, claim=claim, payer=claim.case.payer, errors=errors))
    return rows


@dataclass
class Section:
    key: str
    title: str
    rows: list[DeskRow]
    total: int  # at the shown sites, before the overdue filter

    @property
    def count(self) -> int:
        return len(self.rows)


def desk_context(user, query, *, today: date | None = None, now: datetime | None = None) -> dict:
    """Everything the desk page shows, for ``user`` and the query string ``query``."""
    now = now or timezone.now()
    today = today or timezone.localdate()
    sites = list(sites_for(user).order_by("name"))
    payers = list(Payer.objects.only("pk", "name").order_by("name"))
    filters = desk_filters(query, site_ids={s.pk for s in sites}, payer_ids={p.pk for p in payers})
    rows = desk_rows(user, filters, today=today, now=now)

    counts = {site.pk: dict.fromkeys(SECTION_TITLES, 0) for site in sites}
    overdue_counts = dict.fromkeys((site.pk for site in sites), 0)
    for row in rows:
        if row.case.site_id in counts:
            counts[row.case.site_id][row.section] += 1
            overdue_counts[row.case.site_id] += row.section == AWAITING and row.overdue
    site_counts = [
        {
            "site": site,
            "counts": [(title, counts[site.pk][key]) for key, title in SECTIONS],
            "overdue": overdue_counts[site.pk],
        }
        for site in sites
    ]

    at_site = [r for r in rows if filters.site_id is None or r.case.site_id == filters.site_id]
    sections = []
    for key, title in SECTIONS:
        if not filters.shows(key):
            continue
        in_section = [r for r in at_site if r.section == key]
        shown = [r for r in in_section if r.overdue] if filters.overdue else in_section
        if key == AWAITING:
            # Soonest due first (the overdue ones lead); requests without a clock after those with one.
            shown.sort(key=lambda r: (r.due_at is None, r.due_at or now, r.pa.pk))
        sections.append(Section(key, title, shown, len(in_section)))
    record_cases_viewed({r.case.pk for s in sections for r in s.rows})
    return {
        "filters": filters,
        "sites": sites,
        "payers": payers,
        "sections": sections,
        "section_choices": SECTIONS,
        "site_counts": site_counts,
        "filtered": any((filters.site_id, filters.section, filters.payer_id, filters.overdue)),
        "can_edit_payers": can(user, "edit_reference_data"),
        "now_text": moment_text(now),
    }


@require_GET
def desk(request):
    """The billing desk (also billing users' home page, registered in BillingConfig.ready())."""
    require(request.user, "read_billing_desk")
    return render(request, "billing/desk.html", desk_context(request.user, request.GET))
