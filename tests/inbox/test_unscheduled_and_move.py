"""Issue 19 item 2: a result no scheduled window covers becomes an unscheduled result on the case
(shown on the case page, flagged by the same rules), and the coordinator moves a result to
another draw of the same case: audited old -> new with the reason, flags of both draws
recomputed, and a draw of another case or site refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from monitoring.inbox.workflows import receive_hl7
from monitoring.models import Draw, Flag, Result
from monitoring.workflows import result_move
from tests.inbox.helpers import LIVER, collected, infused_case, oru
from tests.monitoring.helpers import draw
from tests.personas import make_case

# Infused 10 days ago (tests.inbox.helpers): day 3 is before the day-7 window (days 5-9).
DAY_3 = 7  # days ago
HIGH_ALT = ("1742-6", "ALT", "130", "U/L", "10-60", "H", "F")  # 2.17×ULN: taper blocked


@pytest.fixture
def infused(cast):
    infused_case(cast.case_a)
    return cast.case_a


def _send(text: str):
    return receive_hl7(text.encode("utf-8"))


def _unscheduled(case, kind="liver"):
    return Draw.objects.get(case=case, kind=kind, unscheduled=True)


def test_a_result_outside_every_window_is_an_unscheduled_result_flagged_like_any(cast, infused, client):
    outcome = _send(oru("U-1", when=collected(days_ago=DAY_3), results=[HIGH_ALT, *LIVER[1:]]))
    assert outcome.ack == "AA", outcome.reason
    assert outcome.message.status == "processed"
    extra = _unscheduled(infused)
    assert (extra.day, extra.state, extra.is_extension) == (3, "done", False)
    assert extra.due_on == extra.window_opens == extra.window_closes == collected(days_ago=DAY_3).date()
    assert Result.objects.filter(draw=extra).count() == 4
    assert draw(infused, "liver", 7).state != "done"  # the schedule's draw stays open
    assert Flag.objects.filter(draw=extra, code="alt_2x_uln", resolved_at__isnull=True).exists()
    assert {line["draw"] for line in outcome.message.details["lines"]} == {extra.pk}

    client.force_login(cast.coordinator)
    page = client.get(reverse("cases:detail", args=[infused.pk])).content.decode()
    assert "Unscheduled results" in page and "ALT 130 U/L (2.17×ULN)" in page
    assert reverse("monitoring:draw", args=[extra.pk]) in page
    assert "Day 3 (unscheduled)" in page  # the open flag names its draw


def test_results_of_one_day_share_its_unscheduled_draw_and_a_silent_change_still_goes_to_review(cast, infused):
    _send(oru("U-1", when=collected(days_ago=DAY_3), results=LIVER[:2]))
    _send(oru("U-2", when=collected(days_ago=DAY_3, hour=11), results=LIVER[2:]))
    extra = _unscheduled(infused)
    assert Draw.objects.filter(case=infused, unscheduled=True).count() == 1
    assert set(Result.objects.filter(draw=extra).values_list("analyte", flat=True)) == {"alt", "ast", "tbili", "pt"}
    silent = _send(oru("U-3", when=collected(days_ago=DAY_3), results=[HIGH_ALT]))
    assert silent.message.status == "needs_review" and "not marked corrected" in silent.message.reason


def test_a_troponin_outside_its_windows_gets_its_own_unscheduled_draw(cast, infused):
    rows = [("89579-7", "hs-TnI", "55", "ng/L", "<40", "H", "F")]
    assert _send(oru("T-1", when=collected(days_ago=DAY_3), results=rows)).ack == "AA"
    extra = _unscheduled(infused, "troponin")
    assert Result.objects.get(draw=extra).value == Decimal(55)
    # Baseline 20 ng/L (tests.monitoring.helpers.infuse): above it, the troponin watch flag.
    assert Flag.objects.filter(draw=extra, code="troponin_above_baseline").exists()


def test_a_sample_from_before_the_infusion_goes_to_review_not_to_an_unscheduled_draw(cast, infused):
    outcome = _send(oru("B-1", when=collected(days_ago=12)))
    assert outcome.message.status == "needs_review" and "before the infusion" in outcome.message.reason
    assert not Draw.objects.filter(unscheduled=True).exists() and not Result.objects.exists()


def test_an_unscheduled_result_is_not_counted_as_a_draw_of_the_schedule(cast, infused):
    from monitoring.workflows import schedule_create

    _send(oru("U-1", when=collected(days_ago=DAY_3)))
    before = Draw.objects.filter(case=infused, unscheduled=False).count()
    schedule_create(case=infused, infused_on=infused.infused_on)  # idempotent: nothing new, nothing clashes
    assert Draw.objects.filter(case=infused, unscheduled=False).count() == before


# --- Moving a result ----------------------------------------------------------------------------


def _move(client, source, result, to, reason="Collection date was the requisition date; sample is day 7"):
    return client.post(
        reverse("monitoring:draw_move", args=[source.pk]),
        {"result": result.pk if result else "", "to": to.pk if to else "", "reason": reason},
    )


def test_the_coordinator_moves_an_unscheduled_result_to_a_draw_audited_with_flags_following(cast, infused, client):
    _send(oru("U-1", when=collected(days_ago=DAY_3), results=[HIGH_ALT, *LIVER[1:]]))
    extra, day7 = _unscheduled(infused), draw(infused, "liver", 7)
    alt = Result.objects.get(draw=extra, analyte="alt")
    flag = Flag.objects.get(draw=extra, code="alt_2x_uln", resolved_at__isnull=True)
    flag.acknowledged_by, flag.acknowledged_at = cast.physician, timezone.now()
    flag.ack_note, flag.ack_plan = "Seen", "Repeat next week"
    flag.save()

    client.force_login(cast.coordinator)
    page = client.get(reverse("monitoring:draw", args=[extra.pk])).content.decode()
    assert "Move a result to another draw" in page and "Liver panel day 7, due" in page
    response = _move(client, extra, alt, day7)
    assert response.status_code == 302, response.content.decode()[:2000]

    alt.refresh_from_db()
    day7.refresh_from_db()
    assert alt.draw == day7 and alt.value == Decimal(130) and alt.collected_at == collected(days_ago=DAY_3)
    assert day7.state == "done" and day7.completed_at is not None
    # The flag followed the result, acknowledgement and all; nothing new was raised for ALT.
    flag.refresh_from_db()
    assert flag.draw == day7 and flag.resolved_at is None and flag.acknowledged_by == cast.physician
    assert Flag.objects.filter(case=infused, code="alt_2x_uln").count() == 1
    # Audited: the draw old -> new, both named, the reason, on the case's history.
    entry = LogEntry.objects.get_for_object(alt).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.actor == cast.coordinator
    assert entry.changes_dict["draw"] == [str(extra.pk), str(day7.pk)]
    moved = entry.additional_data["moved"]
    assert moved["from"] == "Liver panel day 3 (unscheduled)" and moved["to"] == "Liver panel day 7"
    assert (moved["from_draw"], moved["to_draw"]) == (extra.pk, day7.pk)
    assert "requisition date" in moved["reason"] and entry.additional_data["case_id"] == infused.pk
    client.force_login(cast.manager)  # the case's history is the manager's to read
    history = client.get(reverse("cases:audit", args=[infused.pk])).content.decode()
    assert "Liver panel day 3 (unscheduled) → Liver panel day 7: Collection date was the requisition date" in history


def test_moving_recomputes_both_draws_flags(cast, infused):
    """Bilirubin above ULN with ALT above ULN is urgent; without the ALT beside it, bilirubin
    alone blocks the taper. Moving the ALT away changes the flag left behind."""
    tbili = ("1975-2", "Bilirubin total", "1.5", "mg/dL", "0.2-1.0", "H", "F")
    _send(oru("U-1", when=collected(days_ago=DAY_3), results=[HIGH_ALT, LIVER[1], tbili, LIVER[3]]))
    extra, day7 = _unscheduled(infused), draw(infused, "liver", 7)
    assert Flag.objects.filter(draw=extra, code="bilirubin_with_transaminases", resolved_at__isnull=True).exists()
    alt = Result.objects.get(draw=extra, analyte="alt")
    raised = result_move(result=alt, to=day7, reason="belongs to day 7", by=cast.coordinator)

    open_flags = set(Flag.objects.filter(case=infused, resolved_at__isnull=True).values_list("draw_id", "code"))
    assert open_flags == {(extra.pk, "bilirubin_above_uln"), (day7.pk, "alt_2x_uln")}
    assert [f.code for f in raised] == ["bilirubin_above_uln"]
    urgent = Flag.objects.get(draw=extra, code="bilirubin_with_transaminases")
    assert urgent.resolved_at is not None  # kept, resolved: the history stays


def test_a_scheduled_draw_left_without_results_opens_again(cast, infused):
    rows = [("89579-7", "hs-TnI", "15", "ng/L", "<40", "", "F")]
    _send(oru("T-1", results=rows))  # collected 3 days ago: the day-7 window
    day7, day14 = draw(infused, "troponin", 7), draw(infused, "troponin", 14)
    assert day7.state == "done"
    result_move(result=Result.objects.get(draw=day7), to=day14, reason="Lab mislabelled the date", by=cast.coordinator)
    day7.refresh_from_db()
    day14.refresh_from_db()
    assert day7.state in ("due", "late", "overdue") and day7.completed_at is None and day7.next_change_at is not None
    assert day14.state == "done"


def test_an_emptied_unscheduled_draw_leaves_the_case_page(cast, infused, client):
    rows = [("89579-7", "hs-TnI", "15", "ng/L", "<40", "", "F")]
    _send(oru("T-1", when=collected(days_ago=DAY_3), results=rows))
    extra = _unscheduled(infused, "troponin")
    result_move(
        result=Result.objects.get(draw=extra), to=draw(infused, "troponin", 7), reason="day 7", by=cast.coordinator
    )
    client.force_login(cast.coordinator)
    assert "Unscheduled results" not in client.get(reverse("cases:detail", args=[infused.pk])).content.decode()


@pytest.fixture
def unscheduled_alt(infused):
    _send(oru("U-1", when=collected(days_ago=DAY_3)))
    extra = _unscheduled(infused)
    return extra, Result.objects.get(draw=extra, analyte="alt")


def test_a_draw_of_another_case_is_refused_with_a_plain_message(cast, infused, unscheduled_alt, client):
    extra, alt = unscheduled_alt
    other = make_case(cast.site_a, name="Other Child", mrn="MRN-O")
    infused_case(other)
    client.force_login(cast.coordinator)
    response = _move(client, extra, alt, draw(other, "liver", 7))
    assert response.status_code == 422
    assert "Pick one of this patient&#x27;s draws from the list" in response.content.decode()
    alt.refresh_from_db()
    assert alt.draw == extra
    with pytest.raises(ValueError, match="another patient"):
        result_move(result=alt, to=draw(other, "liver", 7), reason="wrong child", by=cast.coordinator)
    assert Result.objects.get(pk=alt.pk).draw == extra


def test_another_sites_user_gets_404_and_a_manager_403(cast, infused, unscheduled_alt, client):
    extra, alt = unscheduled_alt
    client.force_login(cast.outsider)
    assert _move(client, extra, alt, draw(infused, "liver", 7)).status_code == 404
    client.force_login(cast.manager)
    assert _move(client, extra, alt, draw(infused, "liver", 7)).status_code == 403
    assert Result.objects.get(pk=alt.pk).draw == extra


@pytest.mark.parametrize(
    ("target", "reason", "expected"),
    [
        (("platelets", 7), "day 7", "does not record ALT"),
        (("liver", 7), "", "This field is required"),
    ],
)
def test_bad_moves_are_refused_next_to_their_field(cast, infused, unscheduled_alt, client, target, reason, expected):
    extra, alt = unscheduled_alt
    client.force_login(cast.coordinator)
    response = _move(client, extra, alt, draw(infused, *target), reason=reason)
    assert response.status_code == 422 and expected in response.content.decode()
    assert Result.objects.get(pk=alt.pk).draw == extra


def test_a_draw_that_already_holds_the_analyte_is_refused(cast, infused, unscheduled_alt, client):
    extra, alt = unscheduled_alt
    _send(oru("D7", results=LIVER))  # the day-7 draw gets its own panel
    client.force_login(cast.coordinator)
    response = _move(client, extra, alt, draw(infused, "liver", 7))
    assert response.status_code == 422
    assert "already has a result for ALT; correct the value there instead" in response.content.decode()
    assert Result.objects.get(pk=alt.pk).draw == extra


def test_a_missed_draw_is_not_offered(cast, infused, unscheduled_alt, client):
    extra, alt = unscheduled_alt
    day14 = draw(infused, "liver", 14)
    day14.state, day14.missed_reason = "missed", "family away"
    day14.save()
    client.force_login(cast.coordinator)
    response = _move(client, extra, alt, day14)
    assert response.status_code == 422 and "Pick one of this patient" in response.content.decode()
