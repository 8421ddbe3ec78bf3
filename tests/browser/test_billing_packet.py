"""Browser: billing generates a PA packet on the case page and downloads it."""

from __future__ import annotations

import pytest
from django.utils import timezone
from pypdf import PdfReader

from demo import billing as demo
from demo.context import DemoContext
from tests.billing.helpers import make_payer, make_ready_case, sign_letter
from tests.conftest import screenshot
from tests.personas import Personas

pytestmark = pytest.mark.browser


@pytest.fixture
def cast(transactional_db):
    return Personas()


def test_billing_generates_a_final_packet_and_downloads_it(cast, page, browser_login, live_server, eager_celery):
    # eager_celery: the worker's task runs when the request commits, as the worker would run it.
    today = timezone.localdate()
    demo.seed(DemoContext(today=today))
    case = make_ready_case(cast.site_a, today=today, payer=make_payer("Test Payer"))
    sign_letter(case, cast.physician)  # a final packet needs the prescriber's signed letter
    browser_login(cast.billing)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("button", name="Start prior authorization").click()
    page.get_by_role("link", name="Record submitted").click()
    page.get_by_label("Payer reference number").fill("REF-777")
    page.get_by_role("button", name="Record").click()
    assert page.get_by_text("Prior authorization submitted.").is_visible()
    # The user leaves the titer report out (already faxed), with the reason printed for the payer.
    titer = page.get_by_label("AAV9 titer report, titer.png")
    assert titer.input_value() == "append"
    titer.select_option(label="Leave out: already sent to the payer")
    screenshot(page, "billing-packet-documents")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "billing-packet-documents-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Generate final packet").click()
    assert page.get_by_text("Generating a final packet").is_visible()
    screenshot(page, "billing-case-panel")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download version 1").click()
    download = info.value
    assert download.suggested_filename == f"pa-packet-case-{case.pk}-v1-final.pdf"
    path = download.path()
    with open(path, "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    text = " ".join(page.extract_text() for page in PdfReader(path).pages)
    assert "AAV9 titer report, uploaded" in text and "already sent to the payer" in text
