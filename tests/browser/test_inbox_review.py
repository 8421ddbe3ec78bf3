"""Browser: the coordinator walks the results inbox's review queue (issue 19). A lab message
whose MRN matches no child waits for review; the coordinator opens it, picks the right child's
draw among the site's children, and the results land on that draw, flagged as typed results."""

from __future__ import annotations

import pytest

from monitoring.inbox.forms import _draw_label
from monitoring.inbox.models import InboxMessage
from monitoring.inbox.workflows import receive_hl7
from monitoring.models import Flag, Result
from tests.conftest import screenshot
from tests.inbox.helpers import LIVER, infused_case, oru
from tests.monitoring.helpers import draw
from tests.personas import make_case

pytestmark = pytest.mark.browser


def test_the_coordinator_matches_an_unmatched_message_to_the_right_child(cast, page, browser_login):
    infused_case(cast.case_a)
    other = make_case(cast.site_a, name="Other Queuechild", mrn="MRN-OTHER-1", coordinator=cast.coordinator)
    infused_case(other)
    rows = [("1742-6", "ALT", "130", "U/L", "10-60", "H", "F"), *LIVER[1:]]
    # The lab typed the MRN with one digit wrong: no child has it, so nothing is guessed.
    message = receive_hl7(oru("REVIEW-1", mrn="MRN-MARKER-9138", results=rows).encode()).message
    assert message.status == "needs_review" and message.case is None
    right, wrong = draw(cast.case_a, "liver", 7), draw(other, "liver", 7)

    browser_login(cast.coordinator)
    page.goto("/")
    page.get_by_role("link", name="Results inbox").first.click()
    page.get_by_role("link", name="Needs review").click()
    row = page.get_by_role("row").filter(has_text="No patient with this MRN")
    assert row.count() == 1
    screenshot(page, "inbox-review-queue")
    row.get_by_role("link", name=f"Message {message.pk}", exact=True).click()

    assert page.get_by_role("heading", name="Assign to a draw").is_visible()
    select = page.get_by_label("Draw for the liver panel")
    options = select.locator("option").all_inner_texts()
    assert _draw_label(right) in options and _draw_label(wrong) in options  # both children offered
    select.select_option(label=_draw_label(right))
    screenshot(page, "inbox-review-pick-draw")
    page.get_by_role("button", name="Record on this draw").click()
    page.wait_for_load_state("networkidle")

    assert page.get_by_text(f"Message {message.pk}: processed.").is_visible()
    message.refresh_from_db()
    assert message.status == "processed" and message.case == cast.case_a
    assert message.reviewed_by == cast.coordinator
    assert Result.objects.filter(draw=right).count() == 4 and not Result.objects.filter(draw=wrong).exists()
    assert Flag.objects.filter(draw=right, code="alt_2x_uln").exists()  # flagged as a typed result is

    page.get_by_role("link", name=cast.case_a.patient.legal_name).click()
    page.wait_for_load_state("networkidle")
    schedule_row = page.get_by_role("row").filter(has_text="ALT 130 U/L")
    assert schedule_row.count() == 1 and "Liver panel" in schedule_row.inner_text()
    schedule_row.scroll_into_view_if_needed()
    screenshot(page, "inbox-review-result-on-draw")
    assert InboxMessage.objects.filter(status="needs_review").count() == 0
