"""Per-site reminder routes: managers edit who gets which kind."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import DEFAULT_ROUTES, ReminderRoute
from monitoring.reminders.sweep import routes_seed_defaults

pytestmark = pytest.mark.django_db


def _post_data(site, overrides=None):
    data = {"site": site.pk}
    routes = {kind: list(roles) for kind, roles in DEFAULT_ROUTES.items()}
    routes.update(overrides or {})
    for kind, roles in routes.items():
        data[f"site-{site.pk}-{kind}"] = roles
    return data


def test_a_manager_sees_the_defaults_and_adds_the_physician_to_overdue(cast, client):
    routes_seed_defaults(cast.site_a)
    client.force_login(cast.manager)
    page = client.get(reverse("monitoring:reminder_routes")).content.decode()
    assert "Site A Children" in page and "Site B" not in page
    response = client.post(
        reverse("monitoring:reminder_routes"), _post_data(cast.site_a, {"overdue": ["manager", "physician"]})
    )
    assert response.status_code == 302
    assert set(ReminderRoute.objects.filter(site=cast.site_a, kind="overdue").values_list("role", flat=True)) == {
        "manager",
        "physician",
    }


def test_a_kind_with_no_role_is_refused_and_nothing_changes(cast, client):
    routes_seed_defaults(cast.site_a)
    before = set(ReminderRoute.objects.values_list("site", "kind", "role"))
    client.force_login(cast.manager)
    data = _post_data(cast.site_a)
    del data[f"site-{cast.site_a.pk}-overdue"]
    response = client.post(reverse("monitoring:reminder_routes"), data)
    assert response.status_code == 400
    assert "Pick at least one role, or nobody gets these reminders." in response.content.decode()
    assert set(ReminderRoute.objects.values_list("site", "kind", "role")) == before


def test_an_unknown_role_is_refused(cast, client):
    client.force_login(cast.manager)
    response = client.post(reverse("monitoring:reminder_routes"), _post_data(cast.site_a, {"late": ["janitor"]}))
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_another_sites_routes_and_other_roles_are_refused(cast, client):
    client.force_login(cast.manager)
    assert client.post(reverse("monitoring:reminder_routes"), _post_data(cast.site_b)).status_code == 404
    assert client.post(reverse("monitoring:reminder_routes"), {"site": "junk"}).status_code == 404
    client.force_login(cast.coordinator)
    assert client.get(reverse("monitoring:reminder_routes")).status_code == 403
    assert not ReminderRoute.objects.exists()


def test_seeding_defaults_twice_changes_nothing(cast):
    routes_seed_defaults(cast.site_a)
    count = ReminderRoute.objects.count()
    routes_seed_defaults(cast.site_a)
    assert ReminderRoute.objects.count() == count == sum(len(r) for r in DEFAULT_ROUTES.values())
