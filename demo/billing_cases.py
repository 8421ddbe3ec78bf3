"""Demo prior authorizations and packets for the shared demo cast (demo/context.py DEMO_CASES).

Runs after demo.cases; skipped when the cases are not there. Idempotent: a case that already
has a prior authorization (or packets) is left alone. Dates are relative to the demo day.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, time, timedelta

from django.utils import timezone

from billing import pa_rules
from billing.lmn import LetterError, letter_save, letter_state
from billing.models import PacketJob, PAPacket, PriorAuthorization
from billing.pa import pa_start, pa_transition
from billing.packet import PacketError, packet_create
from billing.packet_documents import APPEND, current_documents, suggested_document_choices
from cases.models import Stage, StageEvent
from demo.context import DEMO_CASES

log = logging.getLogger(__name__)

APPROVED_KEYS = (
    "ready",
    "infused_recent",
    "monitoring_normal",
    "monitoring_abnormal",
    "overdue",
    "extension",
    "follow_up",
    "lpc_overdue",
    "lpc_office",
)
BILLING_USER_FOR_SITE = {"NCH": "billing", "LPC": "billing2"}
PHYSICIAN_FOR_SITE = {"NCH": "physician", "LPC": "physician2"}
# The prescriber signs the letter of medical necessity before each submission and before an appeal.
SIGN_BEFORE = (pa_rules.SUBMITTED, pa_rules.APPEALED)


def _at(day):
    return timezone.make_aware(datetime.combine(day, time(11, 0)))


def _anchor(case, today):
    return case.planned_infusion_date or case.infused_on or today


def _script(key, case, today):
    """Return [(status, day, extra fields)] for the demo story of ``key`` (days not after today)."""
    anchor = _anchor(case, today)
    if key in APPROVED_KEYS:
        submitted = min(anchor - timedelta(days=24), today)
        approved = min(anchor - timedelta(days=12), today)
        return [
            (pa_rules.SUBMITTED, submitted, {"reference_number": f"REF-{case.pk:05d}"}),
            (
                pa_rules.APPROVED,
                approved,
                {
                    "auth_number": f"AUTH-{case.pk:05d}",
                    "approved_units": 1,
                    "valid_from": approved,
                    "valid_through": anchor + timedelta(days=60),
                    "note": "Approved as submitted.",
                },
            ),
        ]
    if key == "pa_submitted":
        return [
            (pa_rules.SUBMITTED, today - timedelta(days=9), {"reference_number": f"REF-{case.pk:05d}"}),
            (
                pa_rules.PENDED,
                today - timedelta(days=3),
                {"note": "Payer asks for the baseline troponin-I result and the steroid plan signed by the physician."},
            ),
        ]
    if key == "pa_denied":
        return [
            (pa_rules.SUBMITTED, today - timedelta(days=30), {"reference_number": f"REF-{case.pk:05d}"}),
            (
                pa_rules.DENIED,
                today - timedelta(days=16),
                {"denial_reason": "titer", "note": "Denial letter: AAV9 titer not documented."},
            ),
            (
                pa_rules.APPEALED,
                today - timedelta(days=6),
                {"note": "Appeal sent with the AAV9 titer report (1:25) and the OneGene confirmation."},
            ),
        ]
    if key == "titer_high":
        # The payer denied on the titer (1:100, above its 1:50 criterion): the billing desk lists the
        # denial with its reason and the appeal deadline while the clinic waits to retest.
        return [
            (pa_rules.SUBMITTED, today - timedelta(days=20), {"reference_number": f"REF-{case.pk:05d}"}),
            (
                pa_rules.DENIED,
                today - timedelta(days=9),
                {
                    "denial_reason": "titer",
                    "note": "Denial letter: AAV9 antibody titer 1:100 is above the plan's 1:50.",
                },
            ),
        ]
    if key == "premature":
        # Approved, but the infusion waits for full-term corrected age: the approval ends before the
        # planned date, and the billing desk asks for an extension.
        ends = anchor - timedelta(days=4)
        return [
            (pa_rules.SUBMITTED, today - timedelta(days=15), {"reference_number": f"REF-{case.pk:05d}"}),
            (
                pa_rules.APPROVED,
                today - timedelta(days=5),
                {
                    "auth_number": f"AUTH-{case.pk:05d}",
                    "approved_units": 1,
                    "valid_from": today - timedelta(days=5),
                    "valid_through": ends,
                    "note": "Approved for a 10-day window.",
                },
            ),
        ]
    if key in ("titer_stale", "lpc_ready"):
        # Drafts: titer_stale's packet is a draft (stale titer); lpc_ready's is final, ready to submit.
        return []
    return None


def _after_gating(script: list, case, today) -> list:
    """Move the story's dates after the case entered gating (its results were on file), keeping
    their order and before the infusion, so the pipeline never shows a PA sent before intake."""

    events = StageEvent.objects.filter(case=case)
    gated = events.filter(stage=Stage.GATING).order_by("entered_at").values_list("entered_at", flat=True).first()
    gated = gated or events.filter(stage=Stage.INTAKE).values_list("entered_at", flat=True).first()
    if not script or gated is None:
        return script
    start = timezone.localtime(gated).date() + timedelta(days=1)
    first, last = script[0][1], script[-1][1]
    if first >= start:
        return script
    infusion = case.infused_on or case.planned_infusion_date
    end = min(today, infusion - timedelta(days=1)) if infusion and infusion <= today else today
    end = max(end, start)
    span, room = max((last - first).days, 1), (end - start).days
    moved = []
    for status, day, extra in script:
        new_day = start + timedelta(days=min((day - first).days, round((day - first).days * room / span)))
        if "valid_from" in extra:
            extra = {**extra, "valid_from": new_day}
        moved.append((status, new_day, extra))
    return moved


def _sign_letter(case, physician, day) -> None:
    """The physician signs GeneGate's draft of the letter as it stands on ``day`` (demo only)."""
    state = letter_state(case)
    try:
        letter_save(
            case=case,
            body=state.text,
            based_on=state.latest.version if state.latest else 0,
            by=physician,
            sign=True,
            at=_at(day) - timedelta(hours=2),
        )
    except LetterError as exc:
        log.warning("Demo letter for case %s not signed: %s", case.pk, exc)


