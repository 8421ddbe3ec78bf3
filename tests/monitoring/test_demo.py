"""demo.monitoring: the demo cast at several points of monitoring, idempotent."""

from __future__ import annotations

from datetime import date

import time_machine

from demo import monitoring as demo
from demo.context import DEMO_CASES, DemoContext
from monitoring.models import Assessment, Draw, Flag, Result, SteroidDecision
from tests.personas import make_case


def _ctx(cast) -> DemoContext:
    ctx = DemoContext(today=date(2027, 5, 10))
    ctx.users = {"coordinator": cast.coordinator, "physician": cast.physician, "outsider": cast.outsider}
    cases = {}
    for i, (key, site, name, _sex, _age, _scenario) in enumerate(DEMO_CASES):
        if key in demo.INFUSED_DAYS_AGO or key == "follow_up":
            site_obj = cast.site_b if site == "LPC" else cast.site_a
            cases[key] = make_case(site_obj, name=name, mrn=f"D-{i}", dob=date(2027, 1, 1))
    ctx.extra["cases"] = cases
    return ctx


def test_the_demo_shows_each_monitoring_scenario_and_a_rerun_changes_nothing(cast):
    ctx = _ctx(cast)
    with time_machine.travel("2027-05-10 15:00 -04:00", tick=False):
        demo.seed(ctx)
        counts = (
            Draw.objects.count(),
            Result.objects.count(),
            Flag.objects.count(),
            SteroidDecision.objects.count(),
            Assessment.objects.count(),
        )
        demo.seed(ctx)
        assert counts == (
            Draw.objects.count(),
            Result.objects.count(),
            Flag.objects.count(),
            SteroidDecision.objects.count(),
            Assessment.objects.count(),
        )
    cases = ctx.extra["cases"]
    abnormal = cases["monitoring_abnormal"]
    assert Flag.objects.filter(case=abnormal, code="alt_2x_uln", resolved_at__isnull=True).exists()
    assert SteroidDecision.objects.get(case=abnormal).action == "continue"
    assert SteroidDecision.objects.get(case=cases["monitoring_normal"]).action == "taper"
    assert Draw.objects.get(case=cases["overdue"], kind="liver", day=21).state in ("late", "overdue")
    assert Draw.objects.get(case=cases["lpc_overdue"], kind="liver", day=14).state == "overdue"
    assert Draw.objects.filter(case=cases["extension"], is_extension=True, kind="liver").exists()
    assert Assessment.objects.filter(case=cases["follow_up"], milestone__month=6).exists()
    assert not Result.objects.filter(draw__case=cases["infused_recent"]).exists()
