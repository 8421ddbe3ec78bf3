"""The one way screens, e-mails and calendars write dates and comparison signs.

Dates read "3 Dec 2026" (and "3 Dec 2026, 14:05 EST" with a time, which always names its
zone): the same style as the templates' ``|date`` (config/formats/en/formats.py sets
DATE_FORMAT and DATETIME_FORMAT to match). Rule modules
write ISO dates (2026-12-03) and plain ASCII signs; ``plain`` turns a rule's line into the
screen's words. CSV files and downloads keep ISO 8601.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from common.typeset import typeset_numbers

_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_SIGNS = (("<=", "≤"), (">=", "≥"), ("=<", "≤"), ("=>", "≥"))
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: date) -> str:
    """Return "3 Dec 2026" (a datetime is read as its local calendar day)."""
    if isinstance(day, datetime):
        day = timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def moment_text(moment: datetime, tz=None) -> str:
    """Return "3 Dec 2026, 14:05 EST" in ``tz`` (default: the current time zone)."""
    local = timezone.localtime(moment, tz) if timezone.is_aware(moment) else moment
    return f"{day_text(local.date())}, {local:%H:%M %Z}".rstrip()


def dates_in_words(text: str) -> str:
    """Replace the ISO dates (2026-12-12) in a line with "12 Dec 2026"."""

    def sub(match: re.Match) -> str:
        try:
            return day_text(date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:
            return match[0]

    return _ISO.sub(sub, text)


def signs(text: str) -> str:
    """Write "<=" and ">=" as "≤" and "≥"."""
    for ascii_sign, sign in _SIGNS:
        text = text.replace(ascii_sign, sign)
    return text


def plain(text: str) -> str:
    """A rule's or a record's line in the screen's words: dates in words, one set of signs,
    powers of ten typeset (20 × 10⁹/L, not 20 × 10^9/L)."""
    return signs(dates_in_words(typeset_numbers(str(text))))


def zone_on(day: date | None, tz_name: str | None) -> str:
    """The abbreviation of time zone ``tz_name`` at noon on ``day`` ("EST" in winter, "EDT" in
    summer): wall-clock times stored without a zone (a TimeField) name it this way."""
    if day is None or not tz_name:
        return ""
    try:
        zone = ZoneInfo(tz_name)
    except (ValueError, ZoneInfoNotFoundError):
        return ""
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone).tzname() or ""
