"""``typeset``: text a user or payer reads, with ≤, ≥, ×, −1 and powers of ten (common/typeset.py)."""

from __future__ import annotations

from django import template

from common.typeset import typeset_text

register = template.Library()


@register.filter
def typeset(value) -> str:
    """Typeset ``value`` (autoescaping still applies: the result is plain text)."""
    return typeset_text("" if value is None else str(value))
