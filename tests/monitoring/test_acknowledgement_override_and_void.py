"""Issue 15 items 2 and 3 for acknowledgements of result flags.

- Marking an urgent or abnormal result reviewed without a plan is a decision against the rule: the
  form asks for an override (a listed reason, the physician's words, a confirmation and the password
  again), records it, and the case page shows it.
- A mistaken acknowledgement is voided with a reason (kept, struck through; the audit trail shows
  old -> new); its flags await a physician again and the notice and escalation start over. It can
  also be corrected in one step. A void of a voided acknowledgement says who voided it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.urls import reverse

from cases.models import ClinicalOverride
from monitoring.models import Draw, Flag, Reminder, ReminderKind, ReminderStatus, ResultAcknowledgement
from monitoring.reminders.sweep import reminder_send, reminders_sweep
from monitoring.workflows import acknowledgement_void, flags_acknowledge
from tests.monitoring.helpers import at, draw, frozen, infuse, liver_post
from tests.personas import PASSWORD, make_user

INFUSED = date(2027, 1, 4)
D14 = INFUSED + timedelta(days=14)
K = ReminderKind
WORDS = "ALT 5x ULN known since day 7; hepatology already follows her."
NO_PLAN = {
    "note": "ALT 5x ULN, child well",
    "plan": "",
    "override_step": "1",
    "override_reason": "managed_elsewhere",
    "override_text": WORDS,
    "override_confirm": "on",
    "password": PASSWORD,
}


@pytest.fixture
def flagged(cast, client):
    """Day-14 ALT 300 U/L (ULN 60): an abnormal flag awaiting a physician."""
    infuse(cast.case_a, INFUSED)
    with frozen(D14):
        client.force_login(cast.coordinator)
        client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, "liver", 14).pk]),
            liver_post({"alt": "300"}, collected=at(D14, 8)),
        )
    return Flag.objects.get(case=cast.case_a, code="alt_2x_uln")


def _post(client, user, url, data, hour=13, day=D14):
    with frozen(day, hour=hour):
        client.force_login(user)
        return client.post(url, data)


def _get(client, user, url, hour=13, day=D14):
    with frozen(day, hour=hour):
        client.force_login(user)
        return client.get(url).content.decode()


def _ack_url(flag):
    return reverse("monitoring:flag_acknowledge", args=[flag.pk])


def _void_url(flag, ack):
    return reverse("monitoring:acknowledgement_void", args=[flag.pk, ack.pk])


def _acknowledge(client, cast, flag, **data):
    body = {"flags": [flag.pk], "note": "ALT 5x ULN, child well", "plan": "Repeat LFTs Thursday", **data}
    return _post(client, cast.physician, _ack_url(flag), body)


# --- No plan: the override ------------------------------------------------------------------------
def test_an_acknowledgement_without_a_plan_asks_for_the_override_and_saves_nothing(cast, client, flagged):
    response = _post(client, cast.physician, _ack_url(flagged), {"flags": [flagged.pk], "note": "Seen", "plan": ""})
    assert response.status_code == 422
    body = response.content.decode()
    assert "An acknowledgement needs a plan: say what happens next." in body  # at the plan field
    assert "No plan: an override is needed." in body and "Why mark it reviewed without a plan?" in body
    assert 'name="override_step" value="1"' in body and 'name="password"' in body
    flagged.refresh_from_db()
    assert flagged.acknowledged_at is None and not ResultAcknowledgement.objects.exists()


def test_the_override_without_a_reason_words_confirmation_or_password_is_refused_at_each_field(cast, client, flagged):
    data = {"flags": [flagged.pk], "note": "Seen", "plan": "", "override_step": "1"}
    response = _post(client, cast.physician, _ack_url(flagged), data)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors["override_reason"] == ["Pick the reason for reviewing without a plan."]
    assert errors["override_text"] == ["Explain the override in at least 20 characters."]
    assert errors["override_confirm"] == ["Tick the box to confirm the override."]
    assert errors["password"] == ["Re-enter your password to record the override."]
    flagged.refresh_from_db()
    assert flagged.acknowledged_at is None and not ClinicalOverride.objects.exists()


def test_a_wrong_password_three_times_records_nothing_and_keeps_the_words(cast, client, flagged):
    for _ in range(3):
        response = _post(client, cast.physician, _ack_url(flagged), {"flags": [flagged.pk], **NO_PLAN, "password": "x"})
        assert response.status_code == 422
        body = response.content.decode()
        assert "That is not your password; the acknowledgement was not recorded." in body
        assert "hepatology already follows her" in body
    flagged.refresh_from_db()
    assert flagged.acknowledged_at is None and not ClinicalOverride.objects.exists()


def test_reviewed_without_a_plan_is_recorded_as_an_override_and_shown_on_the_case(cast, client, flagged):
    response = _post(client, cast.physician, _ack_url(flagged), {"flags": [flagged.pk], **NO_PLAN})
    assert response.status_code == 302
    flagged.refresh_from_db()
    ack = ResultAcknowledgement.objects.get()
    override = ack.override
    assert flagged.acknowledged_by == cast.physician and flagged.ack_plan == "" and ack.plan == ""
    assert override.kind == ClinicalOverride.Kind.NO_PLAN and override.reason_code == "managed_elsewhere"
    assert override.explanation == WORDS and "ALT" in override.subject
    page = _get(client, cast.coordinator, reverse("cases:detail", args=[cast.case_a.pk]))
    assert "Override: reviewed without a plan" in page
    assert "Result flag reviewed without a plan" in page and WORDS in page


def test_a_plan_written_at_the_second_step_is_an_ordinary_acknowledgement(cast, client, flagged):
    data = {"flags": [flagged.pk], "note": "Seen", "plan": "Repeat LFTs Thursday", "override_step": "1"}
    assert _post(client, cast.physician, _ack_url(flagged), data).status_code == 302
    assert ResultAcknowledgement.objects.get().override is None and not ClinicalOverride.objects.exists()


def test_the_workflow_refuses_no_plan_without_an_override(cast, flagged):
    with pytest.raises(ValueError, match="needs a plan"):
        flags_acknowledge(
            case=cast.case_a, flag_ids=[flagged.pk], by=cast.physician, note="Seen", plan="", repeat_on=None
        )
    assert not ResultAcknowledgement.objects.exists()


# --- Void ------------------------------------------------------------------------------------------
def test_a_voided_acknowledgement_puts_the_flag_back_and_the_notice_and_escalation_start_over(cast, client, flagged):
    make_user("physician2", "physician", cast.site_a)
    reminders_sweep(now=at(D14, 12))  # the first notice
    _acknowledge(client, cast, flagged)
    ack = ResultAcknowledgement.objects.get()
    reminders_sweep(now=at(D14 + timedelta(days=3)))
    assert not Reminder.objects.filter(kind=K.FLAG_ESCALATION).exists()  # acknowledged: none

    response = _post(
        client, cast.physician, _void_url(flagged, ack), {"reason": "Acknowledged on the wrong child"}, hour=15
    )
    assert response.status_code == 302
    flagged.refresh_from_db()
    ack.refresh_from_db()
    assert flagged.acknowledged_at is None and flagged.ack_plan == "" and flagged.ack_round == 1
    assert ack.voided_by == cast.physician and ack.void_reason == "Acknowledged on the wrong child"
    assert ResultAcknowledgement.objects.count() == 1  # never deleted
    entry = LogEntry.objects.get_for_object(flagged).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.changes_dict["ack_plan"] == ["Repeat LFTs Thursday", ""]  # old -> new

    # The physician is told again at once, and it escalates 24 hours after the void, not the flag.
    voided_at = flagged.awaiting_since
    reminders_sweep(now=voided_at + timedelta(minutes=5))
    notice = Reminder.objects.get(kind=K.ABNORMAL_FLAG, repeat=1)
    assert reminder_send(notice.pk, now=voided_at + timedelta(minutes=5)) == "sent"
    assert "(its acknowledgement was voided)" in mail.outbox[-1].subject
    assert "needs a new one" in mail.outbox[-1].body
    reminders_sweep(now=voided_at + timedelta(hours=23))
    assert not Reminder.objects.filter(kind=K.FLAG_ESCALATION).exists()
    reminders_sweep(now=voided_at + timedelta(hours=24))
    assert Reminder.objects.get(kind=K.FLAG_ESCALATION).repeat == 1

    page = _get(client, cast.physician, _ack_url(flagged), hour=16)
    assert "entry-voided" in page and "<del><strong>Physician</strong>" in page
    assert "Voided by" in page and "Acknowledged on the wrong child" in page
    case_page = _get(client, cast.coordinator, reverse("cases:detail", args=[cast.case_a.pk]), hour=16)
    assert "Not yet acknowledged by a physician (an earlier acknowledgement was voided)" in case_page


def test_a_new_acknowledgement_after_a_void_stops_the_new_round(cast, client, flagged):
    _acknowledge(client, cast, flagged)
    _post(client, cast.physician, _void_url(flagged, ResultAcknowledgement.objects.get()), {"reason": "Wrong child"})
    flagged.refresh_from_db()
    reminders_sweep(now=flagged.awaiting_since + timedelta(minutes=1))
    _acknowledge(client, cast, flagged, note="Seen on the right child", plan="Keep dose")
    assert Reminder.objects.get(kind=K.ABNORMAL_FLAG, repeat=1).status == ReminderStatus.CANCELLED
    reminders_sweep(now=flagged.awaiting_since + timedelta(days=3))
    assert not Reminder.objects.filter(kind=K.FLAG_ESCALATION).exists()
    assert ResultAcknowledgement.objects.filter(voided_at__isnull=True).count() == 1


def test_voiding_an_already_voided_acknowledgement_says_who_did_it(cast, client, flagged):
    other = make_user("physician2", "physician", cast.site_a)
    _acknowledge(client, cast, flagged)
    ack = ResultAcknowledgement.objects.get()
    _post(client, cast.physician, _void_url(flagged, ack), {"reason": "First reason given"})
    response = _post(client, other, _void_url(flagged, ack), {"reason": "Second reason given"})
    assert response.status_code == 400
    assert (
        "Already voided by Physician" in response.content.decode() and "First reason given" in response.content.decode()
    )
    ack.refresh_from_db()
    flagged.refresh_from_db()
    assert ack.void_reason == "First reason given" and ack.voided_by == cast.physician
    assert flagged.ack_round == 1  # not reopened twice


@pytest.mark.parametrize(("reason", "message"), [("", "Say why this entry is wrong"), ("oops", "at least 5")])
def test_a_void_without_a_reason_is_refused_and_the_acknowledgement_stands(cast, client, flagged, reason, message):
    _acknowledge(client, cast, flagged)
    ack = ResultAcknowledgement.objects.get()
    response = _post(client, cast.physician, _void_url(flagged, ack), {"reason": reason})
    assert response.status_code == 400 and message in response.content.decode()
    flagged.refresh_from_db()
    assert flagged.acknowledged_by == cast.physician and ResultAcknowledgement.objects.get().voided_at is None


def test_voiding_takes_back_the_repeat_draw_it_ordered_and_its_override(cast, client, flagged):
    _acknowledge(
        client,
        cast,
        flagged,
        plan="",
        repeat_on="2027-01-21",
        **{k: v for k, v in NO_PLAN.items() if k.startswith(("override", "password"))},
    )
    ack = ResultAcknowledgement.objects.get()
    assert Draw.objects.filter(case=cast.case_a, kind="liver", day=17).exists()
    _post(client, cast.physician, _void_url(flagged, ack), {"reason": "Repeat ordered on the wrong child"})
    assert not Draw.objects.filter(case=cast.case_a, kind="liver", day=17).exists()
    override = ClinicalOverride.objects.get()
    assert override.voided_at is not None and override.void_reason.startswith("Acknowledgement voided")


def test_only_a_physician_voids_and_another_sites_user_sees_nothing(cast, client, flagged):
    _acknowledge(client, cast, flagged)
    ack = ResultAcknowledgement.objects.get()
    assert _post(client, cast.coordinator, _void_url(flagged, ack), {"reason": "Coordinator tries"}).status_code == 403
    assert _post(client, cast.outsider, _void_url(flagged, ack), {"reason": "Outsider tries"}).status_code == 404
    with frozen(D14):
        client.force_login(cast.physician)
        assert client.get(_void_url(flagged, ack)).status_code == 405
    assert ResultAcknowledgement.objects.get().voided_at is None


# --- Correct -----------------------------------------------------------------------------------------
def test_a_correction_replaces_the_acknowledgement_in_one_step_and_keeps_the_old_one(cast, client, flagged):
    _acknowledge(client, cast, flagged, plan="Stop steroids")
    old = ResultAcknowledgement.objects.get()
    url = _ack_url(flagged) + f"?correct={old.pk}"
    page = _get(client, cast.physician, url)
    assert "Correct the acknowledgement of" in page and "Stop steroids" in page
    missing = _post(client, cast.physician, url, {"flags": [flagged.pk], "note": "Seen", "plan": "Keep 1 mg/kg/day"})
    assert missing.status_code == 422 and "Say why the earlier acknowledgement was wrong." in missing.content.decode()
    data = {
        "flags": [flagged.pk],
        "note": "ALT 5x ULN, child well",
        "plan": "Keep prednisolone 1 mg/kg/day",
        "correction_reason": "Typed the plan of another child",
    }
    assert _post(client, cast.physician, url, data).status_code == 302
    old.refresh_from_db()
    new = ResultAcknowledgement.objects.exclude(pk=old.pk).get()
    flagged.refresh_from_db()
    assert old.voided_at is not None and old.void_reason == "Typed the plan of another child" and new.corrects == old
    assert flagged.ack_plan == "Keep prednisolone 1 mg/kg/day" and flagged.ack_round == 0  # stays acknowledged
    again = _post(client, cast.physician, url, {**data, "correction_reason": "Second go at it"})
    assert again.status_code == 422 and "voided or corrected meanwhile" in again.content.decode()


def test_two_physicians_voiding_at_once_void_it_once(cast, flagged):
    other = make_user("physician2", "physician", cast.site_a)
    ack = flags_acknowledge(
        case=cast.case_a, flag_ids=[flagged.pk], by=cast.physician, note="Seen", plan="Repeat", repeat_on=None
    )
    row = ResultAcknowledgement.objects.get()
    acknowledgement_void(ack=row, by=cast.physician, reason="Wrong child")
    with pytest.raises(ValueError, match="Already voided by Physician"):
        acknowledgement_void(ack=row, by=other, reason="Wrong child too")
    assert ack and Flag.objects.get(pk=flagged.pk).ack_round == 1
