"""The benchmark behind `python manage.py bench` (and `make bench`).

Figures are measured side by side in one run at two data sizes, each with its ratio, so a
reader compares like with like on the same machine. Nothing here asserts: it prints figures.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext


@dataclass
class Timing:
    median_ms: float
    p95_ms: float
    queries: int
    status: int

    def as_dict(self) -> dict:
        return {
            "median_ms": round(self.median_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "queries": self.queries,
            "status": self.status,
        }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def time_request(
    client: Client,
    method: str,
    path: str,
    runs: int = 30,
    warmup: int = 3,
    before: Callable[[], object] | None = None,
) -> Timing:
    """Median and p95 of ``runs`` requests after ``warmup``; queries of one request.
    ``before`` runs ahead of each request, untimed (e.g. to empty a cache)."""
    call = getattr(client, method)
    for _ in range(warmup):
        call(path)
    if before:
        before()
    with CaptureQueriesContext(connection) as ctx:
        response = call(path)
    queries = len(ctx.captured_queries)  # read now: the list is a view that reset_queries empties
    durations = []
    gc.collect()
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        call(path)
        durations.append((time.perf_counter() - start) * 1000)
    reset_queries()
    return Timing(statistics.median(durations), percentile(durations, 95), queries, response.status_code)


def time_call(func: Callable[[], object], runs: int = 5) -> tuple[float, int]:
    """Median seconds of ``func`` over ``runs`` and the queries of the last run."""
    durations = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            func()
            durations.append(time.perf_counter() - start)
        queries = len(ctx.captured_queries)
    return statistics.median(durations), queries


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None
