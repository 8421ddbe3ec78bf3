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
