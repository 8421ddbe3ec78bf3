"""Calendar export: hand-written iCalendar (RFC 5545) for a family and for a coordinator.

Lines end in CRLF and are folded at 75 octets (RFC 5545 §3.1); TEXT values escape backslash,
semicolon, comma and newline (§3.3.11). Events are all-day on the due date, with the window in
the description. Titles carry at most the patient's initials (PHI rule, BRIEF.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from common.wording import day_text
from monitoring.kinds import KIND_DETAILS, kind_label


@dataclass(frozen=True)
class Event:
    uid: str
    on: date
    summary: str
    description: str


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a UTF-8 character;
    continuation lines start with one space (RFC 5545 §3.1)."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = 75 if not out else 74  # the leading space of a continuation counts
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def render(name: str, events: Iterable[Event], now: datetime | None = None) -> str:
    """A VCALENDAR with one all-day VEVENT per event."""
    stamp_text = (now or timezone.now()).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//GeneGate//Monitoring schedule//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp_text}",
            f"DTSTART;VALUE=DATE:{event.on:%Y%m%d}",
            f"DTEND;VALUE=DATE:{event.on + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape_text(event.summary)}",
            f"DESCRIPTION:{escape_text(event.description)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def draw_event(draw, initials: str = "") -> Event:
    """A draw for a family's or a coordinator's calendar: what is checked and when, in plain
    words (no protocol citations: the schedule page carries those)."""
    label = KIND_DETAILS.get(draw.kind, kind_label(draw.kind))
    prefix = f"{initials} · " if initials else ""
    extension = (
        " This is an extra check: the previous results were not yet back to normal." if draw.is_extension else ""
    )
    return Event(
        uid=f"draw-{draw.pk}@genegate",
        on=draw.due_on,
        summary=f"{prefix}{label}, day {draw.day}",
        description=(
            f"Due {day_text(draw.due_on)}; on time from {day_text(draw.window_opens)} "
            f"to {day_text(draw.window_closes)}.{extension}"
        ),
    )


def milestone_event(milestone, initials: str = "") -> Event:
    prefix = f"{initials} · " if initials else ""
    return Event(
        uid=f"milestone-{milestone.pk}@genegate",
        on=milestone.due_on,
        summary=f"{prefix}{milestone.month}-month outcome assessment",
        description=(
            f"Motor milestone assessment; window {day_text(milestone.window_opens)} "
            f"to {day_text(milestone.window_closes)}."
        ),
    )
