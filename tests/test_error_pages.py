"""The demo (DEBUG on) shows the product's own 404 and 500 pages, never Django's debug pages
listing the URL patterns or a traceback; developers turn those on with GENEGATE_DEBUG_PAGES."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path

from config.urls import urlpatterns as project_urls


def _boom(request):
    raise RuntimeError("kaboom-secret-detail")


urlpatterns = [*project_urls, path("boom/", _boom)]


@pytest.fixture
def demo_debug(settings):
    settings.DEBUG = True
    settings.GENEGATE_DEBUG_PAGES = False
    settings.ROOT_URLCONF = __name__
    return settings


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_mistyped_url_shows_the_products_404_with_debug_on(demo_debug, cast, client, signed_in):
    if signed_in:
        client.force_login(cast.coordinator)
    response = client.get("/cases/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Not found" in body and "Go to your home page" in body
    assert "Using the URLconf" not in body and "cases/&lt;int:pk&gt;" not in body and "DEBUG = True" not in body


def test_an_error_shows_the_products_500_with_debug_on(demo_debug, cast):
    client = Client(raise_request_exception=False)
    client.force_login(cast.coordinator)
    response = client.get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500 and "Something went wrong" in body
    assert "kaboom-secret-detail" not in body and "Traceback" not in body


def test_developers_can_still_turn_the_debug_pages_on(demo_debug, client):
    demo_debug.GENEGATE_DEBUG_PAGES = True
    response = client.get("/cases/no-such-page/")
    assert response.status_code == 404 and "Using the URLconf" in response.content.decode()
