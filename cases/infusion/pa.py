"""The one adapter between the infusion day and billing's prior authorization.

Billing owns PriorAuthorization (docs/architecture.md) and sits above cases, so this module
never imports it: it reaches the model through the case's reverse one-to-one relation
``prior_authorization`` and asks the record ``covers(day)``. This is the only place the infusion day reads a PA.
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
    2. The case's PA counts when it is approved and its validity covers ``on``.
    """
    payer = case.payer
    required = True if payer is None else bool(payer.pa_required)
    who = "the payer (none recorded)" if payer is None else payer.name
    # billing.PriorAuthorization, reached through the relation (one per case). Read afresh, not
    # from the case's cached accessor: the PA may have changed since the case was loaded.
    authorizations = case._meta.get_field("prior_authorization").related_model.objects
    pa = authorizations.filter(case=case).first()
    if pa is not None and not pa.covers(on):
        pa = None
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
