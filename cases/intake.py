"""Intake and editing workflows: one case per patient, optimistic locking, first-result stage move.

J3399 is a once-per-lifetime treatment (docs/domain.md §6a; label §1 "repeat administration not
evaluated"), so a patient never gets a second case: a new intake that matches an existing patient
(same site and MRN, or the same legal name and date of birth at any of the user's sites) is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from django.db import IntegrityError, transaction

from cases.documents import document_store
from cases.models import Case, Document, Patient, SmnTherapy, Stage, StageEvent
from cases.pipeline import case_advance


class DuplicateCase(Exception):
    """The patient already has a case; ``case`` is it (within the user's sites)."""

    def __init__(self, case: Case | None, reason: str) -> None:
        super().__init__(reason)
        self.case = case
        self.reason = reason


class EditConflict(Exception):
    """Someone saved the case after the form was opened; ``current`` is the saved case."""

    def __init__(self, current: Case) -> None:
        super().__init__("edit conflict")
        self.current = current


def normalize_name(name: str) -> str:
    """Return the name with runs of whitespace collapsed (how names are stored and compared)."""
    return " ".join(name.split())


def patient_duplicate(
    *,
    site_ids: Iterable[int],
    site_id: int,
    mrn: str,
    legal_name: str,
    date_of_birth: date,
    exclude_patient_id: int | None = None,
) -> DuplicateCase | None:
    """Return a DuplicateCase describing the existing patient this one matches, or None.

    1. Same site and MRN (the MRN is unique per site).
    2. Same legal name (case and spacing ignored) and date of birth at any of ``site_ids``.
    Only the user's sites are searched, so nothing about another site's patients leaks.
    """
    patients = Patient.objects.filter(site_id__in=list(site_ids)).select_related("case")
    if exclude_patient_id is not None:
        patients = patients.exclude(pk=exclude_patient_id)
    same_mrn = patients.filter(site_id=site_id, mrn__iexact=mrn.strip()).first()
    if same_mrn is not None:
        return DuplicateCase(getattr(same_mrn, "case", None), "mrn")
    same_person = patients.filter(legal_name__iexact=normalize_name(legal_name), date_of_birth=date_of_birth).first()
    if same_person is not None:
        return DuplicateCase(getattr(same_person, "case", None), "name_dob")
    return None


@transaction.atomic
def case_create(
    *,
    patient: Patient,
    case: Case,
    therapies: Iterable[SmnTherapy] = (),
    genetic_report=None,
    by=None,
) -> Case:
    """Save a new patient and their case (pipeline: intake); return the case.

    ``patient`` and ``case`` are unsaved instances built by the intake forms. Raises
    DuplicateCase when the (site, MRN) pair was taken meanwhile.
    """
    patient.legal_name = normalize_name(patient.legal_name)
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        raise DuplicateCase(None, "mrn") from exc
    case.patient = patient
    case.site_id = patient.site_id
    case.stage = Stage.INTAKE
    if by is not None and case.coordinator_id is None:
        case.coordinator = by
    case.save()
    StageEvent.objects.create(case=case, stage=Stage.INTAKE, by=by, note="Case opened at intake")
    for therapy in therapies:
        therapy.case = case
        therapy.save()
    if genetic_report is not None:
        document_store(case=case, kind=Document.Kind.GENETIC_REPORT, upload=genetic_report, by=by)
    return case


@transaction.atomic
def case_update(*, case: Case, patient: Patient, version: int, save_related: Callable[[], None] | None = None) -> Case:
    """Save an edited case if nobody saved it since ``version`` was read; return it.

    1. Claim the version with a conditional UPDATE: 0 rows means someone else saved first,
       so raise EditConflict with the current case and save nothing.
    2. Save the patient, the case (audited) and related rows (therapies) in the same transaction.
    """
    claimed = Case.objects.filter(pk=case.pk, version=version).update(version=version + 1)
    if claimed != 1:
        raise EditConflict(Case.objects.select_related("patient").get(pk=case.pk))
    case.version = version + 1
    patient.legal_name = normalize_name(patient.legal_name)
    patient.save()
    case.save()
    if save_related is not None:
        save_related()
    return case


def result_recorded(*, case: Case, by=None) -> bool:
    """Move a case from intake to gating when its first pre-treatment result arrives.

    Returns True when the stage changed (DESIGN.md: "the pipeline moves to gating").
    """
    if case.stage != Stage.INTAKE:
        return False
    return case_advance(case=case, to=Stage.GATING, by=by, note="First pre-treatment result recorded")
