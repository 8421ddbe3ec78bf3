"""The signed-in home page: the user's sites, their recently updated cases and the coordinator's
worklist of draws (monitoring.worklist)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import sites_for
from cases.access import cases_for
from monitoring.worklist import worklist_for


@require_GET
def home(request):
    cases = cases_for(request.user)
    context = {
        "sites": list(sites_for(request.user)),
        "recent_cases": list(cases.select_related("patient", "site").order_by("-updated_at")[:10]),
        "monitoring": worklist_for(request.user, timezone.localdate()),
    }
    return render(request, "home.html", context)
