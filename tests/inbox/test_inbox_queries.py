"""Constant queries per ORU^R01 message (issue 19 item 8): N messages for N patients cost N times
the queries of one, whatever the site's number of cases, draws and earlier results; a batch of
messages (receive_hl7_batch, the listener's) costs the same queries whatever its size. The
speed itself is measured by `make bench` (demo/bench/inbox.py), not here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring import workflows as workflows_module
from monitoring.inbox import workflows as inbox_workflows
from monitoring.inbox.workflows import receive_hl7, receive_hl7_batch
from monitoring.models import Flag, Result
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
    seed_bulk(ctx, 130)
    report = bench_inbox(120, batch=20, processes=1)
    assert report["all_processed"], report["statuses"]
    assert report["messages"] >= 1 and report["messages_per_second"] > 0
    queries = report["queries_per_batch"]
    assert queries["batch_of_20"] == queries["batch_of_20_again"] == queries["batch_of_10"], queries


def _batch(cases, prefix: str, flagged: int = 1) -> int:
    texts = [
        oru(
            f"{prefix}-{i}",
            mrn=case.patient.mrn,
            family=case.patient.legal_name.split()[-1],
            results=HIGH_ALT if i < flagged else LIVER,
        ).encode()
        for i, case in enumerate(cases)
    ]
    with CaptureQueriesContext(connection) as captured:
        outcomes = receive_hl7_batch(texts)
    assert [o.ack for o in outcomes] == ["AA"] * len(cases), [o.reason for o in outcomes]
    assert {o.message.status for o in outcomes} == {"processed"}
    return len(captured.captured_queries)


def test_a_batch_costs_the_same_queries_whatever_its_size(cast):
    """The listener's batch (receive_hl7_batch): 3 messages or 12, the same queries (each
    message stored, parsed, matched, recorded, flagged and audited), so per message they fall."""
    warm, *rest = _cases(cast.site_a, 1 + 3 + 12, "D")
    _send(warm, "WARM")
    small = _batch(rest[:3], "SMALL")
    big = _batch(rest[3:], "BIG")
    assert big == small, f"a batch of 12 costs {big} queries, a batch of 3 {small}"
    for case in rest:
        assert Result.objects.filter(draw__case=case).count() == 4
    assert Flag.objects.filter(case__in=[rest[0], rest[3]], code="alt_2x_uln").count() == 2


def test_a_failing_message_rolls_back_alone_in_a_batch(cast, monkeypatch):
    """One message whose recording fails: the batch is done again one savepoint per message;
    that message is stored failed, the others are recorded."""
    warm, *rest = _cases(cast.site_a, 4, "E")
    _send(warm, "WARM")
    bad = rest[1]
    original = workflows_module.results_record

    def failing(*, draw, **kwargs):
        if draw.case_id == bad.pk:
            raise ValueError("refused for the test")
        return original(draw=draw, **kwargs)

    monkeypatch.setattr(inbox_workflows, "results_record", failing)
    texts = [
        oru(f"E-{i}", mrn=c.patient.mrn, family=c.patient.legal_name.split()[-1]).encode() for i, c in enumerate(rest)
    ]
    outcomes = receive_hl7_batch(texts)
    assert [o.ack for o in outcomes] == ["AA", "AE", "AA"]
    assert outcomes[1].message.status == "failed" and "refused for the test" in outcomes[1].message.reason
    assert Result.objects.filter(draw__case=bad).count() == 0
    assert Result.objects.filter(draw__case__in=[rest[0], rest[2]]).count() == 8
    # The same batch again: nothing new for the two recorded, the failed one is tried again.
    monkeypatch.setattr(inbox_workflows, "results_record", original)
    again = receive_hl7_batch(texts)
    assert [o.duplicate for o in again] == [True, False, True]
    assert again[1].message.pk == outcomes[1].message.pk and again[1].message.status == "processed"
    assert Result.objects.filter(draw__case__in=rest).count() == 12
