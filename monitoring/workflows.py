"""Monitoring workflows across models: the protocol in force, creating a case's schedule, and
keeping each draw's stored state and next state change current."""

from __future__ import annotations

import dataclasses
from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from monitoring.models import Draw, ProtocolVersion
from monitoring.protocol import PROTOCOL_V1, Phase, Protocol, ProtocolRow
from monitoring.schedule import draw_state, next_change_at, planned_draws


def protocol_in_force() -> ProtocolVersion:
    """The protocol version new schedules use; PROTOCOL_V1 is stored on first use."""
    current = ProtocolVersion.objects.filter(in_force=True).order_by("-created_at").first()
    if current is not None:
        return current
    version, _ = ProtocolVersion.objects.get_or_create(
        version=PROTOCOL_V1.version,
        defaults={
            "rows": [dataclasses.asdict(row) for row in PROTOCOL_V1.rows],
            "window_days": PROTOCOL_V1.window_days,
            "grace_days": PROTOCOL_V1.grace_days,
            "source": "; ".join(row.source for row in PROTOCOL_V1.rows),
            "in_force": True,
        },
    )
    return version


def protocol_from_version(version: ProtocolVersion) -> Protocol:
    """Rebuild the plain Protocol a stored version describes."""
    rows = []
    for data in version.rows:
        data = dict(data)
        data["analytes"] = tuple(data["analytes"])
        data["days"] = tuple(data["days"])
        data["phases"] = tuple(Phase(**p) for p in data["phases"])
        rows.append(ProtocolRow(**data))
    return dataclasses.replace(
        PROTOCOL_V1,
        version=version.version,
        rows=tuple(rows),
        window_days=version.window_days,
        grace_days=version.grace_days,
    )


def apply_state(draw: Draw, today: date) -> None:
    """Set draw.state and draw.next_change_at for ``today`` (not saved)."""
    state = draw_state(
        draw.window_opens,
        draw.window_closes,
        draw.protocol.grace_days,
        today,
        done=draw.state == "done",
        missed=draw.state == "missed",
        snoozed_until=draw.snoozed_until,
    )
    draw.state = state.state
    draw.next_change_at = next_change_at(state.next_change_on, ZoneInfo(draw.site.timezone))


@transaction.atomic
def schedule_create(*, case, infused_on: date, today: date | None = None) -> list[Draw]:
    """Create the case's post-infusion draws from the protocol in force (idempotent).

    1. Take the protocol version in force; the case keeps it for all its draws.
    2. Plan every draw from the infusion date (monitoring.schedule.planned_draws).
    3. Store each with its state and next state change for today.
    """
    today = today or timezone.localdate()
    version = protocol_in_force()
    protocol = protocol_from_version(version)
    existing = set(Draw.objects.filter(case=case).values_list("kind", "day"))
    draws = []
    for planned in planned_draws(infused_on, protocol):
        if (planned.kind, planned.day) in existing:
            continue
        draw = Draw(
            case=case,
            site=case.site,
            protocol=version,
            kind=planned.kind,
            day=planned.day,
            analytes=list(planned.analytes),
            reason=planned.reason,
            due_on=planned.due_on,
            window_opens=planned.window_opens,
            window_closes=planned.window_closes,
        )
        apply_state(draw, today)
        draws.append(draw)
    Draw.objects.bulk_create(draws)
    return draws
