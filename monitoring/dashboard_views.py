"""The managers' overdue-labs dashboard and its CSV export (issue 7 item 5)."""

from __future__ import annotations

import csv

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from common.access import require_role
from monitoring.dashboard import Filters, Scope, csv_rows, dashboard_context
from monitoring.forms_reminders import DashboardFilterForm

MANAGERS = ("manager", "admin")


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
    require_role(request.user, *MANAGERS)
    scope = Scope.for_user(request.user, timezone.now())
    form = DashboardFilterForm(request.GET, site_ids=list(scope.todays))
    context = dashboard_context(scope, _filters(form), request.GET.get("page"))
    context.update(form=form, ignored=form.ignored_messages(), query=_query(request), refreshed_at=timezone.now())
    template = "monitoring/dashboard/dashboard.html"
    if request.htmx:
        template += "#data" if request.htmx.target == "dashboard-data" else "#dashboard"
    return render(request, template, context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
def dashboard_csv(request):
    require_role(request.user, *MANAGERS)
    scope = Scope.for_user(request.user, timezone.now())
    form = DashboardFilterForm(request.GET, site_ids=list(scope.todays))
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in csv_rows(scope, _filters(form)))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="genegate-overdue-labs-{stamp}.csv"'
    return response
