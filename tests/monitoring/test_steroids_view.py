"""The day-28 steroid review: recommendation, physician-only decision with who and why, taper dates."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse

from monitoring.models import SteroidCourse, SteroidDecision
from tests.monitoring.helpers import at, draw, frozen, infuse, liver_post

INFUSED = date(2027, 1, 4)
D28 = INFUSED + timedelta(days=28)


def _enter_liver(client, cast, day, values=None, on=None):
    when = INFUSED + timedelta(days=day)
    with frozen(on or when):
        client.force_login(cast.coordinator)
        client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, "liver", day).pk]),
            liver_post(values, collected=at(when, 8)),
        )


def test_an_unremarkable_day_28_panel_recommends_the_taper_and_shows_its_dates(cast, client):
    infuse(cast.case_a, INFUSED)
    _enter_liver(client, cast, 28)
    with frozen(D28):
        client.force_login(cast.physician)
        page = client.get(reverse("monitoring:steroids", args=[cast.case_a.pk])).content.decode()
    assert "unremarkable, taper over 28 days" in page
    assert "2 Feb 2027" in page  # first taper day, day 29


def test_the_physician_records_a_taper_with_who_and_why(cast, client):
    infuse(cast.case_a, INFUSED)
    _enter_liver(client, cast, 28)
    with frozen(D28):
        client.force_login(cast.physician)
        response = client.post(
            reverse("monitoring:steroids", args=[cast.case_a.pk]),
            {"action": "taper", "clinical_exam_normal": "yes", "reason": "Unremarkable panel, normal exam"},
        )
    assert response.status_code == 302
    decision = SteroidDecision.objects.get()
    assert decision.decided_by == cast.physician and decision.recommended == "taper"
    course = SteroidCourse.objects.get(case=cast.case_a)
    assert course.status == "tapering" and course.taper_starts_on == D28 + timedelta(days=1)
    assert draw(cast.case_a, "steroid_review", 28).state == "done"


def test_alt_at_3x_uln_recommends_continuing_and_a_later_result_asks_for_a_new_review(cast, client):
    infuse(cast.case_a, INFUSED)
    _enter_liver(client, cast, 28, {"alt": "186"})  # 3.1×ULN
    with frozen(D28):
        client.force_login(cast.physician)
        page = client.get(reverse("monitoring:steroids", args=[cast.case_a.pk])).content.decode()
        assert "continue full dose" in page
        client.post(
            reverse("monitoring:steroids", args=[cast.case_a.pk]),
            {"action": "continue", "clinical_exam_normal": "yes", "reason": "ALT 3.1×ULN"},
        )
        case_page = client.get(reverse("cases:detail", args=[cast.case_a.pk])).content.decode()
        assert "a physician review is due" not in case_page
    _enter_liver(client, cast, 42)
    with frozen(INFUSED + timedelta(days=42)):
        client.force_login(cast.physician)
        case_page = client.get(reverse("cases:detail", args=[cast.case_a.pk])).content.decode()
    assert "a physician review is due" in case_page
    assert SteroidCourse.objects.get(case=cast.case_a).status == "full_dose"


def test_a_decision_needs_a_reason_and_an_exam_answer(cast, client):
    infuse(cast.case_a, INFUSED)
    _enter_liver(client, cast, 28)
    with frozen(D28):
        client.force_login(cast.physician)
        response = client.post(reverse("monitoring:steroids", args=[cast.case_a.pk]), {"action": "taper", "reason": ""})
        bad_action = client.post(
            reverse("monitoring:steroids", args=[cast.case_a.pk]),
            {"action": "stop", "clinical_exam_normal": "yes", "reason": "x"},
        )
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"reason", "clinical_exam_normal"}
    assert "Select a valid choice" in bad_action.context["form"].errors["action"][0]
    assert not SteroidDecision.objects.exists()


def test_a_decision_without_liver_results_is_refused(cast, client):
    infuse(cast.case_a, INFUSED)
    with frozen(D28):
        client.force_login(cast.physician)
        response = client.post(
            reverse("monitoring:steroids", args=[cast.case_a.pk]),
            {"action": "taper", "clinical_exam_normal": "yes", "reason": "x"},
        )
    assert response.status_code == 422 and "no liver results" in response.content.decode()


def test_only_a_physician_decides(cast, client):
    infuse(cast.case_a, INFUSED)
    _enter_liver(client, cast, 28)
    with frozen(D28):
        client.force_login(cast.coordinator)
        response = client.post(
            reverse("monitoring:steroids", args=[cast.case_a.pk]),
            {"action": "taper", "clinical_exam_normal": "yes", "reason": "x"},
        )
    assert response.status_code == 403 and not SteroidDecision.objects.exists()
