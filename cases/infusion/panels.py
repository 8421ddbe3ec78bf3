"""The infusion-day panel of the case page: the record's state, overrides and amendments."""

from __future__ import annotations

from accounts.permissions import can
from cases.dosing import kit_for_weight
from cases.infusion.models import GateOverride, InfusionRecord


def case_panel(request, case) -> tuple[str, dict]:
    """Return the panel template and its context (four queries, whatever the case holds)."""
    record = (
        InfusionRecord.objects.filter(case=case)
        .select_related("signed_by")
        .prefetch_related("amendments", "pauses")
        .first()
    )
    overrides = list(GateOverride.objects.filter(case=case).order_by("at", "pk"))
    user = request.user
    return "cases/infusion/_panel.html", {
        "case": case,
        "record": record,
        "kit": kit_for_weight(record.weight_kg) if record else None,
        "amendments": list(record.amendments.all()) if record else [],
        "overrides": overrides,
        "can_open_day": can(user, "open_infusion_day"),
        "can_read_claim": can(user, "read_claim"),
    }
