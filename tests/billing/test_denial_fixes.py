"""Denial fixes from what is actually missing, shown once; banners where they help (issue 18 item 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from billing.denials import DenialFacts, denial_fix, denial_reason
from billing.pa import pa_start, pa_transition
from cases.models import Document

TITER = denial_reason("titer")
GENETICS = denial_reason("genetics")


def test_the_titer_fix_follows_what_is_missing():
    assert denial_fix(TITER, DenialFacts(item_status="missing")) == TITER.fix  # no titer: order testing
    stale = denial_fix(TITER, DenialFacts("fail", "1:25 drawn 1 Nov 2026; stale after 15 Nov 2026", "Redraw: order"))
    assert "does not meet" in stale and "Redraw" in stale and "Order anti-AAV9" not in stale
    no_report = denial_fix(TITER, DenialFacts("pass", "1:25 drawn 1 Dec 2026", "", report_on_file=False))
    assert "upload the AAV9 titer report" in no_report and "Order" not in no_report
    both = denial_fix(TITER, DenialFacts("pass", "1:25 drawn 1 Dec 2026", "", report_on_file=True))
    assert both.startswith("The titer (1:25 drawn 1 Dec 2026) and its lab report are on file")


def test_the_genetics_fix_asks_for_the_report_only_when_it_is_missing():
    assert "Upload the genetic report" in denial_fix(GENETICS, DenialFacts("pass", "0 SMN1 copies", ""))
    assert "send it to the payer" in denial_fix(GENETICS, DenialFacts("pass", "0 SMN1 copies", "", True))
    assert denial_fix(denial_reason("wrong_cpt"), DenialFacts("pass")) == denial_reason("wrong_cpt").fix


@pytest.fixture
def denied(client, cast, ready_case, today):
    """A case whose 1:25 titer is on file but whose titer report document is not, denied for #1."""
    Document.objects.filter(case=ready_case, kind=Document.Kind.TITER_REPORT).delete()
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    pa_transition(pa=pa, to="submitted", by=cast.billing, on=today - timedelta(days=2))
    pa_transition(pa=pa, to="denied", by=cast.billing, on=today, denial_reason="titer", note="Letter: no titer")
    client.force_login(cast.billing)
    return ready_case


def test_a_titer_on_file_without_its_report_asks_for_the_report_once(client, denied):
    page = client.get(reverse("cases:detail", args=[denied.pk])).content.decode()
    assert page.count("upload the AAV9 titer report") == 1
    assert escape(TITER.fix) not in page  # not "order titer testing": a 1:25 titer is on file
    assert page.count(escape(TITER.label)) == 2  # the banner and the history row name it; the fix is once


def test_a_billing_action_says_so_at_the_billing_panel_not_at_the_top(client, denied):
    response = client.post(reverse("billing:packet_generate", args=[denied.pk]), {"final": "0"}, follow=True)
    page = response.content.decode()
    main, billing = page.split('id="billing"', 1)
    assert "Generating a draft packet" in billing and "Generating a draft packet" not in main
    assert page.count("Generating a draft packet") == 1


def test_the_feasible_dates_are_a_line_unless_they_need_action(client, cast, ready_case):
    client.force_login(cast.coordinator)
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    window = page.split("data-window", 1)[0].rsplit("<div", 1)[1]
    assert "alert" not in window  # the planned date is inside the window: no banner
    ready_case.planned_infusion_date = ready_case.planned_infusion_date + timedelta(days=60)
    ready_case.save()
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    window = page.split("data-window", 1)[0].rsplit("<div", 1)[1]
    assert "alert-warning" in window and "The planned date is outside this window" in page
