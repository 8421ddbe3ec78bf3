"""Tests for monitoring/schedule.py and the protocol data in monitoring/protocol.py."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from monitoring.protocol import PROTOCOL_V1, Phase, Protocol, ProtocolRow
from monitoring.schedule import (
    DONE,
    DUE,
    LATE,
    MISSED,
    OVERDUE,
    UPCOMING,
    DrawState,
    cadence_words,
    days_late,
    draw_state,
    next_change_at,
    next_extension,
    planned_draws,
)

NEW_YORK = ZoneInfo("America/New_York")
INFUSION = date(2027, 1, 4)


def _days(kind: str, infusion: date = INFUSION) -> list[int]:
    return [d.day for d in planned_draws(infusion, PROTOCOL_V1) if d.kind == kind]


# --- protocol data ------------------------------------------------------------------------


def test_protocol_v1_is_the_2025_label_version_with_four_rows_each_naming_a_source():
    assert PROTOCOL_V1.version == "2025-02-label"
    assert [r.kind for r in PROTOCOL_V1.rows] == ["liver", "platelets", "troponin", "steroid_review"]
    assert all("§" in r.source for r in PROTOCOL_V1.rows)
    assert (PROTOCOL_V1.window_days, PROTOCOL_V1.grace_days) == (2, 2)
    assert PROTOCOL_V1.extension_interval_days == 14


def test_liver_draws_are_weekly_in_month_one_then_every_other_week_to_day_84():
    assert _days("liver") == [7, 14, 21, 28, 42, 56, 70, 84]
    assert _days("platelets") == [7, 14, 21, 28, 42, 56, 70, 84]


def test_troponin_is_weekly_in_month_one_then_monthly_and_steroid_review_is_day_28():
    assert _days("troponin") == [7, 14, 21, 28, 56, 84]
    assert _days("steroid_review") == [28]


def test_a_protocol_row_rejects_unsorted_days_and_a_missing_source():
    with pytest.raises(ValueError, match="ascending"):
        ProtocolRow("liver", ("alt",), (14, 7), "label §5.1", (Phase(84, "x"),), extends=False)
    with pytest.raises(ValueError, match="source"):
        ProtocolRow("liver", ("alt",), (7,), "", (Phase(84, "x"),), extends=False)
    with pytest.raises(ValueError, match="Unknown protocol kind"):
        ProtocolRow("kidney", (), (7,), "src", (Phase(84, "x"),), extends=False)


def test_a_protocol_row_needs_a_reason_for_its_last_day():
    with pytest.raises(ValueError, match="reason for every day"):
        ProtocolRow("liver", ("alt",), (7, 84), "src", (Phase(28, "x"),), extends=False)


def test_a_protocol_rejects_negative_windows_and_duplicate_kinds():
    with pytest.raises(ValueError, match="window_days"):
        dataclasses.replace(PROTOCOL_V1, window_days=-1)
    with pytest.raises(ValueError, match="twice"):
        Protocol("x", (PROTOCOL_V1.rows[0], PROTOCOL_V1.rows[0]))


# --- planned_draws ------------------------------------------------------------------------


def test_the_first_liver_draw_is_due_on_day_7_with_a_two_day_window_each_side():
    first = planned_draws(INFUSION, PROTOCOL_V1)[0]
    assert first.kind == "liver"
    assert first.day == 7
    assert first.due_on == date(2027, 1, 11)
    assert first.window_opens == date(2027, 1, 9)
    assert first.window_closes == date(2027, 1, 13)
    assert first.analytes == ("alt", "ast", "tbili", "pt")
    assert first.reason == "Label §5.1: liver panel weekly in month 1"


def test_reasons_change_from_weekly_to_every_other_week_after_day_28():
    by_day = {d.day: d.reason for d in planned_draws(INFUSION, PROTOCOL_V1) if d.kind == "liver"}
    assert by_day[28] == "Label §5.1: liver panel weekly in month 1"
    assert by_day[42] == "Label §5.1: liver panel every other week in months 2 and 3"
    troponin = {d.day: d.reason for d in planned_draws(INFUSION, PROTOCOL_V1) if d.kind == "troponin"}
    assert "monthly" in troponin[56]


def test_an_edited_window_widens_every_draw():
    wide = dataclasses.replace(PROTOCOL_V1, window_days=3)
    first = planned_draws(INFUSION, wide)[0]
    assert (first.window_opens, first.window_closes) == (date(2027, 1, 8), date(2027, 1, 14))


def test_draws_across_a_year_end_land_on_the_right_calendar_days():
    draws = [d for d in planned_draws(date(2026, 12, 20), PROTOCOL_V1) if d.kind == "liver"]
    assert [d.due_on for d in draws[:3]] == [date(2026, 12, 27), date(2027, 1, 3), date(2027, 1, 10)]
    assert draws[0].window_closes == date(2026, 12, 29)
    assert draws[1].window_opens == date(2027, 1, 1)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)))
def test_planned_draws_are_sorted_and_each_due_date_is_infusion_plus_day(infusion):
    draws = planned_draws(infusion, PROTOCOL_V1)
    assert len(draws) == 8 + 8 + 6 + 1
    assert [d.due_on for d in draws] == sorted(d.due_on for d in draws)
    for d in draws:
        assert d.due_on - infusion == timedelta(days=d.day)
        assert d.window_opens <= d.due_on <= d.window_closes


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)))
def test_windows_of_consecutive_draws_of_one_kind_never_overlap(infusion):
    for kind in ("liver", "platelets", "troponin"):
        draws = [d for d in planned_draws(infusion, PROTOCOL_V1) if d.kind == kind]
        for earlier, later in zip(draws, draws[1:], strict=False):
            assert earlier.window_closes < later.window_opens


# --- extensions ---------------------------------------------------------------------------


def test_an_abnormal_liver_result_at_day_84_adds_a_draw_two_weeks_later_and_says_why():
    draw = next_extension("liver", 84, False, INFUSION, PROTOCOL_V1, finding="ALT 2.4×ULN on 2027-03-01")
    assert draw is not None
    assert draw.day == 98
    assert draw.due_on == INFUSION + timedelta(days=98)
    assert draw.reason == (
        "Extension: ALT 2.4×ULN on 2027-03-01; liver monitoring continues every other week "
        "until unremarkable (label §5.1)"
    )


def test_extensions_chain_every_14_days_for_platelets():
    draw = next_extension("platelets", 98, False, INFUSION, PROTOCOL_V1, finding="Plt 120")
    assert draw is not None
    assert draw.day == 112
    assert "until back to baseline" in draw.reason


def test_troponin_extends_monthly_every_28_days():
    draw = next_extension("troponin", 84, False, INFUSION, PROTOCOL_V1, finding="TnI 60 ng/L")
    assert draw is not None
    assert draw.day == 112
    assert "monthly" in draw.reason


def test_a_resolved_result_needs_no_extension():
    assert next_extension("liver", 84, True, INFUSION, PROTOCOL_V1, finding="ALT normal") is None


def test_the_steroid_review_never_extends_on_its_own():
    assert next_extension("steroid_review", 28, False, INFUSION, PROTOCOL_V1, finding="x") is None


def test_an_extension_before_the_protocol_ends_is_refused():
    with pytest.raises(ValueError, match="extensions start after day 84"):
        next_extension("liver", 70, False, INFUSION, PROTOCOL_V1, finding="ALT 3×ULN")


def test_an_extension_needs_a_finding_and_a_known_kind():
    with pytest.raises(ValueError, match="finding must say why"):
        next_extension("liver", 84, False, INFUSION, PROTOCOL_V1, finding="  ")
    with pytest.raises(ValueError, match="has no 'kidney' row"):
        next_extension("kidney", 84, False, INFUSION, PROTOCOL_V1, finding="x")


def test_cadence_words_read_naturally():
    assert cadence_words(14) == "every other week"
    assert cadence_words(10) == "every 10 days"


# --- draw_state ---------------------------------------------------------------------------

OPENS = date(2027, 1, 9)
CLOSES = date(2027, 1, 13)


def _state(today: date, **kw: object):
    args = {"grace_days": 2, "done": False, "missed": False} | kw
    return draw_state(OPENS, CLOSES, today=today, **args)


def test_a_draw_is_upcoming_the_day_before_its_window_opens():
    assert _state(date(2027, 1, 8)) == DrawState(UPCOMING, OPENS)


def test_a_draw_is_due_from_the_day_its_window_opens_to_the_day_it_closes():
    assert _state(OPENS).state == DUE
    assert _state(CLOSES) == DrawState(DUE, date(2027, 1, 14))


def test_a_draw_is_late_the_day_after_the_window_closes_through_the_grace_days():
    assert _state(date(2027, 1, 14)) == DrawState(LATE, date(2027, 1, 16))
    assert _state(date(2027, 1, 15)) == DrawState(LATE, date(2027, 1, 16))


def test_a_draw_is_overdue_once_today_is_past_close_plus_grace_and_stays_so():
    assert _state(date(2027, 1, 16)) == DrawState(OVERDUE, None)
    assert _state(date(2028, 1, 1)) == DrawState(OVERDUE, None)


def test_zero_grace_goes_straight_from_due_to_overdue():
    assert _state(date(2027, 1, 14), grace_days=0) == DrawState(OVERDUE, None)


def test_done_and_missed_are_terminal_from_any_open_state():
    for today in (date(2027, 1, 1), OPENS, date(2027, 1, 14), date(2027, 2, 1)):
        assert _state(today, done=True) == DrawState(DONE, None)
        assert _state(today, missed=True) == DrawState(MISSED, None)


def test_a_snooze_delays_overdue_until_the_snooze_date_but_not_due():
    snooze = date(2027, 1, 20)
    assert _state(date(2027, 1, 16), snoozed_until=snooze) == DrawState(LATE, snooze)
    assert _state(snooze, snoozed_until=snooze) == DrawState(OVERDUE, None)
    assert _state(date(2027, 1, 8), snoozed_until=snooze) == DrawState(UPCOMING, OPENS)
    assert _state(OPENS, snoozed_until=snooze).state == DUE


def test_a_snooze_that_ends_before_the_grace_does_not_shorten_it():
    assert _state(date(2027, 1, 14), snoozed_until=date(2027, 1, 14)) == DrawState(LATE, date(2027, 1, 16))


def test_draw_state_rejects_contradictory_input():
    with pytest.raises(ValueError, match="both done and missed"):
        _state(OPENS, done=True, missed=True)
    with pytest.raises(ValueError, match="before it opens"):
        draw_state(CLOSES, OPENS, 2, OPENS, False, False)
    with pytest.raises(ValueError, match="grace_days"):
        _state(OPENS, grace_days=-1)


def test_draw_state_reads_no_clock():
    with time_machine.travel(datetime(2035, 6, 1, tzinfo=UTC), tick=False):
        assert _state(date(2027, 1, 8)).state == UPCOMING


_dates = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))


@given(
    opens=_dates,
    width=st.integers(0, 10),
    grace=st.integers(0, 10),
    today=_dates,
    snooze=st.none() | _dates,
)
def test_next_change_on_is_always_in_the_future_and_really_changes_the_state(opens, width, grace, today, snooze):
    closes = opens + timedelta(days=width)
    now = draw_state(opens, closes, grace, today, False, False, snooze)
    if now.next_change_on is None:
        assert now.state == OVERDUE
        return
    assert now.next_change_on > today
    day_before = now.next_change_on - timedelta(days=1)
    assert draw_state(opens, closes, grace, day_before, False, False, snooze).state == now.state
    later = draw_state(opens, closes, grace, now.next_change_on, False, False, snooze)
    order = [UPCOMING, DUE, LATE, OVERDUE]
    assert order.index(later.state) > order.index(now.state)


@given(opens=_dates, width=st.integers(0, 10), grace=st.integers(0, 10), offset=st.integers(0, 400))
def test_states_only_move_forward_as_days_pass(opens, width, grace, offset):
    closes = opens + timedelta(days=width)
    order = [UPCOMING, DUE, LATE, OVERDUE]
    start = opens - timedelta(days=30)
    a = draw_state(opens, closes, grace, start + timedelta(days=offset), False, False).state
    b = draw_state(opens, closes, grace, start + timedelta(days=offset + 1), False, False).state
    assert order.index(b) >= order.index(a)


# --- next_change_at -----------------------------------------------------------------------


def test_next_change_at_is_local_midnight_before_and_after_dst_ends_in_new_york():
    # Infusion 2026-10-25: day 7 is 2026-11-01, the day US DST ends.
    draw = planned_draws(date(2026, 10, 25), PROTOCOL_V1)[0]
    assert draw.due_on == date(2026, 11, 1)
    before = next_change_at(draw.window_opens, NEW_YORK)  # Oct 30, EDT
    due_day = next_change_at(draw.due_on, NEW_YORK)  # Nov 1, 00:00 is still EDT
    after = next_change_at(draw.due_on + timedelta(days=1), "America/New_York")
    assert before == datetime(2026, 10, 30, 0, 0, tzinfo=NEW_YORK)
    assert before.utcoffset() == timedelta(hours=-4)
    assert due_day.utcoffset() == timedelta(hours=-4)
    assert after.utcoffset() == timedelta(hours=-5)
    assert after.astimezone(UTC) - due_day.astimezone(UTC) == timedelta(hours=25)


def test_next_change_at_is_local_midnight_across_the_spring_dst_change():
    # Infusion 2027-03-07: day 7 is 2027-03-14, the day US DST starts.
    draw = planned_draws(date(2027, 3, 7), PROTOCOL_V1)[0]
    assert draw.due_on == date(2027, 3, 14)
    state = draw_state(draw.window_opens, draw.window_closes, 2, draw.due_on, False, False)
    assert state == DrawState(DUE, date(2027, 3, 17))
    due_day = next_change_at(draw.due_on, NEW_YORK)
    next_day = next_change_at(date(2027, 3, 15), NEW_YORK)
    assert due_day.utcoffset() == timedelta(hours=-5)
    assert next_day.utcoffset() == timedelta(hours=-4)
    assert next_day.astimezone(UTC) - due_day.astimezone(UTC) == timedelta(hours=23)


def test_next_change_at_handles_the_year_end():
    draw = planned_draws(date(2026, 12, 20), PROTOCOL_V1)[0]
    state = draw_state(draw.window_opens, draw.window_closes, 2, date(2026, 12, 31), False, False)
    assert state == DrawState(LATE, date(2027, 1, 1))
    at = next_change_at(state.next_change_on, NEW_YORK)
    assert at == datetime(2027, 1, 1, tzinfo=NEW_YORK)
    assert at.astimezone(UTC) == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)


def test_the_stored_instant_falls_on_the_local_day_it_names():
    at = next_change_at(date(2026, 11, 2), NEW_YORK)
    with time_machine.travel(at, tick=False):
        assert datetime.now(NEW_YORK).date() == date(2026, 11, 2)
    with time_machine.travel(at - timedelta(seconds=1), tick=False):
        assert datetime.now(NEW_YORK).date() == date(2026, 11, 1)


def test_next_change_at_of_none_is_none():
    assert next_change_at(None, NEW_YORK) is None


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)))
def test_next_change_at_always_round_trips_to_the_same_local_date_at_midnight(day):
    at = next_change_at(day, NEW_YORK)
    back = at.astimezone(UTC).astimezone(NEW_YORK)
    assert (back.date(), back.hour, back.minute) == (day, 0, 0)


# --- days_late ----------------------------------------------------------------------------


def test_days_late_is_zero_within_the_window_and_counts_days_after_it_closes():
    assert days_late(CLOSES, CLOSES) == 0
    assert days_late(CLOSES, OPENS) == 0
    assert days_late(CLOSES, date(2027, 1, 14)) == 1
    assert days_late(CLOSES, date(2027, 2, 12)) == 30
