"""Template filters for text a payer reads: ``typeset`` prints 5x10^15 as 5 × 10¹⁵ (common/typeset.py)."""

from __future__ import annotations

from django import template

from common.typeset import typeset_numbers

register = template.Library()


@register.filter
def typeset(value) -> str:
    """Typeset powers of ten in ``value`` (autoescaping still applies: the result is plain text)."""
    return typeset_numbers("" if value is None else str(value))
