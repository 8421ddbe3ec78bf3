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
