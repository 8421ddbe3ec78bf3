"""Browser (issue 15): the physician's two safety paths.

1. Alert -> acknowledge: the coordinator records a day-14 ALT of 5×ULN; the outbox is run as the
   worker would; the physician opens the notice and acknowledges it with a plan.
2. Taper override: with ALT 5×ULN at day 28 the physician asks for a taper, is asked for the
   override (reason, confirmation, password), and records it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.models import Flag, SteroidDecision
from monitoring.reminders.sweep import reminders_run
from tests.conftest import screenshot
from tests.monitoring.helpers import infuse
from tests.personas import PASSWORD

pytestmark = pytest.mark.browser


def _enter_liver(page, case, day: int, alt: str = "300"):
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name=f"Enter results for Liver panel day {day}", exact=True).click()
    page.get_by_label("Collected (date and time)").fill(
        (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    )
    for label, value in [
        ("ALT value", alt),
        ("AST value", "40"),
        ("Total bilirubin value", "0.6"),
        ("Prothrombin time value", "12"),
        ("ALT lab ULN", "60"),
        ("AST lab ULN", "60"),
        ("Total bilirubin lab ULN", "1.0"),
        ("Prothrombin time lab ULN", "14"),
    ]:
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Save results").click()
    page.wait_for_load_state("networkidle")


def _sign_out(page):
    page.context.clear_cookies()


def test_the_physician_is_alerted_and_acknowledges_with_a_plan(cast, page, browser_login):
    today = timezone.localdate()
    infuse(cast.case_a, today - timedelta(days=14))
    browser_login(cast.coordinator)
    _enter_liver(page, cast.case_a, 14)
    reminders_run()  # what the worker does with the task enqueued on commit
    _sign_out(page)
    browser_login(cast.physician)
    page.goto("/monitoring/notifications/")
    assert page.get_by_text("Abnormal result flag: ZM").is_visible()
    assert page.get_by_text("ALT 5.0×ULN").first.is_visible()
    screenshot(page, "issue15-physician-notification")
    page.get_by_role("button", name="Open").first.click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Acknowledge with this plan").click()  # empty: refused at the fields
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("An acknowledgement needs a plan: say what happens next.").is_visible()
    page.get_by_label("What you saw").fill("ALT 5x ULN on day 14; child well, no jaundice")
    page.locator("#id_plan").fill("Keep prednisolone 1 mg/kg/day; repeat LFTs in 3 days")
    screenshot(page, "issue15-acknowledge-form")
    page.get_by_role("button", name="Acknowledge with this plan").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Acknowledged 1 flag.").is_visible()
    assert page.get_by_text("Plan: Keep prednisolone 1 mg/kg/day").is_visible()
    screenshot(page, "issue15-case-acknowledged")
    assert Flag.objects.get(code="alt_2x_uln").acknowledged_by == cast.physician


def test_a_taper_against_the_rule_needs_the_override_step(cast, page, browser_login):
    today = timezone.localdate()
    infuse(cast.case_a, today - timedelta(days=28))
    browser_login(cast.coordinator)
    _enter_liver(page, cast.case_a, 28)
    _sign_out(page)
    browser_login(cast.physician)
    page.goto(f"/monitoring/cases/{cast.case_a.pk}/steroids/")
    page.get_by_label("Unremarkable: taper over 28 days").check()
    page.locator("input[name=clinical_exam_normal][value=yes]").check()
    page.get_by_label("Reason").fill("Trying taper")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Against the recommendation.").is_visible()
    assert not SteroidDecision.objects.exists()
    page.get_by_label("Reason").fill("Hepatology (Dr Lee) advised tapering despite the ALT")
    page.get_by_label("Why taper against the recommendation?").select_option("hepatology_advised")
    page.get_by_label("I confirm this taper goes against").check()
    page.get_by_label("Your password").fill(PASSWORD)
    screenshot(page, "issue15-taper-override-form")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Override: taper against the label's recommendation").first.is_visible()
    screenshot(page, "issue15-case-override-shown")
    decision = SteroidDecision.objects.get()
    assert decision.against_recommendation and decision.override_reason == "hepatology_advised"
