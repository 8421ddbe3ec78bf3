"""The in-app notifications inbox, its unread badge, and marking read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import Notification, Reminder
from monitoring.reminders.sweep import reminder_send, reminders_sweep
from tests.personas import make_case
from tests.reminders.helpers import NOW, TODAY, make_draw

pytestmark = pytest.mark.django_db


@pytest.fixture
def notified(cast):
    make_draw(cast.case_a, due_on=TODAY)
    other = make_case(cast.site_a, name="Second Child", mrn="MRN-2", coordinator=cast.coordinator)
    make_draw(other, due_on=TODAY)
    reminders_sweep(now=NOW)
    for reminder in Reminder.objects.all():
        reminder_send(reminder.pk, now=NOW)
    return list(Notification.objects.filter(user=cast.coordinator))


def test_the_badge_counts_unread_notifications_and_polls_in_the_background(cast, client, notified):
    client.force_login(cast.coordinator)
    body = client.get(reverse("monitoring:notification_badge")).content.decode()
    assert ">2<" in body and "X-GeneGate-Background" in body and "every 60s" in body
    home = client.get(reverse("home")).content.decode()
    assert reverse("monitoring:notification_badge") in home


def test_the_inbox_lists_unread_and_marking_one_read_removes_it(cast, client, notified):
    client.force_login(cast.coordinator)
    page = client.get(reverse("monitoring:notifications")).content.decode()
    assert "Draw due today: ZM" in page and "2 unread" in page
    first = notified[0]
    response = client.post(reverse("monitoring:notification_read", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.read_at is not None
    assert "1 unread" in client.get(reverse("monitoring:notifications")).content.decode()


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(cast, client, notified):
    client.force_login(cast.coordinator)
    note = notified[0]
    response = client.post(reverse("monitoring:notification_read", args=[note.pk]), {"open": "1"})
    assert response["Location"] == note.url


def test_mark_all_read(cast, client, notified):
    client.force_login(cast.coordinator)
    client.post(reverse("monitoring:notifications_read_all"))
    assert not Notification.objects.filter(user=cast.coordinator, read_at__isnull=True).exists()
    assert "No unread notifications" in client.get(reverse("monitoring:notifications")).content.decode()


def test_nobody_can_read_or_mark_another_users_notification(cast, client, notified):
    client.force_login(cast.manager)
    response = client.post(reverse("monitoring:notification_read", args=[notified[0].pk]))
    assert response.status_code == 404
    assert "ZM" not in client.get(reverse("monitoring:notifications") + "?show=all").content.decode()
    assert client.get(reverse("monitoring:notification_read", args=[notified[0].pk])).status_code == 405
