"""Infusion-day workflows across models: readiness, saving, overriding, signing, amending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from cases.eligibility import GateItem, GateReport
from cases.gate_facts import case_clinical_status, case_gate
from cases.infusion.events import infusion_amended, infusion_signed
from cases.infusion.models import GateOverride, InfusionAmendment, InfusionPause, InfusionRecord, InfusionVial
from cases.infusion.pa import PaStatus, pa_status_for
from cases.infusion.rules import check_record
from cases.models import Case, ClinicalOverride, ClinicalStatusCheck, Stage
from cases.overrides import OverrideInput, override_record
from cases.pipeline import ORDER, case_advance


class InfusionError(ValueError):
    """A workflow step refused; the message is for the user."""


class StaleRecord(InfusionError):
    """The record changed since the user's form read it; the message is for the user."""

    def __init__(self, message: str, current_version: int):
        super().__init__(message)
        self.current_version = current_version


@dataclass(frozen=True)
class Readiness:
    """Whether the infusion day may proceed on ``on``, and what blocks it."""

    on: date
    gate: GateReport
    blockers: tuple[GateItem, ...]
    overridden: tuple[tuple[GateItem, GateOverride], ...]
    pa: PaStatus
    clinical: GateItem  # infection and clinical stability (label §5): blocks signing only

    @property
    def is_open(self) -> bool:
        return not self.blockers and not self.pa.blocks

    @property
    def can_sign(self) -> bool:
        """The day is open and a physician found no active infection and a stable child."""
        return self.is_open and not self.clinical.blocking


def user_name(user) -> str:
    return user.get_full_name() or user.get_username()


def infusion_readiness(case: Case, on: date, overrides, *, steroid_start: date | None = None) -> Readiness:
    """Return the readiness of ``case`` for an infusion on ``on``.

    1. Evaluate the gate for ``on`` (cases.gate_facts.case_gate, the same facts as the PA packet).
       The steroid start is the infusion record's (``steroid_start`` when a record form is being
       saved), else the case's plan: one source of truth.
    2. A blocking item a physician overrode (GateOverride) no longer blocks; it is listed apart.
    3. Where the payer requires PA, an approved PA must be valid on ``on`` (cases.infusion.pa).
       A PA cannot be overridden: it is the payer's decision, not a clinical one.
    4. Infection and clinical stability (label §5, cases.eligibility.clinical_status_item):
       the draft may be written without it, but it cannot be signed; it is never overridden
       (the label says postpone).
    """
    gate = case_gate(case, on, steroid_start=steroid_start)
    by_id = {o.gate_id: o for o in overrides}
    blockers = tuple(item for item in gate.blocking_items if item.id not in by_id)
    overridden = tuple((item, by_id[item.id]) for item in gate.blocking_items if item.id in by_id)
    return Readiness(on, gate, blockers, overridden, pa_status_for(case, on), case_clinical_status(case, on))


@transaction.atomic
def override_add(*, case: Case, item: GateItem, on: date, reason: str, by) -> GateOverride:
    """Record a physician's override of one gate item (audited by django-auditlog)."""
    if GateOverride.objects.filter(case=case, gate_id=item.id).exists():
        raise InfusionError(f"“{item.title}” is already overridden for this case.")
    return GateOverride.objects.create(
        case=case,
        gate_id=item.id,
        gate_title=item.title,
        detail_at_override=item.detail[:500],
        judged_on=on,
        reason=reason,
        by=by,
        by_name=user_name(by),
    )


@transaction.atomic
def clinical_check_add(
    *, case: Case, checked_on: date, no_active_infection: bool, clinically_stable: bool, notes: str, by
) -> ClinicalStatusCheck:
    """Record a physician's infection and stability check (label §5; audited)."""
    return ClinicalStatusCheck.objects.create(
        case=case,
        checked_on=checked_on,
        no_active_infection=no_active_infection,
        clinically_stable=clinically_stable,
        notes=notes.strip()[:1000],
        recorded_by=by,
    )


@transaction.atomic
def plan_set(*, case: Case, planned_on: date, steroid_start: date, version: int, by) -> Case:
    """Move the planned infusion date and prednisolone start (the coordinator or the physician,
    from the infusion page, without a gate override; issue 15 item 3).

    1. Refuse a stale form: someone saved the case since ``version`` was read.
    2. Save both dates and bump the version (audited: Case is registered with auditlog).
    """
    claimed = Case.objects.filter(pk=case.pk, version=version).update(version=version + 1)
    if not claimed:
        raise InfusionError("Someone else changed this case since you opened the page. Reload it and try again.")
    case.version = version + 1
    case.planned_infusion_date, case.steroid_plan_start = planned_on, steroid_start
    case.save(update_fields=["planned_infusion_date", "steroid_plan_start", "version", "updated_at"])
    return case


@transaction.atomic
def record_save(
    *, case: Case, record: InfusionRecord, vials: list[dict], version: int, by, pauses: list[dict] = ()
) -> InfusionRecord:
    """Save a draft record and replace its vials and pauses. Refuses a signed record or a stale version.

    ``version`` is the version the form was read at (0 when there was no record yet); any other
    than the stored one raises StaleRecord, so nobody overwrites a save they have not seen.
    """
    Case.objects.select_for_update().filter(pk=case.pk).exists()  # one writer per case at a time
    if not record.pk and InfusionRecord.objects.filter(case=case).exists():
        raise InfusionError("Someone else started this record meanwhile. Reload the page; your entries are below.")
    if record.pk:
        current = InfusionRecord.objects.select_for_update().get(pk=record.pk)
        if current.is_signed:
            raise InfusionError("The record is signed and locked; add an amendment instead.")
        if current.version != version:
            raise StaleRecord(
                "Someone else saved this record since you opened it. Reload the page to see their "
                "changes; your entries are still in the form below.",
                current.version,
            )
        record.version = current.version + 1
    else:
        record.entered_by = by
    record.case = case
    record.save()
    record.vials.all().delete()
    InfusionVial.objects.bulk_create(
        InfusionVial(record=record, position=i, **vial) for i, vial in enumerate(vials, start=1)
    )
    record.pauses.all().delete()
    InfusionPause.objects.bulk_create(
        InfusionPause(record=record, position=i, **pause) for i, pause in enumerate(pauses, start=1)
    )
    return record


