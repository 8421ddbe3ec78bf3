"""The billing panel on the case page (cases/panels.py PANELS)."""

from __future__ import annotations

from billing.summary import billing_summary
from common.access import has_role

MANAGE_ROLES = ("billing", "admin")  # manage prior authorizations and packets
ENROLL_ROLES = ("coordinator", "billing", "admin")  # record OneGene enrollment
REFERENCE_ROLES = ("admin",)  # edit payers, prices and support programs


def case_panel(request, case) -> tuple[str, dict]:
    """Return the billing panel's template and context for ``case`` (already site-checked)."""
    context = billing_summary(case)
    user = request.user
    context.update(
        can_manage=has_role(user, *MANAGE_ROLES),
        can_enroll=has_role(user, *ENROLL_ROLES),
        can_edit_reference=has_role(user, *REFERENCE_ROLES),
    )
    return "billing/_case_panel.html", context
