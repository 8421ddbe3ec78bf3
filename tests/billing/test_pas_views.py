"""The electronic prior authorization page and its actions (billing/pas/views.py): the summary shown
before sending, "Send electronically" through the worker, retry, downloads, access, the panel."""

from __future__ import annotations

import json

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from billing.models import PASRequest, PAStatus
from billing.pa import pa_start
from tests.billing.conftest import point_payer
from tests.personas import MARKER_NAME


@pytest.fixture
def started(ready_case, cast):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    return pa


def test_the_page_shows_the_summary_before_sending(ready_case, started, login, cast, pas_payer):
    point_payer(ready_case, pas_payer.base("approve"))
    response = login(cast.billing).get(reverse("billing:pas", args=[ready_case.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("HCPCS J3399", "kit NDC", "CPT 96365", "ICD-10-CM G12.0", "NPI 1234567893", "MBR-445566",
                 "Letter of medical necessity (signed)", "Initial (X12 certification type I)", "Send electronically"):  # fmt: skip
        assert text in html, text
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_without_an_endpoint_the_button_explains_why_it_is_absent(ready_case, started, login, cast):
    html = login(cast.billing).get(reverse("billing:pas", args=[ready_case.pk])).content.decode()
    assert 'id="pas-why-not"' in html and "has no Da Vinci PAS endpoint recorded" in html
    assert ">Send electronically</button>" not in html
    panel = login(cast.billing).get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "has no Da Vinci PAS endpoint recorded" in panel


def test_send_goes_through_the_worker_and_the_answer_is_shown(
    ready_case, started, login, cast, pas_payer, pas_fast, eager_celery, django_capture_on_commit_callbacks
):
    point_payer(ready_case, pas_payer.base("pend"), cms_0057_impacted=True)
    client = login(cast.billing)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:pas_send", args=[ready_case.pk]))
    assert response.status_code == 302
    request = PASRequest.objects.get()
    assert request.state == "answered" and request.decision == "pended"
    started.refresh_from_db()
    assert started.status == PAStatus.PENDED
    html = client.get(reverse("billing:pas", args=[ready_case.pk])).content.decode()
    assert "The payer asks for" in html and "CHOP INTEND" in html
    panel = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "CHOP INTEND" in panel and "Payer decision due" in panel
    assert "standard: 7 calendar days, CMS-0057-F" in panel


def test_a_failed_request_offers_a_retry_of_the_same_request(
    ready_case, started, login, cast, pas_payer, pas_fast, eager_celery, django_capture_on_commit_callbacks
):
    point_payer(ready_case, pas_payer.base("error500"))
    client = login(cast.billing)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:pas_send", args=[ready_case.pk]))
    request = PASRequest.objects.get()
    assert request.state == "failed" and request.attempt_rows.count() == 3  # retried with backoff (0 s here)
    html = client.get(reverse("billing:pas", args=[ready_case.pk])).content.decode()
    assert "Retry (same request)" in html and "HTTP 500" in html
    point_payer(ready_case, pas_payer.base("approve"))  # the payer is back (same path on its side)
    PASRequest.objects.filter(pk=request.pk).update(endpoint=pas_payer.base("approve"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:pas_retry", args=[request.pk]))
    request.refresh_from_db()
    assert request.decision == "approved" and request.request_id == PASRequest.objects.get().request_id
    assert pas_payer.log.count(request.request_id) == 4  # three under error500, one approved: one identifier


def test_a_blocked_case_is_not_sent_and_says_why(cast, payer, today, login, pas_payer):
    from tests.billing.helpers import make_ready_case

    case = make_ready_case(cast.site_a, today=today, payer=payer, mrn="MRN-B")  # letter not signed
    pa_start(case=case, by=cast.billing)
    point_payer(case, pas_payer.base("approve"))
    client = login(cast.billing)
    response = client.post(reverse("billing:pas_send", args=[case.pk]), follow=True)
    assert "the same rule as a final packet" in response.content.decode()
    assert not PASRequest.objects.exists() and pas_payer.log.received == []


def test_the_bundle_downloads_as_json(ready_case, started, login, cast):
    response = login(cast.billing).get(reverse("billing:pas_bundle", args=[ready_case.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="pas-request-case-{ready_case.pk}.json"'
    assert MARKER_NAME not in response["Content-Disposition"]
    bundle = json.loads(response.content)
    assert bundle["resourceType"] == "Bundle" and bundle["entry"][0]["resource"]["use"] == "preauthorization"


@pytest.mark.parametrize("name", ["pas", "pas_bundle"])
def test_another_sites_staff_get_a_404(ready_case, started, login, cast, name):
    assert login(cast.outsider).get(reverse(f"billing:{name}", args=[ready_case.pk])).status_code == 404


def test_another_sites_staff_cannot_send_or_read_a_request(ready_case, started, login, cast, pas_payer):
    point_payer(ready_case, pas_payer.base("approve"))
    from billing.pas.workflow import pas_prepare

    request = pas_prepare(case=ready_case, by=cast.billing)
    client = login(cast.outsider)
    assert client.post(reverse("billing:pas_send", args=[ready_case.pk])).status_code == 404
    assert client.get(reverse("billing:pas_request_json", args=[request.pk])).status_code == 404
    assert client.post(reverse("billing:pas_retry", args=[request.pk])).status_code == 404


def test_only_billing_roles_send_and_download(ready_case, started, login, cast, pas_payer):
    point_payer(ready_case, pas_payer.base("approve"))
    client = login(cast.coordinator)
    assert client.get(reverse("billing:pas", args=[ready_case.pk])).status_code == 200  # reads the decision
    assert client.post(reverse("billing:pas_send", args=[ready_case.pk])).status_code == 403
    assert client.get(reverse("billing:pas_bundle", args=[ready_case.pk])).status_code == 403


def test_the_payer_form_names_the_credential_variable_but_never_shows_it(ready_case, login, admin_user, monkeypatch):
    monkeypatch.setenv("PAS_TOKEN_AETNA", "s3cret-token-value")
    payer = ready_case.payer
    payer.pas_token_env = "PAS_TOKEN_AETNA"
    payer.save()
    html = login(admin_user).get(reverse("billing:payer_edit", args=[payer.pk])).content.decode()
    assert "PAS_TOKEN_AETNA is set" in html and "s3cret-token-value" not in html


def test_only_admins_edit_the_endpoint(ready_case, login, cast):
    assert login(cast.billing).get(reverse("billing:payer_edit", args=[ready_case.payer.pk])).status_code == 403
