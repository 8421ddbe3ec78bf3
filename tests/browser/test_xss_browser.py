"""In real Chromium, stored payloads never run: no dialog opens and the text is visible."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import screenshot
from tests.security.corpus import PAYLOADS, inject, seed_world, url_ids

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_stored_payloads_do_not_run_in_the_browser(page, browser_login):
    seed_world()
    inject(PAYLOADS[1])
    from django.apps import apps as django_apps

    from accounts.roles import ensure_roles

    ensure_roles(django_apps)
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("correct-horse-battery-staple")
    admin.save()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    browser_login(admin)
    ids = url_ids()
    for path in (f"/cases/{ids['pk']}/", "/cases/", "/", f"/billing/cases/{ids['pk']}/claim/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert dialogs == []
    page.goto(f"/cases/{ids['pk']}/")
    assert page.get_by_text(PAYLOADS[1]).first.is_visible()
    screenshot(page, "xss-case-page")
