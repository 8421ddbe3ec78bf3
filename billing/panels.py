"""The billing panel on the case page (cases/panels.py PANELS)."""

from __future__ import annotations

from accounts.permissions import can
from billing.summary import billing_summary


def case_panel(request, case) -> tuple[str, dict]:
    """Return the billing panel's template and context for ``case`` (already site-checked)."""
    context = billing_summary(case, by=request.user)
    user = request.user
    context.update(
        can_manage=can(user, "manage_pa"),
        can_enroll=can(user, "record_enrollment"),
        can_edit_reference=can(user, "edit_reference_data"),
    )
    return "billing/_case_panel.html", context
