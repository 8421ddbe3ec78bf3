"""The stored, versioned claim of a case: one billing.models.Claim per version.

Every claim view (page, billing panel, CSV, PDF, X12 837) renders a stored version, never a claim
built on the fly, so they show the same claim. `current_claim` returns the newest version after
checking it against the claim the signed record and the billing data give now; when they differ,
it stores a new version with the reason and the parts that changed. A new version is also built
when the record is signed (reason "signed") and when an amendment is added (reason: the field,
old → new), through the infusion day's events (billing/signals.py).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from billing.claims.lines import ClaimSummary, claim_summary
from billing.claims.snapshot import fingerprint
from billing.models import Claim
from cases.infusion.models import InfusionRecord, record_for_case

# The parts of a claim, in the order "what changed" names them.
PARTS = (
    ("claim_type", "claim type"),
    ("place_of_service", "place of service"),
    ("type_of_bill", "type of bill"),
    ("patient", "patient"),
    ("payer", "payer and member ID"),
    ("provider", "billing provider settings"),
    ("physician", "attending or rendering physician"),
    ("pa", "prior authorization"),
    ("infusion", "infusion record"),
    ("diagnoses", "diagnoses"),
    ("lines", "service lines"),
    ("findings", "scrubber findings"),
    ("notes", "what the payer expects"),
    ("context", "payer policy"),
    ("overrides", "gate overrides"),
    ("amendments", "amendments"),
)
_LABELS = dict(PARTS)


def changed_parts(old: dict | None, new: dict) -> list[str]:
    """Return the labels of the parts in which ``new`` differs from ``old`` (all when no old)."""
    if old is None:
        return []
    keys = set(old) | set(new)
    changed = [label for key, label in PARTS if old.get(key) != new.get(key)]
    others = sorted(k for k in keys if k not in _LABELS and old.get(k) != new.get(k))
    return changed + others


def _by_name(user) -> str:
    if user is None:
        return "GeneGate"
    return user.get_full_name() or user.get_username()


def versions(case) -> list[Claim]:
    """Every stored version of ``case``'s claim, newest first."""
    return list(Claim.objects.filter(case=case).select_related("built_by").order_by("-version"))


def claim_version(case, version: int) -> Claim | None:
    return Claim.objects.filter(case=case, version=version).first()


@transaction.atomic
def store_claim(case, record: InfusionRecord, *, reason: str, by=None, summary: ClaimSummary | None = None) -> Claim:
    """Build the claim of ``record`` and store it as a new version, unless the newest stored
    version is the same claim (same SHA-256), which is then returned unchanged.

    1. Lock the case row, so two builds at once cannot both take the next version number.
    2. Build the claim (billing.claims.lines.claim_summary) and its canonical JSON and SHA-256.
    3. Same as the newest version: return that. Otherwise store version n + 1 with the reason,
       what changed since version n, the record version it was built from, and who built it.
    """
    type(case).objects.select_for_update().filter(pk=case.pk).exists()
    summary = summary or claim_summary(case, record)
    data = summary.to_data()
    sha = fingerprint(summary.to_data(canonical=True))
    latest = Claim.objects.filter(case=case).order_by("-version").first()
    if latest is not None and latest.sha256 == sha:
        return latest
    return Claim.objects.create(
        case=case,
        version=(latest.version + 1) if latest else 1,
        record=record,
        record_version=record.version,
        claim_type=summary.claim_type,
        place_of_service=summary.place_of_service or "",
        reason=reason[:500],
        changes=changed_parts(_canonical(latest.data) if latest else None, summary.to_data(canonical=True)),
        data=data,
        sha256=sha,
        built_by=by,
        built_by_name=_by_name(by),
        built_at=timezone.now(),
    )


def current_claim(case, *, by=None, record: InfusionRecord | None = None) -> Claim | None:
    """Return the newest stored version of ``case``'s claim, first storing a new one when the
    signed record or the billing data changed since; None while there is no signed record."""
    record = record or record_for_case(case)
    if record is None or not record.is_signed:
        return None
    latest = Claim.objects.filter(case=case).order_by("-version").only("version", "record_version").first()
    if latest is None:
        reason = f"Built from the infusion record signed by {record.signed_name}."
    elif latest.record_version != record.version:
        reason = (
            f"The infusion record changed since version {latest.version} "
            f"(record version {latest.record_version} → {record.version})."
        )
    else:
        reason = (
            f"The billing data the claim reads changed since version {latest.version} "
            "(payer policy, price list, prior authorization or case facts)."
        )
    return store_claim(case, record, reason=reason, by=by)


def _canonical(data: dict) -> dict:
    return ClaimSummary.from_data(data).to_data(canonical=True)
