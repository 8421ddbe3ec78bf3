"""Browser journeys: the manager's dashboard with htmx filters, acknowledging, the inbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Payer
from monitoring.models import Acknowledgement
from monitoring.reminders.sweep import reminder_send, reminders_ready_ids, reminders_sweep
from tests.conftest import screenshot
from tests.personas import make_case, make_user
from tests.reminders.helpers import make_draw

pytestmark = pytest.mark.browser


@pytest.fixture
def board(cast):
    today = timezone.localdate()
    payer = Payer.objects.create(name="Acme Health")
    coordinator2 = make_user("coord2", "coordinator", cast.site_a, last_name="Rivera")
    names = ["Ava Thompson", "Liam Carter", "Noah Patel", "Mia Johnson", "Ethan Brooks", "Sofia Nguyen"]
    for i, name in enumerate(names):
        case = make_case(
            cast.site_a, name=name, mrn=f"MRN-{i}", coordinator=cast.coordinator if i % 2 else coordinator2, payer=payer
        )
        make_draw(
            case,
            due_on=today - timedelta(days=3 + 2 * i),
            kind=("liver", "platelets", "troponin")[i % 3],
            day=7 + 7 * i,
        )
        make_draw(case, due_on=today, day=70)
    make_draw(cast.case_a, due_on=today - timedelta(days=12), day=14)
    reminders_sweep()
    for pk in reminders_ready_ids():
        reminder_send(pk)
    return {"today": today}


def test_a_manager_filters_the_overdue_dashboard_and_the_url_keeps_the_filter(cast, page, browser_login, board):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    browser_login(cast.manager)
    page.get_by_role("link", name="Overdue labs").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Overdue labs").is_visible()
    assert page.get_by_text("Ethan Brooks").first.is_visible()
    assert not [e for e in errors if "Content Security Policy" in e], errors  # before screenshots (they inject a style)
    screenshot(page, "reminders-dashboard")
    errors.clear()
    page.get_by_label("Draw", exact=True).select_option("platelets")
    page.wait_for_url("**kind=platelets**")
    page.wait_for_load_state("networkidle")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    assert page.get_by_text("Liam Carter").first.is_visible()
    assert page.get_by_text("Ava Thompson").count() == 0
    screenshot(page, "reminders-dashboard-filtered")
    page.reload()
    assert page.get_by_label("Draw", exact=True).input_value() == "platelets"
    page.set_viewport_size({"width": 768, "height": 1000})
    screenshot(page, "reminders-dashboard-768")


def test_a_coordinator_acknowledges_from_a_notification_and_snoozes(cast, page, browser_login, board):
    browser_login(cast.manager)
    page.goto("/monitoring/notifications/")
    assert page.get_by_text("Draw overdue: escalated to the manager").first.is_visible()
    screenshot(page, "reminders-notifications")
    page.get_by_role("button", name="Open").first.click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Acknowledge a late draw").is_visible()
    page.get_by_label("Reason").fill("Family rescheduled to Thursday")
    page.get_by_label("Pause escalation until").fill((board["today"] - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Acknowledge").click()
    assert page.get_by_text("Pick a date after today").is_visible()
    screenshot(page, "reminders-acknowledge-error")
    page.get_by_label("Pause escalation until").fill((board["today"] + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Acknowledged. Escalation paused.").is_visible()
    assert Acknowledgement.objects.count() == 1
    screenshot(page, "reminders-after-acknowledge")


def test_a_manager_edits_who_gets_which_reminder(cast, page, browser_login, board):
    browser_login(cast.manager)
    page.goto("/monitoring/reminders/routes/")
    page.get_by_label("Draw overdue: escalated to the manager: Physician").check()
    page.get_by_role("button", name="Save routes for A").click()
    assert page.get_by_text("Reminder routes saved for A.").is_visible()
    assert page.get_by_label("Draw overdue: escalated to the manager: Physician").is_checked()
    screenshot(page, "reminders-routes")
