"""Issue 15 item 3 for outcome milestone assessments: a mistaken assessment is voided with a reason
or corrected by a new one, by the roles that enter it; the old stays struck through, the audit
trail shows old -> new, and the milestone is done only while a current assessment exists."""

from __future__ import annotations

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from monitoring.models import Assessment, Milestone
from tests.monitoring.helpers import frozen, infuse
from tests.personas import make_user

INFUSED = date(2027, 1, 4)
TODAY = date(2027, 7, 6)
GOOD = {"assessed_on": "2027-07-05", "sits": "on", "chop_intend": "48", "hine2": "12", "ventilator_free": "yes"}


@pytest.fixture
def assessed(cast, client):
    infuse(cast.case_a, INFUSED)
    milestone = Milestone.objects.get(case=cast.case_a, month=6)
    assert _post(client, cast.coordinator, _url(milestone), GOOD).status_code == 302
    return Milestone.objects.get(pk=milestone.pk)


def _url(milestone):
    return reverse("monitoring:milestone", args=[milestone.pk])


def _void_url(milestone, assessment):
    return reverse("monitoring:assessment_void", args=[milestone.pk, assessment.pk])


def _post(client, user, url, data):
    with frozen(TODAY):
        client.force_login(user)
        return client.post(url, data)


def _get(client, user, url):
    with frozen(TODAY):
        client.force_login(user)
        return client.get(url).content.decode()


def test_a_voided_assessment_stays_struck_through_and_the_milestone_is_open_again(cast, client, assessed):
    assert assessed.state == "done"
    wrong = Assessment.objects.get()
    response = _post(client, cast.physician, _void_url(assessed, wrong), {"reason": "Scores of another child"})
    assert response.status_code == 302
    wrong.refresh_from_db()
    assert wrong.voided_by == cast.physician and wrong.void_reason == "Scores of another child"
    assert Assessment.objects.count() == 1  # never deleted
    milestone = Milestone.objects.get(pk=assessed.pk)
    assert milestone.state != "done" and milestone.completed_at is None and milestone.next_change_at is not None
    entry = LogEntry.objects.get_for_object(wrong).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes_dict["void_reason"] == ["", "Scores of another child"]  # old -> new
    page = _get(client, cast.coordinator, _url(assessed))
    assert (
        "entry-voided" in page
        and "<del>Assessed 5 Jul 2027 by Coordinator" in page
        and "Scores of another child" in page
    )
    assert "Record the assessment" in page  # nothing current: a plain new assessment
    case_page = _get(client, cast.coordinator, reverse("cases:detail", args=[cast.case_a.pk]))
    assert "CHOP INTEND 48" not in case_page  # the panel shows only current assessments


def test_a_correction_voids_the_current_one_with_the_reason_and_keeps_the_milestone_done(cast, client, assessed):
    old = Assessment.objects.get()
    page = _get(client, cast.coordinator, _url(assessed))
    assert "Correct the current assessment" in page and "What was wrong with the current assessment" in page
    missing = _post(client, cast.coordinator, _url(assessed), {**GOOD, "chop_intend": "50"})
    assert missing.status_code == 422
    assert "Say what was wrong with the current assessment." in missing.content.decode()
    response = _post(
        client,
        cast.coordinator,
        _url(assessed),
        {**GOOD, "chop_intend": "50", "correction_reason": "CHOP typed 48 for 50"},
    )
    assert response.status_code == 302
    old.refresh_from_db()
    new = Assessment.objects.exclude(pk=old.pk).get()
    assert old.voided_at is not None and old.void_reason == "Corrected: CHOP typed 48 for 50"
    assert new.corrects == old and new.chop_intend == 50
    assert Milestone.objects.get(pk=assessed.pk).state == "done"
    case_page = _get(client, cast.coordinator, reverse("cases:detail", args=[cast.case_a.pk]))
    assert "CHOP INTEND 50" in case_page and "CHOP INTEND 48" not in case_page


def test_voiding_an_already_voided_assessment_says_who_did_it(cast, client, assessed):
    other = make_user("coord2", "coordinator", cast.site_a)
    wrong = Assessment.objects.get()
    _post(client, cast.coordinator, _void_url(assessed, wrong), {"reason": "First reason"})
    response = _post(client, other, _void_url(assessed, wrong), {"reason": "Second reason"})
    assert response.status_code == 400
    assert "Already voided by Coordinator" in response.content.decode()
    wrong.refresh_from_db()
    assert wrong.void_reason == "First reason" and wrong.voided_by == cast.coordinator


@pytest.mark.parametrize(("reason", "message"), [("", "Say why this entry is wrong"), ("typo", "at least 5")])
def test_a_void_without_a_reason_is_refused_next_to_the_field(cast, client, assessed, reason, message):
    wrong = Assessment.objects.get()
    response = _post(client, cast.coordinator, _void_url(assessed, wrong), {"reason": reason})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="invalid-feedback"' in body and message in body
    wrong.refresh_from_db()
    assert wrong.voided_at is None and Milestone.objects.get(pk=assessed.pk).state == "done"


def test_only_the_roles_that_enter_assessments_void_them(cast, client, assessed):
    wrong = Assessment.objects.get()
    for user, status in ((cast.billing, 403), (cast.manager, 403), (cast.outsider, 404)):
        assert _post(client, user, _void_url(assessed, wrong), {"reason": "Not allowed here"}).status_code == status
    other = Milestone.objects.get(case=cast.case_a, month=12)
    assert _post(client, cast.coordinator, _void_url(other, wrong), {"reason": "Wrong milestone"}).status_code == 404
    wrong.refresh_from_db()
    assert wrong.voided_at is None
