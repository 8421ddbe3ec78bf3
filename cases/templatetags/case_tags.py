"""Template filters for the case pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

register = template.Library()

STATUS_BADGES = {
    "pass": ("text-bg-success", "Pass"),
    "fail": ("text-bg-danger", "Fail"),
    "missing": ("text-bg-danger", "Missing"),
    "warning": ("text-bg-warning", "Warning"),
}


@register.filter
def num(value) -> str:
    """Write a Decimal without trailing zeros: 0.250 -> 0.25, 300.000 -> 300."""
    if value is None or value == "":
        return ""
    try:
        return format(Decimal(value).normalize(), "f")
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, ("text-bg-secondary", status))[0]


@register.filter
def status_label(status: str) -> str:
    return STATUS_BADGES.get(status, ("", status.title()))[1]


@register.filter
def age_on(dob, day=None) -> str:
    """Return the child's age as "4 months" / "23 days" on ``day`` (default today)."""
    day = day or timezone.localdate()
    months = (day.year - dob.year) * 12 + day.month - dob.month - (1 if day.day < dob.day else 0)
    if months < 1:
        return f"{(day - dob).days} days"
    if months < 24:
        return f"{months} months"
    return f"{months // 12} years {months % 12} months"
