"""Building blocks for the reminder tests: draws at chosen dates, a fixed clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitoring.models import Draw, Flag, Milestone
from monitoring.workflows import apply_state, protocol_in_force

NY = ZoneInfo("America/New_York")
TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=NY)  # mid-morning at site A (America/New_York)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 30, tzinfo=NY)


def make_draw(case, *, due_on: date, kind: str = "liver", day: int = 21, window: int = 2, state: str | None = None):
    """A draw of ``case`` due on ``due_on`` with a ±``window`` day window; state from the dates
    on TODAY unless given."""
    draw = Draw(
        case=case,
        site=case.site,
        protocol=protocol_in_force(),
        kind=kind,
        day=day,
        analytes=["alt", "ast", "tbili", "pt"] if kind == "liver" else [],
        reason="Label §5.1: weekly LFTs in month 1",
        due_on=due_on,
        window_opens=due_on - timedelta(days=window),
        window_closes=due_on + timedelta(days=window),
    )
    apply_state(draw, TODAY)
    if state:
        draw.state = state
    draw.save()
    return draw


def overdue_due_on(today: date = TODAY) -> date:
    """A due date whose draw is overdue on ``today`` (window 2, grace 2: overdue from due+5)."""
    return today - timedelta(days=5)


def late_due_on(today: date = TODAY) -> date:
    """A due date whose draw is late (window closed, grace running) on ``today``."""
    return today - timedelta(days=3)


def make_milestone(case, *, due_on: date, month: int = 6):
    return Milestone.objects.create(
        case=case,
        site=case.site,
        month=month,
        due_on=due_on,
        window_opens=due_on - timedelta(days=30),
        window_closes=due_on + timedelta(days=30),
        state="due",
    )


def make_flag(case, draw=None, level: str = "urgent"):
    return Flag.objects.create(
        case=case,
        site=case.site,
        draw=draw,
        code="platelets_low",
        level=level,
        analyte="platelets",
        message="Platelets below 50 ×10⁹/L: evaluate for TMA (label §5)",
        source="label §5",
        raised_at=NOW - timedelta(minutes=3),
    )


def point_celery_at(url: str) -> str:
    """Send this process's Celery publishes to ``url``; return the previous broker URL."""
    from kombu import pools

    from config.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = url
    pools.reset()  # kombu's shared connection and producer pools hold the old URL
    app._pool = None
    app.amqp._producer_pool = None
    return old