def seed(ctx) -> None:
    cases = ctx.extra.get("cases")
    if not cases:
        return

    site_of = {key: site for key, site, *_ in DEMO_CASES}
    for key, case in cases.items():
        script = _script(key, case, ctx.today)
        if script is None:
            continue
        user = ctx.users.get(BILLING_USER_FOR_SITE.get(site_of.get(key, ""), "billing"))
        physician = ctx.users.get(PHYSICIAN_FOR_SITE.get(site_of.get(key, ""), "physician"))
        if PriorAuthorization.objects.filter(case=case).exists():
            continue
        script = _after_gating(script, case, ctx.today)
        first = script[0][1] if script else ctx.today
        pa, _ = pa_start(case=case, by=user, on=first, at=_at(first))
        for status, day, extra in script:
            if status in SIGN_BEFORE and physician is not None:
                _sign_letter(case, physician, day)
            result = pa_transition(pa=pa, to=status, by=user, on=day, at=_at(day), **extra)
            pa = result.pa
        if key == "ready" and case.payer is not None and not case.payer.pas_endpoint:
            # The ready case's payer takes electronic requests (the local test payer `make run`
            # starts, demo/pas_payer.py), so the demo shows the whole Da Vinci PAS round trip.
            case.payer.pas_endpoint = os.environ.get("GENEGATE_DEMO_PAS_URL", "http://127.0.0.1:8765/fhir")
            case.payer.save(update_fields=["pas_endpoint", "updated_at"])
        if key == "lpc_ready" and physician is not None and not PAPacket.objects.filter(case=case).exists():
            _sign_letter(case, physician, ctx.today)  # a final packet carries the signed letter
        if key in ("ready", "titer_stale", "lpc_ready") and not PAPacket.objects.filter(case=case).exists():
            # The titer_stale draft shows a document the user chose to leave out (issue 17 item 6).
            choices = _leave_one_out(case) if key == "titer_stale" else None
            try:
                packet_create(
                    case=case,
                    by=user,
                    final=key in ("ready", "lpc_ready"),
                    today=ctx.today,
                    document_choices=choices,
                )
            except PacketError:
                log.warning("Demo packet for case %s not generated (gate blocks)", case.pk)
                packet_create(case=case, by=user, final=False, today=ctx.today, document_choices=choices)
            if key == "titer_stale" and not PacketJob.objects.filter(case=case).exists():
                # A final packet asked for while the titer is stale: the worker refused it, and the
                # billing panel shows why (the job states of billing/packet_jobs.py, issue 17 item 8).
                try:
                    packet_create(case=case, by=user, final=True, today=ctx.today)
                except PacketError as exc:
                    now = timezone.now()
                    PacketJob.objects.create(
                        case=case,
                        final=True,
                        requested_by=user,
                        state=PacketJob.State.FAILED,
                        message=str(exc),
                        started_at=now,
                        finished_at=now,
                    )


def _leave_one_out(case) -> dict[int, str] | None:
    """The suggested documents, with the oldest one the suggestion appends left out as already
    sent to the payer (a lab report faxed earlier, say)."""
    documents = current_documents(case)
    choices = suggested_document_choices(documents)
    appended = [doc for doc in documents if choices[doc.pk] == APPEND]
    if len(appended) < 2:
        return None
    choices[appended[-1].pk] = "already_sent"
    return choices
