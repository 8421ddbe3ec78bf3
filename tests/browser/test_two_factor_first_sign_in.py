"""Browser, production settings (DEBUG off, two-factor sign-in required): a new user's first
sign-in enrols, keeps the backup codes and lands on the home page, with one navbar all along.

The navbar's notification badge loads itself by htmx. Before the second factor it must not
be there at all; had it polled, the redirect to enrolment would have nested page after page
into the badge."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import screenshot

pytestmark = pytest.mark.browser

NAVBAR = "nav[aria-label='Main navigation']"


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_first_sign_in_with_two_factor_required_enrols_and_lands_home_with_one_navbar(
    cast, page, browser_login, settings
):
    settings.DEBUG = False
    settings.GENEGATE_REQUIRE_2FA = True
    browser_login(cast.coordinator)
    page.wait_for_url("**/accounts/2fa/setup/**")
    page.wait_for_timeout(2000)  # a poll on load would have fired and swapped by now
    assert page.locator(NAVBAR).count() == 1
    assert page.locator("[hx-get]").count() == 0
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box is not None and box["y"] + box["height"] <= page.viewport_size["height"]  # on screen
    screenshot(page, "two-factor-first-sign-in-setup")

    device = TOTPDevice.objects.get(user=cast.coordinator)
    page.get_by_label("6-digit code from your authenticator app").fill(_code(device))
    page.get_by_role("button", name="Confirm and continue").click()
    assert page.get_by_role("heading", name="Your backup codes").is_visible()
    assert page.locator("ul.font-monospace li").count() == 10
    page.wait_for_load_state("networkidle")
    assert page.locator(NAVBAR).count() == 1
    screenshot(page, "two-factor-first-sign-in-backup-codes")

    page.get_by_role("link", name="Continue").click()
    page.wait_for_url("**/")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Welcome").is_visible()
    assert page.locator(NAVBAR).count() == 1
    assert page.locator("#notification-badge").count() == 1  # the badge loaded, once
    screenshot(page, "two-factor-first-sign-in-home")
