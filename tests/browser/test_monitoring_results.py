"""Browser: a coordinator enters a liver panel and sees the flag, the banner and the chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import screenshot
from tests.monitoring.helpers import infuse

pytestmark = pytest.mark.browser


def test_a_coordinator_enters_results_and_sees_the_flag_and_the_chart(cast, page, browser_login):
    today = timezone.localdate()
    infuse(cast.case_a, today - timedelta(days=8))
    browser_login(cast.coordinator)
    page.goto(f"/cases/{cast.case_a.pk}/")
    page.get_by_role("link", name="Enter results for Liver panel day 7", exact=True).click()
    page.get_by_label("Collected (date and time)").fill(
        (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    )
    for label, value in [
        ("ALT value", "1250"),
        ("AST value", "180"),
        ("Total bilirubin value", "0.6"),
        ("Prothrombin time value", "12"),
    ]:
        page.get_by_label(label, exact=True).fill(value)
    for label, value in [("AST lab ULN", "60"), ("Total bilirubin lab ULN", "1.0"), ("Prothrombin time lab ULN", "14")]:
        page.get_by_label(label, exact=True).fill(value)
    screenshot(page, "monitoring-results-form")
    page.get_by_role("button", name="Save results").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Consult pediatric hepatology now").is_visible()
    chart = page.locator("img.chart-img").first
    chart.scroll_into_view_if_needed()
    assert page.evaluate("(img) => img.naturalWidth", chart.element_handle()) > 0
    screenshot(page, "monitoring-case-flag-chart")
    page.set_viewport_size({"width": 768, "height": 1000})
    screenshot(page, "monitoring-case-768")
