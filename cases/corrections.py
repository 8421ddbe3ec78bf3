"""Corrections without deletion: a mistaken weight, titer, lab value, document or clinical check is
voided with a reason; it stays on the page struck through and in the audit trail, and the gate,
the flags and the schedule read only current rows (issue 15 item 5). To correct a value, void it
and enter the right one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cases.models import BaselineLab, ClinicalStatusCheck, Document, MotorAssessment, TiterResult, WeightMeasurement
from common.wording import moment_text

VOID_REASON_MIN_LENGTH = 5


@dataclass(frozen=True)
class VoidKind:
    """What can be voided, under which URL word, who may, and which page section shows it."""

    model: type
    label: str
    action: str  # accounts.permissions action of the roles that may enter it
    section: str  # the case page section (or "" for the infusion page)


VOIDABLE: dict[str, VoidKind] = {
    "weight": VoidKind(WeightMeasurement, "weight", "enter_pretreatment_results", "weights"),
    "titer": VoidKind(TiterResult, "AAV9 titer", "enter_pretreatment_results", "titers"),
    "lab": VoidKind(BaselineLab, "baseline lab value", "enter_pretreatment_results", "labs"),
    "document": VoidKind(Document, "document", "enter_pretreatment_results", "documents"),
    "motor": VoidKind(MotorAssessment, "motor assessment", "enter_pretreatment_results", "motor"),
    "clinical": VoidKind(ClinicalStatusCheck, "infection and stability check", "record_clinical_status", ""),
}


class VoidRefused(ValueError):
    """The void was refused; the message is for the user."""


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "someone"


@transaction.atomic
def entry_void(*, row, by, reason: str):
    """Void ``row`` with ``reason``; return the locked, voided row.

    1. A reason of at least VOID_REASON_MIN_LENGTH characters (VoidRefused otherwise).
    2. The row is locked; one already voided (by someone a moment earlier) is refused, naming
       who voided it, when and why.
    3. voided_at, voided_by and void_reason are saved: django-auditlog records old -> new.
    Nothing is deleted.
    """
    reason = " ".join((reason or "").split())
    if len(reason) < VOID_REASON_MIN_LENGTH:
        raise VoidRefused(f"Say why this entry is wrong (at least {VOID_REASON_MIN_LENGTH} characters).")
    locked = type(row).objects.select_for_update(of=("self",)).select_related("voided_by").get(pk=row.pk)
    if locked.voided_at is not None:
        when = timezone.localtime(locked.voided_at)
        raise VoidRefused(f"Already voided by {_who(locked.voided_by)} on {moment_text(when)}: {locked.void_reason}")
    locked.voided_at, locked.voided_by, locked.void_reason = timezone.now(), by, reason[:300]
    locked.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return locked
