"""Sending a reminder: claimed once, attempt written first, retried with backoff, never twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from monitoring.models import Notification, Reminder, ReminderAttempt, ReminderKind, ReminderRoute, ReminderStatus
from monitoring.reminders.sweep import (
    reminder_recipients,
    reminder_send,
    reminders_ready_ids,
    reminders_sweep,
    routes_save,
)
from tests.personas import MARKER_NAME, make_case, make_user
from tests.reminders.backends import FlakyBackend
from tests.reminders.helpers import NOW, TODAY, make_draw, make_flag, overdue_due_on

K = ReminderKind
S = ReminderStatus


def _one(cast, due_on=TODAY, **draw):
    make_draw(cast.case_a, due_on=due_on, **draw)
    reminders_sweep(now=NOW)
    return Reminder.objects.get()


def test_a_due_reminder_is_sent_once_by_email_and_in_app_to_the_cases_coordinator(cast):
    reminder = _one(cast)
    assert reminder_send(reminder.pk, now=NOW) == "sent"
    assert reminder_send(reminder.pk, now=NOW) == "skipped"
    reminder.refresh_from_db()
    assert reminder.status == S.SENT and reminder.attempts == 1 and reminder.sent_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [cast.coordinator.email]
    assert list(Notification.objects.values_list("user", flat=True)) == [cast.coordinator.pk]
    attempt = ReminderAttempt.objects.get()
    assert attempt.ok is True and attempt.number == 1 and attempt.recipients == 1 and attempt.finished_at


def test_the_subject_holds_no_patient_data_and_the_body_initials_and_a_link(cast, settings):
    settings.SITE_URL = "https://genegate.example.org"
    reminder = _one(cast)
    reminder_send(reminder.pk, now=NOW)
    message = mail.outbox[0]
    assert message.subject == "GeneGate: a draw is due today at A"
    assert "Markerchild" not in message.subject and "ZM" not in message.subject
    assert MARKER_NAME not in message.body and "Markerchild" not in message.body
    assert "ZM" in message.body and f"https://genegate.example.org/cases/{cast.case_a.pk}/" in message.body


def test_an_overdue_draw_escalates_to_the_sites_manager_with_an_acknowledge_link(cast):
    reminder = _one(cast, due_on=overdue_due_on())
    assert reminder.kind == K.OVERDUE
    reminder_send(reminder.pk, now=NOW)
    assert mail.outbox[0].to == [cast.manager.email]
    assert f"/monitoring/reminders/draws/{reminder.draw_id}/acknowledge/" in mail.outbox[0].body


def test_an_urgent_flag_goes_to_the_physician(cast):
    make_flag(cast.case_a)
    reminders_sweep(now=NOW)
    reminder = Reminder.objects.get()
    reminder_send(reminder.pk, now=NOW)
    assert mail.outbox[0].to == [cast.physician.email]
    assert mail.outbox[0].subject == "GeneGate: an urgent result flag needs a physician at A"


def test_without_a_case_coordinator_every_coordinator_at_the_site_is_told(cast):
    other = make_user("coordinator2", "coordinator", cast.site_a)
    case = make_case(cast.site_a, name="No Coordinator", mrn="MRN-NC")
    make_draw(case, due_on=TODAY)
    reminders_sweep(now=NOW)
    reminder = Reminder.objects.get()
    assert {u.pk for u in reminder_recipients(reminder)} == {cast.coordinator.pk, other.pk}
    assert cast.outsider.pk not in {u.pk for u in reminder_recipients(reminder)}


def test_a_coordinator_who_left_the_site_is_replaced_by_the_sites_coordinators(cast):
    cast.coordinator.memberships.all().delete()
    stand_in = make_user("standin", "coordinator", cast.site_a)
    reminder = _one(cast)
    assert [u.pk for u in reminder_recipients(reminder)] == [stand_in.pk]


def test_the_sites_routes_decide_who_gets_a_kind(cast):
    routes_save(site=cast.site_a, routes={K.DUE_TODAY: ["coordinator", "physician"]})
    reminder = _one(cast)
    reminder_send(reminder.pk, now=NOW)
    assert sorted(mail.outbox[0].to) == sorted([cast.coordinator.email, cast.physician.email])
    assert ReminderRoute.objects.filter(site=cast.site_a).count() == 2


def test_an_smtp_failure_is_recorded_retried_with_backoff_and_sent_once_it_recovers(cast, settings):
    settings.EMAIL_BACKEND = "tests.reminders.backends.FlakyBackend"
    FlakyBackend.failures = 2
    reminder = _one(cast)
    assert reminder_send(reminder.pk, now=NOW) == "failed"
    reminder.refresh_from_db()
    assert reminder.status == S.FAILED and reminder.attempts == 1
    assert "SMTPServerDisconnected" in reminder.last_error
    assert reminder.next_attempt_at == NOW + timedelta(minutes=1)
    assert reminder_send(reminder.pk, now=NOW + timedelta(seconds=30)) == "skipped"  # backoff not over
    assert reminders_ready_ids(now=NOW + timedelta(seconds=30)) == []
    second = NOW + timedelta(minutes=1)
    assert reminder_send(reminder.pk, now=second) == "failed"
    reminder.refresh_from_db()
    assert reminder.next_attempt_at == second + timedelta(minutes=2)
    assert reminder_send(reminder.pk, now=second + timedelta(minutes=2)) == "sent"
    reminder.refresh_from_db()
    assert reminder.status == S.SENT and reminder.attempts == 3 and reminder.last_error == ""
    attempts = list(ReminderAttempt.objects.order_by("number").values_list("number", "ok"))
    assert attempts == [(1, False), (2, False), (3, True)]
    assert ReminderAttempt.objects.filter(ok=False).exclude(error="").count() == 2
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1  # in-app delivered once despite the retries


def test_a_row_stuck_in_sending_is_claimed_again_after_the_visibility_timeout(cast, settings):
    settings.REMINDER_VISIBILITY_SECONDS = 600
    reminder = _one(cast)
    Reminder.objects.filter(pk=reminder.pk).update(status=S.SENDING, claimed_at=NOW, attempts=1)
    assert reminder_send(reminder.pk, now=NOW + timedelta(minutes=5)) == "skipped"
    later = NOW + timedelta(minutes=11)
    assert reminders_ready_ids(now=later) == [reminder.pk]
    assert reminder_send(reminder.pk, now=later) == "sent"
    reminder.refresh_from_db()
    assert reminder.attempts == 2 and len(mail.outbox) == 1


def test_a_reminder_for_a_draw_done_before_sending_is_cancelled_not_sent(cast):
    reminder = _one(cast)
    reminder.draw.state = "done"
    reminder.draw.save()
    assert reminder_send(reminder.pk, now=NOW) == "cancelled"
    reminder.refresh_from_db()
    assert reminder.status == S.CANCELLED and reminder.cancelled_reason == "draw done"
    assert mail.outbox == []


def test_a_due_tomorrow_reminder_sent_late_gives_way_to_due_today(cast):
    reminder = _one(cast, due_on=TODAY + timedelta(days=1))
    assert reminder_send(reminder.pk, now=NOW + timedelta(days=1)) == "cancelled"
    assert mail.outbox == []


def test_a_due_today_reminder_not_sent_on_its_day_is_cancelled_not_sent_a_day_late(cast):
    reminder = _one(cast, due_on=TODAY)
    assert reminder.kind == K.DUE_TODAY
    assert reminder_send(reminder.pk, now=NOW + timedelta(days=1)) == "cancelled"  # window still open
    reminder.refresh_from_db()
    assert reminder.cancelled_reason == "not due today any more" and mail.outbox == []


def test_with_nobody_in_the_role_the_send_fails_with_a_clear_error_and_retries(cast):
    cast.manager.groups.clear()
    reminder = _one(cast, due_on=overdue_due_on())
    assert reminder_send(reminder.pk, now=NOW) == "failed"
    reminder.refresh_from_db()
    assert reminder.status == S.FAILED
    assert "no active user with role manager at site A" in reminder.last_error


@pytest.mark.parametrize("status", [S.SENT, S.CANCELLED])
def test_sent_and_cancelled_rows_are_never_claimed(cast, status):
    reminder = _one(cast)
    Reminder.objects.filter(pk=reminder.pk).update(status=status)
    assert reminder_send(reminder.pk, now=NOW + timedelta(days=1)) == "skipped"
    assert mail.outbox == []
