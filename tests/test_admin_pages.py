"""Every admin page an administrator uses opens: change lists, add forms and change forms of
every registered model (the admin's widgets render through the project's form renderer)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_admin_page_opens_for_a_superuser(cast, client, admin_user):
    client.force_login(admin_user)
    opened = 0
    for model in admin.site._registry:
        assert client.get(_url(model, "changelist")).status_code == 200, model
        try:
            add = client.get(_url(model, "add"))
        except NoReverseMatch:
            add = None
        if add is not None:
            assert add.status_code in (200, 403), (model, add.status_code)
        obj = model._default_manager.first()
        if obj is not None:
            change = client.get(_url(model, "change", obj.pk))
            assert change.status_code == 200, (model, change.status_code)
            opened += 1
    assert opened >= 3  # users, groups, sites... had a row to open


def test_the_user_form_with_its_group_and_date_widgets_renders(cast, client, admin_user):
    client.force_login(admin_user)
    body = client.get(_url(type(cast.coordinator), "change", cast.coordinator.pk)).content.decode()
    assert 'name="groups"' in body and 'name="last_login_0"' in body
    assert 'name="username"' in client.get(_url(type(cast.coordinator), "add")).content.decode()


# --- Reference data and people, as a clinic's administrator manages them -----------------------
def _site_admin(cast):
    """A staff user with the admin role at site A only (not a superuser)."""
    from django.contrib.auth.models import Permission

    from tests.personas import make_user

    user = make_user("siteadmin", "admin", cast.site_a, is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


def test_a_site_administrator_sees_only_their_own_sites_and_memberships(cast, client):
    from accounts.models import Membership, Site

    client.force_login(_site_admin(cast))
    sites = client.get(_url(Site, "changelist")).content.decode()
    assert cast.site_a.name in sites and cast.site_b.name not in sites
    assert client.get(_url(Site, "change", cast.site_b.pk)).status_code in (302, 404)
    memberships = client.get(_url(Membership, "changelist")).content.decode()
    assert "outsider" not in memberships and "coordinator" in memberships
    other = Membership.objects.get(user=cast.outsider)
    assert client.get(_url(Membership, "change", other.pk)).status_code in (302, 404)


def test_an_admin_change_to_a_membership_is_in_the_audit_trail(cast, client, admin_user):
    from auditlog.models import LogEntry
    from django.contrib.auth import get_user_model

    from accounts.models import Membership

    client.force_login(admin_user)
    response = client.post(_url(Membership, "add"), {"user": cast.outsider.pk, "site": cast.site_a.pk, "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = Membership.objects.get(user=cast.outsider, site=cast.site_a)
    entry = LogEntry.objects.get_for_object(membership).get()
    assert entry.actor == get_user_model().objects.get(pk=admin_user.pk)


def test_a_protocol_version_in_use_is_read_only_in_the_admin(cast, client, admin_user):
    from monitoring.models import ProtocolVersion
    from monitoring.workflows import protocol_in_force, schedule_create

    version = protocol_in_force()
    schedule_create(case=cast.case_a, infused_on=cast.case_a.patient.date_of_birth.replace(day=15))
    client.force_login(admin_user)
    body = client.get(_url(ProtocolVersion, "change", version.pk)).content.decode()
    assert 'name="rows"' not in body  # shown, not editable
    response = client.post(_url(ProtocolVersion, "change", version.pk), {"version": "edited", "grace_days": 9})
    assert response.status_code == 403
    assert ProtocolVersion.objects.get(pk=version.pk).version == version.version


def test_a_reminder_route_names_only_a_role_that_receives_reminders(cast, client, admin_user):
    from monitoring.models import ReminderRoute

    client.force_login(admin_user)
    response = client.post(
        _url(ReminderRoute, "add"), {"site": cast.site_a.pk, "kind": "late", "role": "billing", "_save": "Save"}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not ReminderRoute.objects.exists()
