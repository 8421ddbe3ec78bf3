"""Accessibility proven in the browser (issue 18 item 5).

axe-core (the npm package in package.json, injected from node_modules) runs on each role's main
pages of the demo, at desktop and phone width: no serious or critical violation. A keyboard-only
test does the coordinator's main job (sign in, open a case, add a weight, enter a draw result)
without a mouse.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import screenshot

pytestmark = pytest.mark.browser

# GENEGATE_AXE_JS: an axe.min.js elsewhere, for a machine whose node_modules predates axe-core.
AXE = Path(
    os.environ.get("GENEGATE_AXE_JS") or Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"
)
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


@pytest.fixture
def demo(db, live_server):
    from accounts.roles import ensure_roles

    ensure_roles(apps)
    call_command("seed_demo", verbosity=0)
    return live_server


def _pages() -> dict[str, list[str]]:
    """Each role's main pages in the demo: home, lists, case pages in several states, forms."""
    from billing.models import Payer
    from cases.models import Case
    from monitoring.models import Draw, Flag, InboxMessage, Milestone

    case = {c.patient.legal_name: c.pk for c in Case.objects.select_related("patient")}
    overdue, abnormal, denied, ready = (
        case["Benjamin Lee"],
        case["Amelia Davis"],
        case["Lucas Kim"],
        case["Ava Thompson"],
    )
    draw = Draw.objects.filter(case_id=overdue, state="overdue").order_by("pk").first().pk
    milestone = Milestone.objects.filter(case_id=case["Charlotte Hall"]).order_by("pk").first().pk
    # Main's later screens: the results inbox and a message held for review, a flag to acknowledge.
    held = InboxMessage.objects.exclude(status="processed").order_by("pk").first().pk
    flag = Flag.objects.filter(acknowledged_at=None).exclude(level="watch").order_by("pk").first().pk
    return {
        "coordinator": [
            "/",
            "/cases/",
            f"/cases/{overdue}/",
            f"/cases/{case['Mia Johnson']}/?add=labs",
            "/cases/new/",
            f"/monitoring/draws/{draw}/",
            f"/cases/{ready}/infusion/",
            "/monitoring/worklist/week/",
            "/monitoring/notifications/",
            "/monitoring/inbox/",
            f"/monitoring/inbox/{held}/",
        ],
        "physician": [
            "/",
            f"/cases/{abnormal}/",
            f"/monitoring/cases/{abnormal}/steroids/",
            f"/monitoring/milestones/{milestone}/",
            f"/monitoring/flags/{flag}/acknowledge/",
            f"/billing/cases/{ready}/letter/",
            f"/cases/{abnormal}/infusion/",
        ],
        "billing": [
            "/",
            f"/cases/{denied}/",
            f"/billing/cases/{denied}/pa/move/?to=approved",
            f"/billing/cases/{abnormal}/claim/",
            f"/billing/cases/{denied}/letter/",
            "/billing/payers/",
            "/billing/reference/",
            "/billing/desk/?overdue=1",
        ],
        "manager": [
            "/",
            "/monitoring/dashboard/",
            f"/cases/{abnormal}/audit/",
            f"/monitoring/reminders/draws/{draw}/acknowledge/",
            "/monitoring/reminders/routes/",
            "/monitoring/notifications/",
            "/monitoring/protocol/",
        ],
        "admin": [
            "/",
            "/monitoring/protocol/new/",
            "/billing/desk/",
            f"/billing/payers/{Payer.objects.first().pk}/edit/",
            "/no-such-page/",
        ],
    }


def _context(browser, live_server, width=1280, height=900):
    # axe is injected as a script tag: the page's CSP (script-src 'self') would refuse it.
    return browser.new_context(viewport={"width": width, "height": height}, base_url=live_server.url, bypass_csp=True)


def _sign_in(page, username: str) -> None:
    from demo.context import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def _violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE)


