from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.personas import PASSWORD, Personas

# A 2-core CI machine under load must not fail a property on wall-clock time.
hypothesis_settings.register_profile("genegate", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("genegate")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _flush_past_the_audit_truncate_guard():
    """Transactional tests end with Django's flush, one TRUNCATE of every table, which the audit
    trail's TRUNCATE trigger (common/migrations/0002) refuses, as it should in production. In
    the test database only, flush lifts that trigger for its own transaction (the owner may;
    the role is not a superuser) and puts it back in the same transaction."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    real = DatabaseOperations.sql_flush
    toggle = (
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'genegate_audit_no_truncate') "
        "THEN ALTER TABLE auditlog_logentry {} TRIGGER genegate_audit_no_truncate; END IF; END $$"
    )

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        sql = real(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if sql and "auditlog_logentry" in tables:
            sql = [toggle.format("DISABLE"), *sql, toggle.format("ENABLE")]
        return sql

    DatabaseOperations.sql_flush = sql_flush


_flush_past_the_audit_truncate_guard()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with empty per-process caches (rendered fragments, on-time rates):
    test databases reuse primary keys, so a copy from an earlier test could match a key."""
    from django.core.cache import caches

    from common import fragments

    for alias in ("default", "fragments"):
        caches[alias].clear()
    fragments._down_until = 0.0  # an earlier test's unreachable Redis is not this test's
    fragments._last_warned.clear()


@pytest.fixture
def eager_celery():
    """Celery runs what is enqueued here and now, raising what fails (no broker)."""
    from config.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def cast(db) -> Personas:
    return Personas()


@pytest.fixture
def login(client):
    """login(user) signs the test client in as user (a real POST through the login form)."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(scope="session")
def browser():
    """Real headless Chromium (Debian's package) driven by Playwright; never `playwright install`."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail("Debian's chromium is required for browser tests (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def browser_login(page):
    def _login(user, password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        return page

    return _login


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
