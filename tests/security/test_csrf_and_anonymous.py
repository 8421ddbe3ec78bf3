"""Every state-changing URL refuses a POST without a CSRF token; every URL wants a login."""

from __future__ import annotations

from django.test import Client

from tests.urlwalk import project_urls


def _ids(cast):
    return {"pk": cast.case_a.pk, "case_pk": cast.case_a.pk}


def test_every_url_refuses_a_post_without_a_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.coordinator)
    for name, _route, path in project_urls(_ids(cast)):
        response = client.post(path, {"anything": "1"})
        # 403: CSRF refused before the view ran. 405: the URL takes no POST at all.
        assert response.status_code in (403, 405), (name, path, response.status_code)


def test_every_url_refuses_an_anonymous_post(cast):
    client = Client(enforce_csrf_checks=False)
    for name, _route, path in project_urls(_ids(cast)):
        response = client.post(path, {"anything": "1"})
        assert response.status_code in (302, 405), (name, path, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), (name, path)
