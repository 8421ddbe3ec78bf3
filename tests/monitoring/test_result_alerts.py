"""Issue 15 item 1: a result that needs a physician reaches one, the same hour, and escalates
until a physician acknowledges it with a plan.

End to end through the pages: the coordinator records the panel, the enqueued task runs as the
worker would (``_publish_many`` runs the task in-process), and the physician's notifications page
and the case page show it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.urls import reverse

from monitoring import tasks
from monitoring.flags import alert_class
from monitoring.models import Draw, Flag, Notification, Reminder, ReminderKind, ReminderStatus
from monitoring.reminders.sweep import reminder_send, reminders_ready_ids, reminders_sweep
from tests.monitoring.helpers import at, draw, frozen, infuse, liver_post
from tests.personas import MARKER_NAME, make_user

INFUSED = date(2027, 1, 4)
D14 = INFUSED + timedelta(days=14)
K = ReminderKind


@pytest.fixture
def worker(monkeypatch):
    """Run what would be published to the broker in this process, as a worker would."""
    monkeypatch.setattr(tasks, "_publish_many", lambda task, arg_lists: [task(*args) for args in arg_lists] or True)


def _record(client, cast, kind="liver", day=14, data=None, on=D14):
    with frozen(on):
        client.force_login(cast.coordinator)
        return client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, kind, day).pk]),
            data or liver_post({"alt": "300"}, collected=at(on, 8)),  # ALT 300, ULN 60: 5×ULN
        )


def _page(client, user, url, on=D14):
    with frozen(on):
        client.force_login(user)
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_day_14_alt_of_5x_uln_reaches_the_physician_at_once_in_app_and_by_email(
    cast, client, worker, django_capture_on_commit_callbacks
):
    infuse(cast.case_a, INFUSED)
    with django_capture_on_commit_callbacks(execute=True):
        response = _record(client, cast)
    assert response.status_code == 302
    reminder = Reminder.objects.get(kind=K.ABNORMAL_FLAG)
    assert reminder.status == ReminderStatus.SENT
    inbox = _page(client, cast.physician, reverse("monitoring:notifications"))
    assert (
        "Abnormal result flag: ZM, case" in inbox and "ALT 5.0×ULN" in inbox and "Acknowledge it with a plan" in inbox
    )
    [message] = [m for m in mail.outbox if cast.physician.email in m.to]
    assert message.subject == "GeneGate: an abnormal result needs a physician at A"
    assert MARKER_NAME not in message.subject and "ZM" not in message.subject and "ALT" not in message.subject
    # The coordinator, who entered it, is not the one told.
    assert not Notification.objects.filter(user=cast.coordinator).exists()


def test_the_physician_acknowledges_with_a_note_and_plan_and_the_case_shows_who_and_when(
    cast, client, worker, django_capture_on_commit_callbacks
):
    infuse(cast.case_a, INFUSED)
    with django_capture_on_commit_callbacks(execute=True):
        _record(client, cast)
    flag = Flag.objects.get(case=cast.case_a, code="alt_2x_uln")
    case_url = reverse("cases:detail", args=[cast.case_a.pk])
    assert "Not yet acknowledged by a physician" in _page(client, cast.physician, case_url)
    url = reverse("monitoring:flag_acknowledge", args=[flag.pk])
    page = _page(client, cast.physician, url)
    assert "ALT 5.0×ULN" in page and "Acknowledge with this plan" in page
    with frozen(D14, hour=13):
        client.force_login(cast.physician)
        response = client.post(
            url,
            {
                "flags": [flag.pk],
                "note": "ALT 5x ULN, child well, no jaundice",
                "plan": "Keep prednisolone 1 mg/kg/day; repeat LFTs in 3 days",
                "repeat_on": "2027-01-21",
            },
        )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.acknowledged_by == cast.physician and flag.ack_plan.startswith("Keep prednisolone")
    case_page = _page(client, cast.coordinator, case_url)
    assert "Acknowledged by Physician" in case_page and "Plan: Keep prednisolone 1 mg/kg/day" in case_page
    assert "repeat draw 21 Jan 2027" in case_page
    repeat = Draw.objects.get(case=cast.case_a, kind="liver", day=17)
    assert repeat.is_extension and repeat.due_on == date(2027, 1, 21)
    entry = LogEntry.objects.get_for_object(flag).filter(action=LogEntry.Action.UPDATE).get()
    assert "ack_plan" in entry.changes_dict and "acknowledged_at" in entry.changes_dict
    # Acknowledged: no escalation follows, however long nobody else looks.
    reminders_sweep(now=at(D14 + timedelta(days=3)))
    assert not Reminder.objects.filter(kind=K.FLAG_ESCALATION).exists()


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"note": "Seen", "plan": ""}, "An acknowledgement needs a plan: say what happens next."),
        ({"note": "", "plan": "Repeat LFTs"}, "Say in a few words what you saw."),
        ({"note": "Seen", "plan": "Repeat", "repeat_on": "2027-01-10"}, "A repeat draw cannot be in the past"),
        ({"note": "Seen", "plan": "Repeat", "repeat_on": "not a date"}, "Enter a valid date."),
    ],
)
def test_an_acknowledgement_without_a_plan_or_with_a_bad_date_is_refused_next_to_the_field(
    cast, client, data, field_message
):
    infuse(cast.case_a, INFUSED)
    _record(client, cast)
    flag = Flag.objects.get(case=cast.case_a, code="alt_2x_uln")
    with frozen(D14, hour=13):
        client.force_login(cast.physician)
        response = client.post(reverse("monitoring:flag_acknowledge", args=[flag.pk]), {"flags": [flag.pk], **data})
    assert response.status_code == 422
    assert field_message in response.content.decode()
    flag.refresh_from_db()
    assert flag.acknowledged_at is None


def test_a_second_physician_acknowledging_the_same_flag_is_told_who_did_and_nothing_is_overwritten(cast, client):
    other = make_user("physician2", "physician", cast.site_a)
    infuse(cast.case_a, INFUSED)
    _record(client, cast)
    flag = Flag.objects.get(case=cast.case_a, code="alt_2x_uln")
    url = reverse("monitoring:flag_acknowledge", args=[flag.pk])
    with frozen(D14, hour=13):
        client.force_login(cast.physician)
        client.post(url, {"flags": [flag.pk], "note": "Seen first", "plan": "Repeat LFTs Thursday"})
        client.force_login(other)
        response = client.post(url, {"flags": [flag.pk], "note": "Seen second", "plan": "Stop steroids"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Already acknowledged by Physician at 18 Jan 2027, 13:00" in body and "Seen first" in body
    flag.refresh_from_db()
    assert flag.acknowledged_by == cast.physician and flag.ack_plan == "Repeat LFTs Thursday"


def test_only_a_physician_acknowledges(cast, client):
    infuse(cast.case_a, INFUSED)
    _record(client, cast)
    flag = Flag.objects.get(case=cast.case_a, code="alt_2x_uln")
    url = reverse("monitoring:flag_acknowledge", args=[flag.pk])
    assert "A physician acknowledges result flags" in _page(client, cast.coordinator, url)
    with frozen(D14):
        client.force_login(cast.coordinator)
        response = client.post(url, {"flags": [flag.pk], "note": "Seen", "plan": "Repeat"})
        assert response.status_code == 403
        client.force_login(cast.outsider)
        assert client.get(url).status_code == 404


def _escalations():
    return Reminder.objects.filter(kind=K.FLAG_ESCALATION)


def test_an_unacknowledged_abnormal_flag_escalates_to_every_physician_and_the_manager_after_24_hours(cast, client):
    other = make_user("physician2", "physician", cast.site_a)
    infuse(cast.case_a, INFUSED)
    _record(client, cast)
    flag = Flag.objects.get(case=cast.case_a, code="alt_2x_uln")
    raised = flag.raised_at
    reminders_sweep(now=raised + timedelta(hours=23, minutes=59))
    assert not _escalations().exists() and Reminder.objects.filter(kind=K.ABNORMAL_FLAG).count() == 1
    reminders_sweep(now=raised + timedelta(hours=24))
    escalation = _escalations().get()
    assert reminder_send(escalation.pk, now=raised + timedelta(hours=24)) == "sent"
    told = set(Notification.objects.filter(reminder=escalation).values_list("user", flat=True))
    assert told == {cast.physician.pk, other.pk, cast.manager.pk}
    assert mail.outbox[-1].subject == "GeneGate: a result flag has not been acknowledged at A"
    assert "not yet acknowledged by a physician" in mail.outbox[-1].body


def test_an_urgent_flag_escalates_after_the_sites_urgent_time(cast, client):
    cast.site_a.urgent_flag_escalate_hours = 2
    cast.site_a.save()
    infuse(cast.case_a, INFUSED)
    _record(client, cast, data=liver_post({"alt": "1200"}, collected=at(D14, 8)))  # 20×ULN
    flag = Flag.objects.get(case=cast.case_a, code="alt_20x_uln")
    reminders_sweep(now=flag.raised_at + timedelta(hours=1, minutes=59))
    assert Reminder.objects.filter(kind=K.URGENT_FLAG, flag=flag).exists() and not _escalations().exists()
    reminders_sweep(now=flag.raised_at + timedelta(hours=2))
    assert _escalations().get().flag == flag


def test_acknowledging_cancels_an_escalation_not_yet_sent(cast, client):
    infuse(cast.case_a, INFUSED)
    _record(client, cast)
    flag = Flag.objects.get(case=cast.case_a, code="alt_2x_uln")
    later = flag.raised_at + timedelta(hours=25)
    reminders_sweep(now=later)
    assert _escalations().get().status == ReminderStatus.PENDING
    with frozen(D14 + timedelta(days=1)):
        client.force_login(cast.physician)
        client.post(
            reverse("monitoring:flag_acknowledge", args=[flag.pk]),
            {"flags": [flag.pk], "note": "Seen", "plan": "Repeat LFTs"},
        )
    assert _escalations().get().status == ReminderStatus.CANCELLED
    ready = reminders_ready_ids(now=later)
    assert not Reminder.objects.filter(pk__in=ready, flag__isnull=False).exists()


def _platelets(value):
    return {
        "collected_at": at(D14, 8).strftime("%Y-%m-%dT%H:%M"),
        "platelets_value": value,
        "platelets_unit": "10^9/L",
        "hemoglobin_value": "12",
        "hemoglobin_unit": "g/dL",
    }


def test_low_platelets_and_a_troponin_rise_notify_the_physician_a_missing_uln_does_not(cast, client):
    infuse(cast.case_a, INFUSED)
    _record(client, cast, "platelets", 14, _platelets("120"))
    _record(
        client,
        cast,
        "troponin",
        14,
        {"collected_at": "2027-01-18T08:00", "troponin_i_value": "35", "troponin_i_unit": "ng/L"},
    )
    reminders_sweep(now=at(D14, 13))
    kinds = sorted(Reminder.objects.filter(flag__isnull=False).values_list("flag__code", "kind"))
    assert kinds == [("tma_watch", K.ABNORMAL_FLAG), ("troponin_above_baseline", K.ABNORMAL_FLAG)]
    Flag.objects.create(
        case=cast.case_a, site=cast.site_a, code="uln_missing", level="watch", analyte="ast", message="m", source="s"
    )
    reminders_sweep(now=at(D14, 14))
    assert Reminder.objects.filter(flag__isnull=False).count() == 2  # a data-entry watch stays on the case page only


@pytest.mark.parametrize(
    ("code", "level", "expected"),
    [
        ("alt_20x_uln", "urgent", "urgent"),
        ("pt_prolonged", "urgent", "urgent"),
        ("alt_2x_uln", "taper_blocked", "abnormal"),
        ("bilirubin_above_uln", "taper_blocked", "abnormal"),
        ("tma_watch", "watch", "abnormal"),
        ("troponin_above_baseline", "watch", "abnormal"),
        ("uln_missing", "watch", None),
        ("baseline_missing", "watch", None),
    ],
)
def test_alert_class_by_the_labels_severity(code, level, expected):
    assert alert_class(code, level) == expected


def test_alert_class_refuses_an_unknown_level():
    with pytest.raises(ValueError, match="level must be one of"):
        alert_class("x", "severe")
