"""A coordinator's whole intake journey to "Ready for PA", and the case pages at two widths."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.cases.helpers import LAB_PANEL, pdf_bytes
from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def test_a_coordinator_takes_a_new_patient_from_intake_to_ready_for_pa(cast, page, browser_login, tmp_path):
    today = timezone.localdate()
    report = Path(tmp_path) / "genetic-report.pdf"
    report.write_bytes(pdf_bytes())
    browser_login(cast.coordinator)
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_role("link", name="New case").click()
    fill = {
        "#id_legal_name": "Willow Journey",
        "#id_mrn": "MRN-JOURNEY",
        "#id_date_of_birth": (today - timedelta(days=90)).isoformat(),
        "#id_gestational_age_weeks": "39",
        "#id_birth_weight_kg": "3.2",
        "#id_guardian_name": "Robin Journey",
        "#id_guardian_phone": "555-0142",
        "#id_genetic_report_date": (today - timedelta(days=60)).isoformat(),
        "#id_smn2_copies": "2",
        "#id_ordering_physician_name": "Dr. Test",
        "#id_ordering_physician_npi": "1234567890",  # wrong check digit first
        "#id_planned_infusion_date": (today + timedelta(days=7)).isoformat(),
        "#id_steroid_plan_start": (today + timedelta(days=6)).isoformat(),
    }
    for selector, value in fill.items():
        page.fill(selector, value)
    page.select_option("#id_sex", "F")
    page.select_option("#id_sma_type", "1")
    page.select_option("#id_primary_diagnosis", "G12.0")
    page.select_option("#id_genetic_method", "MLPA")
    page.select_option("#id_smn1_genotype", "0_copies")
    page.select_option("#id_site_of_care_pos", "21")
    page.set_input_files("#id_genetic_report", str(report))
    page.get_by_role("button", name="Open case").click()
    assert page.get_by_text("the check digit should be 3").is_visible()
    screenshot(page, "intake-npi-error")
    page.fill("#id_ordering_physician_npi", "1234567893")
    page.set_input_files("#id_genetic_report", str(report))  # browsers never keep a file across a re-render
    page.get_by_role("button", name="Open case").click()
    page.wait_for_url("**/cases/*/")
    gate = page.locator("#gate")
    assert "items block" in gate.locator("[data-gate-summary]").inner_text()

    page.fill("#weight_measured_on", today.isoformat())
    page.fill("#weight_kg", "5.6")
    page.get_by_role("button", name="Add weight").click()
    page.wait_for_selector("#weights td:has-text('5.60')")
    page.wait_for_selector("#pipeline li.current:has-text('Gating')")

    page.fill("#titer_drawn_on", today.isoformat())
    page.fill("#titer_result_text", "abc")
    page.fill("#titer_lab", "Labcorp")
    page.get_by_role("button", name="Add titer").click()
    page.wait_for_selector("#titers .invalid-feedback:has-text('is not a titer')")
    page.fill("#titer_result_text", "1:25")
    page.get_by_role("button", name="Add titer").click()
    page.wait_for_selector("#titers td:has-text('1:25')")

    page.locator("#labs summary").click()
    page.fill("#lab_drawn_on", today.isoformat())
    for analyte, (value, unit, uln) in LAB_PANEL.items():
        page.fill(f"#lab_{analyte}_value", value)
        page.select_option(f"#lab_{analyte}_unit", unit)
        page.fill(f"#lab_{analyte}_uln", uln)
    page.get_by_role("button", name="Record panel").click()
    page.wait_for_selector("#labs h4:has-text('Drawn')")

    page.wait_for_selector("#gate [data-gate-summary]:has-text('Ready for PA')")
    assert "titer valid for infusion until" in page.locator("#gate [data-window]").inner_text()
    screenshot(page, "intake-journey-ready-for-pa")


def test_the_demo_case_pages_and_list_at_desktop_and_tablet_width(page, db, live_server):
    from django.apps import apps
    from django.core.management import call_command

    from accounts.roles import ensure_roles
    from cases.models import Case
    from demo.context import DEMO_PASSWORD

    ensure_roles(apps)
    call_command("seed_demo", verbosity=0)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    stale = Case.objects.get(patient__legal_name="Liam Carter")
    page.goto(f"/cases/{stale.pk}/")
    assert page.locator("#gate [data-gate-summary]").inner_text() == "1 item blocks"
    screenshot(page, "case-page-1280")
    page.set_viewport_size({"width": 768, "height": 1024})
    page.reload()
    screenshot(page, "case-page-768")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/cases/?sort=stage")
    assert page.get_by_role("link", name="Ava Thompson").is_visible()
    page.fill("#id_q", "Liam")
    page.wait_for_selector("#results td:has-text('Liam Carter')")
    for _ in range(50):  # htmx pushes the search into the URL after the swap (no eval under our CSP)
        if "q=Liam" in page.url:
            break
        page.wait_for_timeout(100)
    assert "q=Liam" in page.url
    assert page.locator("#results tbody tr").count() == 1
    assert "sort=stage" in page.url
    page.goto("/cases/")
    screenshot(page, "case-list")
