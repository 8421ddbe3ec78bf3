"""The results inbox's throughput for `manage.py bench` (issue 19 item 8): ORU^R01 messages per
second parsed, matched, stored and flagged, on the bulk data of `seed_bulk` (10,000 cases).

Each message is a synthetic liver panel (no real patient data) for a different synthetic case,
collected on the due day of one of its liver draws (before day 84) whose window has closed, addressed to the
case's site (MSH-6) with the patient's MRN, birth date and family name. Every tenth message
carries an ALT at 2.2×ULN (a taper-blocked flag) and every fiftieth one at 21×ULN (an urgent
flag and its alert), so the flag path is exercised, not only the quiet one. Each goes through
monitoring.inbox.workflows.receive_hl7, the listener's own entry point: stored raw, parsed by
python-hl7, matched to patient and draw, recorded through monitoring.workflows.results_record
and flagged. The queries of every message are counted; a figure, not an assertion.

Run by `manage.py bench` after the largest size is seeded; nothing here asserts.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case
from monitoring.inbox.models import InboxMessage, InboxStatus
from monitoring.inbox.workflows import receive_hl7
from monitoring.models import Draw, DrawState, Result

NORMAL_ALT, HIGH_ALT, URGENT_ALT = "45", "130", "1300"  # ULN 60: 0.75×, 2.2×, 21.7×
# Draws before the liver row's last protocol day: every message takes the same path. From that
# day on, a result also judges the extension (monitoring.workflows.extension_plan), a few more
# queries on those messages only.
LAST_LIVER_DAY = 84


def oru(*, control: str, facility: str, mrn: str, dob: str, family: str, when: datetime, alt: str) -> bytes:
    """One synthetic ORU^R01 liver panel (v2.5.1)."""
    ts = when.strftime("%Y%m%d%H%M")
    rows = [
        ("1742-6", "ALT", alt, "U/L", "10-60"),
        ("1920-8", "AST", "40", "U/L", "10-60"),
        ("1975-2", "Bilirubin total", "0.5", "mg/dL", "0.2-1.0"),
        ("5902-2", "PT", "12.5", "s", "10-14"),
    ]
    segments = [
        f"MSH|^~\\&|LIS|BENCHLAB|GENEGATE|{facility}|{ts}||ORU^R01^ORU_R01|{control}|P|2.5.1",
        f"PID|1||{mrn}^^^{facility}^MR||{family}^Synthetic||{dob}|F",
        f"OBR|1||ACC-{control}|24325-3^Hepatic function panel^LN|||{ts}",
    ]
    for i, (code, name, value, unit, ref) in enumerate(rows, start=1):
        segments.append(f"OBX|{i}|NM|{code}^{name}^LN||{value}|{unit}|{ref}||||F|||{ts}")
    return ("\r".join(segments) + "\r").encode("ascii")


def _kind(i: int) -> str:
    """What message ``i`` carries: "urgent" (ALT 21×ULN), "flagged" (2.2×ULN) or "quiet"."""
    return "urgent" if i % 50 == 49 else "flagged" if i % 10 == 9 else "quiet"


def _messages(count: int) -> list[bytes]:
    """``count`` messages, one per synthetic case with a closed, unrecorded liver window."""
    today = timezone.localdate()
    draws = (
        Draw.objects.filter(
            kind="liver",
            unscheduled=False,
            day__lt=LAST_LIVER_DAY,
            window_closes__lt=today,
            case__patient__mrn__startswith="SYN-",
        )
        .exclude(state=DrawState.MISSED)
        .exclude(pk__in=Result.objects.values("draw_id"))
        .select_related("case__patient", "site")
        .order_by("case_id", "-due_on")
        .distinct("case_id")[:count]
        if connection.vendor == "postgresql"
        else []
    )
    out = []
    stamp = timezone.now().strftime("%H%M%S")
    for i, draw in enumerate(draws):
        patient = draw.case.patient
        when = datetime.combine(draw.due_on, dtime(9, 30), tzinfo=ZoneInfo(draw.site.timezone))
        alt = {"urgent": URGENT_ALT, "flagged": HIGH_ALT, "quiet": NORMAL_ALT}[_kind(i)]
        out.append(
            oru(
                control=f"BENCH-{stamp}-{i:06d}",
                facility=draw.site.short_code,
                mrn=patient.mrn,
                dob=f"{patient.date_of_birth:%Y%m%d}",
                family="Patient",  # "Synthetic Patient 00042" (demo.bulk)
                when=when,
                alt=alt,
            )
        )
    return out


def bench_inbox(count: int = 1000) -> dict:
    """Send ``count`` messages through receive_hl7 one after another (one process, as one
    listener connection does) and report messages per second, per-message latency and queries
    per message by kind (min, max: equal when they do not grow with the data)."""
    messages = _messages(count)
    if not messages:
        return {"skipped": "no synthetic case with a closed liver window (seed_bulk first, on PostgreSQL)"}
    receive_hl7(messages[0])  # warm-up, not measured: the first message loads what every process loads once
    # Queries per message, counted on messages not timed (counting slows each down), by what the
    # message carries: a flag adds its insert and its alert; like messages cost the same.
    counted, timed = messages[1:61], messages[61:] or messages[1:]
    queries: dict[str, list[int]] = {}
    for i, data in enumerate(counted, start=1):
        with CaptureQueriesContext(connection) as captured:
            receive_hl7(data)
        queries.setdefault(_kind(i), []).append(len(captured.captured_queries))
    seconds, statuses = [], {}
    started = time.perf_counter()
    for data in timed:
        t0 = time.perf_counter()
        outcome = receive_hl7(data)
        seconds.append(time.perf_counter() - t0)
        key = outcome.message.status if outcome.message else "none"
        statuses[key] = statuses.get(key, 0) + 1
    elapsed = time.perf_counter() - started
    sent = len(timed)
    ordered = sorted(seconds)
    return {
        "cases": Case.objects.count(),
        "messages": sent,
        "seconds": round(elapsed, 2),
        "messages_per_second": round(sent / elapsed, 1),
        "median_ms": round(statistics.median(seconds) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "queries_per_message": {kind: {"min": min(n), "max": max(n)} for kind, n in sorted(queries.items())},
        "statuses": statuses,
        "all_processed": statuses.get(InboxStatus.PROCESSED, 0) == sent,
        "stored": InboxMessage.objects.filter(control_id__startswith="BENCH-").count(),
    }
