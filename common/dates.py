"""Dates in a site's own time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils import timezone

from common.wording import day_text


def local_today(tz_name: str, now: datetime) -> date:
    """The calendar date at ``now`` in the time zone ``tz_name`` (e.g. a site's)."""
    return timezone.localtime(now, ZoneInfo(tz_name)).date()


# --- Sane ranges for the dates people type (issue 13 item 7) ------------------------------------
# A far-future planned infusion date (9999-12-31) was accepted and then overflowed date
# arithmetic on the case page; 0001-01-01 was accepted as a date of birth. Each form field
# bounds its date by what it means; these are the shared bounds.
#
# Zolgensma was approved and launched on 24 May 2019 (docs/domain.md §11.17) for children under
# two: no child born more than two years before that could have been treated, and no prior
# authorization, price or enrollment for it predates it. Follow-up runs five years after the
# infusion, so a child born in 2017 may still have records being edited in 2026: the birth
# floor is the approval date minus two years, never "today minus N".
PRODUCT_APPROVED_ON = date(2019, 5, 24)
EARLIEST_BIRTH = date(2017, 5, 24)
# A plan (an infusion date, a steroid start, a PA's validity) reaches at most about two years
# ahead; a vial's expiry or a PA's end at most five.
PLAN_AHEAD_DAYS = 731
EXPIRY_AHEAD_DAYS = 5 * 366


def range_problem(value: date | None, *, what: str, earliest: date | None = None, latest: date | None = None):
    """Why ``value`` is outside [earliest, latest], as a sentence for the field; None if inside."""
    if value is None:
        return None
    if earliest is not None and value < earliest:
        return f"{what} ({day_text(value)}) is before {day_text(earliest)}; check the year."
    if latest is not None and value > latest:
        return f"{what} ({day_text(value)}) is after {day_text(latest)}; check the year."
    return None


def days_ahead(today: date, days: int) -> date:
    return today + timedelta(days=days)


def validate_time_zone(name: str) -> None:
    """Refuse a time zone the server's tz database does not know ("US/Centrall"): a site's
    zone drives its due dates and every time on its screens."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"“{name}” is not a time zone name; use an IANA name such as America/New_York or America/Chicago."
        ) from None
