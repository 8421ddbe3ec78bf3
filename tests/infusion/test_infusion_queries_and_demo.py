"""The infusion pages stay constant in queries as data grows; the demo step is idempotent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases.infusion.models import GateOverride, InfusionAmendment, InfusionRecord, InfusionVial
from cases.models import Stage, WeightMeasurement
from demo import context as demo
from demo import infusion as demo_infusion
from monitoring.models import Draw
from tests.infusion.factories import make_record, ready_case
from tests.personas import make_case

TODAY = timezone.localdate


def grow(case, user, n: int) -> None:
    """Add n more weights, overrides and amendments to a case and its record."""
    for i in range(n):
        WeightMeasurement.objects.create(case=case, measured_on=TODAY() - timedelta(days=30 + i), kg=Decimal("5.0"))
        GateOverride.objects.create(
            case=case, gate_id=f"x{i}", gate_title="T", detail_at_override="d", judged_on=TODAY(), reason="r" * 30,
            by=user, by_name="P",
        )  # fmt: skip
        InfusionAmendment.objects.create(
            record=case.infusion_record, field="catheter", field_label="Catheter", old_value="a", new_value="b",
            reason="because of reasons", by=user, by_name="P",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("url_name", "signed", "role"),
    [
        ("cases:infusion", False, "coordinator"),
        ("cases:infusion", False, "physician"),
        ("cases:infusion", True, "coordinator"),
        ("billing:claim", True, "billing"),
        ("cases:detail", True, "billing"),
    ],
)
def test_the_pages_run_the_same_number_of_queries_for_more_data(cast, client, url_name, signed, role):
    counts = []
    for size, mrn in ((1, "Q-1"), (6, "Q-2")):
        case = ready_case(cast.site_a, mrn=mrn, name=f"Query Child {mrn}")
        make_record(case, cast.coordinator, signed_by=cast.physician if signed else None)
        grow(case, cast.physician, size)
        client.force_login(getattr(cast, role))
        url = reverse(url_name, args=[case.pk])
        client.get(url)  # warm caches (content types, sessions)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_the_day_page_stays_within_its_query_budget(cast, client, django_assert_max_num_queries):
    case = ready_case(cast.site_a)
    make_record(case, cast.coordinator)
    client.force_login(cast.physician)
    with django_assert_max_num_queries(30):
        client.get(reverse("cases:infusion", args=[case.pk]))


# --- Demo --------------------------------------------------------------------------------------
@pytest.fixture
def demo_ctx(db):
    from django.apps import apps

    from accounts.roles import ensure_roles

    ensure_roles(apps)
    ctx = demo.DemoContext(today=TODAY())
    demo.seed(ctx)
    cases = {}
    for key, site, name, _sex, age_days, _scenario in demo.DEMO_CASES:
        case = make_case(ctx.sites[site], name=name, mrn=f"DEMO-{key}", dob=TODAY() - timedelta(days=age_days))
        case.stage = Stage.SCHEDULED if key != "follow_up" else Stage.FOLLOW_UP
        case.save()
        cases[key] = case
    ctx.extra["cases"] = cases
    return ctx


def test_the_demo_signs_records_for_the_infused_cast_and_rerunning_changes_nothing(demo_ctx):
    demo_infusion.seed(demo_ctx)
    counts = [m.objects.count() for m in (InfusionRecord, InfusionVial, InfusionAmendment, GateOverride, Draw)]
    demo_infusion.seed(demo_ctx)
    assert counts == [m.objects.count() for m in (InfusionRecord, InfusionVial, InfusionAmendment, GateOverride, Draw)]
    assert counts[0] == 8 and counts[2] == 1 and counts[3] == 2
    cases = demo_ctx.extra["cases"]
    recent = InfusionRecord.objects.get(case=cases["infused_recent"])
    assert recent.is_signed and recent.infused_on == TODAY() - timedelta(days=3)
    paused = InfusionRecord.objects.get(case=cases["monitoring_normal"])
    assert (paused.elapsed_minutes, paused.paused_minutes, paused.duration_minutes) == (95, 30, 65)
    assert InfusionRecord.objects.get(case=cases["follow_up"]).duration_minutes == 98
    assert InfusionRecord.objects.get(case=cases["lpc_overdue"]).signed_by == demo_ctx.users["physician2"]
    for key in ("infused_recent", "overdue", "lpc_overdue"):
        case = cases[key]
        case.refresh_from_db()
        assert case.stage == Stage.MONITORING and case.infused_on is not None
    cases["follow_up"].refresh_from_db()
    assert cases["follow_up"].stage == Stage.FOLLOW_UP  # never moved backwards
    assert not InfusionRecord.objects.filter(case=cases["ready"]).exists()
    # Draw states were computed for ctx.today: the 25-day-ago case has closed-window draws.
    assert Draw.objects.filter(case=cases["overdue"], day=7).exclude(state="upcoming").exists()


def test_the_demo_96366_amendment_and_override_show_where_users_look(demo_ctx, client):
    demo_infusion.seed(demo_ctx)
    cases = demo_ctx.extra["cases"]
    client.force_login(demo_ctx.users["billing"])
    body = client.get(reverse("billing:claim", args=[cases["monitoring_normal"].pk])).content.decode()
    assert "<td><strong>96365</strong></td>" in body and "<td><strong>96366</strong></td>" not in body
    assert "65 minutes actual infusion time: 95 minutes less 30 paused" in body
    body = client.get(reverse("billing:claim", args=[cases["follow_up"].pk])).content.decode()
    assert "<td><strong>96366</strong></td>" in body
    body = client.get(reverse("billing:claim", args=[cases["monitoring_abnormal"].pk])).content.decode()
    assert escape(demo_infusion.OVERRIDE_REASON) in body
    body = client.get(reverse("billing:claim", args=[cases["extension"].pk])).content.decode()
    assert "Vial 2 lot number" in body and "transposed" in body


def test_the_demo_skips_cleanly_without_the_cases_step(db):
    ctx = demo.DemoContext(today=TODAY())
    demo_infusion.seed(ctx)
    assert not InfusionRecord.objects.exists()
