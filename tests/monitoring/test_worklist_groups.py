"""The home page's monitoring worklist shows the first few draws of each group with the whole
count, and each group has its own paged list, scoped to the user's sites."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring.worklist import GROUP_PAGE_SIZE, ROWS
from tests.personas import make_case
from tests.reminders.helpers import NOW, TODAY, make_draw, overdue_due_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _overdue_cases(site, count: int, start: int = 0):
    for i in range(start, start + count):
        case = make_case(site, name=f"Overdue Patient {i:03d}", mrn=f"MRN-O{i:03d}")
        make_draw(case, due_on=overdue_due_on() - timedelta(days=i % 20), day=14)


def test_the_home_worklist_shows_the_first_of_each_group_the_count_and_a_link_to_all(cast, client, clock):
    _overdue_cases(cast.site_a, ROWS + 3)
    make_draw(cast.case_a, due_on=TODAY, day=28)  # due today
    client.force_login(cast.coordinator)
    page = client.get(reverse("home")).content.decode()
    body = page[page.index('id="worklist-h"') : page.index('id="recent-h"')]  # not the recent cases
    assert f'Overdue <span class="badge text-bg-secondary">{ROWS + 3}</span>' in body
    assert body.count("Overdue Patient") == ROWS
    assert f"Showing the {ROWS} due earliest of {ROWS + 3}" in body
    assert reverse("monitoring:worklist_group", args=["overdue"]) in body
    assert "Due today" in body  # a backlog of overdue draws never hides today's


def test_a_group_page_lists_every_draw_of_the_group_paged_earliest_first(cast, client, clock):
    _overdue_cases(cast.site_a, GROUP_PAGE_SIZE + 2)
    client.force_login(cast.coordinator)
    url = reverse("monitoring:worklist_group", args=["overdue"])
    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    assert first.count("Overdue Patient") == GROUP_PAGE_SIZE and second.count("Overdue Patient") == 2
    assert "Page 1 of 2" in first
    # Earliest due first: i % 20 == 19 is the oldest due date, then 18; 000 and 020 come last.
    assert first.index("Overdue Patient 019") < first.index("Overdue Patient 018")
    assert "Overdue Patient 020" in second
    assert client.get(url, {"page": "junk"}).status_code == 200  # a bad page number is page 1


def test_a_group_page_shows_only_the_users_sites_and_unknown_groups_are_404(cast, client, clock):
    _overdue_cases(cast.site_b, 2)
    client.force_login(cast.coordinator)
    body = client.get(reverse("monitoring:worklist_group", args=["overdue"])).content.decode()
    assert "Overdue Patient" not in body and "Nothing in this group" in body
    assert client.get(reverse("monitoring:worklist_group", args=["everything"])).status_code == 404
    client.logout()
    assert client.get(reverse("monitoring:worklist_group", args=["late"])).status_code == 302


def test_a_group_page_runs_the_same_queries_for_3_and_40_draws(cast, client, clock):
    client.force_login(cast.coordinator)
    url = reverse("monitoring:worklist_group", args=["overdue"])
    _overdue_cases(cast.site_a, 3)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    _overdue_cases(cast.site_a, 37, start=3)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(small) == len(large)
