"""Issue 13 item 6: no response to a signed-in user may be cached (one middleware, every URL)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from cases.models import Document
from tests.security.corpus import seed_world, url_ids
from tests.urlwalk import project_urls

NO_STORE = "no-store, private"


def test_every_url_answers_a_signed_in_user_with_no_store_private(db):
    seed_world()
    ids = url_ids()
    seen_ok = set()
    for username in ("admin", "coordinator", "outsider"):
        user = get_user_model().objects.get(username=username)
        client = Client()
        for name, _route, path in project_urls(ids):
            if name == "logout":
                continue
            for method in ("get", "post"):
                client.force_login(user)
                response = getattr(client, method)(path, {"anything": "1"})
                assert response["Cache-Control"] == NO_STORE, (username, method, name, path, response.status_code)
                assert "max-age" not in response["Cache-Control"]
                if response.status_code == 200:
                    seen_ok.add(name)
    # The walk really rendered the patient pages and downloads, not only refusals.
    for name in ("cases:detail", "cases:list", "billing:claim_csv", "billing:claim_pdf", "billing:packet_download"):
        assert name in seen_ok, name
    document = Document.objects.order_by("pk").first()
    client.force_login(get_user_model().objects.get(username="admin"))
    download = client.get(reverse("cases:document", args=[document.case_id, document.pk]))
    assert download.status_code == 200 and download["Cache-Control"] == NO_STORE


def test_sign_in_redirect_and_sign_out_are_not_cacheable_either(cast):
    client = Client()
    from tests.personas import PASSWORD

    response = client.post(reverse("login"), {"username": cast.coordinator.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Cache-Control"] == NO_STORE
    response = client.post(reverse("logout"))
    assert response["Cache-Control"] == NO_STORE
