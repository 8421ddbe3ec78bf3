"""Shared set-up for monitoring tests: an infused case with its schedule and baseline labs."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from cases.models import BaselineLab, WeightMeasurement
from monitoring.models import Draw
from monitoring.workflows import schedule_create

NEW_YORK = ZoneInfo("America/New_York")

LIVER_NORMAL = {"alt": "30", "ast": "40", "tbili": "0.5", "pt": "12"}
LIVER_ULN = {"alt": "60", "ast": "60", "tbili": "1.0", "pt": "14"}


def at(day: date, hour: int = 10) -> datetime:
    """An aware local time at the default site (America/New_York)."""
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK)


def infuse(case, infused_on: date, *, weight: str = "5.00", baseline: dict | None = None) -> list[Draw]:
    """Give ``case`` a weight, baseline labs and the schedule for an infusion on ``infused_on``."""
    WeightMeasurement.objects.create(case=case, measured_on=infused_on, kg=Decimal(weight))
    for analyte, (value, unit) in (baseline or {"platelets": ("300", "10^9/L"), "troponin_i": ("20", "ng/L")}).items():
        BaselineLab.objects.create(
            case=case,
            drawn_on=infused_on,
            analyte=analyte,
            value=Decimal(value),
            unit=unit,
            value_canonical=Decimal(value),
            canonical_unit=unit,
        )
    case.infused_on = infused_on
    case.stage = "monitoring"
    case.save()
    return schedule_create(case=case, infused_on=infused_on, today=infused_on)


def draw(case, kind: str, day: int) -> Draw:
    return Draw.objects.get(case=case, kind=kind, day=day)


def liver_post(values: dict | None = None, uln: dict | None = None, collected: datetime | None = None, **extra) -> dict:
    """POST data for a liver draw."""
    values = {**LIVER_NORMAL, **(values or {})}
    uln = {**LIVER_ULN, **(uln or {})}
    data = {"collected_at": collected.strftime("%Y-%m-%dT%H:%M") if collected else ""}
    units = {"alt": "U/L", "ast": "U/L", "tbili": "mg/dL", "pt": "s"}
    for analyte in ("alt", "ast", "tbili", "pt"):
        data[f"{analyte}_value"] = values[analyte]
        data[f"{analyte}_unit"] = units[analyte]
        data[f"{analyte}_uln"] = uln[analyte]
    data.update(extra)
    return data


def frozen(day: date, hour: int = 12):
    """time_machine travel to ``day`` at ``hour`` New York time, not ticking."""
    return time_machine.travel(at(day, hour), tick=False)
