"""Two-factor sign-in: enrolment at first sign-in, TOTP and backup codes, enforcement everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.two_factor import _new_backup_codes
from tests.personas import MARKER_NAME, PASSWORD
from tests.urlwalk import project_urls


@pytest.fixture(autouse=True)
def _enforce(settings):
    settings.GENEGATE_REQUIRE_2FA = True


def _sign_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_a_first_sign_in_must_enrol_before_seeing_patient_data(cast, client):
    _sign_in(client, cast.coordinator)
    response = client.get(reverse("cases:detail", args=[cast.case_a.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_setup"))
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert MARKER_NAME not in page.content.decode()
    assert "data:image/svg+xml;base64," in page.content.decode()


def test_enrolment_with_a_valid_code_shows_backup_codes_and_opens_the_app(cast, client):
    _sign_in(client, cast.coordinator)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=cast.coordinator)
    response = client.post(reverse("two_factor_setup"), {"token": _code(device)})
    assert response.status_code == 200
    assert StaticToken.objects.filter(device__user=cast.coordinator).count() == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("cases:detail", args=[cast.case_a.pk])).status_code == 200


def test_a_wrong_code_is_refused_next_to_the_field(cast, client):
    _sign_in(client, cast.coordinator)
    client.get(reverse("two_factor_setup"))
    response = client.post(reverse("two_factor_setup"), {"token": "000000"})
    assert "did not match" in response.content.decode()
    response = client.post(reverse("two_factor_setup"), {"token": "<script>"})
    assert "letters and digits only" in response.content.decode()
    assert not TOTPDevice.objects.get(user=cast.coordinator).confirmed


def test_an_enrolled_user_verifies_each_sign_in_and_a_backup_code_works_once(cast, client):
    device = TOTPDevice.objects.create(user=cast.physician, name="app", confirmed=True)
    codes = _new_backup_codes(cast.physician)
    _sign_in(client, cast.physician)
    assert client.get(reverse("home"))["Location"].startswith(reverse("two_factor_verify"))
    response = client.post(reverse("two_factor_verify"), {"token": codes[0], "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    _sign_in(client, cast.physician)
    reused = client.post(reverse("two_factor_verify"), {"token": codes[0]})
    assert "not valid" in reused.content.decode()
    # django-otp throttles after a failure (1 s, doubling): wait it out, then a fresh code works.
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=True):
        device.refresh_from_db()
        ok = client.post(reverse("two_factor_verify"), {"token": _code(device)})
    assert ok.status_code == 302


def test_repeated_wrong_codes_are_throttled(cast, client):
    device = TOTPDevice.objects.create(user=cast.physician, name="app", confirmed=True)
    _sign_in(client, cast.physician)
    client.post(reverse("two_factor_verify"), {"token": "123456"})
    refused = client.post(reverse("two_factor_verify"), {"token": _code(device)})
    assert refused.status_code == 200 and "not valid" in refused.content.decode()


def test_the_admin_also_requires_the_second_factor(cast, client):
    cast.manager.is_staff = True
    cast.manager.save()
    _sign_in(client, cast.manager)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]


def test_verify_does_not_redirect_off_site(cast, client):
    TOTPDevice.objects.create(user=cast.billing, name="app", confirmed=True)
    codes = _new_backup_codes(cast.billing)
    _sign_in(client, cast.billing)
    response = client.post(reverse("two_factor_verify"), {"token": codes[1], "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


# --- Backup codes stay behind the second factor (issue 13 item 1) -------------------------------
def _enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    return device, _new_backup_codes(user)


def _tokens(user) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


@pytest.mark.parametrize("enforced", [True, False])
def test_a_password_only_session_cannot_make_backup_codes_or_verify_with_them(cast, client, settings, enforced):
    settings.GENEGATE_REQUIRE_2FA = enforced
    device, codes = _enrolled(cast.physician)
    _sign_in(client, cast.physician)
    for method in (client.get, client.post):
        response = method(reverse("two_factor_backup_codes"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor_verify"))
    assert _tokens(cast.physician) == set(codes)  # nothing regenerated, the user's codes unchanged
    # A code the attacker might guess or remember from an earlier attempt does not verify.
    refused = client.post(reverse("two_factor_verify"), {"token": StaticToken.random_token()})
    assert "not valid" in refused.content.decode()
    if enforced:
        assert client.get(reverse("cases:detail", args=[cast.case_a.pk])).status_code == 302
    # The user's own codes still work (after django-otp's throttle delay).
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=True):
        ok = client.post(reverse("two_factor_verify"), {"token": codes[0], "next": "/"})
    assert ok.status_code == 302 and ok["Location"] == "/"


def test_a_verified_user_replaces_backup_codes_after_re_entering_the_password(cast, client):
    device, old = _enrolled(cast.physician)
    _sign_in(client, cast.physician)
    assert client.post(reverse("two_factor_verify"), {"token": _code(device)}).status_code == 302
    url = reverse("two_factor_backup_codes")
    form = client.get(url)
    assert form.status_code == 200 and 'type="password"' in form.content.decode()
    wrong = client.post(url, {"password": "not-my-password"})
    assert wrong.status_code == 200 and "That is not your password" in wrong.content.decode()
    assert _tokens(cast.physician) == set(old)
    assert "This field is required" in client.post(url, {}).content.decode()
    response = client.post(url, {"password": PASSWORD})
    new = _tokens(cast.physician)
    assert response.status_code == 200 and len(new) == 10 and not new & set(old)
    assert all(code in response.content.decode() for code in new)
    client.post(reverse("logout"))
    _sign_in(client, cast.physician)
    assert "not valid" in client.post(reverse("two_factor_verify"), {"token": old[0]}).content.decode()


def test_enrolment_still_shows_backup_codes_once_the_device_is_confirmed(cast, client):
    _sign_in(client, cast.coordinator)
    client.get(reverse("two_factor_setup"))
    assert client.post(reverse("two_factor_backup_codes")).status_code == 302  # not before confirming
    assert not _tokens(cast.coordinator)
    device = TOTPDevice.objects.get(user=cast.coordinator)
    response = client.post(reverse("two_factor_setup"), {"token": _code(device)})
    codes = _tokens(cast.coordinator)
    assert len(codes) == 10 and all(code in response.content.decode() for code in codes)


# Before the second factor only these answer; every other URL sends the user to verify.
HALF_SIGNED_IN_OPEN = {"two_factor_verify", "two_factor_setup", "logout"}


def test_every_url_in_the_half_signed_in_state_redirects_to_verify_without_side_effects(cast, client):
    _device, codes = _enrolled(cast.coordinator)
    _sign_in(client, cast.coordinator)
    devices = list(TOTPDevice.objects.values_list("pk", "confirmed"))
    ids = {"pk": cast.case_a.pk, "case_pk": cast.case_a.pk}
    for name, _route, path in project_urls(ids):
        if name == "logout":
            continue
        for method in (client.get, client.post):
            response = method(path, {"anything": "1", "password": PASSWORD})
            body = response.content.decode() if not getattr(response, "streaming", False) else ""
            assert MARKER_NAME not in body, (name, path)
            if name in HALF_SIGNED_IN_OPEN:
                assert response.status_code in (200, 302), (name, path, response.status_code)
                if response.status_code == 302:
                    assert response["Location"].startswith(reverse("two_factor_verify")), (name, path)
                continue
            assert response.status_code in (302, 403), (name, path, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("two_factor_verify")), (name, path)
    assert _tokens(cast.coordinator) == set(codes)
    assert list(TOTPDevice.objects.values_list("pk", "confirmed")) == devices


BADGE = reverse("monitoring:notification_badge")
POLL = {"HX-Request": "true", "X-GeneGate-Background": "1", "HX-Current-URL": "http://testserver/accounts/2fa/setup/"}


def test_the_badge_poll_of_a_password_only_session_gets_nothing_to_swap_in(cast, client):
    """htmx follows a plain redirect inside the request and would insert the enrolment page
    into the badge, again at every poll: it gets 204 and HX-Redirect instead."""
    _sign_in(client, cast.coordinator)
    response = client.get(BADGE, headers=POLL)
    assert response.status_code == 204 and response.content == b""
    assert response["HX-Redirect"] == reverse("two_factor_setup") + "?next=%2Faccounts%2F2fa%2Fsetup%2F"
    TOTPDevice.objects.create(user=cast.coordinator, name="app", confirmed=True)
    response = client.get(BADGE, headers=POLL)
    assert response.status_code == 204 and response["HX-Redirect"].startswith(reverse("two_factor_verify"))


def test_a_plain_request_of_a_password_only_session_is_still_redirected(cast, client):
    _sign_in(client, cast.coordinator)
    response = client.get(reverse("monitoring:notifications"))
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor_setup") + "?next=%2Fmonitoring%2Fnotifications%2F"


def test_the_enrolment_page_has_one_navbar_with_sign_out_and_nothing_that_polls(cast, client):
    _sign_in(client, cast.coordinator)
    body = client.get(reverse("two_factor_setup")).content.decode()
    assert body.count("<nav") == 1 and "Sign out" in body
    assert "hx-get" not in body and BADGE not in body and "hx-trigger" not in body
    assert "data:image/svg+xml;base64," in body  # the QR code


def test_once_verified_the_navbar_and_its_badge_are_there(cast, client):
    _sign_in(client, cast.coordinator)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=cast.coordinator)
    client.post(reverse("two_factor_setup"), {"token": _code(device)})
    body = client.get(reverse("home")).content.decode()
    assert body.count("<nav") == 1 and f'hx-get="{BADGE}"' in body
    badge = client.get(BADGE, headers=POLL)
    assert badge.status_code == 200 and 'id="notification-badge"' in badge.content.decode()


def test_a_signed_out_poll_sends_the_page_to_sign_in_instead_of_swapping_the_form_in(cast, client):
    response = client.get(BADGE, headers={**POLL, "HX-Current-URL": "http://testserver/cases/?stage=intake"})
    assert response.status_code == 204 and response.content == b""
    assert response["HX-Redirect"] == "/accounts/login/?next=/cases/%3Fstage%3Dintake"
    plain = client.get(BADGE)
    assert plain.status_code == 302 and plain["Location"].startswith("/accounts/login/?next=")


def test_an_htmx_current_url_on_another_host_gives_only_its_path(cast, client):
    for current in ("https://evil.example/phish", "//evil.example/phish", "javascript:alert(1)"):
        response = client.get(BADGE, headers={**POLL, "HX-Current-URL": current})
        assert response["HX-Redirect"] in ("/accounts/login/?next=/phish", "/accounts/login/?next=/"), current
