"""Draw states with frozen time: upcoming → due → late → overdue, done, missed, snooze; the
sweep touches only rows whose next change has come."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from monitoring import workflows
from monitoring.models import Draw, Milestone
from monitoring.workflows import draws_advance
from tests.monitoring.helpers import at, draw, frozen, infuse, liver_post

INFUSED = date(2027, 1, 4)  # D7 due Jan 11, window Jan 9–13, overdue from Jan 16


def _state(case, kind="liver", day=7):
    return draw(case, kind, day).state


def test_a_draw_moves_upcoming_due_late_overdue_as_days_pass(cast):
    infuse(cast.case_a, INFUSED)
    steps = [
        (date(2027, 1, 8), "upcoming"),
        (date(2027, 1, 9), "due"),
        (date(2027, 1, 13), "due"),
        (date(2027, 1, 14), "late"),
        (date(2027, 1, 15), "late"),
        (date(2027, 1, 16), "overdue"),
        (date(2027, 2, 20), "overdue"),
    ]
    for day, expected in steps:
        with frozen(day, hour=0):
            draws_advance()
        assert _state(cast.case_a) == expected, day


def test_the_sweep_only_touches_rows_whose_change_has_come_and_is_idempotent(cast):
    infuse(cast.case_a, INFUSED)
    with frozen(date(2027, 1, 9), hour=1):
        first = draws_advance()
        assert first == Draw.objects.filter(case=cast.case_a, window_opens__lte=date(2027, 1, 9)).count()
        assert draws_advance() == 0


def test_the_sweep_runs_in_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    infuse(cast.case_a, INFUSED)
    with frozen(date(2027, 3, 1)), django_assert_max_num_queries(6):
        assert draws_advance() > 10


def test_a_draw_recorded_done_while_the_advance_runs_stays_done(cast, monkeypatch):
    """The advance reads, computes, then writes: a result entered in between must not be
    overwritten with the state computed from the stale read."""
    infuse(cast.case_a, INFUSED)
    d7 = draw(cast.case_a, "liver", 7)
    real_apply = workflows.apply_state

    def apply_while_a_user_enters_results(row, today):
        real_apply(row, today)
        if row.pk == d7.pk:  # another process records the results now
            Draw.objects.filter(pk=d7.pk).update(state="done", next_change_at=None)

    monkeypatch.setattr(workflows, "apply_state", apply_while_a_user_enters_results)
    with frozen(date(2027, 1, 16), hour=0):
        draws_advance()
    d7.refresh_from_db()
    assert d7.state == "done" and d7.next_change_at is None
    assert draw(cast.case_a, "liver", 14).state == "due"  # the others moved on


def test_a_snooze_delays_overdue_but_not_late(cast):
    infuse(cast.case_a, INFUSED)
    Draw.objects.filter(case=cast.case_a, kind="liver", day=7).update(snoozed_until=date(2027, 1, 19))
    for day, expected in [(date(2027, 1, 14), "late"), (date(2027, 1, 17), "late"), (date(2027, 1, 19), "overdue")]:
        with frozen(day, hour=0):
            draws_advance()
        assert _state(cast.case_a) == expected, day


def test_entering_results_makes_a_draw_done_and_an_overdue_draw_records_how_late(cast, client):
    infuse(cast.case_a, INFUSED)
    with frozen(date(2027, 1, 18)):
        client.force_login(cast.coordinator)
        draws_advance()
        d7 = draw(cast.case_a, "liver", 7)
        assert d7.state == "overdue"
        response = client.post(reverse("monitoring:draw", args=[d7.pk]), liver_post(collected=at(date(2027, 1, 17))))
    assert response.status_code == 302
    d7.refresh_from_db()
    assert d7.state == "done" and d7.days_late == 4 and d7.completed_at is not None and d7.next_change_at is None
    with frozen(date(2027, 2, 1)):
        draws_advance()
    assert _state(cast.case_a) == "done"


def test_an_on_time_entry_records_zero_days_late(cast, client):
    infuse(cast.case_a, INFUSED)
    with frozen(date(2027, 1, 12)):
        client.force_login(cast.coordinator)
        client.post(
            reverse("monitoring:draw", args=[draw(cast.case_a, "liver", 7).pk]),
            liver_post(collected=at(date(2027, 1, 11))),
        )
    assert draw(cast.case_a, "liver", 7).days_late == 0


def test_a_missed_draw_needs_a_reason_and_stays_missed(cast, client):
    infuse(cast.case_a, INFUSED)
    d7 = draw(cast.case_a, "platelets", 7)
    url = reverse("monitoring:draw_missed", args=[d7.pk])
    with frozen(date(2027, 1, 14)):
        client.force_login(cast.physician)
        draws_advance()
        refused = client.post(url, {"reason": "   "})
        assert refused.status_code == 422 and "This field is required" in refused.content.decode()
        assert _state(cast.case_a, "platelets") == "late"
        assert client.post(url, {"reason": "Family travelling; drawn at home hospital"}).status_code == 302
    d7.refresh_from_db()
    assert d7.state == "missed" and d7.missed_reason.startswith("Family") and d7.next_change_at is None
    with frozen(date(2027, 1, 30)):
        client.force_login(cast.physician)
        draws_advance()
    assert _state(cast.case_a, "platelets") == "missed"
    again = client.post(url, {"reason": "twice"})
    assert again.status_code == 422 and "only an open draw can be missed" in again.content.decode()


def test_billing_cannot_enter_results_or_mark_missed(cast, client):
    infuse(cast.case_a, INFUSED)
    d7 = draw(cast.case_a, "liver", 7)
    with frozen(date(2027, 1, 12)):
        client.force_login(cast.billing)
        assert (
            client.post(
                reverse("monitoring:draw", args=[d7.pk]), liver_post(collected=at(date(2027, 1, 11)))
            ).status_code
            == 403
        )
        assert client.post(reverse("monitoring:draw_missed", args=[d7.pk]), {"reason": "x"}).status_code == 403
    assert _state(cast.case_a) == "upcoming"


def test_milestones_move_through_their_window_with_the_sweep(cast):
    infuse(cast.case_a, INFUSED)  # 6 months: due Jul 4, window Jun 4 – Aug 3
    for day, expected in [
        (date(2027, 6, 3), "upcoming"),
        (date(2027, 6, 4), "due"),
        (date(2027, 8, 4), "late"),
        (date(2027, 8, 6), "overdue"),
    ]:
        with frozen(day, hour=0):
            draws_advance()
        assert Milestone.objects.get(case=cast.case_a, month=6).state == expected, day
