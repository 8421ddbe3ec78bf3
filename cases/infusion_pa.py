"""The one adapter between the infusion day and billing's prior authorizations.

Billing owns PriorAuthorization (DESIGN.md). This function is the only place the infusion day
reads it, so aligning field names at merge is a change here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class PaStatus:
    """The case's prior authorization as the infusion day needs it, for one date."""

    required: bool
    approved_and_valid: bool
    auth_number: str | None
    message: str

    @property
    def blocks(self) -> bool:
        """Return True when the payer requires PA and no approved PA covers the date."""
        return self.required and not self.approved_and_valid


def pa_status_for(case, on: date) -> PaStatus:
    """Return the PA status of ``case`` for an infusion on ``on``.

    1. PA is required when the payer requires it; with no payer recorded, it is assumed
       required (card 'PAYER POLICIES': every listed payer requires PA).
    2. Look for an approved PA whose validity covers ``on`` (billing.PriorAuthorization:
       status 'approved', auth_number, valid_from, valid_through).
    """
    payer = case.payer
    required = True if payer is None else bool(payer.pa_required)
    who = "the payer (none recorded)" if payer is None else payer.name
    from billing.models import PAStatus as BillingPAStatus
    from billing.models import PriorAuthorization

    pa = (
        PriorAuthorization.objects.filter(
            case=case, status=BillingPAStatus.APPROVED, valid_from__lte=on, valid_through__gte=on
        )
        .order_by("-valid_through", "-pk")
        .first()
    )
    if pa is not None:
        number = (pa.auth_number or "").strip() or None
        return PaStatus(
            required,
            True,
            number,
            f"PA {number or '(no number)'} approved by {who}, valid "
            f"{pa.valid_from.isoformat()} to {pa.valid_through.isoformat()}.",
        )
    if not required:
        return PaStatus(False, False, None, f"{who} does not require prior authorization.")
    return PaStatus(
        True,
        False,
        None,
        f"{who} requires prior authorization and no approved PA covering {on.isoformat()} is recorded. "
        "Billing records the approval (authorization number and validity dates).",
    )
