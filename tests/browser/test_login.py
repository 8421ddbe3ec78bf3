from __future__ import annotations

import pytest

from tests.conftest import screenshot
from tests.personas import MARKER_NAME

pytestmark = pytest.mark.browser


def test_a_coordinator_signs_in_sees_home_and_signs_out(cast, page, browser_login):
    browser_login(cast.coordinator)
    assert page.get_by_role("heading", name="Welcome, Coordinator").is_visible()
    assert page.get_by_text("Site A Children's").first.is_visible()
    assert page.get_by_text(MARKER_NAME).first.is_visible()
    screenshot(page, "home-coordinator")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    assert page.get_by_role("button", name="Sign in").is_visible()


def test_a_wrong_password_shows_a_message_next_to_the_form(cast, page):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    screenshot(page, "login-error")
