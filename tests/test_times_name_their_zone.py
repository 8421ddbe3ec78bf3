"""Every time of day on screen names its zone: the pages show times in the server's zone
(TIME_ZONE), while logs and CSV are UTC, so a bare "09:30" is ambiguous. 10 March 2026 is in
US daylight time: New York is EDT."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from monitoring.models import Notification, ReminderKind
from monitoring.reminders.sweep import reminders_run
from tests.reminders.helpers import NOW, make_draw, make_flag, overdue_due_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def reminded(cast):
    """An overdue draw escalated to the manager and an urgent flag told to the physician, at NOW."""
    with time_machine.travel(NOW, tick=False):
        draw = make_draw(cast.case_a, due_on=overdue_due_on(), day=14)
        make_flag(cast.case_a)
        reminders_run(now=NOW)
    return draw


def test_notifications_show_their_time_with_its_zone(cast, client, reminded):
    client.force_login(cast.manager)
    body = client.get(reverse("monitoring:notifications")).content.decode()
    assert "10 Mar 2026, 09:30 EDT" in body


def test_the_dashboard_shows_the_last_reminder_and_its_refresh_time_with_their_zone(cast, client, reminded):
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        body = client.get(reverse("monitoring:dashboard")).content.decode()
    assert "Updated 09:30 EDT" in body and "10 Mar 2026, 09:30 EDT" in body


def test_the_acknowledge_page_shows_reminder_times_with_their_zone(cast, client, reminded):
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        body = client.get(reverse("monitoring:reminder_acknowledge", args=[reminded.pk])).content.decode()
    assert "10 Mar 2026, 09:30 EDT" in body


def test_the_case_audit_shows_its_times_with_their_zone(cast, client):
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        body = client.get(reverse("cases:detail", args=[cast.case_a.pk])).content.decode()
    assert "10 Mar 2026, 09:30 EDT" in body


def test_the_urgent_flag_notification_gives_the_raise_time_in_the_site_zone(cast, reminded):
    body = Notification.objects.get(kind=ReminderKind.URGENT_FLAG).body
    assert "10 Mar 2026, 09:27 EDT" in body


def test_a_chicago_site_gets_its_flag_time_in_central_time(cast):
    cast.site_a.timezone = "America/Chicago"
    cast.site_a.save()
    with time_machine.travel(NOW, tick=False):
        make_flag(cast.case_a)
        reminders_run(now=NOW)
    assert NOW.astimezone(ZoneInfo("America/Chicago")).hour == 8
    assert "10 Mar 2026, 08:27 CDT" in Notification.objects.get(kind=ReminderKind.URGENT_FLAG).body


def test_times_are_shown_in_the_sites_zone_not_the_servers(cast, client):
    """A site in Chicago: its notification, dashboard row, acknowledgement page and case page
    show 08:30 CDT for what happened at 09:30 in New York (the server's zone)."""
    cast.site_a.timezone = "America/Chicago"
    cast.site_a.save()
    with time_machine.travel(NOW, tick=False):
        draw = make_draw(cast.case_a, due_on=overdue_due_on(), day=14)
        reminders_run(now=NOW)
        client.force_login(cast.manager)
        notes = client.get(reverse("monitoring:notifications")).content.decode()
        board = client.get(reverse("monitoring:dashboard")).content.decode()
        ack = client.get(reverse("monitoring:reminder_acknowledge", args=[draw.pk])).content.decode()
    assert "10 Mar 2026, 08:30 CDT" in notes and "09:30 EDT" not in notes
    assert "10 Mar 2026, 08:30 CDT" in board
    assert "10 Mar 2026, 08:30 CDT" in ack and "09:30 EDT" not in ack


def test_csv_exports_say_utc_in_their_header(cast, client):
    with time_machine.travel(NOW, tick=False):
        make_draw(cast.case_a, due_on=overdue_due_on(), day=14)
        reminders_run(now=NOW)
        client.force_login(cast.manager)
        export = client.get(reverse("monitoring:dashboard_csv"))
    header, row = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))[:2]
    assert "last_reminder_at_utc" in header
    assert row[header.index("last_reminder_at_utc")] == "2026-03-10T13:30:00+00:00"


def test_every_page_of_a_user_whose_sites_share_a_zone_uses_that_zone(cast, client):
    """The middleware activates the site's zone for the whole request: the case page's audit rows
    and the dashboard's "Updated" line, which carry no site of their own, read Chicago time."""
    cast.site_a.timezone = "America/Chicago"
    cast.site_a.save()
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        case_page = client.get(reverse("cases:detail", args=[cast.case_a.pk])).content.decode()
        board = client.get(reverse("monitoring:dashboard")).content.decode()
    assert "08:30 CDT" in case_page and "09:30 EDT" not in case_page
    assert "Updated 08:30 CDT" in board


def test_a_user_with_sites_in_two_zones_reads_the_servers_zone_named(cast, client):
    cast.site_a.timezone = "America/Chicago"
    cast.site_a.save()
    assert cast.site_b.timezone == "America/New_York"
    from accounts.models import Membership

    Membership.objects.create(user=cast.manager, site=cast.site_b)
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        board = client.get(reverse("monitoring:dashboard")).content.decode()
    assert "Updated 09:30 EDT" in board


def test_a_mistyped_site_zone_is_refused_next_to_its_field(cast):
    from django.core.exceptions import ValidationError

    site = cast.site_a
    site.timezone = "America/Chicgo"
    with pytest.raises(ValidationError) as refused:
        site.full_clean()
    assert "is not a time zone name" in str(refused.value.message_dict["timezone"])
