"""Dates in a site's own time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


def local_today(tz_name: str, now: datetime) -> date:
    """The calendar date at ``now`` in the time zone ``tz_name`` (e.g. a site's)."""
    return timezone.localtime(now, ZoneInfo(tz_name)).date()
