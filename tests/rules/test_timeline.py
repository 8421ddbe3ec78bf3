"""cases.timeline: the pipeline's rows and time to therapy, from plain (stage, time) pairs."""

from __future__ import annotations

from datetime import UTC, datetime

from cases.timeline import pipeline_rows, time_to_therapy

STAGES = [("intake", "Intake"), ("gating", "Gating"), ("pa", "PA approved"), ("scheduled", "Scheduled"), ("infused", "Infused"), ("monitoring", "Monitoring")]  # fmt: skip


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_stages_before_the_current_one_are_done_or_skipped_and_the_rest_to_do():
    events = [("intake", at(1)), ("gating", at(3)), ("pa", at(10)), ("infused", at(12)), ("monitoring", at(12, 11))]
    rows = {row.stage: row for row in pipeline_rows(STAGES, events, "monitoring", at(20))}
    assert [rows[s].state for s, _ in STAGES] == ["done", "done", "done", "skipped", "done", "current"]
    assert rows["scheduled"].reached_at is None and rows["scheduled"].days is None
    assert rows["gating"].days == 7 and rows["monitoring"].days == 7


def test_a_stage_visited_twice_counts_both_stays_and_keeps_its_first_date():
    events = [("intake", at(1)), ("gating", at(2)), ("pa", at(5)), ("gating", at(8)), ("pa", at(10))]
    rows = {row.stage: row for row in pipeline_rows(STAGES, events, "pa", at(11))}
    assert rows["gating"].reached_at == at(2) and rows["gating"].days == 5  # 3 days + 2 days
    assert rows["pa"].state == "current" and rows["infused"].state == "todo"


def test_an_unknown_current_stage_leaves_every_stage_to_do():
    rows = pipeline_rows(STAGES, [("intake", at(1))], "closed", at(2))
    assert {row.state for row in rows} == {"todo"}


def test_time_to_therapy_runs_from_the_first_intake_to_the_first_infusion():
    events = [("intake", at(1)), ("infused", at(14, 8)), ("intake", at(3))]
    assert time_to_therapy(events, "intake", "infused") == 12
    assert time_to_therapy([("intake", at(1))], "intake", "infused") is None
