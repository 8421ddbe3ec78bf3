"""Hand-made pipeline moves: schedule the infusion, end lab monitoring, close the case."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Stage
from cases.stage_rules import StageFacts, stage_actions
from monitoring.workflows import schedule_create

TODAY = date(2026, 11, 28)


def facts(**kw):
    base = dict(
        stage="pa_approved",
        planned_infusion_date=TODAY + timedelta(days=6),
        gate_ready_on_planned_date=True,
        gate_blocking_count=0,
        pa_required=True,
        pa_valid_on_planned_date=True,
        open_draws=0,
        open_milestones=0,
        today=TODAY,
    )
    base.update(kw)
    return StageFacts(**base)


def test_it_allows_scheduling_when_the_gate_passes_and_pa_covers_the_date():
    (action,) = stage_actions(facts())
    assert action.to == "scheduled" and action.allowed


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"planned_infusion_date": None}, "Record a planned infusion date"),
        ({"planned_infusion_date": TODAY - timedelta(days=1)}, "in the past"),
        ({"gate_ready_on_planned_date": False, "gate_blocking_count": 2}, "2 gate items block"),
        ({"pa_valid_on_planned_date": False}, "No approved prior authorization"),
    ],
)
def test_it_refuses_scheduling_and_says_why(change, why):
    (action,) = stage_actions(facts(**change))
    assert not action.allowed and why in action.reason


def test_a_payer_without_pa_can_be_scheduled_from_gating():
    (action,) = stage_actions(facts(stage="gating", pa_required=False, pa_valid_on_planned_date=False))
    assert action.allowed


def test_monitoring_ends_only_when_no_draw_is_open():
    (open_,) = stage_actions(facts(stage="monitoring", open_draws=3))
    assert not open_.allowed and "3 scheduled draws are still open" in open_.reason
    (done,) = stage_actions(facts(stage="monitoring"))
    assert done.allowed and done.to == "follow_up"


def test_closing_needs_a_note(cast, client):
    case = cast.case_a
    type(case).objects.filter(pk=case.pk).update(stage=Stage.FOLLOW_UP)
    client.force_login(cast.physician)
    client.post(reverse("cases:stage_move", args=[case.pk]), {"to": "closed", "note": ""})
    case.refresh_from_db()
    assert case.stage == Stage.FOLLOW_UP
    client.post(reverse("cases:stage_move", args=[case.pk]), {"to": "closed", "note": "Family moved abroad"})
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    assert case.stage_events.filter(stage=Stage.CLOSED, note="Family moved abroad").exists()


def test_a_coordinator_cannot_end_monitoring_and_open_draws_refuse_a_physician(cast, client):
    case = cast.case_a
    type(case).objects.filter(pk=case.pk).update(stage=Stage.MONITORING)
    schedule_create(case=case, infused_on=timezone.localdate() - timedelta(days=10))
    client.force_login(cast.coordinator)
    assert client.post(reverse("cases:stage_move", args=[case.pk]), {"to": "follow_up"}).status_code == 403
    client.force_login(cast.physician)
    response = client.post(reverse("cases:stage_move", args=[case.pk]), {"to": "follow_up"}, follow=True)
    assert "still open" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.MONITORING


def test_an_outsider_gets_404(cast, client):
    client.force_login(cast.outsider)
    assert client.post(reverse("cases:stage_move", args=[cast.case_a.pk]), {"to": "closed"}).status_code == 404


def test_an_unknown_move_is_refused_with_a_message(cast, client):
    client.force_login(cast.coordinator)
    response = client.post(reverse("cases:stage_move", args=[cast.case_a.pk]), {"to": "infused"}, follow=True)
    assert "does not apply" in response.content.decode()
