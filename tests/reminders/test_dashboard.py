"""The managers' overdue-labs dashboard: scope, filters in the URL, CSV, rates, constant queries."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Payer
from common import fragments
from common.wording import day_text
from demo.bulk import seed_bulk
from demo.context import DemoContext
from monitoring.models import Acknowledgement
from monitoring.reminders.sweep import reminder_send, reminders_ready_ids, reminders_sweep
from tests.pages import badge_after, table
from tests.personas import MARKER_NAME, make_case, make_user
from tests.reminders.helpers import NOW, TODAY, late_due_on, make_draw, overdue_due_on

pytestmark = pytest.mark.django_db
URL = reverse("monitoring:dashboard")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def board(cast, clock):
    """Site A: an overdue draw (acknowledged, reminded), a late one, a due one; site B: an overdue one."""
    payer = Payer.objects.create(name="Acme Health")
    cast.case_a.payer = payer
    cast.case_a.save()
    overdue = make_draw(cast.case_a, due_on=overdue_due_on() - timedelta(days=4), day=14)
    coordinator2 = make_user("coord2", "coordinator", cast.site_a, last_name="Second")
    other = make_case(cast.site_a, name="Late Lucy", mrn="MRN-L", coordinator=coordinator2)
    late = make_draw(other, due_on=late_due_on(), kind="platelets", day=21)
    make_draw(other, due_on=TODAY, day=28)
    b_case = make_case(cast.site_b, name="Bee Outsider", mrn="MRN-B", coordinator=cast.outsider)
    make_draw(b_case, due_on=overdue_due_on())
    reminders_sweep(now=NOW)
    for pk in reminders_ready_ids(now=NOW):
        reminder_send(pk, now=NOW)
    Acknowledgement.objects.create(
        draw=overdue, case=cast.case_a, site=cast.site_a, by=cast.manager, reason="Family rescheduled to Thursday"
    )
    return {"overdue": overdue, "late": late, "payer": payer, "coordinator2": coordinator2}


def rows_of(response) -> str:
    return response.content.decode()


def test_a_manager_sees_late_and_overdue_draws_of_their_sites_most_late_first(cast, client, board):
    client.force_login(cast.manager)
    body = rows_of(client.get(URL))
    assert MARKER_NAME in body and "Late Lucy" in body and "Bee Outsider" not in body
    assert body.index(MARKER_NAME) < body.index("Late Lucy")  # 7 days late before 1 day late
    assert "Family rescheduled to Thursday" in body and "Escalated" in body
    assert 'hx-trigger="every 60s"' in body and '"X-GeneGate-Background": "1"' in body
    assert 'hx-push-url="true"' in body


def test_coordinators_and_physicians_may_not_open_the_dashboard_or_its_csv(cast, client, board):
    for user in (cast.coordinator, cast.physician, cast.outsider):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.get(reverse("monitoring:dashboard_csv")).status_code == 403


def test_a_manager_of_another_site_sees_only_that_site(cast, client, board):
    manager_b = make_user("managerb", "manager", cast.site_b)
    client.force_login(manager_b)
    body = rows_of(client.get(URL))
    assert "Bee Outsider" in body and MARKER_NAME not in body and "Late Lucy" not in body


def test_filters_narrow_the_table_and_the_counts(cast, client, board):
    client.force_login(cast.manager)
    by_kind = rows_of(client.get(URL, {"kind": "platelets"}))
    assert "Late Lucy" in by_kind and MARKER_NAME not in by_kind
    by_coordinator = rows_of(client.get(URL, {"coordinator": cast.coordinator.pk}))
    assert MARKER_NAME in by_coordinator and "Late Lucy" not in by_coordinator
    by_payer = rows_of(client.get(URL, {"payer": board["payer"].pk}))
    assert MARKER_NAME in by_payer and "Late Lucy" not in by_payer
    by_days = rows_of(client.get(URL, {"min_days": 5}))
    assert MARKER_NAME in by_days and "Late Lucy" not in by_days
    by_site = rows_of(client.get(URL, {"site": cast.site_a.pk}))
    assert MARKER_NAME in by_site


def test_htmx_requests_get_the_partial_the_region_asked_for(cast, client, board):
    client.force_login(cast.manager)
    whole = rows_of(client.get(URL, {"kind": "liver"}, headers={"HX-Request": "true", "HX-Target": "dashboard"}))
    assert "<html" not in whole and 'id="dashboard"' in whole and "<form" in whole
    data = rows_of(client.get(URL, headers={"HX-Request": "true", "HX-Target": "dashboard-data"}))
    assert "<form" not in data and 'id="dashboard-data"' in data and MARKER_NAME in data


def test_bad_filter_values_are_ignored_with_a_message_never_a_500(cast, client, board):
    client.force_login(cast.manager)
    response = client.get(
        URL,
        {
            "site": cast.site_b.pk,
            "coordinator": "abc",
            "payer": "99999",
            "kind": "bogus",
            "min_days": "-4",
            "page": "x",
        },
    )
    assert response.status_code == 200
    body = rows_of(response)
    for label in ("Site", "Coordinator", "Payer", "Draw", "Days late, at least"):
        assert f"Ignored the “{label}” filter" in body
    assert MARKER_NAME in body and "Late Lucy" in body  # unfiltered
    assert client.get(URL, {"min_days": "9" * 40}).status_code == 200
    assert client.get(reverse("monitoring:dashboard_csv"), {"min_days": "zz"}).status_code == 200


def test_the_csv_export_applies_the_same_filters_and_holds_initials_not_names(cast, client, board):
    client.force_login(cast.manager)
    response = client.get(reverse("monitoring:dashboard_csv"), {"kind": "liver"})
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [(r["case"], r["initials"], r["status"], r["days_late"]) for r in rows] == [
        (str(cast.case_a.pk), "ZM", "overdue", "7")
    ]
    assert rows[0]["acknowledgement"] == "Family rescheduled to Thursday" and rows[0]["payer"] == "Acme Health"
    assert MARKER_NAME not in content and "Markerchild" not in content


def test_the_csv_export_neutralises_formulas_in_reasons_and_payer_names(cast, client, board):
    """Issue 13 item 5: typed text that a spreadsheet would run as a formula is exported as text."""
    Acknowledgement.objects.filter(draw=board["overdue"]).update(reason='=HYPERLINK("http://x")')
    board["payer"].name = "=1+1"
    board["payer"].save()
    client.force_login(cast.manager)
    response = client.get(reverse("monitoring:dashboard_csv"), {"kind": "liver"})
    content = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows[0]["acknowledgement"] == '\'=HYPERLINK("http://x")' and rows[0]["payer"] == "'=1+1"
    cells = [cell for row in csv.reader(io.StringIO(content)) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_the_on_time_rate_counts_draws_done_within_their_window(cast, client, clock):
    for day, (state, late) in enumerate([("done", 0), ("done", 0), ("done", 3), ("missed", 0)], start=1):
        draw = make_draw(cast.case_a, due_on=TODAY - timedelta(days=10 + day), day=day, state=state)
        draw.days_late = late
        draw.save()
    make_draw(cast.case_a, due_on=TODAY - timedelta(days=60), day=40, state="done")
    client.force_login(cast.manager)
    body = rows_of(client.get(URL))
    assert "50% <span" in body and "(2/4)" in body  # 30 days
    assert "60% <span" in body and "(3/5)" in body  # 90 days


def _dashboard_queries(client) -> int:
    cache.clear()  # compare cold renders (the on-time rates are cached)
    fragments.clear()  # and the rendered data region
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_first_page_uses_the_same_number_of_queries_at_100_and_at_400_cases(cast, client, clock):
    admin = make_user("boss", "admin", cast.site_a, cast.site_b)
    Payer.objects.create(name="Acme Health")
    ctx = DemoContext(today=TODAY, sites={"A": cast.site_a, "B": cast.site_b})
    client.force_login(admin)
    seed_bulk(ctx, 100)
    reminders_sweep(now=NOW)
    small = _dashboard_queries(client)
    seed_bulk(ctx, 400)
    reminders_sweep(now=NOW)
    large = _dashboard_queries(client)
    assert small == large
    assert small <= 18  # session, user, roles, sites; 10 for the page; session save


def test_a_snoozed_draw_past_its_grace_is_counted_as_snoozed_as_its_row_says(cast, client, board):
    """The summary and the table use one definition: overdue, else snoozed while a snooze runs,
    else late; the summary's columns add up to the table's rows."""
    overdue = board["overdue"]  # 7 days late, past the grace
    overdue.snoozed_until = TODAY + timedelta(days=2)
    overdue.save()
    client.force_login(cast.manager)
    body = rows_of(client.get(URL))
    by_site = {row[0].split(" ")[0]: row[1:4] for row in table(body, "by-site-h")}
    assert by_site["A"] == ["1", "1", "0"]  # late (Late Lucy), snoozed, overdue
    coordinators = {row[0]: row[1:4] for row in table(body, "by-coord-h")}
    assert coordinators[cast.coordinator.get_full_name()] == ["0", "1", "0"]
    statuses = [row[6] for row in table(body, "table-h")]
    assert statuses == [f"Snoozed to {day_text(overdue.snoozed_until)}", "Late"]
    assert badge_after(body, "table-h") == 2
