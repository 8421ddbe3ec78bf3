"""The benchmark command's guards and its side-by-side timing (the figures themselves come
from `make bench`, not from tests)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from demo.bench.timing import Request, ratio, time_requests


def test_bench_refuses_to_run_outside_make_bench(monkeypatch):
    monkeypatch.delenv("GENEGATE_BENCH", raising=False)
    with pytest.raises(CommandError, match="make bench"):
        call_command("bench")


@pytest.mark.parametrize("sizes", ["ten", "1000,", "1e3", "0,1000", "-5"])
def test_bench_says_what_sizes_it_takes(monkeypatch, sizes):
    monkeypatch.setenv("GENEGATE_BENCH", "1")
    with pytest.raises(CommandError, match="whole numbers"):
        call_command("bench", sizes=sizes)


@pytest.mark.parametrize("options", [{"runs": 0}, {"load_seconds": -1}])
def test_bench_refuses_no_runs_and_negative_load(monkeypatch, options):
    monkeypatch.setenv("GENEGATE_BENCH", "1")
    with pytest.raises(CommandError, match="--runs takes 1 or more"):
        call_command("bench", **options)


def test_requests_are_timed_side_by_side_with_their_queries_and_status(cast, client):
    client.force_login(cast.coordinator)
    cleared = []
    timings = time_requests(
        {
            "empty": Request(client, "post", reverse("keepalive")),
            "home": Request(client, "get", reverse("home"), before=lambda: cleared.append(1)),
        },
        runs=3,
        warmup=1,
    )
    assert set(timings) == {"empty", "home"}
    assert timings["empty"].status == 204 and timings["home"].status == 200
    assert timings["home"].queries > timings["empty"].queries > 0
    assert len(cleared) == 1 + 3  # once before the counted request, then before each timed one
    assert all(t.median_ms > 0 and t.p95_ms >= t.median_ms for t in timings.values())
    assert ratio(10, 4) == 2.5 and ratio(1, 0) is None
