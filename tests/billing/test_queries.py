"""Constant queries as data grows (issue #4 item 6; BRIEF "Query counts")."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import PAEvent, PriorAuthorization
from billing.packet import packet_case, packet_snapshot
from tests.billing.helpers import make_ready_case


def _gather_queries(case_pk: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        packet_snapshot(packet_case(case_pk))
    return len(ctx.captured_queries)


def test_gathering_a_packet_takes_the_same_queries_for_1_or_12_results(cast, payer, today, django_assert_num_queries):
    small = make_ready_case(cast.site_a, today=today, payer=payer, mrn="MRN-S", labs=1)
    large = make_ready_case(cast.site_a, today=today, payer=payer, mrn="MRN-L", labs=12)
    count = _gather_queries(small.pk)
    with django_assert_num_queries(count):
        packet_snapshot(packet_case(large.pk))
    assert count <= 14  # 12, and the motor assessments and clinical checks a payer's criteria read


def test_the_case_page_with_the_billing_panel_is_constant_in_queries(cast, payer, today, client):
    client.force_login(cast.billing)
    counts = []
    for n, labs in enumerate((1, 8)):
        case = make_ready_case(cast.site_a, today=today, payer=payer, mrn=f"MRN-Q{n}", labs=labs)
        pa = PriorAuthorization.objects.create(case=case, payer=payer)
        for _ in range(labs):
            PAEvent.objects.create(prior_authorization=pa, to_status="draft", on=today, by=cast.billing)
        url = reverse("cases:detail", args=[case.pk])
        client.get(url)  # warm caches (roles, sites)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
