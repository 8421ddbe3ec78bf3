"""The overdue dashboard's data region is cached per process (common/fragments.py) and renewed
by every change it shows; without Redis it is computed fresh every time."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common import fragments
from monitoring.models import Acknowledgement, DrawState
from monitoring.reminders.sweep import reminder_send, reminders_ready_ids, reminders_sweep
from tests.personas import MARKER_NAME, make_case, make_user
from tests.reminders.helpers import NOW, late_due_on, make_draw, overdue_due_on

pytestmark = pytest.mark.django_db
URL = reverse("monitoring:dashboard")
DATA = {"HX-Request": "true", "HX-Target": "dashboard-data"}


@pytest.fixture
def redis_up(settings):
    """The Redis `make test` started: the fragment cache is on."""
    if not os.environ.get("GENEGATE_TEST_SERVICES"):
        pytest.skip("needs the Redis started by make test")
    assert fragments.generation("dashboard") is not None


@pytest.fixture
def redis_unreachable(settings):
    """A loopback port nothing listens on: every Redis call is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _get(client, **headers):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, headers=headers)
    assert response.status_code == 200
    return response.content.decode(), len(ctx.captured_queries)


def test_the_region_comes_from_cache_until_a_change_it_shows(cast, client, clock, redis_up):
    overdue = make_draw(cast.case_a, due_on=overdue_due_on(), day=14)
    client.force_login(cast.manager)
    cold, cold_queries = _get(client)
    warm, warm_queries = _get(client)
    assert MARKER_NAME in cold and MARKER_NAME in warm
    assert warm_queries < cold_queries, (warm_queries, cold_queries)

    # A saved row (signal): an acknowledgement shows at once.
    Acknowledgement.objects.create(
        draw=overdue, case=cast.case_a, site=cast.site_a, by=cast.manager, reason="Mother called, Thursday"
    )
    assert "Mother called, Thursday" in _get(client)[0]

    # A set-based write (the sweep and send use update()): the last reminder shows at once.
    reminders_sweep(now=NOW)
    for pk in reminders_ready_ids(now=NOW):
        reminder_send(pk, now=NOW)
    assert "none sent" not in _get(client, **DATA)[0]

    # A new late draw of another patient, and the first draw done: both show at once.
    other = make_case(cast.site_a, name="Late Lucy", mrn="MRN-L", coordinator=cast.coordinator)
    make_draw(other, due_on=late_due_on(), kind="platelets", day=21)
    overdue.state = DrawState.DONE
    overdue.save()
    body = _get(client)[0]
    assert "Late Lucy" in body and MARKER_NAME not in body


def test_managers_of_other_sites_never_get_each_others_region(cast, client, clock, redis_up):
    make_draw(cast.case_a, due_on=overdue_due_on(), day=14)
    b_case = make_case(cast.site_b, name="Bee Outsider", mrn="MRN-B", coordinator=cast.outsider)
    make_draw(b_case, due_on=overdue_due_on())
    client.force_login(cast.manager)
    assert MARKER_NAME in _get(client)[0]
    client.force_login(make_user("managerb", "manager", cast.site_b))
    body = _get(client)[0]
    assert "Bee Outsider" in body and MARKER_NAME not in body


def test_the_cached_region_holds_nothing_of_the_viewer(cast, client, clock, redis_up):
    make_draw(cast.case_a, due_on=overdue_due_on(), day=14)
    second = make_user("quentin", "manager", cast.site_a, last_name="Second")
    client.force_login(cast.manager)
    first_region = _get(client, **DATA)[0]
    client.force_login(second)
    region = _get(client, **DATA)[0]
    assert region == first_region  # served from cache to another manager of the same sites
    assert "csrf" not in region.lower() and "Quentin" not in region
    page = _get(client)[0]  # the page around the region is the viewer's own
    assert "Quentin Second" in page and '"X-CSRFToken": "' in page and first_region in page


def test_without_redis_the_dashboard_is_computed_fresh_on_every_request(cast, client, clock, redis_unreachable, caplog):
    draw = make_draw(cast.case_a, due_on=overdue_due_on() - timedelta(days=1), day=14)
    client.force_login(cast.manager)
    with caplog.at_level(logging.WARNING, logger="common.fragments"):
        first, first_queries = _get(client)
        cache.clear()  # the on-time rates have their own 10-minute cache: leave only the region's
        second, second_queries = _get(client)
    assert MARKER_NAME in first and first_queries == second_queries  # nothing cached
    assert "serving uncached" in caplog.text and MARKER_NAME not in caplog.text
    assert caplog.text.count("serving uncached until Redis answers") == 1  # once, not once per page
    draw.state = DrawState.DONE
    draw.save()  # the renewal fails quietly; the next page is fresh anyway
    assert MARKER_NAME not in _get(client)[0]


def test_a_renewal_changes_the_generation_and_an_unreachable_redis_gives_none(settings, redis_unreachable):
    assert fragments.generation("dashboard") is None
    fragments._bump_now("dashboard")  # logs, never raises


def test_bump_renews_the_generation_now_and_after_commit(db, redis_up, django_capture_on_commit_callbacks):
    before = fragments.generation("dashboard")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fragments.bump("dashboard")
        during = fragments.generation("dashboard")
    after = fragments.generation("dashboard")
    assert len(callbacks) == 1
    assert len({before, during, after}) == 3


def test_many_saves_in_one_transaction_queue_one_renewal_after_commit(db, redis_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for _ in range(5):
            fragments.bump("dashboard")
        fragments.bump("other")
    assert len(callbacks) == 2  # one per family


def test_after_a_redis_failure_the_cache_rests_instead_of_waiting_on_every_call(settings, redis_unreachable):
    calls = []
    real = fragments._redis

    def counting():
        calls.append(1)
        return real()

    fragments._redis = counting
    try:
        assert fragments.generation("dashboard") is None
        assert fragments.generation("dashboard") is None
        fragments._bump_now("dashboard")
    finally:
        fragments._redis = real
    assert len(calls) == 1  # the later calls did not try Redis again
