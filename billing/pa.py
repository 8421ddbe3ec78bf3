"""Prior authorization workflows: start one for a case, and move it through its status machine.

The rules (which moves are allowed, where the case pipeline goes) are in billing/pa_rules.py;
this module applies them to the database, records each move as a PAEvent and moves the case
pipeline with cases.pipeline.case_advance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from billing import pa_rules
from billing.models import PAEvent, PAStatus, PriorAuthorization
from cases.models import Case
from cases.pipeline import ORDER, TransitionError, case_advance


def pa_start(*, case: Case, by, on: date | None = None, at=None) -> tuple[PriorAuthorization, bool]:
    """Return the case's prior authorization, creating a draft for the case's payer if none.

    The second value is True when it was created now (a draft event is recorded).
    """
    with transaction.atomic():
        pa, created = PriorAuthorization.objects.get_or_create(
            case=case, defaults={"payer": case.payer, "created_by": by}
        )
        if created:
            PAEvent.objects.create(
                prior_authorization=pa,
                from_status="",
                to_status=PAStatus.DRAFT,
                on=on or timezone.localdate(),
                at=at or timezone.now(),
                by=by,
            )
    return pa, created


@dataclass(frozen=True)
class TransitionResult:
    pa: PriorAuthorization
    event: PAEvent
    pipeline_moved_to: str | None
    pipeline_message: str | None


def pa_transition(
    *,
    pa: PriorAuthorization,
    to: str,
    by,
    on: date,
    expected_status: str | None = None,
    note: str = "",
    denial_reason: str = "",
    reference_number: str = "",
    auth_number: str = "",
    valid_from: date | None = None,
    valid_through: date | None = None,
    approved_units: int | None = None,
    at=None,
) -> TransitionResult:
    """Move ``pa`` to ``to`` on day ``on`` by ``by``; record the event; move the case pipeline.

    1. Lock the PA row. If ``expected_status`` is given and differs (someone else moved it
       meanwhile), refuse. Refuse a move the status machine does not allow (PATransitionError).
    2. Store what the move carries: submission date and reference (submitted), authorization
       number, units and window (approved), denial reason (denied). Submitted and appealed start
       the CMS-0057-F decision clock (pa_rules.decision_due).
    3. Record a PAEvent (from, to, day, when, who, note, denial reason).
    4. Move the case pipeline (pa_rules.pipeline_target). A pipeline refusal (TransitionError)
       does not undo the PA change, which is the payer's decision: it is reported back.
    """
    with transaction.atomic():
        locked = (
            PriorAuthorization.objects.select_for_update(of=("self",))
            .select_related("payer", "case__site")
            .get(pk=pa.pk)
        )
        if expected_status is not None and locked.status != expected_status:
            raise pa_rules.PATransitionError(
                f"This prior authorization changed to {locked.get_status_display().lower()} meanwhile; "
                "reload the page and check before changing it."
            )
        pa_rules.check_transition(locked.status, to)
        from_status = locked.status
        locked.status = to
        if to in (PAStatus.SUBMITTED, PAStatus.APPEALED):
            # The decision clock (CMS-0057-F for impacted payers, else the payer's own setting) runs
            # from the payer's receipt of the request; None when the payer has no decision time set.
            locked.decision_due_at = locked.decision_due_from(at or timezone.now())
        if to == PAStatus.SUBMITTED:
            locked.submitted_on = on
            if reference_number:
                locked.reference_number = reference_number
        elif to == PAStatus.APPROVED:
            locked.auth_number = auth_number or locked.auth_number
            locked.approved_units = approved_units or 1
            locked.valid_from = valid_from
            locked.valid_through = valid_through
            locked.denial_reason = ""
        elif to == PAStatus.DENIED:
            locked.denial_reason = denial_reason
        if reference_number and to != PAStatus.SUBMITTED and not locked.reference_number:
            locked.reference_number = reference_number
        locked.save()
        event = PAEvent.objects.create(
            prior_authorization=locked,
            from_status=from_status,
            to_status=to,
            on=on,
            at=at or timezone.now(),
            by=by,
            note=note,
            denial_reason=denial_reason if to == PAStatus.DENIED else "",
        )
    moved_to, message = _move_pipeline(locked, to, by, at)
    for field in ("status", "submitted_on", "reference_number", "auth_number", "approved_units", "decision_due_at"):
        setattr(pa, field, getattr(locked, field))
    pa.valid_from, pa.valid_through, pa.denial_reason = locked.valid_from, locked.valid_through, locked.denial_reason
    return TransitionResult(locked, event, moved_to, message)


def _move_pipeline(pa: PriorAuthorization, status: str, by, at) -> tuple[str | None, str | None]:
    case = pa.case
    target = pa_rules.pipeline_target(status, [str(s) for s in ORDER], case.stage)
    if target is None:
        return None, None
    try:
        with transaction.atomic():
            moved = case_advance(case=case, to=target, by=by, note=f"Prior authorization {status}", at=at)
    except TransitionError as exc:
        return None, f"The prior authorization was saved, but the case stage did not change: {exc}"
    return (target if moved else None), None
