"""The letter of medical necessity's workflows: save a version, sign it with the prescriber's password.

The text is drafted by billing/letter.py from the same snapshot the PA packet prints
(billing.packet.packet_snapshot), so the letter and the packet never disagree. Every save adds a
version (MedicalNecessityLetter, never edited); a signature fills one version's signature fields
once and binds to its fingerprint (kind, text and facts). A final packet takes the newest version
only when it is signed and the case's facts still match it (billing.packet._lmn_snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from billing import letter
from billing.models import MedicalNecessityLetter
from billing.packet import packet_case, packet_snapshot
from cases.models import Case

MAX_LETTER_CHARS = 20000


class LetterError(ValueError):
    """A save or signature was refused; the message is for the user."""


@dataclass(frozen=True)
class LetterState:
    """What the letter page shows: the packet snapshot's letter part and the versions on file."""

    snapshot: dict
    versions: list[MedicalNecessityLetter]

    @property
    def lmn(self) -> dict:
        return self.snapshot["lmn"]

    @property
    def latest(self) -> MedicalNecessityLetter | None:
        return self.versions[0] if self.versions else None

    @property
    def text(self) -> str:
        """The text to edit: the newest version's when its facts are current, else the draft."""
        return "\n\n".join(self.lmn["body"])


def letter_state(case: Case) -> LetterState:
    """Gather the case's snapshot and its letter versions (newest first)."""
    snapshot = packet_snapshot(packet_case(case.pk))
    versions = list(
        MedicalNecessityLetter.objects.filter(case=case).select_related("created_by", "signed_by").order_by("-version")
    )
    return LetterState(snapshot, versions)


def _signer_identity(case: Case, by) -> dict:
    """The signer's name and identifiers; LetterError unless they are the case's ordering physician."""
    try:
        profile = by.prescriber_profile
    except ObjectDoesNotExist:
        raise LetterError(
            "Your individual NPI and specialty are not on file, so a payer could not identify your signature. "
            "An administrator records them on your staff profile (Prescriber identifiers)."
        ) from None
    if profile.npi == case.site.npi:
        raise LetterError("Your profile holds the facility's NPI; an administrator records your individual NPI.")
    if case.ordering_physician_npi != profile.npi:
        raise LetterError(
            f"The case names {case.ordering_physician_name or 'another physician'} (NPI "
            f"{case.ordering_physician_npi or 'not recorded'}) as the ordering physician, not you (NPI {profile.npi}). "
            "The ordering physician signs the letter; correct the case if you are the prescriber."
        )
    if case.ordering_physician_specialty and case.ordering_physician_specialty != profile.specialty:
        raise LetterError(
            f"The case records the ordering physician's specialty as {case.get_ordering_physician_specialty_display()}; "
            f"your profile says {profile.get_specialty_display()}. Correct one so the letter and the packet agree."
        )
    return {
        "signer_name": by.get_full_name() or by.get_username(),
        "signer_credentials": profile.credentials,
        "signer_specialty": profile.get_specialty_display(),
        "signer_npi": profile.npi,
    }


@transaction.atomic
def letter_save(*, case: Case, body: str, based_on: int, by, sign: bool = False, at=None) -> MedicalNecessityLetter:
    """Save ``body`` as the case's newest letter version (and sign it when ``sign``); return it.

    1. Lock the case row; refuse when someone saved a version after the one the user opened
       (``based_on``: the newest version number they saw, 0 for none).
    2. Gather the case's facts now (the same snapshot the packet prints): the version stores
       them with the text, and its fingerprint binds kind, text and facts.
    3. The newest version already holds exactly this text for these facts and is unsigned: keep
       it (a signature then binds to it); otherwise add version n + 1.
    4. ``sign``: the user must be the case's ordering physician with an individual NPI on file
       (their password was checked by the form); the version gets their name, credentials,
       specialty, NPI and the time, once.
    """
    text = "\n\n".join(letter.paragraphs(body or ""))
    if not text:
        raise LetterError("The letter is empty; write it or start again from GeneGate's draft.")
    if len(text) > MAX_LETTER_CHARS:
        raise LetterError(f"Keep the letter under {MAX_LETTER_CHARS:,} characters; this text has {len(text):,}.")
    Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).get()
    latest = MedicalNecessityLetter.objects.filter(case=case).order_by("-version").first()
    newest = latest.version if latest else 0
    if based_on != newest:
        raise LetterError(
            f"Version {newest} of the letter was saved after you opened it. Your text is below: compare it with "
            "the newest version before saving again."
        )
    snapshot = packet_snapshot(packet_case(case.pk))
    facts, kind = snapshot["lmn"]["facts"], snapshot["request"]["kind"]
    identity = _signer_identity(case, by) if sign else None
    fingerprint = letter.letter_fingerprint(kind, text, facts)
    if latest is not None and not latest.is_signed and latest.fingerprint == fingerprint:
        version = latest
    elif latest is not None and latest.is_signed and latest.fingerprint == fingerprint:
        raise LetterError(f"Version {latest.version} with this text is already signed by {latest.signer_name}.")
    else:
        version = MedicalNecessityLetter.objects.create(
            case=case,
            version=(MedicalNecessityLetter.objects.filter(case=case).aggregate(v=Max("version"))["v"] or 0) + 1,
            kind=kind,
            body=text,
            facts=facts,
            facts_sha256=snapshot["lmn"]["facts_sha256"],
            fingerprint=fingerprint,
            created_by=by,
        )
    if identity is not None:
        for name, value in identity.items():
            setattr(version, name, value)
        version.signed_by, version.signed_at = by, at or timezone.now()
        version.save()
    return version
