"""Infusion-day rules over plain values: duration, what a record refuses, warns about and lacks.

No ORM, no request: the record form, the amendment form and the signing workflow all judge a
record through ``check_record`` so that they agree. Each rule names its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from cases.dosing import Kit, kit_for_weight, prednisolone_mg_per_day, round_weight
from cases.label import STEROID_START_DAY, VIAL_SIZES_ML, WEIGHT_MAX_KG, WEIGHT_MIN_KG

# Label §2.1 (docs/domain.md §1): "slow infusion over about 60 minutes", not a push.
SLOW_INFUSION_MINUTES = 60
# The prednisolone dose entered may differ from 1 mg/kg/day by rounding to a measurable oral
# dose; more than 10 % off is worth a second look. The tolerance is this product's, not the label's.
STEROID_DOSE_TOLERANCE = Decimal("0.10")
VIAL_5_5 = VIAL_SIZES_ML[0]
VIAL_8_3 = VIAL_SIZES_ML[1]


def duration_minutes(started_at: time, stopped_at: time) -> int:
    """Return whole minutes from start to stop on the same day (negative when stop is earlier)."""
    day = date(2000, 1, 1)
    delta = datetime.combine(day, stopped_at) - datetime.combine(day, started_at)
    return int(delta // timedelta(minutes=1))


def paused_minutes(pauses) -> int:
    """Return the whole minutes the pump was stopped, summed over well-formed pauses."""
    total = 0
    for pause in pauses:
        if pause.started_at is not None and pause.resumed_at is not None:
            total += max(0, duration_minutes(pause.started_at, pause.resumed_at))
    return total


def actual_minutes(started_at: time | None, stopped_at: time | None, pauses=()) -> int | None:
    """Return the actual infusion time: stop − start − pauses, or None when unknown or not positive.

    CPT and Medicare count the time the infusion actually runs; time while it is stopped is
    excluded (docs/domain.md §13a "Infusion time", §6b).
    """
    if started_at is None or stopped_at is None:
        return None
    minutes = duration_minutes(started_at, stopped_at) - paused_minutes(pauses)
    return minutes if minutes > 0 else None


def normalize_ndc(text: str) -> str:
    """Return a label NDC without spaces, for comparison ("71894-120-02")."""
    return "".join(text.split())


@dataclass(frozen=True)
class VialValues:
    """One vial of the kit as entered: size, lot and expiry."""

    size_ml: Decimal | None
    lot_number: str
    expires_on: date | None


@dataclass(frozen=True)
class PauseValues:
    """One stop of the pump during the infusion: when it stopped, when it resumed, and why."""

    started_at: time | None
    resumed_at: time | None
    reason: str = ""


@dataclass(frozen=True)
class RecordValues:
    """An infusion record as plain values; any field but the date may still be missing."""

    infused_on: date
    weight_kg: Decimal | None = None
    steroid_started_on: date | None = None
    steroid_started_at: time | None = None
    steroid_mg: Decimal | None = None
    steroid_confirmed: bool = False
    kit_ndc: str = ""
    vials: tuple[VialValues, ...] = ()
    total_volume_ml: Decimal | None = None
    syringe_pump: str = ""
    catheter: str = ""
    started_at: time | None = None
    stopped_at: time | None = None
    adverse_events: str = ""
    administered_by: str = ""
    pauses: tuple[PauseValues, ...] = ()


@dataclass
class RecordCheck:
    """What ``check_record`` found: refused values by field, warnings, and what signing needs."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    kit: Kit | None = None
    duration: int | None = None  # actual infusion minutes: stop − start − pauses
    elapsed: int | None = None  # stop − start

    def refuse(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


def kit_words(kit: Kit) -> str:
    """Return e.g. "71894-124-04: 4 vials (2 × 5.5 mL, 2 × 8.3 mL)"."""
    return f"{kit.kit_ndc}: {kit.total_vials} vials ({kit.vials_5_5} × 5.5 mL, {kit.vials_8_3} × 8.3 mL)"


def _check_weight_and_kit(values: RecordValues, check: RecordCheck) -> None:
    if values.weight_kg is None:
        check.missing.append("weight on the day")
        return
    check.kit = kit_for_weight(values.weight_kg)
    ndc = normalize_ndc(values.kit_ndc)
    if check.kit is None:
        # docs/domain.md §1a: below 2.6 kg or above 21.0 kg there is no labeled kit.
        rounded = round_weight(values.weight_kg)
        message = f"There is no labeled kit for {rounded} kg (kits cover {WEIGHT_MIN_KG}-{WEIGHT_MAX_KG} kg)."
        if ndc:
            check.refuse("kit_ndc", message)
        check.missing.append("a labeled kit for the weight")
        return
    if not ndc:
        check.missing.append("kit NDC")
    elif ndc != check.kit.kit_ndc:
        # Label Table 1: the kit is set by the weight band; another kit is another dose.
        check.refuse(
            "kit_ndc",
            f"{ndc} is not the kit for {round_weight(values.weight_kg)} kg: band "
            f"{check.kit.band_label} uses {check.kit.kit_ndc}.",
        )


def _check_vials(values: RecordValues, check: RecordCheck) -> None:
    kit = check.kit
    for index, vial in enumerate(values.vials, start=1):
        if vial.expires_on is not None and vial.expires_on < values.infused_on:
            check.refuse(
                f"vial-{index}",
                f"Vial {index} (lot {vial.lot_number or '?'}) expired on {vial.expires_on.isoformat()}, "
                f"before the infusion date {values.infused_on.isoformat()}: do not use it.",
            )
        if not vial.lot_number or vial.expires_on is None or vial.size_ml is None:
            check.refuse(f"vial-{index}", f"Vial {index}: enter its size, lot number and expiry.")
    if not values.vials:
        check.missing.append("vial lot numbers and expiry dates")
        return
    if kit is None:
        return
    n55 = sum(1 for v in values.vials if v.size_ml == VIAL_5_5)
    n83 = sum(1 for v in values.vials if v.size_ml == VIAL_8_3)
    if (len(values.vials), n55, n83) != (kit.total_vials, kit.vials_5_5, kit.vials_8_3):
        # Label §3 / docs/domain.md §1a: each kit holds a fixed number of 5.5 and 8.3 mL vials.
        check.refuse(
            "vials",
            f"The kit {kit_words(kit)}; you entered {len(values.vials)} ({n55} × 5.5 mL, {n83} × 8.3 mL).",
        )


def _check_steroid(values: RecordValues, check: RecordCheck) -> None:
    # Label §2.1 (docs/domain.md §3): prednisolone 1 mg/kg/day starting the day before the infusion.
    if values.steroid_started_on is None or values.steroid_started_at is None or values.steroid_mg is None:
        check.missing.append("steroid start (date, time and dose)")
    elif not values.steroid_confirmed:
        check.missing.append("confirmation that the steroid was started")
    start = values.steroid_started_on
    if start is not None:
        if start > values.infused_on:
            check.refuse(
                "steroid_started_on",
                "The steroid must start before the infusion (label §2.1: the day before); "
                f"{start.isoformat()} is after {values.infused_on.isoformat()}.",
            )
        elif start != values.infused_on + timedelta(days=STEROID_START_DAY):
            day = (start - values.infused_on).days
            check.warnings.append(
                f"The steroid started on day {day:+d}; label §2.1 starts it on day −1 "
                f"({(values.infused_on + timedelta(days=STEROID_START_DAY)).isoformat()})."
            )
    if values.steroid_mg is not None:
        if values.steroid_mg <= 0:
            check.refuse("steroid_mg", "Enter the prednisolone dose in mg (more than 0).")
        elif values.weight_kg is not None:
            expected = prednisolone_mg_per_day(values.weight_kg)
            if abs(values.steroid_mg - expected) > expected * STEROID_DOSE_TOLERANCE:
                check.warnings.append(
                    f"Prednisolone {values.steroid_mg} mg/day differs from 1 mg/kg/day = {expected} mg "
                    f"for {round_weight(values.weight_kg)} kg (label §2.1)."
                )


def _check_pauses(values: RecordValues, elapsed: int | None, check: RecordCheck) -> bool:
    """Refuse a pause without both times or a reason, ending before it starts, outside the run,
    or overlapping another. Returns True when every pause is usable for the actual time."""
    ok = True
    spans: list[tuple[int, int, int]] = []
    for index, pause in enumerate(values.pauses, start=1):
        key = f"pause-{index}"
        if pause.started_at is None or pause.resumed_at is None:
            check.refuse(key, f"Pause {index}: enter the time the pump stopped and the time it resumed.")
            ok = False
            continue
        if not pause.reason.strip():
            check.refuse(key, f"Pause {index}: say why the infusion was paused.")
            ok = False
        length = duration_minutes(pause.started_at, pause.resumed_at)
        if length <= 0:
            check.refuse(
                key,
                f"Pause {index}: it resumed at {pause.resumed_at:%H:%M}, which is not after it stopped "
                f"at {pause.started_at:%H:%M}.",
            )
            ok = False
            continue
        if elapsed is not None:
            start = duration_minutes(values.started_at, pause.started_at)  # type: ignore[arg-type]
            if start < 0 or start + length > elapsed:
                check.refuse(
                    key,
                    f"Pause {index} ({pause.started_at:%H:%M}–{pause.resumed_at:%H:%M}) is outside the infusion "
                    f"{values.started_at:%H:%M}–{values.stopped_at:%H:%M}.",
                )
                ok = False
                continue
            spans.append((start, start + length, index))
    spans.sort()
    for (_s1, end1, i1), (s2, _e2, i2) in zip(spans, spans[1:], strict=False):
        if s2 < end1:
            check.refuse(f"pause-{i2}", f"Pause {i2} overlaps pause {i1}; enter each stop of the pump once.")
            ok = False
    return ok


def _check_times_and_volume(values: RecordValues, check: RecordCheck) -> None:
    elapsed = None
    if values.started_at is None or values.stopped_at is None:
        check.missing.append("infusion start and stop times")
        if values.pauses:
            _check_pauses(values, None, check)
    else:
        minutes = duration_minutes(values.started_at, values.stopped_at)
        if minutes <= 0:
            check.refuse(
                "stopped_at",
                f"The stop time {values.stopped_at:%H:%M} must be after the start time {values.started_at:%H:%M}.",
            )
            _check_pauses(values, None, check)
        else:
            elapsed = minutes
    if elapsed is not None and _check_pauses(values, elapsed, check):
        actual = elapsed - paused_minutes(values.pauses)
        if actual <= 0:
            check.refuse("stopped_at", "The pauses take up the whole infusion; check the times.")
        else:
            check.elapsed, check.duration = elapsed, actual
            paused = f" ({elapsed} minutes less {elapsed - actual} paused)" if actual != elapsed else ""
            if actual < SLOW_INFUSION_MINUTES:
                check.warnings.append(
                    f"The infusion ran {actual} minutes{paused}. Zolgensma must be a slow infusion over about "
                    "60 minutes on a syringe pump, not a push (label §2.1)."
                )
    if values.total_volume_ml is None:
        check.missing.append("total volume drawn")
    elif values.total_volume_ml <= 0:
        check.refuse("total_volume_ml", "Enter the volume drawn in mL (more than 0).")
    elif check.kit is not None:
        drawn = values.total_volume_ml.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if drawn != check.kit.dose_volume_ml:
            check.warnings.append(
                f"{values.total_volume_ml} mL was drawn; the dose volume for band {check.kit.band_label} "
                f"is {check.kit.dose_volume_ml} mL (label Table 1)."
            )


def check_record(values: RecordValues) -> RecordCheck:
    """Return what is refused, what warns and what is still missing before signing.

    1. Weight → kit (label Table 1, rounded to 0.1 kg); the kit NDC must be that kit's.
    2. Vials: none expired before the infusion date; count and sizes match the kit.
    3. Steroid: started before the infusion (day −1, label §2.1); dose near 1 mg/kg/day.
    4. Times: stop after start; pauses have both times and a reason, lie inside the run and do
       not overlap; the actual time (stop − start − pauses) under 60 minutes warns (label §2.1);
       the volume drawn is compared with the band's dose volume.
    5. Pump, catheter, adverse events and who administered are required to sign.
    """
    check = RecordCheck()
    _check_weight_and_kit(values, check)
    _check_vials(values, check)
    _check_steroid(values, check)
    _check_times_and_volume(values, check)
    for name, label in (
        ("syringe_pump", "syringe pump"),
        ("catheter", "catheter"),
        ("adverse_events", "adverse events (write “None” if none)"),
        ("administered_by", "who administered"),
    ):
        if not getattr(values, name).strip():
            check.missing.append(label)
    return check


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def vg_text(vg: Decimal) -> str:
    """Return vector genomes as the label prints them: Decimal("3.85e14") -> "3.85 × 10¹⁴"."""
    exponent = vg.adjusted()
    mantissa = (vg.scaleb(-exponent)).normalize()
    return f"{mantissa} × 10{str(exponent).translate(_SUPERSCRIPT)}"
