"""The signed-in home page: the user's sites, their recently updated cases and the coordinator's
worklist of draws (monitoring.worklist); or the home page an app above registered for the
user's role (billing's desk for billing staff)."""

from __future__ import annotations

from collections.abc import Callable

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import sites_for
from accounts.permissions import can
from cases.access import cases_for, record_cases_viewed
from monitoring.worklist import worklist_case_ids, worklist_for

# Home pages of apps above monitoring (billing's desk): each registers, from its AppConfig.ready(),
# the permission action (accounts.permissions) whose holders land on it, so this module never
# imports the app. The first registered action the user holds wins; else the worklist below.
HomeView = Callable[..., object]
_HOMES: dict[str, HomeView] = {}


def register_home(action: str, view: HomeView) -> None:
    """Make ``view`` the home page of the users who may take ``action``."""
    _HOMES[action] = view


@require_GET
def home(request):
    for action, view in _HOMES.items():
        if can(request.user, action):
            return view(request)
    cases = cases_for(request.user)
    recent = list(cases.select_related("patient", "site").order_by("-updated_at")[:10])
    worklist = worklist_for(request.user, timezone.localdate())
    # Every patient named on the page is a view of that case (issue 13 item 8).
    record_cases_viewed({case.pk for case in recent} | worklist_case_ids(worklist))
    context = {"sites": list(sites_for(request.user)), "recent_cases": recent, "monitoring": worklist}
    return render(request, "home.html", context)
