"""The case page: gate panel, pipeline, audit history for managers, constant queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.analytes import BASELINE_LAB_ANALYTES
from cases.models import BaselineLab, Document, SmnTherapy, TiterResult, WeightMeasurement
from tests.cases.helpers import lab_data, pdf_bytes, upload


def _ready(cast, login):
    """Fill case_a with everything the gate needs, through the views."""
    case = cast.case_a
    today = timezone.localdate()
    case.genetic_method, case.smn1_genotype, case.smn2_copies = "MLPA", "0_copies", 2
    case.site_of_care_pos, case.planned_infusion_date = "21", today + timedelta(days=5)
    case.steroid_plan_start = today + timedelta(days=4)
    case.save()
    client = login(cast.coordinator)
    client.post(
        reverse("cases:document_add", args=[case.pk]), {"kind": "genetic_report", "file": upload("g.pdf", pdf_bytes())}
    )
    client.post(reverse("cases:weight_add", args=[case.pk]), {"measured_on": today.isoformat(), "kg": "5.2"})
    client.post(
        reverse("cases:titer_add", args=[case.pk]),
        {"drawn_on": today.isoformat(), "lab": "Labcorp", "method": "ELISA", "result_text": "1:25"},
    )
    client.post(reverse("cases:labs_add", args=[case.pk]), lab_data(today))
    return client


def test_the_gate_panel_says_ready_for_pa_with_the_window_in_words(cast, login):
    client = _ready(cast, login)
    body = client.get(reverse("cases:gate", args=[cast.case_a.pk])).content.decode()
    assert "Ready for PA" in body
    assert "titer valid for infusion until" in body and "second birthday" in body
    assert 'hx-trigger="case-facts-changed from:body"' in body
    assert "<html" not in body  # the partial alone


def test_the_gate_counts_blocking_items_and_shows_fix_and_source(cast, login):
    body = login(cast.billing).get(reverse("cases:detail", args=[cast.case_a.pk])).content.decode()
    assert "items block" in body
    assert "Fix:" in body and "Source:" in body and "FDA label" in body
    assert "No infusion date works with the documents on file" in body


def test_the_pipeline_shows_each_stage_with_dates_and_days(cast, login):
    client = _ready(cast, login)
    body = client.get(reverse("cases:pipeline", args=[cast.case_a.pk])).content.decode()
    assert 'aria-current="step"' in body and "Gating" in body and " d</span>" in body


def test_managers_see_the_audit_history_and_others_do_not(cast, login):
    _ready(cast, login)
    manager_body = login(cast.manager).get(reverse("cases:detail", args=[cast.case_a.pk])).content.decode()
    assert "Audit history" in manager_body and "Weight measurement" in manager_body
    for user in (cast.coordinator, cast.billing, cast.physician):
        assert "Audit history" not in login(user).get(reverse("cases:detail", args=[cast.case_a.pk])).content.decode()


def test_managers_page_through_the_whole_audit_history_and_reading_it_is_audited(cast, login):
    from auditlog.models import LogEntry

    from tests.personas import MARKER_NAME

    case = cast.case_a
    for i in range(60):
        WeightMeasurement.objects.create(
            case=case, measured_on=timezone.localdate() - timedelta(days=i), kg=Decimal("5.1")
        )
    manager = login(cast.manager)
    page = manager.get(reverse("cases:detail", args=[case.pk])).content.decode()
    url = reverse("cases:audit", args=[case.pk])
    assert url in page and "See the whole history" in page
    first = manager.get(url)
    assert first.status_code == 200 and len(first.context["audit_entries"]) == 50
    upto = first.context["upto"]
    second = manager.get(url, {"upto": upto, "page": 2}).context["page"]
    assert second.paginator.count == first.context["page"].paginator.count  # pinned: reads add no rows
    seen_first = {e.pk for e in first.context["page"].object_list}
    assert not seen_first & {e.pk for e in second.object_list}  # no entry on two pages
    assert f"upto={upto}" in manager.get(url, {"upto": upto}).content.decode()
    assert manager.get(url, {"page": "junk", "upto": "junk"}).status_code == 200
    accessed = LogEntry.objects.get_for_object(case).filter(action=LogEntry.Action.ACCESS, actor=cast.manager)
    assert accessed.count() >= 3  # the case page and each history page
    for user in (cast.coordinator, cast.billing, cast.physician):
        assert login(user).get(url).status_code == 403
    other = login(cast.outsider).get(url)
    assert other.status_code == 404 and MARKER_NAME not in other.content.decode()


def _grow(case, n: int) -> None:
    today = timezone.localdate()
    for i in range(n):
        day = today - timedelta(days=i)
        WeightMeasurement.objects.create(case=case, measured_on=day, kg=Decimal("5.1"))
        TiterResult.objects.create(case=case, drawn_on=day, lab="L", result_text="1:25", result_key=Decimal(25))
        SmnTherapy.objects.create(case=case, drug="risdiplam", started_on=day - timedelta(days=3), stopped_on=day)
        for analyte in BASELINE_LAB_ANALYTES:
            BaselineLab.objects.create(
                case=case, drawn_on=day, analyte=analyte, value=1, unit="U/L", value_canonical=1, uln_canonical=2, uln=2,
                canonical_unit="U/L",
            )  # fmt: skip
        Document.objects.create(
            case=case,
            kind="letter",
            file="x",
            original_name="x.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
        )


@pytest.mark.parametrize("user", ["coordinator", "manager"])
def test_the_case_page_runs_the_same_number_of_queries_for_1_and_15_results(
    cast, login, user, django_assert_max_num_queries
):
    client = login(getattr(cast, user))
    url = reverse("cases:detail", args=[cast.case_a.pk])
    client.get(url)  # warm the content-type cache and the session
    _grow(cast.case_a, 1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(cast.case_a, 14)
    with django_assert_max_num_queries(len(small)):
        assert client.get(url).status_code == 200
    assert len(small) <= 36  # site-scoped fetch, gate, panels of billing, infusion, monitoring


def test_the_gate_partial_runs_the_same_number_of_queries_for_1_and_15_results(cast, login, django_assert_num_queries):
    client = login(cast.coordinator)
    url = reverse("cases:gate", args=[cast.case_a.pk])
    client.get(url)
    _grow(cast.case_a, 1)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    _grow(cast.case_a, 14)
    with django_assert_num_queries(len(small)):
        client.get(url)


def test_after_infusion_the_gate_reads_as_the_record_of_the_infusion_day(cast, login):
    """Judged for the infusion day, not for a planned date still ahead: "Ready for PA" would
    read as a step still to take."""
    from datetime import date

    from cases.eligibility import GateReport
    from cases.gate_display import gate_summary
    from cases.gate_facts import gate_date

    case = cast.case_a
    case.infused_on, case.planned_infusion_date = date(2026, 11, 3), date(2026, 11, 10)
    case.save()
    assert gate_date(case, date(2026, 12, 1)) == date(2026, 11, 3)
    body = login(cast.coordinator).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Ready for PA" not in body and "the infusion day, 3 Nov 2026" in body
    assert "on the infusion day" in body
    assert gate_summary(case, GateReport(on=case.infused_on, items=())) == "Met on the infusion day"
