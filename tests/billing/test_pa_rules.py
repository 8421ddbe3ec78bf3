"""The prior authorization status machine and approval-window warnings (billing/pa_rules.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from billing import pa_rules
from billing.pa_rules import PATransitionError, approval_warnings, check_transition, pipeline_target
from cases.pipeline import ORDER

STAGES = [str(s) for s in ORDER]
TODAY = date(2026, 12, 1)

VALID = [
    ("draft", "submitted"),
    ("submitted", "pended"),
    ("submitted", "approved"),
    ("submitted", "denied"),
    ("pended", "approved"),
    ("pended", "denied"),
    ("denied", "appealed"),
    ("appealed", "approved"),
    ("appealed", "denied"),
]


@pytest.mark.parametrize(("current", "to"), VALID)
def test_it_allows_each_move_of_the_status_machine(current, to):
    check_transition(current, to)


@pytest.mark.parametrize(
    ("current", "to"),
    [(c, t) for c in pa_rules.STATUSES for t in pa_rules.STATUSES if (c, t) not in VALID],
)
def test_it_refuses_every_other_move_with_a_message(current, to):
    with pytest.raises(PATransitionError) as err:
        check_transition(current, to)
    assert str(err.value)


def test_an_approved_authorization_cannot_change_any_more():
    with pytest.raises(PATransitionError, match="cannot change any more"):
        check_transition("approved", "denied")


def test_the_message_names_what_may_come_next():
    with pytest.raises(PATransitionError, match="next it can be submitted"):
        check_transition("draft", "approved")


def test_an_unknown_status_is_refused():
    with pytest.raises(PATransitionError):
        check_transition("draft", "lost")


def test_submitted_and_approved_move_the_case_forward():
    assert pipeline_target("submitted", STAGES, "gating") == "pa_submitted"
    assert pipeline_target("approved", STAGES, "pa_submitted") == "pa_approved"


def test_approval_never_moves_a_scheduled_or_infused_case_back():
    assert pipeline_target("approved", STAGES, "scheduled") is None
    assert pipeline_target("approved", STAGES, "infused") is None


def test_a_denial_returns_the_case_to_gating_until_it_is_infused():
    assert pipeline_target("denied", STAGES, "pa_submitted") == "gating"
    assert pipeline_target("denied", STAGES, "monitoring") is None


def test_pended_leaves_the_case_where_it_is():
    assert pipeline_target("pended", STAGES, "pa_submitted") is None


def _warnings(**kw):
    args = dict(status="approved", valid_from=TODAY - timedelta(days=10), valid_through=TODAY + timedelta(days=30),
                planned_on=TODAY + timedelta(days=5), today=TODAY)  # fmt: skip
    args.update(kw)
    return [w.code for w in approval_warnings(**args)]


def test_no_warning_inside_the_window_with_time_left():
    assert _warnings() == []


def test_it_warns_when_the_planned_date_is_outside_the_window():
    assert _warnings(planned_on=TODAY + timedelta(days=31)) == ["outside_window"]
    assert _warnings(planned_on=TODAY - timedelta(days=11)) == ["outside_window"]


def test_it_warns_when_the_approval_expires_within_7_days_but_not_8():
    assert _warnings(valid_through=TODAY + timedelta(days=7), planned_on=TODAY) == ["expiring"]
    assert _warnings(valid_through=TODAY, planned_on=TODAY) == ["expiring"]
    assert _warnings(valid_through=TODAY + timedelta(days=8), planned_on=TODAY) == []


def test_it_warns_when_the_approval_has_expired():
    assert "expired" in _warnings(valid_through=TODAY - timedelta(days=1))


def test_it_asks_for_the_window_when_dates_are_missing():
    assert _warnings(valid_from=None) == ["window_missing"]


def test_only_approved_authorizations_are_checked():
    assert _warnings(status="submitted", valid_through=TODAY) == []
