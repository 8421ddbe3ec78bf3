"""Benchmarks for reminders and the overdue-labs dashboard (wired into `manage.py bench` by
the integrator). Each function returns figures; none asserts: this is not a timed test.

Run on the data of `python manage.py seed_demo --cases 10000` (issue 7 item 7): the sweep
should take at most 3 queries and under 1 s, a rerun create nothing, and the dashboard's first
page render in under 150 ms median on PostgreSQL.
"""

from __future__ import annotations

import statistics
import time

from django.contrib.auth import get_user_model
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from cases.models import Case
from monitoring.models import Draw, Reminder
from monitoring.reminders.dashboard_views import dashboard
from monitoring.reminders.sweep import reminders_sweep


def _timed_sweep(now) -> dict:
    before = Reminder.objects.count()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = reminders_sweep(now=now)
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "queries": len(queries.captured_queries),
        "examined": result.examined,
        "offered": result.offered,
        "created": Reminder.objects.count() - before,
    }


def bench_sweep(*, now=None) -> dict:
    """Run the sweep twice at ``now``: the first inserts what is due, the rerun should insert
    nothing. Returns {"cases", "draws", "first": {...}, "rerun": {...}}."""
    now = now or timezone.now()
    return {
        "cases": Case.objects.count(),
        "draws": Draw.objects.count(),
        "first": _timed_sweep(now),
        "rerun": _timed_sweep(now),
    }


def _request(user, path: str = "/monitoring/dashboard/"):
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.htmx = HtmxDetails(request)
    return request


def bench_dashboard(*, user=None, runs: int = 20) -> dict:
    """Render the dashboard's first page ``runs`` times for ``user`` (default: the first active
    admin). Returns {"runs", "cold_ms", "median_ms", "p95_ms", "queries", "bytes"}; "queries"
    is of the last (warm) run, whose on-time rates come from the cache."""
    user = user or get_user_model().objects.filter(is_active=True, groups__name="admin").order_by("pk").first()
    if user is None:
        raise ValueError("bench_dashboard needs an admin or manager user (run seed_demo first)")
    timings, queries, size = [], 0, 0
    cache.clear()  # the first run is cold (on-time rates not cached yet)
    for _ in range(runs):
        user = get_user_model().objects.get(pk=user.pk)  # fresh: no cached roles or sites
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = dashboard(_request(user))
            size = len(response.content)
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
    cold, timings = timings[0], sorted(timings)
    return {
        "runs": runs,
        "cold_ms": round(cold, 1),
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
        "queries": queries,
        "bytes": size,
    }
