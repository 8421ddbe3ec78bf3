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


@dataclass
class Request:
    client: Client
    method: str
    path: str
    before: Callable[[], object] | None = None  # untimed, ahead of each request

    def __call__(self):
        return getattr(self.client, self.method)(self.path)


def time_requests(requests: dict[str, Request], runs: int = 30, warmup: int = 3) -> dict[str, Timing]:
    """Median and p95 of each request over ``runs`` rounds, the requests interleaved within a
    round, so that every figure and its ratio to another see the same machine: on a shared
    machine the speed drifts over seconds, and timing one page after another would put the
    drift into the ratios. Queries of one request each."""
    for request in requests.values():
        for _ in range(warmup):
            request()
    queries, statuses = {}, {}
    for name, request in requests.items():
        if request.before:
            request.before()
        with CaptureQueriesContext(connection) as ctx:
            statuses[name] = request().status_code
        queries[name] = len(ctx.captured_queries)  # read now: reset_queries empties the list
    durations: dict[str, list[float]] = {name: [] for name in requests}
    gc.collect()
    for _ in range(runs):
        for name, request in requests.items():
            if request.before:
                request.before()
            start = time.perf_counter()
            request()
            durations[name].append((time.perf_counter() - start) * 1000)
    reset_queries()
    return {
        name: Timing(statistics.median(d), percentile(d, 95), queries[name], statuses[name])
        for name, d in durations.items()
    }


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
