"""Template filters for the one vocabulary (common/wording.py): ``{{ line|plain }}`` writes a
rule's or a record's text with dates in words and ≤ / ≥; ``{{ moment|moment }}`` a date and time."""

from __future__ import annotations

from django import template

from common import wording

register = template.Library()


@register.filter
def plain(text) -> str:
    return "" if text is None else wording.plain(text)


@register.filter
def moment(value) -> str:
    return "" if value in (None, "") else wording.moment_text(value)


@register.filter
def zone_on(day, tz_name) -> str:
    """The zone abbreviation ("EST", "EDT") of ``tz_name`` on ``day``, for wall-clock times
    recorded without a zone (the infusion's start and stop): ``{{ record.infused_on|zone_on:case.site.timezone }}``."""
    return wording.zone_on(day, tz_name)
