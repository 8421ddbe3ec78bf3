"""What the case page's billing panel shows, gathered in a constant number of queries.

The card's "THE 5 THINGS YOU NEED TO BILL J3399", each filled from the case, as corrected by
docs/domain.md §11 (96366 only past 90 minutes, §11.8; steroid course per label §2.1, §11.5; the
AAV9 gate per §11.6; the price is the 2019 launch WAC, §11.17).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.utils import timezone

from billing import pa_rules
from billing.claims.rules import admin_codes_for_duration
from billing.claims.store import current_claim
from billing.codes import CPT_CODES, HCPCS_CODES
from billing.denials import REASON_GATE_ITEM, DenialFacts, denial_fix, denial_reason
from billing.models import (
    MedicalNecessityLetter,
    PAEvent,
    PAPacket,
    PriorAuthorization,
    ReferencePrice,
    SupportProgram,
)
from billing.packet import case_identifier_problems
from cases.dosing import kit_for_weight, prednisolone_mg_per_day, round_weight
from cases.gate_facts import case_gate, gate_date
from cases.infusion.models import InfusionRecord
from cases.models import Document
from common.wording import plain
from monitoring.steroids import COURSE_DAYS_TOTAL, TAPER_DAYS, course_start


def _denial_facts(case, report, reason) -> DenialFacts:
    """The gate item a denial reason is about, and whether its report is uploaded."""
    item_id = REASON_GATE_ITEM.get(reason.slug)
    item = report.item(item_id) if item_id else None
    kinds = {d.kind for d in case.documents.all()}
    wanted = {"titer": Document.Kind.TITER_REPORT, "genetics": Document.Kind.GENETIC_REPORT}.get(reason.slug)
    return DenialFacts(
        item_status=item.status if item else "",
        item_detail=plain(item.detail) if item else "",
        item_fix=plain(item.fix).rstrip(".") if item else "",
        report_on_file=wanted in kinds if wanted else False,
    )


@dataclass(frozen=True)
class FiveThings:
    hcpcs_code: str
    hcpcs_descriptor: str
    weight: object | None
    rounded_kg: object | None
    kit: object | None
    admin_codes: list[tuple[str, str, int]]
    planned_minutes: int  # the actual minutes of the stored claim once the record is signed
    minutes_actual: bool
    claim: object | None  # the newest stored claim version (billing.models.Claim) once signed
    titer_item: object
    steroid_mg: object | None
    steroid_start: date | None
    price: ReferencePrice | None


def current_price(today: date, code: str = "J3399") -> ReferencePrice | None:
    """Return the price row in effect on ``today``: the newest effective_on not after it."""
    return ReferencePrice.objects.filter(code=code, effective_on__lte=today).order_by("-effective_on").first()


def prior_authorization_for(case) -> PriorAuthorization | None:
    events = PAEvent.objects.select_related("by").order_by("at", "pk")
    return (
        PriorAuthorization.objects.filter(case=case)
        .select_related("payer")
        .prefetch_related(Prefetch("events", queryset=events))
        .first()
    )


def billing_summary(case, *, today: date | None = None, by=None) -> dict:
    """Return the panel's data for ``case`` (a constant number of queries).

    Once the infusion record is signed, the administration codes, minutes, NDC, POS and PA
    number are the stored claim's (billing.claims.store.current_claim, brought up to date first
    and attributed to ``by``), so the panel and the claim page show one claim."""
    today = today or timezone.localdate()
    on = gate_date(case, today)
    report = case_gate(case, on)
    weights = sorted(
        (w for w in case.weights.all() if w.measured_on <= on and w.voided_at is None),
        key=lambda w: (w.measured_on, w.kg),
    )
    weight = weights[-1] if weights else None
    pa = prior_authorization_for(case)
    # Once the record is signed, the codes are the stored claim's (its actual infusion time:
    # stop − start − pauses); before that, the PA's planned run.
    claim = (
        current_claim(case, by=by)
        if InfusionRecord.objects.filter(case=case, signed_at__isnull=False).exists()
        else None
    )
    if claim is not None:
        stored = claim.summary
        actual = stored.infusion_minutes
        admin = [(ln.code, CPT_CODES[ln.code].descriptor, int(ln.units)) for ln in stored.admin_lines]
    else:
        actual = None
    minutes = actual if actual is not None else (pa.planned_infusion_minutes if pa else 60)
    if claim is None or actual is None:
        codes = admin_codes_for_duration(minutes)
        admin = [(c, CPT_CODES[c].descriptor, codes.count(c)) for c in dict.fromkeys(codes)]
    infusion_day = case.infused_on or case.planned_infusion_date  # as gate_date: one day throughout
    five = FiveThings(
        hcpcs_code="J3399",
        hcpcs_descriptor=HCPCS_CODES["J3399"].descriptor,
        weight=weight,
        rounded_kg=round_weight(weight.kg) if weight else None,
        kit=kit_for_weight(weight.kg) if weight else None,
        admin_codes=admin,
        planned_minutes=minutes,
        minutes_actual=actual is not None,
        claim=claim,
        titer_item=report.item("titer"),
        steroid_mg=prednisolone_mg_per_day(weight.kg) if weight else None,
        steroid_start=course_start(infusion_day) if infusion_day else None,
        price=current_price(today),
    )
    warnings = []
    denial = None
    denial_fix_text = ""
    if pa is not None:
        warnings = pa_rules.approval_warnings(
            status=pa.status,
            valid_from=pa.valid_from,
            valid_through=pa.valid_through,
            planned_on=infusion_day,
            today=today,
        )
        if pa.denial_reason:
            denial = denial_reason(pa.denial_reason)
            denial_fix_text = denial_fix(denial, _denial_facts(case, report, denial))
    events = []
    if pa is not None:
        for event in pa.events.all():
            # The reason is named on its row; its fix is shown once, in the denial banner.
            reason = denial_reason(event.denial_reason) if event.denial_reason else None
            events.append((event, reason))
    try:
        enrollment = case.onegene_enrollment
    except ObjectDoesNotExist:
        enrollment = None
    blocking = list(report.blocking_items)
    # The newest letter version; whether the case still matches it is judged on the letter page
    # and when a packet is generated (billing.packet._lmn_snapshot), which gather the full facts.
    letter = MedicalNecessityLetter.objects.filter(case=case).order_by("-version").first()
    letter_blockers = []
    if letter is None:
        letter_blockers = ["Letter of medical necessity: not drafted or signed yet"]
    elif not letter.is_signed:
        letter_blockers = [f"Letter of medical necessity: version {letter.version} not signed"]
    return {
        "case": case,
        "today": today,
        "five": five,
        "gate": report,
        "gate_blocking": blocking,
        "final_blockers": (["Planned infusion date not set"] if infusion_day is None else [])
        + [i.title for i in blocking]
        + [f"{p.title}: {p.detail}" for p in case_identifier_problems(case)]
        + letter_blockers,
        "letter": letter,
        "payer": case.payer,
        "pa": pa,
        "pa_next": pa_rules.next_statuses(pa.status) if pa else (),
        "pa_warnings": warnings,
        "denial": denial,
        "denial_fix": denial_fix_text,
        "pa_events": events,
        "packets": list(PAPacket.objects.filter(case=case).select_related("created_by").order_by("-version")),
        "programs": list(SupportProgram.objects.all()),
        "enrollment": enrollment,
        "course_days": COURSE_DAYS_TOTAL,
        "taper_days": TAPER_DAYS,
        "review_on": (course_start(infusion_day) + timedelta(days=COURSE_DAYS_TOTAL - 1)) if infusion_day else None,
    }
