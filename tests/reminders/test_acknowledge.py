"""Acknowledging a late or overdue draw, with an optional snooze of the escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.urls import reverse

from monitoring.models import Acknowledgement, Reminder, ReminderKind, ReminderStatus
from monitoring.reminders.sweep import reminders_sweep
from tests.personas import MARKER_NAME
from tests.reminders.helpers import NOW, TODAY, make_draw, overdue_due_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def overdue(cast, clock):
    draw = make_draw(cast.case_a, due_on=overdue_due_on())
    reminders_sweep(now=NOW)
    return draw


def url(draw):
    return reverse("monitoring:reminder_acknowledge", args=[draw.pk])


def test_a_coordinator_acknowledges_and_snoozes_an_overdue_draw(cast, client, overdue):
    client.force_login(cast.coordinator)
    page = client.get(url(overdue))
    assert page.status_code == 200 and MARKER_NAME in page.content.decode()
    snooze = TODAY + timedelta(days=3)
    response = client.post(url(overdue), {"reason": "Family rescheduled to Thursday", "snoozed_until": snooze})
    assert response.status_code == 302
    ack = Acknowledgement.objects.get()
    assert (ack.by, ack.reason, ack.snoozed_until) == (cast.coordinator, "Family rescheduled to Thursday", snooze)
    overdue.refresh_from_db()
    assert overdue.snoozed_until == snooze and overdue.state == "late"
    # The unsent escalation waits: cancelled now, a new one once the snooze runs out.
    assert Reminder.objects.get(draw=overdue, kind=ReminderKind.OVERDUE).status == ReminderStatus.CANCELLED
    assert LogEntry.objects.get_for_object(ack).filter(action=LogEntry.Action.CREATE).exists()
    updates = LogEntry.objects.get_for_object(overdue).filter(action=LogEntry.Action.UPDATE)
    assert any("snoozed_until" in entry.changes_dict for entry in updates)


def test_a_manager_acknowledges_without_a_snooze_and_returns_to_the_dashboard(cast, client, overdue):
    client.force_login(cast.manager)
    response = client.post(url(overdue), {"reason": "Lab lost the sample; redraw booked"})
    assert response.status_code == 302 and response["Location"] == reverse("monitoring:dashboard")
    overdue.refresh_from_db()
    assert overdue.snoozed_until is None


def test_an_acknowledgement_without_a_reason_is_refused_next_to_the_field(cast, client, overdue):
    client.force_login(cast.coordinator)
    response = client.post(url(overdue), {"reason": "  ", "snoozed_until": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_a_snooze_date_in_the_past_or_today_is_refused(cast, client, overdue):
    client.force_login(cast.coordinator)
    for day in (TODAY - timedelta(days=1), TODAY):
        response = client.post(url(overdue), {"reason": "Family rescheduled", "snoozed_until": day})
        assert response.status_code == 400
        assert "Pick a date after today" in response.content.decode()
    response = client.post(url(overdue), {"reason": "Family rescheduled", "snoozed_until": "not-a-date"})
    assert response.status_code == 400 and "Enter a valid date." in response.content.decode()
    response = client.post(url(overdue), {"reason": "Family away", "snoozed_until": TODAY + timedelta(days=90)})
    assert "at most 60 days" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_a_draw_that_is_not_late_cannot_be_acknowledged(cast, client, clock):
    draw = make_draw(cast.case_a, due_on=TODAY + timedelta(days=1))
    client.force_login(cast.coordinator)
    response = client.post(url(draw), {"reason": "Just checking"})
    assert response.status_code == 400
    assert "Only a late or overdue draw can be acknowledged" in response.content.decode()


def test_a_physician_may_not_acknowledge_and_an_outsider_sees_nothing(cast, client, overdue):
    client.force_login(cast.physician)
    assert client.post(url(overdue), {"reason": "x y z"}).status_code == 403
    client.force_login(cast.outsider)
    response = client.get(url(overdue))
    assert response.status_code == 404 and MARKER_NAME not in response.content.decode()
    assert client.post(url(overdue), {"reason": "x y z"}).status_code == 404
    assert not Acknowledgement.objects.exists()


def test_the_next_parameter_cannot_send_the_user_off_site(cast, client, overdue):
    client.force_login(cast.manager)
    response = client.post(url(overdue), {"reason": "Booked for Monday", "next": "https://evil.example/"})
    assert response["Location"] == reverse("monitoring:dashboard")
