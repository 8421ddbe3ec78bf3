"""Issue 15 item 2: a taper against the label's rule needs more than a click, a mistaken
decision is corrected by a new one (history kept), and the case page says the decision in words."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from monitoring.models import SteroidCourse, SteroidDecision
from monitoring.workflows import steroid_decide
from tests.monitoring.helpers import at, draw, frozen, infuse, liver_post
from tests.personas import PASSWORD, make_user

INFUSED = date(2027, 1, 4)
D28 = INFUSED + timedelta(days=28)
TAPER = {"action": "taper", "clinical_exam_normal": "yes", "reason": "Trying taper"}
OVERRIDE = {
    **TAPER,
    "reason": "Hepatology (Dr Lee) advised tapering despite ALT",
    "override_step": "1",
    "override_reason": "hepatology_advised",
    "override_confirm": "on",
    "password": PASSWORD,
}


@pytest.fixture
def alt_5x(cast, client):
    """Day-28 liver panel with ALT 300 U/L (ULN 60): 5×ULN, so the rule says continue."""
    infuse(cast.case_a, INFUSED)
    with frozen(D28):
        client.force_login(cast.coordinator)
        client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, "liver", 28).pk]),
            liver_post({"alt": "300"}, collected=at(D28, 8)),
        )
    return cast.case_a


def _post(client, user, url, data, on=D28):
    with frozen(on):
        client.force_login(user)
        return client.post(url, data)


def _get(client, user, url, on=D28):
    with frozen(on):
        client.force_login(user)
        return client.get(url).content.decode()


def _steroids(case):
    return reverse("monitoring:steroids", args=[case.pk])


def test_a_taper_against_the_rule_is_not_recorded_on_one_click_but_asks_for_the_override(cast, client, alt_5x):
    response = _post(client, cast.physician, _steroids(alt_5x), TAPER)
    assert response.status_code == 422
    body = response.content.decode()
    assert "Against the recommendation." in body and "The label&#x27;s rule says continue the full dose" in body
    assert "Why taper against the recommendation?" in body and 'name="password"' in body
    assert 'name="override_step" value="1"' in body  # the second post is the second step
    assert not SteroidDecision.objects.exists()
    assert SteroidCourse.objects.get(case=alt_5x).status == "full_dose"


def test_the_second_step_needs_a_listed_reason_a_confirmation_and_the_password_each_said_at_its_field(
    cast, client, alt_5x
):
    response = _post(client, cast.physician, _steroids(alt_5x), {**TAPER, "override_step": "1"})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors["override_reason"] == ["Pick the reason for tapering against the recommendation."]
    assert errors["override_confirm"] == ["Tick the box to confirm the override."]
    assert errors["password"] == ["Re-enter your password to record the override."]
    assert errors["reason"] == ["Explain the override in at least 20 characters."]
    body = response.content.decode()
    assert "Pick the reason for tapering against the recommendation." in body
    assert not SteroidDecision.objects.exists()


def test_a_wrong_password_three_times_records_nothing_and_says_so_each_time(cast, client, alt_5x):
    for _ in range(3):
        response = _post(client, cast.physician, _steroids(alt_5x), {**OVERRIDE, "password": "wrong"})
        assert response.status_code == 422
        assert "That is not your password; the decision was not recorded." in response.content.decode()
        assert "Hepatology (Dr Lee) advised" in response.content.decode()  # the typed reason is kept
    assert not SteroidDecision.objects.exists()


def test_the_override_is_recorded_flagged_and_the_case_page_says_the_decision_in_words(cast, client, alt_5x):
    response = _post(client, cast.physician, _steroids(alt_5x), OVERRIDE)
    assert response.status_code == 302
    decision = SteroidDecision.objects.get()
    assert decision.action == "taper" and decision.recommended == "continue"
    assert decision.against_recommendation and decision.override_reason == "hepatology_advised"
    assert SteroidCourse.objects.get(case=alt_5x).status == "tapering"
    page = _get(client, cast.coordinator, reverse("cases:detail", args=[alt_5x.pk]))
    assert "Last decision: <strong>Unremarkable: taper over 28 days</strong> by Physician" in page
    assert "Override: taper against the label's recommendation" in page
    assert "Pediatric hepatology advised the taper" in page
    assert not re.search(r"Steroid decision \d", page)
    review = _get(client, cast.physician, _steroids(alt_5x))
    assert "Override: taper against the label's recommendation" in review and "Correct this decision" in review


def test_an_unremarkable_taper_needs_no_override(cast, client):
    infuse(cast.case_a, INFUSED)
    with frozen(D28):
        client.force_login(cast.coordinator)
        client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, "liver", 28).pk]), liver_post(collected=at(D28, 8))
        )
    response = _post(client, cast.physician, _steroids(cast.case_a), TAPER)
    assert response.status_code == 302
    decision = SteroidDecision.objects.get()
    assert not decision.against_recommendation and decision.override_reason == ""


def test_a_mistaken_taper_is_corrected_by_a_new_decision_and_the_old_one_stays_struck_through(cast, client, alt_5x):
    _post(client, cast.physician, _steroids(alt_5x), OVERRIDE)
    wrong = SteroidDecision.objects.get()
    url = reverse("monitoring:steroid_correct", args=[alt_5x.pk, wrong.pk])
    page = _get(client, cast.physician, url)
    assert "Correct a decision" in page and "Why the earlier decision was wrong" in page
    missing = _post(
        client, cast.physician, url, {"action": "continue", "clinical_exam_normal": "yes", "reason": "ALT 5x"}
    )
    assert missing.status_code == 422 and "Say why the earlier decision was wrong." in missing.content.decode()
    response = _post(
        client,
        cast.physician,
        url,
        {
            "action": "continue",
            "clinical_exam_normal": "yes",
            "reason": "ALT 5x ULN: keep 1 mg/kg/day",
            "correction_reason": "Taper recorded on the wrong child's results",
        },
    )
    assert response.status_code == 302
    wrong.refresh_from_db()
    new = SteroidDecision.objects.exclude(pk=wrong.pk).get()
    assert wrong.superseded_by == new and new.corrects == wrong and SteroidDecision.objects.count() == 2
    course = SteroidCourse.objects.get(case=alt_5x)
    assert course.status == "full_dose" and course.taper_starts_on is None
    review = _get(client, cast.physician, _steroids(alt_5x))
    assert "<del><strong>Unremarkable: taper over 28 days</strong>" in review and "Superseded" in review
    assert "Taper recorded on the wrong child&#x27;s results" in review
    case_page = _get(client, cast.coordinator, reverse("cases:detail", args=[alt_5x.pk]))
    assert "Last decision: <strong>Continue full dose (1 mg/kg/day)</strong>" in case_page
    assert "a correction of an earlier decision" in case_page


def test_a_decision_already_corrected_cannot_be_corrected_again(cast, client, alt_5x):
    other = make_user("physician2", "physician", cast.site_a)
    _post(client, cast.physician, _steroids(alt_5x), OVERRIDE)
    wrong = SteroidDecision.objects.get()
    url = reverse("monitoring:steroid_correct", args=[alt_5x.pk, wrong.pk])
    data = {"action": "continue", "clinical_exam_normal": "yes", "reason": "Keep dose", "correction_reason": "Wrong"}
    assert _post(client, cast.physician, url, data).status_code == 302
    response = _post(client, other, url, {**data, "reason": "Second physician"})
    assert response.status_code == 422
    assert "This decision was already corrected by Physician on" in response.content.decode()
    assert SteroidDecision.objects.count() == 2


def test_the_workflow_refuses_an_against_the_rule_taper_without_an_override(cast, client, alt_5x):
    course = SteroidCourse.objects.get(case=alt_5x)
    with pytest.raises(ValueError, match="needs an override"):
        steroid_decide(
            course=course, action="taper", reason="x", clinical_exam_normal=True, by=cast.physician, today=D28
        )
    assert not SteroidDecision.objects.exists()


def test_a_coordinator_cannot_correct_a_decision(cast, client, alt_5x):
    _post(client, cast.physician, _steroids(alt_5x), OVERRIDE)
    url = reverse("monitoring:steroid_correct", args=[alt_5x.pk, SteroidDecision.objects.get().pk])
    with frozen(D28):
        client.force_login(cast.coordinator)
        assert client.get(url).status_code == 403
