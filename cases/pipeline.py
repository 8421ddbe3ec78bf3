"""The case pipeline state machine (DESIGN.md), in one place; every transition is recorded.

intake → gating → pa_submitted → pa_approved → scheduled → infused → monitoring → follow_up → closed
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cases.models import Case, Stage, StageEvent

ORDER = [
    Stage.INTAKE,
    Stage.GATING,
    Stage.PA_SUBMITTED,
    Stage.PA_APPROVED,
    Stage.SCHEDULED,
    Stage.INFUSED,
    Stage.MONITORING,
    Stage.FOLLOW_UP,
    Stage.CLOSED,
]

# Allowed moves: forward to any later stage (a payer without PA skips the PA stages), and the
# few real steps back: a denied or withdrawn PA returns the case to gating; a cancelled infusion
# date returns a scheduled case to PA approved.
BACKWARD = {
    (Stage.PA_SUBMITTED, Stage.GATING),
    (Stage.PA_APPROVED, Stage.GATING),
    (Stage.SCHEDULED, Stage.PA_APPROVED),
    (Stage.SCHEDULED, Stage.GATING),
}


class TransitionError(ValueError):
    pass


def can_move(current: str, to: str) -> bool:
    """True when the pipeline allows ``current`` → ``to``."""
    if current == to:
        return False
    if (current, to) in BACKWARD:
        return True
    return ORDER.index(Stage(to)) > ORDER.index(Stage(current)) and current != Stage.CLOSED


@transaction.atomic
def case_advance(*, case: Case, to: str, by=None, note: str = "", at=None) -> bool:
    """Move ``case`` to stage ``to`` and record when and by whom.

    Returns False (and changes nothing) when the case is already at ``to``; raises
    TransitionError for a move the pipeline does not allow.
    """
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.stage == to:
        return False
    if not can_move(locked.stage, to):
        raise TransitionError(f"A case cannot move from {locked.get_stage_display()} to {Stage(to).label}.")
    locked.stage = to
    locked.version += 1
    locked.save(update_fields=["stage", "version", "updated_at"])
    StageEvent.objects.create(case=locked, stage=to, by=by, note=note, entered_at=at or timezone.now())
    case.stage, case.version = locked.stage, locked.version
    return True
