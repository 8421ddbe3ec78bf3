"""Browser: the pages staff open on a phone or a tablet on the ward fit the screen (issue 18 item 1).

At 390 × 844 (a phone) and 768 × 1024 (a tablet) the page never scrolls sideways, and the first
row's state and main action are on screen (not clipped inside a scrolling table). Screenshots at
both sizes and at desktop width land in test-artifacts/ (narrow-<page>-<width>.png).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command

from tests.conftest import screenshot

pytestmark = pytest.mark.browser

SIZES = [(390, 844), (768, 1024)]

# True when the element is drawn, inside the window, and not cut off by a scrolling ancestor.
ON_SCREEN = """(el) => {
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height || getComputedStyle(el).visibility === "hidden") return false;
  if (r.left < -0.5 || r.right > window.innerWidth + 0.5) return false;
  for (let a = el.parentElement; a; a = a.parentElement) {
    if (getComputedStyle(a).overflowX === "visible") continue;
    const b = a.getBoundingClientRect();
    if (r.left < b.left - 0.5 || r.right > b.right + 0.5) return false;
  }
  return true;
}"""


@pytest.fixture
def demo(db, live_server):
    from accounts.roles import ensure_roles

    ensure_roles(apps)
    call_command("seed_demo", verbosity=0)


def _sign_in(page, username: str) -> None:
    from demo.context import DEMO_PASSWORD

    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def _pages():
    """(role, name, path, CSS selectors that must be on screen) for the pages used on the ward."""
    from cases.models import Case
    from monitoring.models import Draw, Flag

    by_name = {c.patient.legal_name: c for c in Case.objects.select_related("patient")}
    overdue = by_name["Benjamin Lee"]  # infused 27 days ago, day-21 draws overdue
    ready = by_name["Ava Thompson"]  # gate passes, infusion day open
    open_draw = Draw.objects.filter(case=overdue, state="due").exclude(kind="steroid_review").order_by("due_on").first()
    schedule_row = "[data-schedule] tbody tr:has(a:text('Enter results'))"
    flag = Flag.objects.filter(acknowledged_at=None).exclude(level="watch").order_by("pk").first()
    return [
        (
            "coordinator",
            "worklist",
            "/",
            ["#worklist-overdue + div tbody tr:first-child [data-state-cell]", "#worklist-overdue + div tbody tr a"],
        ),
        ("coordinator", "case-list", "/cases/", ["#results [data-stage-cell]", "#results [data-gate-cell]"]),
        (
            "coordinator",
            "case-page",
            f"/cases/{overdue.pk}/#monitoring",
            [f"{schedule_row} [data-state-cell]", f"{schedule_row} [data-action-cell] a", "#gate [data-gate-summary]"],
        ),
        (
            "coordinator",
            "case-results-forms",
            f"/cases/{ready.pk}/?add=labs#labs",
            ["#weights button[type=submit]", "#labs tbody tr:first-child input", "#labs button[type=submit]"],
        ),
        (
            "coordinator",
            "draw-results",
            f"/monitoring/draws/{open_draw.pk}/",
            ["form tbody tr:first-child input", "form tbody tr:first-child select", "button:text('Save results')"],
        ),
        (
            "coordinator",
            "results-inbox",
            "/monitoring/inbox/",
            ["tbody tr:first-child [data-state-cell]", "tbody tr:first-child [data-action-cell] a"],
        ),
        ("physician", "infusion-day", f"/cases/{ready.pk}/infusion/", ["h1", "button:text('Save record')"]),
        (
            "physician",
            "flag-acknowledge",
            f"/monitoring/flags/{flag.pk}/acknowledge/",
            ["h1", "#ack-h + form [type=submit]"],
        ),
        ("physician", "letter", f"/billing/cases/{ready.pk}/letter/", ["h1", "button[name=sign]"]),
        ("billing", "claim", f"/billing/cases/{overdue.pk}/claim/", ["#claim-lines tbody tr:first-child td", "h1"]),
        (
            "billing",
            "billing-desk",
            "/",
            ["#desk-awaiting tbody tr:first-child td[data-label='Decision due']", "#desk-awaiting tbody tr a"],
        ),
        (
            "manager",
            "dashboard",
            "/monitoring/dashboard/",
            ["#dashboard-data tbody tr:first-child [data-state-cell]", "#dashboard-data [data-action-cell] a"],
        ),
    ]


def test_ward_pages_fit_a_phone_and_a_tablet(demo, page):
    problems = []
    signed_in = None
    for role, name, path, selectors in _pages():
        if role != signed_in:
            page.set_viewport_size({"width": 1280, "height": 900})
            _sign_in(page, role)
            signed_in = role
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path)
        page.wait_for_load_state("networkidle")
        screenshot(page, f"narrow-{name}-1280")
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.goto(path)
            page.wait_for_load_state("networkidle")
            scroll_width, inner_width = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
            if scroll_width > inner_width:
                problems.append(f"{name} at {width}: the page is {scroll_width} px wide")
            for selector in selectors:
                element = page.locator(selector).first
                if not element.count():
                    problems.append(f"{name} at {width}: nothing matches {selector}")
                    continue
                element.scroll_into_view_if_needed()
                if not element.evaluate(ON_SCREEN):
                    problems.append(f"{name} at {width}: {selector} is off screen")
            screenshot(page, f"narrow-{name}-{width}")
    assert not problems, "\n".join(problems)
