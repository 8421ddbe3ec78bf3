"""The infusion-day panel of the case page: the record's state, overrides and amendments."""

from __future__ import annotations

from cases.dosing import kit_for_weight
from cases.models_infusion import GateOverride, InfusionRecord
from common.access import has_role


def case_panel(request, case) -> tuple[str, dict]:
    """Return the panel template and its context (three queries, whatever the case holds)."""
    record = InfusionRecord.objects.filter(case=case).select_related("signed_by").prefetch_related("amendments").first()
    overrides = list(GateOverride.objects.filter(case=case).order_by("at", "pk"))
    user = request.user
    return "cases/infusion/_panel.html", {
        "case": case,
        "record": record,
        "kit": kit_for_weight(record.weight_kg) if record else None,
        "amendments": list(record.amendments.all()) if record else [],
        "overrides": overrides,
        "can_open_day": has_role(user, "coordinator", "physician", "manager", "admin"),
        "can_read_claim": has_role(user, "coordinator", "physician", "billing", "manager", "admin"),
    }