def test_axe_finds_no_serious_or_critical_violation_on_each_roles_pages(demo, browser):
    assert AXE.exists(), "npm ci installs axe-core (package.json)"
    problems, checked = [], 0
    login = _context(browser, demo).new_page()
    login.goto("/accounts/login/")
    problems += [f"login page: {v}" for v in _violations(login) if v["impact"] in ("serious", "critical")]
    login.context.close()
    for role, paths in _pages().items():
        for width, height in ((1280, 900), (390, 844)):
            context = _context(browser, demo, width, height)
            page = context.new_page()
            page.set_default_timeout(15000)
            _sign_in(page, role)
            for path in paths if width > 400 else paths[:3]:
                page.goto(path)
                page.wait_for_load_state("networkidle")
                found = _violations(page)
                checked += 1
                problems += [
                    f"{role} {path} at {width}px: {v}" for v in found if v["impact"] in ("serious", "critical")
                ]
            context.close()
    assert checked >= 40
    assert not problems, "\n".join(problems)


def _tab_to(page, test: str, limit: int = 80) -> None:
    """Press Tab until ``test`` (a JS expression on ``el``, the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!(el && ({test})); }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {test}")


def test_a_coordinator_does_the_main_job_with_the_keyboard_only(demo, browser):
    from cases.models import WeightMeasurement
    from demo.context import DEMO_PASSWORD
    from monitoring.models import Result

    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=demo.url)
    page = context.new_page()
    page.set_default_timeout(15000)

    # Sign in.
    page.goto("/accounts/login/")
    _tab_to(page, "el.name === 'username'")
    page.keyboard.type("coordinator")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.url}/")

    # Open a case from the case list.
    _tab_to(page, "el.textContent.trim() === 'Cases' && el.tagName === 'A'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases/")
    _tab_to(page, "el.id === 'id_q'")
    page.keyboard.type("Benjamin")
    page.wait_for_selector("#results tbody tr:only-child")
    _tab_to(page, "el.textContent.trim() === 'Benjamin Lee'")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Benjamin Lee')")

    # Add a weight: the kg field, then Enter submits the form (htmx swaps the section).
    _tab_to(page, "el.name === 'kg'")
    page.keyboard.type("6.15")
    page.keyboard.press("Enter")
    page.wait_for_selector("#weights td:has-text('6.15 kg')")
    assert WeightMeasurement.objects.filter(kg="6.15", case__patient__legal_name="Benjamin Lee").exists()

    # Enter the earliest open platelet count (the demo's results inbox may already have filled
    # some draws). The case page has more to tab past since main grew it (void forms on results).
    from monitoring.models import OPEN_STATES, Draw

    day = (
        Draw.objects.filter(case__patient__legal_name="Benjamin Lee", kind="platelets", state__in=OPEN_STATES)
        .order_by("due_on")
        .values_list("day", flat=True)
        .first()
    )
    assert day is not None, "the demo has an open platelet count for Benjamin Lee"
    _tab_to(page, f"el.textContent.includes('Enter results for Platelet count day {day}')", limit=250)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"h1:text('Platelet count, day {day}')")
    collected = timezone.localtime() - timedelta(days=1)
    _tab_to(page, "el.name === 'collected_at'")
    page.keyboard.type(collected.strftime("%m%d%Y"))
    page.keyboard.press("Tab")
    page.keyboard.type("0930AM")
    _tab_to(page, "el.name === 'platelets_value'")
    page.keyboard.type("290")
    _tab_to(page, "el.name === 'hemoglobin_value'")
    page.keyboard.type("11.6")
    _tab_to(page, "el.textContent.trim() === 'Save results'")
    screenshot(page, "keyboard-draw-results")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    screenshot(page, "keyboard-draw-saved")
    assert Result.objects.filter(
        draw__case__patient__legal_name="Benjamin Lee", analyte="platelets", value=290
    ).exists()
    context.close()
