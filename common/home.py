"""What the home page shows; each app adds its part of the worklist here."""

from __future__ import annotations

from django.utils import timezone


def home_context(request) -> dict:
    from common.access import cases_for
    from monitoring.worklist import worklist_for

    cases = cases_for(request.user)
    return {
        "recent_cases": list(cases.select_related("patient", "site").order_by("-updated_at")[:10]),
        "monitoring": worklist_for(request.user, timezone.localdate()),
    }
