"""Every monitoring URL is site-scoped (outsider 404, no patient data); charts and calendars."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from monitoring.models import Draw, Milestone
from tests.monitoring.helpers import at, draw, frozen, infuse, liver_post
from tests.personas import MARKER_MRN, MARKER_NAME, make_case

INFUSED = date(2027, 1, 4)


def _urls(cast):
    d7 = draw(cast.case_a, "liver", 7)
    m6 = Milestone.objects.get(case=cast.case_a, month=6)
    pk = cast.case_a.pk
    return [
        ("get", reverse("monitoring:draw", args=[d7.pk])),
        ("post", reverse("monitoring:draw", args=[d7.pk])),
        ("post", reverse("monitoring:draw_missed", args=[d7.pk])),
        ("get", reverse("monitoring:steroids", args=[pk])),
        ("post", reverse("monitoring:steroids", args=[pk])),
        ("get", reverse("monitoring:milestone", args=[m6.pk])),
        ("post", reverse("monitoring:milestone", args=[m6.pk])),
        ("get", reverse("monitoring:chart", args=[pk, "liver"])),
        ("get", reverse("monitoring:chart", args=[pk, "platelets"])),
        ("get", reverse("monitoring:chart", args=[pk, "troponin"])),
        ("get", reverse("monitoring:case_ics", args=[pk])),
    ]


def test_an_outsider_gets_404_on_every_monitoring_url_of_another_site(cast, client):
    infuse(cast.case_a, INFUSED)
    client.force_login(cast.outsider)
    for method, url in _urls(cast):
        response = getattr(client, method)(url, {"reason": "x"} if method == "post" else None)
        assert response.status_code == 404, (method, url, response.status_code)
        assert MARKER_NAME not in response.content.decode() and MARKER_MRN not in response.content.decode()
    assert draw(cast.case_a, "liver", 7).state == "upcoming"


def test_the_outsiders_site_calendar_has_nothing_of_another_site(cast, client):
    infuse(cast.case_a, INFUSED)
    client.force_login(cast.outsider)
    body = client.get(reverse("monitoring:sites_ics")).content.decode()
    assert "BEGIN:VEVENT" not in body


def test_charts_are_svg_images_without_script_under_their_own_csp(cast, client):
    infuse(cast.case_a, INFUSED)
    with frozen(date(2027, 1, 12)):
        client.force_login(cast.coordinator)
        client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, "liver", 7).pk]),
            liver_post({"alt": "130"}, collected=at(date(2027, 1, 11))),
        )
        for name in ("liver", "platelets", "troponin"):
            response = client.get(reverse("monitoring:chart", args=[cast.case_a.pk, name]))
            assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
            svg = response.content.decode()
            assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/", "").replace(
                "http://pygal.org", ""
            ).replace("http://github.com/Kozea/pygal", "")
            assert "Days since infusion" in svg
            assert "'unsafe-inline'" in response["Content-Security-Policy"]
            assert MARKER_NAME not in svg
        liver = client.get(reverse("monitoring:chart", args=[cast.case_a.pk, "liver"])).content.decode()
        assert "2×ULN: no taper" in liver and "20×ULN: urgent" in liver
        assert client.get(reverse("monitoring:chart", args=[cast.case_a.pk, "nope"])).status_code == 404
        page = client.get(reverse("cases:detail", args=[cast.case_a.pk]))
        assert "'unsafe-inline'" not in page["Content-Security-Policy"]


def test_the_family_calendar_is_rfc5545_with_crlf_and_no_names(cast, client):
    infuse(cast.case_a, INFUSED)
    with frozen(date(2027, 1, 5)):
        client.force_login(cast.coordinator)
        response = client.get(reverse("monitoring:case_ics", args=[cast.case_a.pk]))
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert body.count("BEGIN:VEVENT") == 8 + 8 + 6 + 5  # draws (no steroid review) + milestones
    assert "DTSTART;VALUE=DATE:20270111" in body
    assert "Zyxwv" not in body and "Markerchild" not in body and MARKER_MRN not in body
    assert "\\," in body or "\\;" in body  # escaped TEXT


def test_the_coordinator_calendar_titles_carry_initials_only(cast, client):
    infuse(cast.case_a, INFUSED)
    with frozen(date(2027, 1, 5)):
        client.force_login(cast.coordinator)
        body = client.get(reverse("monitoring:sites_ics")).content.decode()
    summaries = [line for line in body.split("\r\n") if line.startswith("SUMMARY:")]
    assert summaries and all(line.startswith("SUMMARY:ZM · ") for line in summaries)
    assert "Zyxwv" not in body and "Markerchild" not in body


def _counts(client, cast, start: int, n: int) -> tuple[int, int]:
    """Add n infused cases with flagged results, then count the queries of home and case page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(start, start + n):
        infuse(make_case(cast.site_a, name=f"Child {i}", mrn=f"M-{i}"), INFUSED)
    with frozen(date(2027, 2, 20)):
        client.force_login(cast.coordinator)
        for d in Draw.objects.filter(
            kind="liver", day__in=(7, 14, 21), state__in=("late", "overdue", "due", "upcoming")
        ):
            client.post(reverse("monitoring:draw", args=[d.pk]), liver_post({"alt": "130"}, collected=at(d.due_on)))
        client.get(reverse("home"))  # warm per-process caches (content types)
        with CaptureQueriesContext(connection) as home:
            assert "Taper blocked" in client.get(reverse("home")).content.decode()
        with CaptureQueriesContext(connection) as case_page:
            assert client.get(reverse("cases:detail", args=[cast.case_a.pk])).status_code == 200
    return len(home), len(case_page)


def test_the_home_worklist_and_case_page_stay_constant_in_queries_as_cases_grow(cast, client):
    infuse(cast.case_a, INFUSED)
    small = _counts(client, cast, 0, 1)
    large = _counts(client, cast, 1, 8)
    assert small == large, (small, large)
