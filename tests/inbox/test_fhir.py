"""FHIR R4 Bundles into the results inbox: the per-site token endpoint and file upload."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from monitoring.inbox import tokens
from monitoring.inbox.models import InboxMessage, InboxToken
from monitoring.models import Result
from tests.inbox.helpers import bundle, infused_case
from tests.monitoring.helpers import draw
from tests.personas import make_case

URL = "/monitoring/inbox/fhir/Bundle"


@pytest.fixture
def token(cast):
    infused_case(cast.case_a)
    return tokens.issue(InboxToken(site=cast.site_a, label="Reference lab"))


def _post(client, body: str, secret: str | None, content_type: str = "application/fhir+json"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return client.post(URL, data=body, content_type=content_type, **headers)


def test_a_valid_bundle_is_recorded_on_its_draw(cast, client, token):
    response = _post(client, bundle(), token)
    assert response.status_code == 200, response.content
    assert response.json()["resourceType"] == "OperationOutcome"
    message = InboxMessage.objects.get(pk=response["X-Inbox-Message"])
    assert message.status == "processed" and message.site == cast.site_a and message.sender.startswith("token ggt_")
    liver = draw(cast.case_a, "liver", 7)
    assert set(Result.objects.filter(draw=liver).values_list("analyte", flat=True)) == {"alt", "ast", "tbili", "pt"}
    assert Result.objects.get(draw=liver, analyte="alt").uln == 60


def test_the_same_bundle_twice_creates_nothing_new(cast, client, token):
    _post(client, bundle(), token)
    again = _post(client, bundle(), token)
    assert again.status_code == 200 and again.json()["issue"][0]["code"] == "duplicate"
    assert InboxMessage.objects.count() == 1 and Result.objects.count() == 4


def test_an_amended_observation_supersedes_the_value(cast, client, token):
    _post(client, bundle("b-1"), token)
    amended = bundle("b-2", status="amended", observations=[("1742-6", "ALT", 52, "U/L", 10, 60)])
    assert _post(client, amended, token).status_code == 200
    assert Result.objects.get(analyte="alt").value == 52


@pytest.mark.parametrize(
    "secret", [None, "ggt_not-a-token", "Basic abc", "ggt_" + "x" * 300], ids=["none", "unknown", "scheme", "long"]
)
def test_a_bad_token_is_refused_with_401_and_nothing_stored(cast, client, token, secret):
    response = _post(client, bundle(), secret)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert not InboxMessage.objects.exists()


def test_a_revoked_token_is_refused(cast, client, token):
    tokens.revoke(InboxToken.objects.get())
    assert _post(client, bundle(), token).status_code == 401


def test_tokens_are_stored_hashed(cast, token):
    row = InboxToken.objects.get()
    assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert tokens.authenticate(f"Bearer {token}") == row


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{not json", "Not a valid FHIR R4 Bundle"),
        ('{"resourceType": "Patient"}', "Not a valid FHIR R4 Bundle"),
        (json.dumps({"resourceType": "Bundle", "type": "collection"}), "no Observation"),
        (bundle().replace('"value": 45', '"value": "abc"'), "valueQuantity.value"),
        (bundle().replace('"code": "U/L"', '"code": "mg/dL"', 1), "cannot be converted"),
    ],
    ids=["not-json", "not-bundle", "empty", "bad-value", "bad-unit"],
)
def test_an_invalid_bundle_is_422_with_the_reason_and_kept(cast, client, token, body, expected):
    response = _post(client, body, token)
    assert response.status_code == 422
    assert expected in response.json()["issue"][0]["diagnostics"]
    message = InboxMessage.objects.get()
    assert message.status == "failed" and message.raw == body
    assert not Result.objects.exists()


def test_wrong_content_type_and_oversize_are_refused(cast, client, token):
    assert _post(client, bundle(), token, content_type="text/plain").status_code == 415
    big = '{"resourceType": "Bundle", "pad": "' + "x" * (5 * 1024 * 1024) + '"}'
    assert _post(client, big, token).status_code == 413
    assert not InboxMessage.objects.exists()


def test_a_token_sees_only_its_own_site_patients(cast, client, token):
    """Site A's token with a patient who exists only at site B: held for review at A, and
    nothing is written to the site B patient."""
    other = make_case(cast.site_b, name="Bee Other", mrn="MRN-B-1")
    infused_case(other)
    response = _post(client, bundle(mrn="MRN-B-1", family="Other"), token)
    assert response.status_code == 202 and "No patient with this MRN" in response.json()["issue"][0]["diagnostics"]
    message = InboxMessage.objects.get()
    assert message.site == cast.site_a and message.case is None
    assert not Result.objects.filter(draw__case=other).exists()


def test_a_bundle_uploaded_as_a_file_is_processed(cast, client):
    infused_case(cast.case_a)
    client.force_login(cast.coordinator)
    upload = SimpleUploadedFile("results.json", bundle().encode(), content_type="application/json")
    response = client.post(
        reverse("monitoring:inbox_upload"), {"source": "fhir", "site": cast.site_a.pk, "file": upload}
    )
    assert response.status_code == 302
    assert InboxMessage.objects.get().status == "processed" and Result.objects.count() == 4


def test_the_admin_issues_a_token_once_and_revokes_it(cast, client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:monitoring_inboxtoken_add"), {"site": cast.site_a.pk, "label": "Lab feed"}, follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    secret = next(word for text in shown for word in text.split() if word.startswith("ggt_"))
    row = InboxToken.objects.get()
    assert tokens.authenticate(f"Bearer {secret}") == row
    client.post(
        reverse("admin:monitoring_inboxtoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [row.pk]},
    )
    assert tokens.authenticate(f"Bearer {secret}") is None
    assert secret not in client.get(reverse("admin:monitoring_inboxtoken_change", args=[row.pk])).content.decode()
