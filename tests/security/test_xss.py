"""Stored XSS: payloads in every free-text field render as text on every page and in the packet."""

from __future__ import annotations

import subprocess

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.html import escape

from tests.security.corpus import FREE_TEXT, NOT_FREE_TEXT, PAYLOADS, inject, seed_world, text_columns, url_ids
from tests.urlwalk import project_urls

SKIP_CONTENT = ("text/csv", "image/svg+xml", "text/calendar", "application/pdf", "application/octet-stream")


def test_the_free_text_list_names_every_text_column_a_person_types_into():
    for label in ("cases", "billing", "monitoring"):
        for model in apps.get_app_config(label).get_models():
            name = model._meta.label
            skipped = NOT_FREE_TEXT.get(name, [])
            if skipped == "*":
                continue
            undecided = set(text_columns(model)) - set(FREE_TEXT.get(name, [])) - set(skipped)
            assert not undecided, f"{name}: decide whether {sorted(undecided)} is free text"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_page_shows_stored_payloads_as_text(db, client, payload):
    seed_world()
    inject(payload)
    admin = get_user_model().objects.get(username="admin")
    client.force_login(admin)
    ids = url_ids()
    escaped_seen = 0
    for name, _route, path in project_urls(ids):
        response = client.get(path)
        assert response.status_code < 500, (name, path)
        if response.status_code != 200 or response.get("Content-Type", "").startswith(SKIP_CONTENT):
            continue
        body = response.content.decode()
        assert payload not in body, f"{name} {path} emits the payload raw"
        escaped_seen += escape(payload) in body
    assert escaped_seen >= 3  # the payloads are really on the pages, as text


def test_the_pa_packet_prints_payloads_as_text(db):
    from billing.packet import packet_create
    from cases.models import Case

    seed_world()
    inject(PAYLOADS[0])
    case = Case.objects.filter(prior_authorization__isnull=False).order_by("pk").first()
    billing = get_user_model().objects.get(username="billing")
    packet = packet_create(case=case, by=billing, final=False)
    text = subprocess.run(
        ["pdftotext", "-layout", packet.file.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "<script>alert('gg1')</script>" in text.replace("\n", "")
