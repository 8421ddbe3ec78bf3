"""The managers' overdue-labs dashboard and its CSV export (issue 7 item 5)."""

from __future__ import annotations

import csv
import dataclasses

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from accounts.permissions import require
from cases.access import record_cases_viewed
from common.csvsafe import safe_row
from common.fragments import cached_fragment
from monitoring.reminders.dashboard import (
    Filters,
    Scope,
    csv_rows,
    dashboard_context,
)
from monitoring.reminders.forms import DashboardFilterForm
from monitoring.reminders.freshness import DASHBOARD_FRAGMENTS, DASHBOARD_TTL_SECONDS


def _filters(form: DashboardFilterForm) -> Filters:
    values = form.valid_values()
    return Filters(
        site=values["site"].pk if "site" in values else None,
        coordinator=values["coordinator"].pk if "coordinator" in values else None,
        payer=values["payer"].pk if "payer" in values else None,
        kind=values.get("kind", ""),
        min_days=values.get("min_days"),
    )


def _query(request, drop: tuple[str, ...] = ("page",)) -> str:
    params = request.GET.copy()
    for name in drop:
        params.pop(name, None)
    return params.urlencode()


@require_GET
def dashboard(request):
    require(request.user, "read_overdue_dashboard")
    scope = Scope.for_user(request.user, timezone.now())
    form = DashboardFilterForm(request.GET, site_ids=list(scope.todays))
    filters, page, full_path = _filters(form), request.GET.get("page"), request.get_full_path()
    ignored, query = form.ignored_messages(), _query(request)

    shown: dict[str, list[str]] = {}  # the cases the table names, set when the data is read

    def render_data() -> str:
        context = dashboard_context(scope, filters, page)
        ids = [draw.case_id for draw in context["page"].object_list]
        ids += [override.case_id for override in context["overrides"]["latest"]]
        shown["ids"] = [str(pk) for pk in dict.fromkeys(ids)]
        context.update(ignored=ignored, query=query, full_path=full_path, refreshed_at=timezone.now())
        # No request: no context processors, so nothing particular to this viewer is cached.
        return render_to_string("monitoring/dashboard/_data.html", context)

    def case_ids() -> str:
        if "ids" not in shown:
            render_data()
        return ",".join(shown["ids"])

    # Everything the region depends on besides the data; the data's changes renew the generation.
    parts = (sorted(scope.todays.items()), dataclasses.astuple(filters), page, full_path, ignored)
    data_html = mark_safe(cached_fragment(DASHBOARD_FRAGMENTS, parts, DASHBOARD_TTL_SECONDS, render_data))
    # The patients the table names, kept beside the fragment under the same generation, so a
    # cached table is still an audited view of each case (issue 13 item 8).
    ids = cached_fragment(DASHBOARD_FRAGMENTS, ("case-ids", *parts), DASHBOARD_TTL_SECONDS, case_ids)
    record_cases_viewed(int(pk) for pk in ids.split(",") if pk)
    if request.htmx and request.htmx.target == "dashboard-data":
        return HttpResponse(data_html)
    template = "monitoring/dashboard/dashboard.html"
    if request.htmx:
        template += "#dashboard"
    return render(request, template, {"form": form, "data_html": data_html})


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
def dashboard_csv(request):
    require(request.user, "read_overdue_dashboard")
    scope = Scope.for_user(request.user, timezone.now())
    form = DashboardFilterForm(request.GET, site_ids=list(scope.todays))
    writer = csv.writer(_Echo())
    # Reasons, names and payers are typed by people: formula characters neutralised (common.csvsafe).
    rows = (writer.writerow(safe_row(row)) for row in csv_rows(scope, _filters(form)))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="genegate-overdue-labs-{stamp}.csv"'
    return response