def _advance_to_monitoring(case: Case, by, at: datetime) -> None:
    # cases.pipeline: infused, then monitoring. A case already past monitoring stays where it is.
    for stage in (Stage.INFUSED, Stage.MONITORING):
        if ORDER.index(Stage(case.stage)) < ORDER.index(stage):
            case_advance(case=case, to=stage, by=by, note="Infusion record signed", at=at)


@transaction.atomic
def infusion_sign(
    *,
    record: InfusionRecord,
    version: int,
    by,
    today: date | None = None,
    at: datetime | None = None,
    overridden: tuple[str, ...] = (),
    override: OverrideInput | None = None,
) -> list:
    """Sign ``record``, lock it, create the monitoring schedule and move the case to monitoring.

    One transaction (DESIGN.md flow step 4):
    1. Lock the record; refuse when already signed, when it is no longer at ``version`` (the
       version the physician was shown: a signature covers only what was seen) or when the
       record is incomplete or refused.
    2. Record the signer's name and the time. ``overridden`` names the gate items that did not
       pass but were overridden (Readiness.overridden): signing then needs the physician's
       explicit ``override`` (issue 15 item 2), stored as a ClinicalOverride the record names.
    3. Send ``infusion_signed`` (cases.infusion.events): monitoring's receiver creates the
       draws from the infusion date, inside this transaction, so a failure undoes the signing.
    4. Set case.infused_on and move the case infused → monitoring (cases.pipeline).
    Returns the draws created.
    """
    at = at or timezone.now()
    locked = InfusionRecord.objects.select_for_update().select_related("case").get(pk=record.pk)
    if locked.is_signed:
        raise InfusionError(f"The record was already signed by {locked.signed_name}.")
    if locked.version != version:
        raise StaleRecord(
            f"The record was changed after you opened it (you were shown version {version}; it is now "
            f"version {locked.version}) and was not signed. Review the record as it stands now, then "
            "sign again.",
            locked.version,
        )
    check = check_record(locked.values())
    if check.errors or check.missing:
        problems = [m for msgs in check.errors.values() for m in msgs] + [f"Missing: {m}" for m in check.missing]
        raise InfusionError("The record cannot be signed yet. " + " ".join(problems))
    if overridden and override is None:
        raise InfusionError(
            "Signing goes against the gate (overridden: " + "; ".join(overridden) + "); it needs an explicit override."
        )
    case = locked.case
    if overridden:
        locked.sign_override = override_record(
            case=case,
            kind=ClinicalOverride.Kind.SIGN_OFF,
            given=override,
            subject="; ".join(overridden),
            by=by,
            at=at,
        )
    locked.signed_by = by
    locked.signed_name = user_name(by)
    locked.signed_at = at
    locked.version += 1
    locked.save(update_fields=["signed_by", "signed_name", "signed_at", "sign_override", "version", "updated_at"])
    responses = infusion_signed.send(
        sender=InfusionRecord,
        record=locked,
        case=case,
        infused_on=locked.infused_on,
        today=today or timezone.localdate(),
        by=by,
    )
    draws = [draw for _receiver, created in responses for draw in (created or [])]
    case.infused_on = locked.infused_on
    case.save(update_fields=["infused_on", "updated_at"])  # a save, so the audit trail has it
    _advance_to_monitoring(case, by, at)
    record.signed_by, record.signed_name, record.signed_at = locked.signed_by, locked.signed_name, at
    record.sign_override = locked.sign_override
    record.version = locked.version
    return draws


@transaction.atomic
def amendment_add(
    *,
    record: InfusionRecord,
    field: str,
    label: str,
    old: str,
    new: str,
    apply,
    reason: str,
    by,
    version: int | None = None,
) -> InfusionAmendment:
    """Append an amendment to a signed record and apply the corrected value.

    ``apply(record)`` sets the new value on the (locked) record, its vial or its pauses and saves
    it; the old and new values are kept as text, so the signed original stays readable.
    ``version`` is the record version the amendment form was read at: any other raises
    StaleRecord (a pause named by its number could be another pause by now). Then
    ``infusion_amended`` is sent, and billing stores the claim's next version.
    """
    locked = InfusionRecord.objects.select_for_update().select_related("case").get(pk=record.pk)
    if not locked.is_signed:
        raise InfusionError("Only a signed record takes amendments; edit the draft instead.")
    if version is not None and locked.version != version:
        raise StaleRecord(
            f"The record was amended by someone else since you opened it (you were shown version {version}; "
            f"it is now version {locked.version}). Review the record as it stands now and amend again.",
            locked.version,
        )
    apply(locked)
    locked.version += 1
    locked.save()
    amendment = InfusionAmendment.objects.create(
        record=locked,
        field=field,
        field_label=label,
        old_value=old,
        new_value=new,
        reason=reason,
        by=by,
        by_name=user_name(by),
    )
    # Billing builds the claim's next version from the amended record (billing/signals.py).
    infusion_amended.send(sender=InfusionRecord, record=locked, case=locked.case, amendment=amendment, by=by)
    record.version = locked.version
    return amendment
