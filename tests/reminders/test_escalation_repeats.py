"""An overdue draw's escalation repeats while nobody acknowledges it (issue 14 item 4): at the
site's interval (default daily), to the routes' roles; an acknowledgement or a snooze stops
it; the dashboard shows how many reminders each overdue draw has had."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from monitoring.models import Notification, Reminder, ReminderKind, ReminderStatus
from monitoring.reminders.sweep import reminders_run, routes_save
from tests.reminders.helpers import TODAY, at, make_draw, overdue_due_on

pytestmark = pytest.mark.django_db
K = ReminderKind


def run_day(offset: int, hours=(0, 9, 15, 23)) -> None:
    """Run the sweep and the sends several times on TODAY + offset, as the beat would."""
    for hour in hours:
        now = at(TODAY + timedelta(days=offset), hour=hour)
        with time_machine.travel(now, tick=False):
            reminders_run(now=now)


def escalations(draw) -> list[tuple[int, str]]:
    rows = Reminder.objects.filter(draw=draw, kind=K.OVERDUE).order_by("repeat")
    return [(row.repeat, row.status) for row in rows]


def escalation_mails() -> list:
    return [m for m in mail.outbox if "overdue draw" in m.subject]


@pytest.fixture
def overdue(cast):
    return make_draw(cast.case_a, due_on=overdue_due_on())


def test_an_unacknowledged_overdue_draw_is_escalated_again_each_day_to_the_manager(cast, overdue):
    for offset in range(4):
        run_day(offset)
    assert escalations(overdue) == [(n, ReminderStatus.SENT) for n in range(4)]
    sent = escalation_mails()
    assert len(sent) == 4 and all(m.to == [cast.manager.email] for m in sent)
    assert "reminder" not in sent[0].subject
    assert sent[3].subject.endswith("(reminder 4, still unacknowledged)")
    assert "Reminder 4: nobody has acknowledged it" in sent[3].body
    assert Notification.objects.filter(user=cast.manager, kind=K.OVERDUE).count() == 4
    assert not Notification.objects.filter(user=cast.coordinator, kind=K.OVERDUE).exists()


def test_repeats_follow_the_routes_roles(cast, overdue):
    routes_save(site=cast.site_a, routes={K.OVERDUE: ["manager", "physician"]})
    run_day(0)
    run_day(1)
    for message in escalation_mails():
        assert sorted(message.to) == sorted([cast.manager.email, cast.physician.email])
    assert len(escalation_mails()) == 2


def test_the_interval_is_the_sites_and_an_admin_can_change_it(cast, overdue, admin_client):
    page = admin_client.get(reverse("admin:accounts_site_change", args=[cast.site_a.pk]))
    assert page.status_code == 200 and "escalation_repeat_days" in page.content.decode()
    cast.site_a.escalation_repeat_days = 3
    cast.site_a.save()
    for offset in range(7):
        run_day(offset)
    assert [n for n, _ in escalations(overdue)] == [0, 1, 2]  # days 0, 3 and 6
    assert len(escalation_mails()) == 3


def test_an_acknowledgement_stops_the_repeats(cast, overdue, client):
    run_day(0)
    run_day(1)
    client.force_login(cast.manager)
    with time_machine.travel(at(TODAY + timedelta(days=1), hour=16), tick=False):
        response = client.post(
            reverse("monitoring:reminder_acknowledge", args=[overdue.pk]), {"reason": "Redraw booked for Monday"}
        )
    assert response.status_code == 302
    for offset in range(2, 6):
        run_day(offset)
    assert escalations(overdue) == [(0, ReminderStatus.SENT), (1, ReminderStatus.SENT)]
    assert len(escalation_mails()) == 2


def test_a_snooze_stops_the_repeats_and_a_new_run_starts_when_it_runs_out(cast, overdue, client):
    run_day(0)
    client.force_login(cast.coordinator)
    snooze = TODAY + timedelta(days=3)
    with time_machine.travel(at(TODAY, hour=10), tick=False):
        client.post(
            reverse("monitoring:reminder_acknowledge", args=[overdue.pk]),
            {"reason": "Family comes Friday", "snoozed_until": snooze},
        )
    for offset in range(1, 3):
        run_day(offset)
    assert len(escalation_mails()) == 1  # nothing while snoozed
    run_day(3)
    run_day(4)
    overdue.refresh_from_db()
    new_run = Reminder.objects.filter(draw=overdue, kind=K.OVERDUE, snoozed_until=snooze).order_by("repeat")
    assert [(r.repeat, r.status) for r in new_run] == [(0, ReminderStatus.SENT), (1, ReminderStatus.SENT)]
    assert len(escalation_mails()) == 3


def test_a_clock_jumping_forward_days_makes_one_repeat_not_one_per_missed_day(cast, overdue):
    run_day(0)
    run_day(5, hours=(9,))
    run_day(5, hours=(9, 10))
    assert [n for n, _ in escalations(overdue)] == [0, 1]
    assert len(escalation_mails()) == 2


def test_a_done_draw_is_not_escalated_again(cast, overdue):
    run_day(0)
    overdue.state = "done"
    overdue.save()
    run_day(1)
    run_day(2)
    assert escalations(overdue) == [(0, ReminderStatus.SENT)]


def test_the_dashboard_shows_how_many_reminders_each_overdue_draw_has_had(cast, overdue, client):
    for offset in range(3):
        run_day(offset)
    client.force_login(cast.manager)
    with time_machine.travel(at(TODAY + timedelta(days=2), hour=16), tick=False):
        page = client.get(reverse("monitoring:dashboard"))
        csv_text = client.get(reverse("monitoring:dashboard_csv")).getvalue().decode()
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-reminders-sent="3">3 sent</span> · last: Escalated' in html
    header, row = list(csv.reader(io.StringIO(csv_text)))[:2]
    assert row[header.index("reminders_sent")] == "3"
