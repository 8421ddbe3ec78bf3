"""Sending a Da Vinci PAS request to a real local HTTP server that plays the payer (demo/pas_payer.py)
and reading its answer back (billing/pas/workflow.py). The payer checks every request against the
same PAS 2.0.1 rules; nothing here mocks the network."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import PASAttempt, PASRequest, PAStatus
from billing.pa import pa_start
from billing.pas.bundle import inquiry_bundle
from billing.pas.workflow import PASError, pas_attempt, pas_due, pas_prepare, pas_retry, send_refusal
from tests.billing.conftest import point_payer


@pytest.fixture
def send(ready_case, cast, pas_payer, pas_fast):
    """send(scenario) → the stored request after its first attempt."""

    def _send(scenario: str, **payer_fields):
        point_payer(ready_case, pas_payer.base(scenario), **payer_fields)
        pa_start(case=ready_case, by=cast.billing)
        request = pas_prepare(case=ready_case, by=cast.billing)
        pas_attempt(request.pk)
        request.refresh_from_db()
        return request

    return _send


def _pa(case):
    case.prior_authorization.refresh_from_db()
    return case.prior_authorization


def test_an_approval_moves_the_pa_to_approved_with_number_and_period(ready_case, send, pas_payer, today):
    request = send("approve")
    pa = _pa(ready_case)
    assert request.state == "answered" and request.decision == "approved"
    assert pa.status == PAStatus.APPROVED
    assert pa.auth_number == f"AUTH-{request.request_id[:8].upper()}"
    assert (pa.valid_from, pa.valid_through) == (today, today + timedelta(days=60))
    assert pa.approved_units == 1
    assert [e.to_status for e in pa.events.all()] == ["draft", "submitted", "approved"]
    assert pas_payer.log.rejected == []  # the payer found the request conformant
    assert pas_payer.log.count(request.request_id) == 1


def test_submission_starts_the_cms_0057_f_decision_clock(ready_case, send):
    send("pend", cms_0057_impacted=True)  # a payer under the federal rule's clock
    pa = _pa(ready_case)
    submitted = pa.events.get(to_status="submitted")
    assert pa.decision_due_at == submitted.at + timedelta(days=7)


def test_an_expedited_request_is_due_in_72_hours(ready_case, cast, send):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    pa.expedited = True
    pa.save()
    send("pend", cms_0057_impacted=True)
    pa = _pa(ready_case)
    assert pa.decision_due_at == pa.events.get(to_status="submitted").at + timedelta(hours=72)


def test_a_pended_request_shows_what_is_asked_and_is_approved_on_inquiry(ready_case, send, pas_payer):
    request = send("pend")
    pa = _pa(ready_case)
    assert pa.status == PAStatus.PENDED
    assert request.requested_info == ["Most recent motor function assessment (CHOP INTEND) with its date"]
    assert "CHOP INTEND" in pa.events.get(to_status="pended").note
    due = pas_due()
    inquiry = PASRequest.objects.get(pk=due[0])
    assert inquiry.kind == "inquire" and inquiry.about_id == request.pk
    assert pas_due() == due  # one inquiry at a time, never a second while the first waits
    pas_attempt(inquiry.pk)
    pa = _pa(ready_case)
    assert pa.status == PAStatus.APPROVED and pa.auth_number.startswith("AUTH-")
    request.refresh_from_db()
    assert request.decision == "approved"
    assert ("inquire", "pend", request.request_id) in pas_payer.log.received
    assert pas_due() == []  # decided: no more inquiries


def test_inquiries_wait_their_interval(ready_case, send, settings):
    settings.PAS_INQUIRY_SECONDS = 3600
    request = send("queue")
    assert _pa(ready_case).status == PAStatus.SUBMITTED  # received, not decided: not "pended"
    first = pas_due()
    PASRequest.objects.filter(pk__in=first).update(state="answered", decision="none")
    assert pas_due() == []  # the next inquiry waits an hour
    later = timezone.now() + timedelta(seconds=3601)
    again = pas_due(later)
    assert len(again) == 1 and PASRequest.objects.get(pk=again[0]).about_id == request.pk


def test_a_denial_records_the_payers_specific_reason(ready_case, send):
    request = send("deny")
    pa = _pa(ready_case)
    assert pa.status == PAStatus.DENIED
    note = pa.events.get(to_status="denied").note
    assert "Not certified (X12 A3)" in note and "within 14 days" in note
    assert request.decision == "denied"


def test_a_slow_payer_times_out_and_the_retry_carries_the_same_identifier(ready_case, send, pas_payer):
    request = send("flaky")  # the payer files the first attempt but answers too late
    attempts = list(request.attempt_rows.all())
    assert attempts[0].outcome == PASAttempt.Outcome.TIMEOUT
    assert request.state == "retrying" or request.state == "answered"
    if request.state == "retrying":
        pas_attempt(request.pk)
        request.refresh_from_db()
    assert request.state == "answered" and _pa(ready_case).status == PAStatus.APPROVED
    assert pas_payer.log.count(request.request_id) == 2  # the same identifier twice, one decision
    assert len(pas_payer.log.decisions) == 1


def test_a_payer_that_stays_silent_leaves_the_pa_as_it_was_with_a_retry(ready_case, send, pas_payer):
    request = send("slow")
    while request.state == "retrying":
        pas_attempt(request.pk)
        request.refresh_from_db()
    assert request.state == "failed" and request.attempt_rows.count() == 3
    assert all(a.outcome == "timeout" for a in request.attempt_rows.all())
    assert "No answer after 3 attempts" in request.message
    assert _pa(ready_case).status == PAStatus.DRAFT
    # No new request while the payer may hold this one: only the same request again.
    assert "Retry that request" in send_refusal(_pa(ready_case), ready_case)
    pas_retry(request=request, by=None)
    request.refresh_from_db()
    assert request.state == "queued" and request.attempts == 0


def test_a_500_is_retried_then_left_failed_without_touching_the_pa(ready_case, send):
    request = send("error500")
    while request.state == "retrying":
        pas_attempt(request.pk)
        request.refresh_from_db()
    assert request.state == "failed"
    assert [a.http_status for a in request.attempt_rows.all()] == [500, 500, 500]
    assert "HTTP 500: Internal error at the payer" in request.message
    assert _pa(ready_case).status == PAStatus.DRAFT
    assert list(_pa(ready_case).events.values_list("to_status", flat=True)) == ["draft"]


@pytest.mark.parametrize(
    ("scenario", "outcome", "words"),
    [
        ("malformed", "invalid", "not valid JSON"),
        ("notpas", "invalid", "not a conformant PAS response"),
        ("other", "refused", "for another GeneGate request"),
    ],
)
def test_answers_that_cannot_be_used_change_nothing(ready_case, send, scenario, outcome, words):
    request = send(scenario)
    attempt = request.attempt_rows.get()
    assert attempt.outcome == outcome and words in attempt.message
    assert request.state == "failed" and words in request.message
    assert _pa(ready_case).status == PAStatus.DRAFT
    assert attempt.response_body  # what the payer said is kept


def test_a_payer_error_outcome_keeps_the_pa_and_says_why(ready_case, send):
    request = send("reject")
    assert request.decision == "error"
    assert "Invalid/Missing Subscriber/Insured ID (72)" in request.message
    assert _pa(ready_case).status == PAStatus.DRAFT
    assert send_refusal(_pa(ready_case), ready_case) is None  # a corrected request may be sent


def test_expired_credentials_are_named_and_not_retried(ready_case, cast, pas_payer, pas_fast, monkeypatch):
    pas_payer.token = "right-token"
    monkeypatch.setenv("PAS_TOKEN_TEST", "expired-token")
    point_payer(ready_case, pas_payer.base("approve"), pas_token_env="PAS_TOKEN_TEST")
    pa_start(case=ready_case, by=cast.billing)
    request = pas_prepare(case=ready_case, by=cast.billing)
    pas_attempt(request.pk)
    request.refresh_from_db()
    assert request.state == "failed" and request.attempt_rows.count() == 1
    assert "refused GeneGate's credentials (HTTP 401)" in request.message and "PAS_TOKEN_TEST" in request.message
    assert "expired-token" not in request.message
    monkeypatch.setenv("PAS_TOKEN_TEST", "right-token")  # the administrator renews it
    pas_retry(request=request, by=cast.billing)
    pas_attempt(request.pk)
    request.refresh_from_db()
    assert request.decision == "approved" and _pa(ready_case).status == PAStatus.APPROVED


def test_a_credential_missing_from_the_server_is_not_sent(ready_case, cast, pas_payer, pas_fast, monkeypatch):
    monkeypatch.delenv("PAS_TOKEN_NOWHERE", raising=False)
    point_payer(ready_case, pas_payer.base("approve"), pas_token_env="PAS_TOKEN_NOWHERE")
    pa_start(case=ready_case, by=cast.billing)
    request = pas_prepare(case=ready_case, by=cast.billing)
    pas_attempt(request.pk)
    request.refresh_from_db()
    assert request.state == "failed" and "not set on the GeneGate server" in request.message
    assert pas_payer.log.received == []


def _inquiry(request: PASRequest) -> PASRequest:
    """A status inquiry about ``request``, as the sweep makes one for a pended request."""
    body = inquiry_bundle(json.loads(request.body), inquiry_id="inq-test", identifier_system="http://x/sid/inq",
                          created=timezone.now())  # fmt: skip
    return PASRequest.objects.create(prior_authorization=request.prior_authorization, kind="inquire",
                                     request_id="inq-test", about=request, endpoint=request.endpoint,
                                     body=json.dumps(body), sha256="-")  # fmt: skip


def test_an_answer_contradicting_a_recorded_approval_is_refused(ready_case, send):
    request = send("approved2")  # approves; answers a later inquiry with a denial
    before = _pa(ready_case)
    assert before.status == PAStatus.APPROVED
    inquiry = _inquiry(request)
    pas_attempt(inquiry.pk)
    inquiry.refresh_from_db()
    assert inquiry.attempt_rows.get().outcome == "refused"
    assert "contradicts the approval already recorded" in inquiry.message
    assert f"authorization {before.auth_number}" in inquiry.message
    after = _pa(ready_case)
    assert (after.status, after.auth_number, after.valid_through) == (
        before.status,
        before.auth_number,
        before.valid_through,
    )
    assert after.events.count() == before.events.count()


def test_the_same_approval_again_is_accepted_as_already_recorded(ready_case, send):
    request = send("approve")
    inquiry = _inquiry(request)
    pas_attempt(inquiry.pk)
    inquiry.refresh_from_db()
    assert inquiry.attempt_rows.get().outcome == "answered" and "already recorded" in inquiry.message


def test_no_endpoint_no_sending_and_the_reason_says_so(ready_case, cast):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    reason = send_refusal(pa, ready_case)
    assert "has no Da Vinci PAS endpoint recorded" in reason and "download the Bundle" in reason
    with pytest.raises(PASError, match="no Da Vinci PAS endpoint"):
        pas_prepare(case=ready_case, by=cast.billing)


def test_a_submitted_pa_is_not_sent_again(ready_case, send):
    send("pend")
    with pytest.raises(PASError, match="already submitted"):
        pas_prepare(case=ready_case, by=None)


def test_a_request_is_sent_by_one_worker_only(ready_case, cast, pas_payer, pas_fast):
    point_payer(ready_case, pas_payer.base("approve"))
    pa_start(case=ready_case, by=cast.billing)
    request = pas_prepare(case=ready_case, by=cast.billing)
    PASRequest.objects.filter(pk=request.pk).update(state="sending")  # another worker has it
    assert pas_attempt(request.pk) is None
    assert pas_payer.log.received == []


def test_the_beat_sweep_sends_what_a_lost_enqueue_left_then_asks_until_decided(
    ready_case, cast, pas_payer, pas_fast, eager_celery
):
    from billing.pas.tasks import sweep_pas

    point_payer(ready_case, pas_payer.base("pend"))
    pa_start(case=ready_case, by=cast.billing)
    request = pas_prepare(case=ready_case, by=cast.billing)  # stored; its enqueue never reached a worker
    sweep_pas()
    request.refresh_from_db()
    assert request.decision == "pended" and _pa(ready_case).status == PAStatus.PENDED
    sweep_pas()  # the inquiry is due: asked, answered, applied
    assert _pa(ready_case).status == PAStatus.APPROVED
    assert [op for op, _s, _i in pas_payer.log.received] == ["submit", "inquire"]


def test_a_request_left_sending_by_a_stopped_worker_is_sent_again_with_the_same_bytes(
    ready_case, cast, pas_payer, pas_fast
):
    point_payer(ready_case, pas_payer.base("approve"))
    pa_start(case=ready_case, by=cast.billing)
    request = pas_prepare(case=ready_case, by=cast.billing)
    long_ago = timezone.now() - timedelta(minutes=30)
    PASRequest.objects.filter(pk=request.pk).update(state="sending")
    PASAttempt.objects.create(request=request, number=1, started_at=long_ago)
    assert pas_due() == [request.pk]
    pas_attempt(request.pk)
    request.refresh_from_db()
    assert [a.outcome for a in request.attempt_rows.all()] == ["timeout", "answered"]
    assert request.decision == "approved" and pas_payer.log.count(request.request_id) == 1
