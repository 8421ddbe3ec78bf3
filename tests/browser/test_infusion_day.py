"""Browser: a physician records the infusion day, signs it off, and billing reads the claim."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, Stage
from monitoring.models import Draw
from tests.conftest import screenshot
from tests.infusion.factories import ready_case

pytestmark = pytest.mark.browser


def test_a_physician_records_and_signs_the_infusion_day(cast, page, browser_login):
    today = timezone.localdate()
    case = ready_case(cast.site_a, name="Browser Child", mrn="BR-1")
    browser_login(cast.physician)
    page.goto(f"/cases/{case.pk}/infusion/")
    assert page.get_by_text("Every blocking gate item passes").is_visible()
    assert page.locator("[data-kit-ndc]").inner_text() == "71894-125-04"

    # The kit lookup swaps only the kit panel (htmx).
    page.get_by_label("Check another weight (kg)").fill("3.05")
    page.get_by_role("button", name="Look up kit").click()
    page.wait_for_selector("text=71894-121-03")
    assert "Infusion record" in page.content()  # the rest of the page stayed

    page.get_by_label("Prednisolone started on").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Prednisolone start time").fill("08:00")
    page.get_by_label("Steroid start confirmed").check()
    page.get_by_label("Total volume drawn (mL)").fill("30.3")
    for i in range(1, 5):
        page.get_by_label(f"Vial {i} lot number").fill(f"2508AV{i:02d}")
        page.get_by_label(f"Vial {i} expiry").fill((today + timedelta(days=150)).isoformat())
    page.get_by_label("Syringe pump").fill("Medfusion 4000, asset SP-0412")
    page.get_by_label("Catheter").fill("24G PIV left saphenous; back-up right hand")
    page.get_by_label("Infusion started").fill("09:00")
    page.get_by_label("Infusion stopped").fill("09:50")
    page.get_by_label("Administered by").fill("Jordan Rivera, RN")
    page.get_by_label("Adverse events").fill("None")
    screenshot(page, "infusion-day-form")
    page.get_by_role("button", name="Save record").click()
    page.wait_for_selector("text=Infusion record saved.")
    assert page.get_by_text("The infusion ran 50 minutes").is_visible()

    page.get_by_label("Your password").fill("wrong-password")
    page.get_by_role("button", name="Sign and lock the record").click()
    assert page.get_by_text("That is not your password").is_visible()
    screenshot(page, "infusion-day-wrong-password")

    page.get_by_label("Your password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign and lock the record").click()
    page.wait_for_selector("text=Signed. The case moved to monitoring")
    assert page.get_by_text("Signed by Physician").is_visible()
    screenshot(page, "infusion-day-signed")
    assert Case.objects.get(pk=case.pk).stage == Stage.MONITORING and Draw.objects.filter(case=case).exists()

    page.get_by_role("link", name="Claim lines and scrubber").click()
    assert page.get_by_role("heading", name="Claim summary · J3399").is_visible()
    screenshot(page, "infusion-claim")


def test_a_physician_overrides_a_stale_titer_with_a_reason_on_a_tablet(cast, page, browser_login):
    from cases.models import TiterResult

    case = ready_case(cast.site_a, name="Blocked Child", mrn="BR-2")
    TiterResult.objects.filter(case=case).update(drawn_on=timezone.localdate() - timedelta(days=17))
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(cast.physician)
    page.goto(f"/cases/{case.pk}/infusion/")
    assert page.get_by_text("The infusion day cannot open").is_visible()
    page.get_by_text("Override a gate item (physician)").click()
    page.get_by_role("button", name="Record override").click()
    assert page.get_by_text("An override needs a written reason.").is_visible()
    screenshot(page, "infusion-day-blocked-override-refused")
    page.get_by_label("Reason (clinical justification)").fill(
        "Titer 1:25 drawn 17 days ago; antibodies only decline. Clinically stable."
    )
    page.get_by_role("button", name="Record override").click()
    page.wait_for_selector("text=Override of")
    assert page.get_by_text("or is overridden by a physician").is_visible()
    screenshot(page, "infusion-day-overridden-tablet")
    page.goto(f"/cases/{case.pk}/")
    assert page.get_by_text("Physician gate overrides").is_visible()
    screenshot(page, "case-page-infusion-panel")


def test_signing_with_an_overridden_gate_item_takes_the_explicit_override(cast, page, browser_login):
    """Issue 15 item 2: the sign-off against the gate asks for a listed reason, words, a
    confirmation and the password again, then shows the override with the signature."""
    from cases.infusion.models import GateOverride, InfusionRecord
    from cases.models import TiterResult
    from tests.infusion.factories import make_record

    case = ready_case(cast.site_a, name="Override Child", mrn="BR-3")
    TiterResult.objects.filter(case=case).update(drawn_on=timezone.localdate() - timedelta(days=17))
    GateOverride.objects.create(
        case=case,
        gate_id="titer",
        gate_title="Anti-AAV9 antibody titer <= 1:50, drawn within 14 days",
        detail_at_override="<1:25 drawn 17 days ago",
        judged_on=timezone.localdate(),
        reason="Titer 1:25 drawn 17 days ago; antibodies only decline. Clinically stable.",
        by=cast.physician,
        by_name="Physician",
    )
    make_record(case, cast.coordinator)
    browser_login(cast.physician)
    page.goto(f"/cases/{case.pk}/infusion/")
    assert page.get_by_text("Signing asks for your explicit override").is_visible()
    page.get_by_label("Your password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign and lock the record").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Against the gate.").is_visible()
    assert not InfusionRecord.objects.get(case=case).is_signed
    page.get_by_label("Why infuse with the overridden gate item?").select_option("clinical_urgency")
    page.get_by_label("Explain, in your words").fill("Weakness progressing this week; a new titer takes ten more days.")
    page.get_by_label("I confirm the infusion went ahead").check()
    page.get_by_label("Your password").fill("correct-horse-battery-staple")
    screenshot(page, "issue15-sign-off-override-form")
    page.get_by_role("button", name="Sign with the override").click()
    page.wait_for_selector("text=Signed with the override of the gate recorded")
    assert page.get_by_text("Infusion signed with an overridden gate item").first.is_visible()
    screenshot(page, "issue15-sign-off-override-signed")
    assert InfusionRecord.objects.get(case=case).sign_override.reason_code == "clinical_urgency"
