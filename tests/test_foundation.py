"""Foundation: access, CSRF, lockout, session timeouts, health, audit, production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.checks.registry import registry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from common.checks import site_url_check
from tests.personas import MARKER_MRN, MARKER_NAME, PASSWORD
from tests.urlwalk import project_urls

ROOT = Path(__file__).resolve().parent.parent


def _ids(cast):
    return {"pk": cast.case_a.pk, "case_pk": cast.case_a.pk}


def test_every_url_sends_an_anonymous_visitor_to_login(cast, client):
    for name, _route, path in project_urls(_ids(cast)):
        response = client.get(path)
        assert response.status_code in (302, 405), (name, path, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), (name, path)


def test_healthz_and_login_are_public(client, db):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("healthz")).status_code in (200, 503)


def test_case_urls_are_404_for_another_sites_user_without_patient_data(cast, client):
    client.force_login(cast.outsider)
    checked = 0
    for name, route, path in project_urls(_ids(cast)):
        if "<" not in route:
            continue
        response = client.get(path)
        assert response.status_code in (404, 405), (name, path, response.status_code)
        body = response.content.decode()
        assert MARKER_NAME not in body and MARKER_MRN not in body, (name, path)
        checked += 1
    assert checked >= 1


def test_own_site_user_sees_the_case(cast, client):
    client.force_login(cast.coordinator)
    response = client.get(reverse("cases:detail", args=[cast.case_a.pk]))
    assert response.status_code == 200
    assert MARKER_NAME in response.content.decode()


def test_a_post_without_csrf_token_is_refused(cast):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(cast.coordinator)
    response = csrf_client.post(reverse("keepalive"))
    assert response.status_code == 403
    response = csrf_client.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
    assert response.status_code == 403


def test_it_locks_out_after_repeated_failures_whether_or_not_the_user_exists(cast, client, settings):
    for username in ("coordinator", "nobody-by-this-name"):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post(reverse("login"), {"username": username, "password": "wrong"})
        locked = client.post(reverse("login"), {"username": username, "password": PASSWORD})
        assert locked.status_code == 429
        assert "Sign-in paused" in locked.content.decode()
    # The right password is refused while locked out.
    assert "_auth_user_id" not in client.session


def test_a_correct_password_signs_in(cast, client):
    response = client.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.coordinator.pk)


def test_it_signs_out_after_15_idle_minutes_but_not_before(cast, client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
        assert client.get(reverse("home")).status_code == 200
        clock.shift(timedelta(minutes=14, seconds=50))
        assert client.get(reverse("home")).status_code == 200
        clock.shift(timedelta(minutes=15, seconds=10))
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_background_polls_do_not_keep_a_session_alive(cast, client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
        for _ in range(3):
            clock.shift(timedelta(minutes=6))
            client.get(reverse("home"), headers={"X-GeneGate-Background": "1"})
        assert client.get(reverse("home")).status_code == 302


def test_it_signs_out_after_12_hours_even_when_active(cast, client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
        for _ in range(12 * 6):
            clock.shift(timedelta(minutes=10))
            client.get(reverse("home"))
        clock.shift(timedelta(minutes=10))
        assert client.get(reverse("home")).status_code == 302


def test_healthz_reports_503_when_redis_is_unreachable(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": True, "redis": False}


@pytest.mark.services
def test_healthz_is_200_with_the_real_redis(db, client):
    if not os.environ.get("GENEGATE_TEST_SERVICES"):
        pytest.skip("needs the Redis started by make test")
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()


def test_changes_and_views_of_a_case_are_in_the_audit_trail(cast, client):
    client.force_login(cast.coordinator)
    case = cast.case_a
    case.plan_name = "Choice Plus"
    case.save()
    assert LogEntry.objects.get_for_object(case).filter(action=LogEntry.Action.UPDATE).exists()
    client.get(reverse("cases:detail", args=[case.pk]))
    access = LogEntry.objects.get_for_object(case).filter(action=LogEntry.Action.ACCESS)
    assert access.filter(actor=cast.coordinator).exists()


def _check_deploy(tmp_path, **variables) -> subprocess.CompletedProcess:
    """`manage.py check --deploy` with production settings and ``variables``."""
    secret = tmp_path / "secret"
    secret.write_text("x" * 64 + "-production-secret-for-the-check-only-0123456789")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GENEGATE_", "DJANGO_", "EMAIL_", "SECURE_", "SITE_URL"))
    }
    env.update(SECRET_KEY_FILE=str(secret), ALLOWED_HOSTS="genegate.example.org", DATABASE_URL="sqlite:///:memory:")
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = _check_deploy(tmp_path, SITE_URL="https://genegate.example.org")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_without_a_site_url_for_the_email_links(tmp_path):
    result = _check_deploy(tmp_path)
    assert result.returncode != 0
    assert "genegate.E001" in result.stderr and "SITE_URL is not set" in result.stderr


@pytest.mark.parametrize(
    ("site_url", "ids"),
    [
        ("", ["genegate.E001"]),
        ("http://127.0.0.1:8000", ["genegate.E002", "genegate.E003"]),
        ("https://localhost", ["genegate.E003"]),
        ("https://app.localhost:8443/", ["genegate.E003"]),
        ("https://[::1]/", ["genegate.E003"]),
        ("https://0.0.0.0", ["genegate.E003"]),
        ("http://genegate.example.org", ["genegate.E002"]),
        ("https://", ["genegate.E003"]),
        ("https://genegate.example.org", []),
        ("https://10.1.2.3/genegate/", []),  # a clinic's intranet address is a real address
    ],
)
def test_the_site_url_check_names_each_problem(settings, site_url, ids):
    settings.SITE_URL = site_url
    assert [error.id for error in site_url_check()] == ids


def test_the_site_url_check_runs_only_with_deploy():
    assert site_url_check in registry.get_checks(include_deployment_checks=True)
    assert site_url_check not in registry.get_checks(include_deployment_checks=False)


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENEGATE_", "SECRET_KEY"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_junk_in_a_boolean_setting_is_refused():
    env = dict(os.environ, GENEGATE_DEBUG="maybe")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "GENEGATE_DEBUG" in result.stderr
