"""Demo step: signed infusion records for the infused cases of the demo cast (demo.context).

Each record is signed through cases.infusion.workflows.infusion_sign, so it creates the case's
monitoring schedule (with today = ctx.today) and moves the case to monitoring, exactly as a
physician's sign-off does. One record ran 08:45-10:20 with a 30-minute pause (65 minutes actual:
96365 only), one ran 98 minutes without a pause (96365 + 96366), one has an amendment, one was
infused under a physician's gate override. Idempotent: a case that already
has a record is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from cases.dosing import kit_for_weight, prednisolone_mg_per_day
from cases.infusion.models import GateOverride, InfusionPause, InfusionRecord, InfusionVial
from cases.infusion.workflows import amendment_add, clinical_check_add, infusion_sign
from cases.models import Stage
from cases.overrides import SIGN_OFF_REASONS, OverrideInput
from cases.pipeline import case_advance


@dataclass(frozen=True)
class DemoInfusion:
    key: str
    days_ago: int
    weight_kg: str  # used when the case has no weight on or before the infusion date
    start: time
    minutes: int
    lot_prefix: str
    adverse_events: str = "None"
    override: str = ""  # the gate item a physician overrode: "titer" or "site_of_care"
    amendment: bool = False
    pauses: tuple[tuple[time, time, str], ...] = ()  # (pump stopped, resumed, why)


DEMO_INFUSIONS = (
    DemoInfusion("infused_recent", 3, "5.9", time(9, 10), 62, "2508AV"),
    DemoInfusion(
        "monitoring_normal",
        40,
        "6.6",
        time(8, 45),
        95,  # 08:45-10:20 on the clock, paused 30 minutes: 65 minutes actual, so 96365 only
        "2507AV",
        adverse_events="None",
        pauses=((time(9, 20), time(9, 50), "Positional line occlusion; line repositioned, no reaction"),),
    ),
    DemoInfusion("monitoring_abnormal", 30, "5.8", time(10, 5), 62, "2507BX", override="titer"),
    DemoInfusion(
        "overdue",
        27,
        "6.9",
        time(9, 30),
        61,
        "2507CQ",
        adverse_events="Vomited once 2 h after the infusion; settled with oral fluids.",
    ),
    DemoInfusion("extension", 100, "6.3", time(13, 0), 64, "2504AV", amendment=True),
    DemoInfusion("follow_up", 243, "6.2", time(9, 0), 98, "2503DK"),  # ran slow: 98 minutes, 96366
    DemoInfusion("lpc_overdue", 20, "6.0", time(10, 15), 61, "2508LK"),
    DemoInfusion("lpc_office", 10, "6.0", time(9, 40), 63, "2510OF", override="site_of_care"),
)

OVERRIDE_REASON = (
    "AAV9 titer <1:25 drawn 17 days before; the payer's 14-day currency rule is not in the label "
    "and maternal antibodies only decline. Clinically stable; delaying risks motor-neuron loss."
)
# The physician's sign-off against the gate for each kind of demo gate override (issue 15 item 2).
SIGN_OFF_OVERRIDES = {
    "titer": OverrideInput(
        reason_code="clinical_urgency",
        reason_label=dict(SIGN_OFF_REASONS)["clinical_urgency"],
        explanation="Weakness progressing this week; waiting for a new titer risks more motor-neuron loss.",
    ),
    "site_of_care": OverrideInput(
        reason_code="other",
        reason_label=dict(SIGN_OFF_REASONS)["other"],
        explanation="Family cannot reach the hospital unit this month; the office has pump, monitoring and resuscitation cover.",
    ),
}
SITE_OVERRIDE_REASON = (
    "Family cannot reach the hospital infusion unit this month; the clinic office has the pump, monitoring "
    "and resuscitation cover. Billing warned the payer's site-of-care policy may refuse the claim."
)


def _weight(case, on: date, fallback: str) -> Decimal:
    weight = case.weights.filter(measured_on__lte=on).order_by("-measured_on", "-pk").first()
    return weight.kg if weight else Decimal(fallback)


def _at(site, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(site.timezone))


def _users(ctx, case):
    nch = case.site.short_code == "NCH"
    physician = ctx.users.get("physician" if nch else "physician2")
    coordinator = ctx.users.get("coordinator" if nch else "outsider") or physician
    return physician, coordinator


def _record(case, spec: DemoInfusion, on: date, coordinator) -> InfusionRecord:
    weight = _weight(case, on, spec.weight_kg)
    kit = kit_for_weight(weight) or kit_for_weight(spec.weight_kg)  # a weight outside the kits: use the story's
    if kit_for_weight(weight) is None:
        weight = Decimal(spec.weight_kg)
    stop = (datetime.combine(on, spec.start) + timedelta(minutes=spec.minutes)).time()
    record = InfusionRecord.objects.create(
        case=case,
        infused_on=on,
        weight_kg=weight,
        steroid_started_on=on - timedelta(days=1),
        steroid_started_at=time(8, 0),
        steroid_mg=prednisolone_mg_per_day(weight),
        steroid_confirmed=True,
        kit_ndc=kit.kit_ndc,
        total_volume_ml=kit.dose_volume_ml,
        syringe_pump="Medfusion 4000 syringe pump, asset SP-0412",
        catheter="24G peripheral IV, left saphenous; back-up 24G right hand",
        started_at=spec.start,
        stopped_at=stop,
        adverse_events=spec.adverse_events,
        administered_by="Jordan Rivera, RN" if case.site.short_code == "NCH" else "Sam Okafor, RN",
        entered_by=coordinator,
    )
    sizes = ["5.5"] * kit.vials_5_5 + ["8.3"] * kit.vials_8_3
    expiry = on + timedelta(days=150)
    InfusionVial.objects.bulk_create(
        InfusionVial(
            record=record,
            position=i,
            size_ml=size,
            lot_number=f"{spec.lot_prefix}{'55' if size == '5.5' else '83'}{i:02d}",
            expires_on=expiry,
        )
        for i, size in enumerate(sizes, start=1)
    )
    InfusionPause.objects.bulk_create(
        InfusionPause(record=record, position=i, started_at=start, resumed_at=end, reason=why)
        for i, (start, end, why) in enumerate(spec.pauses, start=1)
    )
    return record


def _override(case, on: date, physician, gate_id: str) -> str:
    if gate_id == "titer":
        title = "Anti-AAV9 antibody titer ≤ 1:50, drawn within 14 days"
        detail = f"<1:25 drawn {(on - timedelta(days=17)).isoformat()}; stale (drawn 17 days before)"
        reason = OVERRIDE_REASON
    else:
        title = "Site of care allowed"
        detail = "POS 11 (Office) is not among the payer's allowed places of service (21, 22, 19)"
        reason = SITE_OVERRIDE_REASON
    GateOverride.objects.get_or_create(
        case=case,
        gate_id=gate_id,
        defaults=dict(
            gate_title=title,
            detail_at_override=detail,
            judged_on=on,
            reason=reason,
            by=physician,
            by_name=physician.get_full_name() or physician.get_username(),
            at=_at(case.site, on - timedelta(days=1), time(16, 30)),
        ),
    )
    return title


def _amend(record: InfusionRecord, coordinator) -> None:
    vial = record.vials.order_by("position")[1]
    old = vial.lot_number
    new = old[:-2] + "12"

    def apply(locked):
        target = locked.vials.get(pk=vial.pk)
        target.lot_number = new
        target.save()  # a save, so the audit trail has the change

    amendment_add(
        record=record,
        field=f"vial-{vial.position}-lot_number",
        label=f"Vial {vial.position} lot number",
        old=old,
        new=new,
        apply=apply,
        reason="Lot number transposed at entry; corrected from the vial label kept with the pharmacy log.",
        by=coordinator,
    )


def seed(ctx) -> None:
    _schedule_ready(ctx)
    cases = ctx.extra.get("cases") or {}
    for spec in DEMO_INFUSIONS:
        case = cases.get(spec.key)
        if case is None or InfusionRecord.objects.filter(case=case).exists():
            continue
        physician, coordinator = _users(ctx, case)
        if physician is None:
            continue
        # Infused on the planned date the intake scenario gave the case (demo/cases.py), so the
        # gate judged for the infusion day reads the facts the scenario dated before it.
        on = case.planned_infusion_date or ctx.today - timedelta(days=spec.days_ago)
        overridden = (_override(case, on, physician, spec.override),) if spec.override else ()
        # The physician's check the day before (label §5: no active infection, clinically stable).
        clinical_check_add(
            case=case,
            checked_on=on - timedelta(days=1),
            no_active_infection=True,
            clinically_stable=True,
            notes="Afebrile, feeding well",
            by=physician,
        )
        record = _record(case, spec, on, coordinator)
        signed_at = _at(case.site, on, (datetime.combine(on, record.stopped_at) + timedelta(minutes=25)).time())
        # Signed against the gate: the physician's explicit sign-off override (issue 15 item 2).
        override = SIGN_OFF_OVERRIDES[spec.override] if overridden else None
        infusion_sign(
            record=record,
            version=record.version,
            by=physician,
            today=ctx.today,
            at=signed_at,
            overridden=overridden,
            override=override,
        )
        if spec.amendment:
            _amend(record, coordinator)


def _schedule_ready(ctx) -> None:
    """The "ready" case: PA approved and every gate passing, so its infusion is confirmed."""

    case = (ctx.extra.get("cases") or {}).get("ready")
    if case is None:
        return
    case.refresh_from_db()
    if case.stage == Stage.PA_APPROVED:
        case_advance(case=case, to=Stage.SCHEDULED, by=ctx.users.get("coordinator"), note="Demo: infusion confirmed")
