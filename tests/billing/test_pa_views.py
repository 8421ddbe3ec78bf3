"""Prior authorization through the views: transitions, bad data, roles, pipeline, denial fixes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from billing.denials import DENIAL_REASONS, REASON_GATE_ITEM
from billing.models import PAEvent, PriorAuthorization
from billing.pa import pa_start, pa_transition
from cases.models import Stage, StageEvent


@pytest.fixture
def billing_client(client, cast):
    client.force_login(cast.billing)
    return client


def _move(client, case, to, **data):
    pa = PriorAuthorization.objects.get(case=case)
    payload = {"to": to, "expected_status": pa.status, "on": data.pop("on", None) or str(pa.created_at.date())}
    payload.update(data)
    return client.post(reverse("billing:pa_move", args=[case.pk]) + f"?to={to}", payload)


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_billing_starts_a_draft_and_walks_it_to_approved_with_dated_attributed_events(
    billing_client, cast, ready_case, today
):
    response = billing_client.post(reverse("billing:pa_start", args=[ready_case.pk]))
    assert response.status_code == 302
    assert _move(billing_client, ready_case, "submitted", reference_number="REF-1").status_code == 302
    ready_case.refresh_from_db()
    assert ready_case.stage == Stage.PA_SUBMITTED
    assert _move(billing_client, ready_case, "pended", note="Send troponin").status_code == 302
    response = _move(
        billing_client,
        ready_case,
        "approved",
        auth_number="AUTH-9",
        approved_units=1,
        valid_from=str(today),
        valid_through=str(today + timedelta(days=60)),
    )
    assert response.status_code == 302
    pa = PriorAuthorization.objects.get(case=ready_case)
    assert (pa.status, pa.auth_number, pa.approved_units, pa.reference_number) == ("approved", "AUTH-9", 1, "REF-1")
    assert pa.submitted_on == today
    events = list(PAEvent.objects.filter(prior_authorization=pa).values_list("from_status", "to_status", "by"))
    assert events == [
        ("", "draft", cast.billing.pk),
        ("draft", "submitted", cast.billing.pk),
        ("submitted", "pended", cast.billing.pk),
        ("pended", "approved", cast.billing.pk),
    ]
    ready_case.refresh_from_db()
    assert ready_case.stage == Stage.PA_APPROVED
    assert StageEvent.objects.filter(case=ready_case, stage=Stage.PA_APPROVED, by=cast.billing).exists()
    assert LogEntry.objects.get_for_object(pa).exists()


def test_an_invalid_transition_is_refused_with_a_message(billing_client, cast, ready_case):
    pa_start(case=ready_case, by=cast.billing)
    response = billing_client.get(reverse("billing:pa_move", args=[ready_case.pk]) + "?to=approved", follow=True)
    assert "A draft prior authorization cannot become approved" in response.content.decode()
    response = _move(billing_client, ready_case, "appealed")
    assert PriorAuthorization.objects.get(case=ready_case).status == "draft"
    assert any("cannot become appealed" in m for m in _messages(response))


def test_a_stale_form_is_refused_when_someone_else_moved_the_pa(billing_client, cast, ready_case, today):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    pa_transition(pa=pa, to="submitted", by=cast.billing, on=today)
    url = reverse("billing:pa_move", args=[ready_case.pk]) + "?to=denied"
    response = billing_client.post(url, {"to": "denied", "expected_status": "pended", "on": str(today),
                                         "denial_reason": "titer"})  # fmt: skip
    assert response.status_code == 302
    assert any("changed to submitted meanwhile" in m for m in _messages(response))
    assert PriorAuthorization.objects.get(case=ready_case).status == "submitted"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"auth_number": "", "valid_from": "2026-01-01", "valid_through": "2026-02-01"}, "auth_number", "required"),
        (
            {"auth_number": "A", "valid_from": "2026-03-01", "valid_through": "2026-02-01"},
            "valid_through",
            "on or after",
        ),
        ({"auth_number": "A", "valid_from": "not a date", "valid_through": "2026-02-01"}, "valid_from", "valid date"),
        (
            {"auth_number": "A", "approved_units": "2", "valid_from": "2026-01-01", "valid_through": "2026-02-01"},
            "approved_units",
            "less than or equal to 1",
        ),
    ],
)
def test_approval_with_bad_data_shows_the_error_next_to_the_field(
    billing_client, cast, ready_case, today, data, field, message
):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    pa_transition(pa=pa, to="submitted", by=cast.billing, on=today)
    payload = {"approved_units": "1", **data}
    response = _move(billing_client, ready_case, "approved", on=str(today), **payload)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors and message in " ".join(form.errors[field])
    assert PriorAuthorization.objects.get(case=ready_case).status == "submitted"


def test_a_future_date_and_a_missing_denial_reason_are_refused(billing_client, cast, ready_case, today):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    pa_transition(pa=pa, to="submitted", by=cast.billing, on=today)
    response = _move(billing_client, ready_case, "denied", on=str(today + timedelta(days=3)), denial_reason="")
    errors = response.context["form"].errors
    assert "in the future" in errors["on"][0] and "denial_reason" in errors
    response = _move(billing_client, ready_case, "denied", on=str(today), denial_reason="made-up")
    assert "denial_reason" in response.context["form"].errors


@pytest.mark.parametrize("reason", DENIAL_REASONS, ids=lambda r: r.slug)
def test_each_denial_reason_shows_its_fix_on_the_case(billing_client, cast, ready_case, today, reason):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    pa_transition(pa=pa, to="submitted", by=cast.billing, on=today)
    response = _move(billing_client, ready_case, "denied", on=str(today), denial_reason=reason.slug, note="letter")
    assert response.status_code == 302
    page = billing_client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    from django.utils.html import escape

    assert escape(reason.label) in page
    if reason.slug in REASON_GATE_ITEM:  # every gate item passes and both reports are on file: appeal
        assert "with the appeal" in page and escape(reason.fix) not in page
    else:
        assert page.count(escape(reason.fix)) == 1  # the card's fix, once
    ready_case.refresh_from_db()
    assert ready_case.stage == Stage.GATING


def test_a_pipeline_refusal_keeps_the_pa_change_and_says_why(billing_client, cast, ready_case, today, monkeypatch):
    from cases.pipeline import TransitionError

    def refuse(**kwargs):
        raise TransitionError("A case cannot move from Closed to PA submitted.")

    monkeypatch.setattr("billing.pa.case_advance", refuse)
    pa_start(case=ready_case, by=cast.billing)
    response = _move(billing_client, ready_case, "submitted", on=str(today))
    assert PriorAuthorization.objects.get(case=ready_case).status == "submitted"
    assert any("case stage did not change: A case cannot move" in m for m in _messages(response))


def test_approval_warnings_show_on_the_case(billing_client, cast, ready_case, today):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    pa_transition(pa=pa, to="submitted", by=cast.billing, on=today)
    pa_transition(pa=pa, to="approved", by=cast.billing, on=today, auth_number="A", valid_from=today,
                  valid_through=today + timedelta(days=3))  # fmt: skip
    page = billing_client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "outside the approval window" in page and "The approval expires in 3 days" in page


@pytest.mark.parametrize("role", ["coordinator", "physician", "manager"])
def test_other_roles_read_the_pa_but_cannot_change_it(client, cast, ready_case, role, today):
    pa, _ = pa_start(case=ready_case, by=cast.billing)
    client.force_login(getattr(cast, role))
    page = client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "Prior authorization" in page and "Record submitted" not in page
    assert client.post(reverse("billing:pa_start", args=[ready_case.pk])).status_code == 403
    response = client.post(reverse("billing:pa_move", args=[ready_case.pk]) + "?to=submitted",
                           {"to": "submitted", "expected_status": "draft", "on": str(today)})  # fmt: skip
    assert response.status_code == 403
    assert client.post(reverse("billing:packet_generate", args=[ready_case.pk]), {"final": "0"}).status_code == 403
    assert PriorAuthorization.objects.get(pk=pa.pk).status == "draft"


def test_details_form_refuses_bad_minutes(billing_client, cast, ready_case):
    pa_start(case=ready_case, by=cast.billing)
    url = reverse("billing:pa_details", args=[ready_case.pk])
    for bad in ("10", "601", "sixty"):
        response = billing_client.post(url, {"planned_infusion_minutes": bad})
        assert response.status_code == 200 and "planned_infusion_minutes" in response.context["form"].errors
    response = billing_client.post(url, {"planned_infusion_minutes": "95", "reference_number": "R-2"})
    assert response.status_code == 302
    assert PriorAuthorization.objects.get(case=ready_case).planned_infusion_minutes == 95
    page = billing_client.get(reverse("cases:detail", args=[ready_case.pk])).content.decode()
    assert "96365 + 96366" in page


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("billing:pa_start", "post", {}),
        ("billing:pa_details", "get", {}),
        ("billing:pa_move", "post", {"to": "submitted"}),
        ("billing:packet_generate", "post", {"final": "0"}),
        ("billing:onegene", "post", {"enrolled_on": "2026-01-01"}),
    ],
)
def test_another_sites_user_gets_404_on_every_case_action(client, cast, ready_case, name, method, data):
    pa_start(case=ready_case, by=cast.billing)
    client.force_login(cast.outsider)
    response = getattr(client, method)(reverse(name, args=[ready_case.pk]), data)
    assert response.status_code == 404
    assert "Ava Ready" not in response.content.decode()
