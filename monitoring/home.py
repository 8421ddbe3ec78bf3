"""The signed-in home page: the user's sites, their recently updated cases and the coordinator's
worklist of draws (monitoring.worklist)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import sites_for
from cases.access import cases_for, record_cases_viewed
from monitoring.worklist import worklist_case_ids, worklist_for


@require_GET
def home(request):
    cases = cases_for(request.user)
    recent = list(cases.select_related("patient", "site").order_by("-updated_at")[:10])
    worklist = worklist_for(request.user, timezone.localdate())
    # Every patient named on the page is a view of that case (issue 13 item 8).
    record_cases_viewed({case.pk for case in recent} | worklist_case_ids(worklist))
    context = {"sites": list(sites_for(request.user)), "recent_cases": recent, "monitoring": worklist}
    return render(request, "home.html", context)
