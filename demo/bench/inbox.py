"""The results inbox's throughput for `manage.py bench` (issue 19 item 8): ORU^R01 messages per
second parsed, matched, stored and flagged, on the bulk data of `seed_bulk` (10,000 cases).

Each message is a synthetic liver panel (no real patient data) for a different synthetic case,
collected on the due day of one of its liver draws (before day 84) whose window has closed, addressed to the
case's site (MSH-6) with the patient's MRN, birth date and family name. Every tenth message
carries an ALT at 2.2×ULN (a taper-blocked flag) and every fiftieth one at 21×ULN (an urgent
flag and its alert), so the flag path is exercised, not only the quiet one.

The messages go through monitoring.inbox.workflows.receive_hl7_batch, the listener's own entry
point, in batches of ``batch`` (the frames that arrive together on one MLLP connection): stored
raw, parsed by python-hl7, matched to patient and draw, recorded through
monitoring.workflows.results_record and flagged, each batch in its own transaction. The time is
end to end (bytes in, outcomes out). ``processes`` > 1 runs that many worker processes side by
side, each with its own database connection and its share of the batches (as the listener's
``--workers``); the figure is all messages over the wall-clock time of all of them.

Queries are counted per batch on batches not timed (counting slows them): two batches of the
same size must cost the same, and a bigger batch no more. A figure, not an assertion.

Run by `manage.py bench` after the largest size is seeded; nothing here asserts.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from datetime import datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case
from monitoring.inbox.models import InboxMessage, InboxStatus
from monitoring.inbox.workflows import receive_hl7_batch
from monitoring.models import Draw, DrawState, Result

NORMAL_ALT, HIGH_ALT, URGENT_ALT = "45", "130", "1300"  # ULN 60: 0.75×, 2.2×, 21.7×
# Draws before the liver row's last protocol day: every message takes the same path. From that
# day on, a result also judges the extension (monitoring.workflows.extension_plan), a few more
# queries on those messages only.
LAST_LIVER_DAY = 84
DEFAULT_BATCH = 50
DEFAULT_PROCESSES = 2  # the machine's two cores; PostgreSQL shares them


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


def _backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend process (it runs on this
    machine, bench.sh's throw-away server), or None where /proc does not show it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _run(batches: list[list[bytes]]) -> tuple[list[float], dict[str, int]]:
    """Send each batch through receive_hl7_batch; its seconds and the messages' statuses, and
    the CPU seconds this process and its PostgreSQL backend spent (under "cpu")."""
    seconds, statuses = [], {}
    cpu, backend = time.process_time(), _backend_cpu()
    for batch in batches:
        t0 = time.perf_counter()
        outcomes = receive_hl7_batch(batch)
        seconds.append(time.perf_counter() - t0)
        for outcome in outcomes:
            key = outcome.message.status if outcome.message else "none"
            statuses[key] = statuses.get(key, 0) + 1
    after = _backend_cpu()
    statuses["cpu"] = {
        "python": time.process_time() - cpu,
        "postgresql": None if backend is None or after is None else after - backend,
    }
    return seconds, statuses


def _worker(batches, results) -> None:
    connections.close_all()  # the parent's connection is not this process's: open its own
    try:
        results.put(_run(batches))
    finally:
        connections.close_all()


def _parallel(batches: list[list[bytes]], processes: int) -> tuple[list[float], dict[str, int]]:
    """The batches shared out to ``processes`` forked workers (round robin), all started together."""
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(batches[i::processes], results)) for i in range(processes)]
    for worker in workers:
        worker.start()
    seconds, statuses = [], {"cpu": {"python": 0.0, "postgresql": 0.0}}
    for _ in workers:
        s, st = results.get()
        seconds += s
        for side, used in st.pop("cpu").items():
            total = statuses["cpu"][side]
            statuses["cpu"][side] = None if total is None or used is None else total + used
        for key, n in st.items():
            statuses[key] = statuses.get(key, 0) + n
    for worker in workers:
        worker.join()
    return seconds, statuses


def _queries(batch: list[bytes]) -> int:
    with CaptureQueriesContext(connection) as captured:
        receive_hl7_batch(batch)
    return len(captured.captured_queries)


def bench_inbox(count: int = 1000, batch: int = DEFAULT_BATCH, processes: int = DEFAULT_PROCESSES) -> dict:
    """Send ``count`` messages through receive_hl7_batch in batches of ``batch`` from
    ``processes`` processes and report messages per second, per-batch latency and queries per
    batch (equal for like batches, no more for a bigger one: constant per message)."""
    messages = _messages(count)
    if len(messages) < 3 * batch:
        return {"skipped": "too few synthetic cases with a closed liver window (seed_bulk first, on PostgreSQL)"}
    receive_hl7_batch(messages[:batch])  # warm-up, not measured: what every process loads once
    small = min(batch, 10)  # ten messages: one of them flagged, as in every batch of ten or more
    counted = messages[batch : 3 * batch + small]
    queries = {
        f"batch_of_{batch}": _queries(counted[:batch]),
        f"batch_of_{batch}_again": _queries(counted[batch : 2 * batch]),
        f"batch_of_{small}": _queries(counted[2 * batch :]),
    }
    timed = messages[3 * batch + small :]
    batches = [timed[i : i + batch] for i in range(0, len(timed), batch)]
    started = time.perf_counter()
    if processes > 1:
        seconds, statuses = _parallel(batches, processes)
    else:
        seconds, statuses = _run(batches)
    elapsed = time.perf_counter() - started
    sent = len(timed)
    ordered = sorted(seconds)
    cpu = statuses.pop("cpu")
    python_ms = cpu["python"] * 1000 / sent
    postgresql_ms = None if cpu["postgresql"] is None else cpu["postgresql"] * 1000 / sent
    return {
        "cases": Case.objects.count(),
        "messages": sent,
        "batch_size": batch,
        "processes": processes,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(elapsed, 2),
        "messages_per_second": round(sent / elapsed, 1),
        "batch_median_ms": round(statistics.median(seconds) * 1000, 1),
        "batch_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        # CPU per message, which the other work on a shared machine does not change: the
        # Python side (parse, match, record, flag, audit) and the PostgreSQL backends serving it.
        # All cores busy with nothing else would give about cpus × 1000 / (their sum) messages
        # a second (an estimate: it leaves out PostgreSQL's own background writers).
        "cpu_ms_per_message": {
            "python": round(python_ms, 2),
            "postgresql": None if postgresql_ms is None else round(postgresql_ms, 2),
        },
        "messages_per_second_if_the_cores_were_free": None
        if postgresql_ms is None
        else round((os.cpu_count() or 1) * 1000 / (python_ms + postgresql_ms), 1),
        "queries_per_batch": queries,
        "queries_per_message": round(queries[f"batch_of_{batch}"] / batch, 2),
        "statuses": statuses,
        "all_processed": statuses.get(InboxStatus.PROCESSED, 0) == sent,
        "stored": InboxMessage.objects.filter(control_id__startswith="BENCH-").count(),
    }
