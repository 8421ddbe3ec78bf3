"""The protocol page and new versions (admins only, validated)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import ProtocolVersion
from monitoring.workflows import protocol_in_force
from tests.personas import make_user


def test_the_protocol_page_shows_rows_days_window_grace_and_sources(cast, client):
    protocol_in_force()
    client.force_login(cast.coordinator)
    page = client.get(reverse("monitoring:protocol")).content.decode()
    assert "7, 14, 21, 28, 42, 56, 70, 84" in page and "7, 14, 21, 28, 56, 84" in page
    assert "Window ±2 days" in page and "grace 2 days" in page and "label §5.1" in page


def test_an_admin_creates_a_new_version_that_goes_into_force(cast, client):
    protocol_in_force()
    admin = make_user("ada", "admin", cast.site_a)
    client.force_login(admin)
    response = client.post(
        reverse("monitoring:protocol_new"),
        {"version": "v2-window-3", "window_days": "3", "grace_days": "4", "note": "Families travel far"},
    )
    assert response.status_code == 302
    assert protocol_in_force().version == "v2-window-3" and ProtocolVersion.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"window_days": "4"}, "window_days", "less than or equal to 3"),
        ({"window_days": "-1"}, "window_days", "greater than or equal to 0"),
        ({"grace_days": "x"}, "grace_days", "Enter a whole number."),
        ({"grace_days": "15"}, "grace_days", "less than or equal to 14"),
        ({"version": "2025-02-label"}, "version", "already exists"),
        ({"note": ""}, "note", "This field is required."),
    ],
)
def test_bad_protocol_versions_are_refused_next_to_the_field(cast, client, change, field, message):
    protocol_in_force()
    client.force_login(make_user("ada", "admin", cast.site_a))
    data = {"version": "v2", "window_days": "2", "grace_days": "2", "note": "n"} | change
    response = client.post(reverse("monitoring:protocol_new"), data)
    assert response.status_code == 422 and message in response.context["form"].errors[field][0]
    assert ProtocolVersion.objects.count() == 1


def test_only_admins_create_versions(cast, client):
    client.force_login(cast.manager)
    assert client.get(reverse("monitoring:protocol_new")).status_code == 403
