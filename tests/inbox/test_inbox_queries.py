"""Constant queries per ORU^R01 message (issue 19 item 8): N messages for N patients cost N times
the queries of one, whatever the site's number of cases, draws and earlier results. The speed
itself is measured by `make bench` (demo/bench/inbox.py), not here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.inbox.workflows import receive_hl7
from monitoring.models import Result
from tests.inbox.helpers import LIVER, infused_case, oru, today
from tests.monitoring.helpers import infuse
from tests.personas import make_case

HIGH_ALT = [("1742-6", "ALT", "130", "U/L", "10-60", "H", "F"), *LIVER[1:]]


def _cases(site, n: int, prefix: str):
    cases = []
    for i in range(n):
        case = make_case(site, name=f"Queries Child{prefix}{i}", mrn=f"Q-{prefix}-{i}")
        infused_case(case)
        cases.append(case)
    return cases


def _send(case, control: str, results=LIVER) -> int:
    text = oru(control, mrn=case.patient.mrn, family=case.patient.legal_name.split()[-1], results=results)
    with CaptureQueriesContext(connection) as captured:
        outcome = receive_hl7(text.encode())
    assert outcome.ack == "AA" and outcome.message.status == "processed", outcome.reason
    return len(captured.captured_queries)


@pytest.mark.parametrize("results", [LIVER, HIGH_ALT], ids=["quiet", "flagged"])
def test_every_message_costs_the_same_queries(cast, results):
    first, *others = _cases(cast.site_a, 6, "A")
    _send(first, "WARM")  # the first message of a process loads the protocol and content types
    counts = [_send(case, f"Q-{i}", results) for i, case in enumerate(others)]
    assert len(set(counts)) == 1, f"queries per message differ: {counts}"


def test_queries_do_not_grow_with_the_data_already_there(cast):
    warm, small, big = _cases(cast.site_a, 3, "B")
    _send(warm, "WARM")
    baseline = _send(small, "SMALL")
    # Many more cases at the site and at another, and the patient's other draws hold results.
    _cases(cast.site_a, 15, "C")
    infuse(make_case(cast.site_b, name="Other Site Child", mrn="Q-B-0"), today() - timedelta(days=40))
    earlier = [
        ("777-3", "Platelets", "250", "10*3/uL", "150-450", "", "F"),
        ("718-7", "Hemoglobin", "11.8", "g/dL", "10-14", "", "F"),
        ("89579-7", "hs-TnI", "15", "ng/L", "<40", "", "F"),
    ]
    _send(big, "EARLIER", earlier)
    assert Result.objects.filter(draw__case=big).count() == 3
    assert _send(big, "BIG") == baseline


def test_the_bench_figure_runs_on_bulk_data(cast):
    """`make bench`'s inbox figure (demo/bench/inbox.py) on a small bulk seed: every message
    processed, and like messages cost the same queries."""
    from django.utils import timezone

    from demo.bench.inbox import bench_inbox
    from demo.bulk import seed_bulk
    from demo.context import DemoContext

    ctx = DemoContext(today=timezone.localdate())
    ctx.sites = {site.short_code: site for site in (cast.site_a, cast.site_b)}
    seed_bulk(ctx, 80)
    report = bench_inbox(70)
    assert report["all_processed"], report["statuses"]
    assert report["messages"] >= 1 and report["messages_per_second"] > 0
    assert all(q["min"] == q["max"] for q in report["queries_per_message"].values()), report["queries_per_message"]
