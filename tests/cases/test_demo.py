"""Demo data: every DEMO_CASES patient in its scenario's gate state; rerunning changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.gate_display import gate_view
from cases.gate_facts import case_gate, gate_queryset
from cases.models import Case, Document
from demo.context import DEMO_CASES

INFUSED = {
    "infused_recent": 3,
    "monitoring_normal": 40,
    "monitoring_abnormal": 30,
    "overdue": 27,
    "extension": 100,
    "lpc_overdue": 20,
    "lpc_office": 10,
}
# Infused under a physician's written override of one gate item (demo.infusion): the gate still
# says so, and the override is on the case.
OVERRIDDEN = {"monitoring_abnormal": {"titer"}, "lpc_office": {"site_of_care"}}


@pytest.fixture
def demo(db):
    from django.apps import apps

    from accounts.roles import ensure_roles

    ensure_roles(apps)
    call_command("seed_demo", verbosity=0)
    by_mrn = {c.patient.mrn: c for c in gate_queryset(Case.objects.all())}
    return {key: by_mrn[f"{site}-{10001 + i}"] for i, (key, site, *_rest) in enumerate(DEMO_CASES)}


def _blocking(case) -> set[str]:
    return {item.id for item in case_gate(case).blocking_items}


def test_every_demo_case_is_in_its_scenarios_gate_state(demo):
    today = timezone.localdate()
    for key in ("ready", "pa_submitted", "pa_denied", "lpc_ready"):
        assert _blocking(demo[key]) == set(), key
    assert _blocking(demo["titer_stale"]) == {"titer"}
    assert "stale" in case_gate(demo["titer_stale"]).item("titer").detail
    # Its payer's own criteria: WBC above the limit (not met), no infection check yet (missing).
    assert _blocking(demo["titer_high"]) == {"titer", "payer_wbc", "payer_infection"}
    assert "retest" in case_gate(demo["titer_high"]).item("titer").fix
    assert {"smn1", "weight", "titer", "baseline_labs"} <= _blocking(demo["intake"])
    assert demo["intake"].stage == "intake" and not demo["intake"].documents.exists()
    assert "age" in _blocking(demo["age_out"])
    assert _blocking(demo["premature"]) == {"prematurity"}
    assert gate_view(demo["ready"], today).window.is_open


def test_infused_cases_have_complete_facts_dated_before_their_infusion(demo):
    today = timezone.localdate()
    for key, days in INFUSED.items():
        case = demo[key]
        assert case.planned_infusion_date == today - timedelta(days=days), key
        assert case.infused_on == case.planned_infusion_date, key  # infused on the planned day
        assert _blocking(case) == OVERRIDDEN.get(key, set()), key
        assert set(case.gate_overrides.values_list("gate_id", flat=True)) == OVERRIDDEN.get(key, set()), key
        assert all(w.measured_on < case.planned_infusion_date for w in case.weights.all())
        assert case.documents.filter(kind=Document.Kind.TITER_REPORT).exists()


def test_seeding_twice_changes_nothing(demo):
    counts = (Case.objects.count(), Document.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (Case.objects.count(), Document.objects.count()) == counts == (len(DEMO_CASES), 37)


def test_demo_reports_are_real_pdfs(demo):
    from pypdf import PdfReader

    document = demo["ready"].documents.filter(kind=Document.Kind.GENETIC_REPORT).get()
    with document.file.open("rb") as handle:
        assert "genetic report" in PdfReader(handle).pages[0].extract_text()


def test_demo_pipelines_run_in_order_pa_after_gating_and_before_infusion(demo):
    from billing.models import PAEvent
    from cases.models import StageEvent

    for key, case in demo.items():
        events = StageEvent.objects.filter(case=case).order_by("entered_at")
        first_gating = events.filter(stage="gating").first() or events.filter(stage="intake").first()
        gated = first_gating.entered_at
        for event in PAEvent.objects.filter(prior_authorization__case=case):
            assert event.at > gated, (key, event.to_status, event.at, gated)
            if case.infused_on:
                assert timezone.localtime(event.at).date() < case.infused_on, (key, event.to_status)


def test_the_demo_shows_a_final_packet_the_worker_refused_and_why(demo, client):
    from django.contrib.auth import get_user_model

    from billing.models import PacketJob

    job = PacketJob.objects.get(case=demo["titer_stale"])
    assert job.state == PacketJob.State.FAILED and "Still blocking" in job.message
    billing = (
        get_user_model().objects.filter(groups__name="billing", memberships__site=demo["titer_stale"].site).first()
    )
    client.force_login(billing)
    page = client.get(f"/cases/{demo['titer_stale'].pk}/").content.decode()
    assert 'data-packet-job="failed"' in page and "was not generated." in page
